//! The trigger log: what became of each runbook trigger, under its
//! idempotency key, so that the first trigger with a key decides and a
//! repeat starts nothing (invariant 6, docs/invariants.md). `ripcord
//! triggers` lists it.

use crate::ports::store::{CreateOutcome, StoreError};
use crate::trigger::TriggerRecord;
use async_trait::async_trait;

#[async_trait]
pub trait TriggerLog: Send + Sync {
    /// Records what became of a runbook trigger, unless a trigger with the
    /// same idempotency key was recorded before: then nothing is written and
    /// `AlreadyExists` is answered (the first trigger with a key decides).
    async fn record_trigger(&self, trigger: &TriggerRecord) -> Result<CreateOutcome, StoreError>;

    async fn load_trigger(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<TriggerRecord>, StoreError>;

    /// Triggers, newest first.
    async fn list_triggers(&self, limit: usize) -> Result<Vec<TriggerRecord>, StoreError>;
}
