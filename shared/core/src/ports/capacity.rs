//! Where the deployment's DRS capacity ledger is kept: one record in the
//! execution store, written conditionally on its version like the others
//! (docs/capacity.md). The adapters only load and save it; what a claim
//! gets is decided by [`Ledger::admit`], and the read–decide–write round
//! that makes two workers agree (`read_decide_write`, behind `admit`,
//! `release`, `claim_servers` and `release_servers`) is here once for every
//! adapter.

use crate::capacity::{Admission, Claim, Holder, Ledger, Quotas, ServerClaim, ServerHold};
use crate::ids::ExecutionId;
use crate::ports::store::{StoreError, Versioned};
use crate::time::Timestamp;
use async_trait::async_trait;

/// How many times a claim is decided again after losing a write race.
pub const MAX_LEDGER_CONFLICTS: u32 = 50;

#[async_trait]
pub trait CapacityLedger: Send + Sync {
    /// The ledger and its version; an empty ledger at version 0 if none
    /// was ever written.
    async fn load_ledger(&self) -> Result<Versioned<Ledger>, StoreError>;

    /// Writes `ledger` if the stored one is still at version `expected`
    /// and returns the new version; `StoreError::VersionConflict` if
    /// another writer got there first.
    async fn save_ledger(&self, ledger: &Ledger, expected: u64) -> Result<u64, StoreError>;

    /// Decides `claim` against the stored ledger and stores the outcome:
    /// whoever writes second reads the first one's hold and decides again,
    /// so no two workers admit past the quotas.
    async fn admit(
        &self,
        claim: &Claim,
        quotas: &Quotas,
        now: Timestamp,
    ) -> Result<Admission, StoreError> {
        read_decide_write(self, |ledger| ledger.admit(claim, quotas, now)).await
    }

    /// Gives back what `holder` holds or waits for, and drops what lapsed
    /// by `now`. Releasing twice changes nothing.
    async fn release(&self, holder: &Holder, now: Timestamp) -> Result<(), StoreError> {
        read_decide_write(self, |ledger| {
            ledger.expire(now);
            ledger.release(holder);
        })
        .await
    }

    /// Takes every server of `hold` for its execution unless another active
    /// execution holds one (one server, one active execution).
    async fn claim_servers(
        &self,
        hold: &ServerHold,
        now: Timestamp,
    ) -> Result<ServerClaim, StoreError> {
        read_decide_write(self, |ledger| ledger.claim_servers(hold, now)).await
    }

    /// Gives back the servers `execution_id` holds.
    async fn release_servers(
        &self,
        execution_id: ExecutionId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        read_decide_write(self, |ledger| {
            ledger.expire(now);
            ledger.release_servers(execution_id);
        })
        .await
    }
}

/// Reads the ledger, lets `decide` change it, and writes it if it changed
/// and nobody wrote in between; decides again on what the other writer
/// wrote otherwise.
async fn read_decide_write<L, T>(
    store: &L,
    mut decide: impl FnMut(&mut Ledger) -> T + Send,
) -> Result<T, StoreError>
where
    L: CapacityLedger + ?Sized,
{
    for _ in 0..MAX_LEDGER_CONFLICTS {
        let Versioned {
            record: mut ledger,
            version,
        } = store.load_ledger().await?;
        let before = ledger.clone();
        let answer = decide(&mut ledger);
        if ledger == before {
            return Ok(answer);
        }
        match store.save_ledger(&ledger, version).await {
            Ok(_) => return Ok(answer),
            Err(StoreError::VersionConflict { .. }) => yield_now().await,
            Err(e) => return Err(e),
        }
    }
    Err(conflicts())
}

fn conflicts() -> StoreError {
    StoreError::Service(format!(
        "the DRS capacity ledger kept changing under this worker ({MAX_LEDGER_CONFLICTS} tries)"
    ))
}

/// Lets the writer that won run before this one reads again, without
/// naming an executor (the core has none).
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
