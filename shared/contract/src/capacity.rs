//! The [`CapacityLedger`] contract: the ledger starts empty, a save is
//! conditional on the version it read, and claims racing for the last
//! servers never admit past the quotas. Run it on an empty store.

use async_trait::async_trait;
use ripcord::capacity::{Admission, Claim, Holder, Ledger, Priority, Quotas};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::capacity::CapacityLedger;
use ripcord::ports::store::{StoreError, Versioned};
use std::time::Duration;

fn claim(execution: u8, wave: u32, servers: u32) -> Claim {
    let execution_id: ExecutionId = format!("00000000-0000-4000-8000-0000000000{execution:02x}")
        .parse()
        .expect("a valid uuid");
    Claim {
        holder: Holder {
            execution_id,
            wave: WaveNumber(wave),
            attempt: 1,
        },
        servers,
        priority: Priority {
            recovery: false,
            execution_started: ripcord::testing::t0(),
        },
        hold_for: Duration::from_secs(3600),
        wait_for: Duration::from_secs(300),
    }
}

/// Nothing written yet: an empty ledger at version 0.
pub async fn a_new_ledger_is_empty_at_version_zero(store: &dyn CapacityLedger) {
    let loaded = store.load_ledger().await.expect("load_ledger");
    assert_eq!(loaded.version, 0);
    assert_eq!(loaded.record, Ledger::default());
}

/// A save reads back as written at a new version; a save against the
/// version it replaced is a conflict and changes nothing.
pub async fn a_stale_ledger_save_is_a_conflict(store: &dyn CapacityLedger) {
    let now = ripcord::testing::t0();
    let quotas = Quotas::default();
    let mut first = Ledger::default();
    assert_eq!(
        first.admit(&claim(1, 1, 100), &quotas, now),
        Admission::Granted
    );
    let v1 = store.save_ledger(&first, 0).await.expect("first save");
    let loaded = store.load_ledger().await.expect("load_ledger");
    assert_eq!(loaded.record, first);
    assert_eq!(loaded.version, v1);

    // A second writer that read before the first save.
    let mut late = Ledger::default();
    late.admit(&claim(2, 1, 100), &quotas, now);
    match store.save_ledger(&late, 0).await {
        Err(StoreError::VersionConflict { .. }) => {}
        other => panic!("a save against version 0 after version {v1} must conflict, got {other:?}"),
    }
    assert_eq!(
        store.load_ledger().await.expect("load_ledger").record,
        first
    );

    let mut second = first.clone();
    second.admit(&claim(2, 1, 100), &quotas, now);
    let v2 = store.save_ledger(&second, v1).await.expect("second save");
    assert!(v2 > v1, "versions grow: {v1} then {v2}");
}

/// Yields before each call, so claims run at once interleave between their
/// read and their write, as workers on other machines would.
struct Interleaved<'a>(&'a dyn CapacityLedger);

#[async_trait]
impl CapacityLedger for Interleaved<'_> {
    async fn load_ledger(&self) -> Result<Versioned<Ledger>, StoreError> {
        tokio::task::yield_now().await;
        self.0.load_ledger().await
    }

    async fn save_ledger(&self, ledger: &Ledger, expected: u64) -> Result<u64, StoreError> {
        tokio::task::yield_now().await;
        self.0.save_ledger(ledger, expected).await
    }
}

/// Twelve claims of 100 servers at once against 500: exactly five are
/// granted, the stored ledger holds exactly those five, and the other seven
/// wait in line.
pub async fn racing_claims_never_over_admit(store: &dyn CapacityLedger) {
    let now = ripcord::testing::t0();
    let quotas = Quotas::default();
    let racer = Interleaved(store);
    let claims: Vec<Claim> = (1..=12).map(|n| claim(n, 1, 100)).collect();
    // Polled together on this task: each yields between its read and its write.
    let answers: Vec<Admission> =
        futures_util::future::join_all(claims.iter().map(|c| racer.admit(c, &quotas, now)))
            .await
            .into_iter()
            .map(|a| a.expect("admit"))
            .collect();
    let granted: Vec<&Holder> = claims
        .iter()
        .zip(&answers)
        .filter(|(_, a)| **a == Admission::Granted)
        .map(|(c, _)| &c.holder)
        .collect();
    assert_eq!(granted.len(), 5, "{answers:?}");
    let stored = store.load_ledger().await.expect("load_ledger").record;
    assert_eq!(stored.in_use(), (500, 5), "{stored:?}");
    for holder in granted {
        assert!(
            stored.holds.iter().any(|h| &h.holder == holder),
            "{holder} was granted but is not held"
        );
    }
    assert_eq!(stored.waiting.len(), 7, "{stored:?}");

    // One release lets the first in line in.
    store
        .release(&stored.holds[0].holder, now)
        .await
        .expect("release");
    let first_in_line = claims
        .iter()
        .find(|c| c.holder == stored.waiting[0].holder)
        .expect("a waiter");
    assert_eq!(
        store
            .admit(first_in_line, &quotas, now)
            .await
            .expect("admit"),
        Admission::Granted
    );
}
