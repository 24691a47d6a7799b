//! The execution store: one execution record plus one record per wave
//! (DESIGN.md "Scale"), each written conditionally on its version.

use crate::ids::{ExecutionId, WaveNumber};
use crate::machine::{ExecutionRecord, WaveRecord};
use crate::trigger::TriggerRecord;
use async_trait::async_trait;

/// A record as loaded, with the version a conditional save must match.
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned<T> {
    pub record: T,
    pub version: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// An execution with this id exists already: nothing was written.
    AlreadyExists,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{what} changed since it was read (expected version {expected}); reload and decide again"
    )]
    VersionConflict { what: String, expected: u64 },
    #[error("store storage failed: {0}; check that the database file is writable and not corrupt")]
    Storage(String),
    #[error(
        "a stored record could not be read: {0}; it was written by an incompatible version of ripcord"
    )]
    Corrupt(String),
    #[error("store service error: {0}; it will be retried")]
    Service(String),
    /// The table itself is missing (an AWS deployment not bootstrapped).
    #[error("table {0} does not exist; run `ripcord aws bootstrap` to create it")]
    Missing(String),
    /// A record the store cannot hold; `detail` says the limit and what to do.
    #[error("{what} cannot be stored: {detail}")]
    TooLarge { what: String, detail: String },
}

/// A row of `ripcord list` / the executions API.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionSummary {
    pub id: ExecutionId,
    pub plan_name: String,
    pub status: crate::machine::ExecutionStatus,
    pub start_time: crate::time::Timestamp,
}

#[async_trait]
pub trait ExecutionStore: Send + Sync {
    /// Writes a new execution and its waves at version 1, all or nothing.
    async fn create_execution(
        &self,
        execution: &ExecutionRecord,
        waves: &[WaveRecord],
    ) -> Result<CreateOutcome, StoreError>;

    async fn load_execution(
        &self,
        id: ExecutionId,
    ) -> Result<Option<Versioned<ExecutionRecord>>, StoreError>;

    async fn load_wave(
        &self,
        id: ExecutionId,
        wave: WaveNumber,
    ) -> Result<Option<Versioned<WaveRecord>>, StoreError>;

    /// All waves of an execution in wave order (for the status view).
    async fn load_waves(&self, id: ExecutionId) -> Result<Vec<WaveRecord>, StoreError>;

    /// Replaces the execution record if its stored version is `expected`;
    /// returns the new version.
    async fn save_execution(
        &self,
        record: &ExecutionRecord,
        expected: u64,
    ) -> Result<u64, StoreError>;

    /// Replaces a wave record if its stored version is `expected`; returns
    /// the new version.
    async fn save_wave(&self, record: &WaveRecord, expected: u64) -> Result<u64, StoreError>;

    /// Executions, newest first.
    async fn list_executions(&self, limit: usize) -> Result<Vec<ExecutionSummary>, StoreError>;

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
