//! The execution store: one execution record plus one record per wave
//! (docs/architecture.md, "Records"), each written conditionally on its version.
//! [`StoreError`] is also the error of the other ports kept in the same
//! store: [`WorkerHeartbeats`](super::WorkerHeartbeats) and
//! [`TriggerLog`](super::TriggerLog).

use crate::ids::{ExecutionId, WaveNumber};
use crate::records::{ExecutionRecord, WaveRecord};
use crate::status_model::ExecutionStatus;
use crate::time::Timestamp;
use async_trait::async_trait;

/// A record as loaded, with the version a conditional save must match.
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// The store's own storage failed; the adapter's text says what to check.
    #[error("store storage failed: {0}")]
    Storage(String),
    #[error(
        "a stored record could not be read: {0}; it was written by an incompatible version of ripcord"
    )]
    Corrupt(String),
    #[error("store service error: {0}; it will be retried")]
    Service(String),
    /// Where the store keeps its records does not exist (a deployment not
    /// set up); `remedy` is the adapter's advice on creating it.
    #[error("{resource} does not exist; {remedy}")]
    Missing { resource: String, remedy: String },
    /// A record the store cannot hold; `detail` says the limit and what to do.
    #[error("{what} cannot be stored: {detail}")]
    TooLarge { what: String, detail: String },
}

/// A row of `ripcord list` / the executions API.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionSummary {
    pub id: ExecutionId,
    pub plan_name: String,
    pub status: ExecutionStatus,
    pub start_time: Timestamp,
}

/// Which executions a listing shows (newest first), and where its page
/// starts.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionQuery {
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
    /// At most this many rows.
    pub limit: usize,
    /// Rows after this one: the `next` of the page before.
    pub after: Option<PageCursor>,
}

impl ExecutionQuery {
    /// The newest `limit` executions, whatever their status.
    pub fn newest(limit: usize) -> Self {
        Self {
            status: None,
            limit,
            after: None,
        }
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionPage {
    pub items: Vec<ExecutionSummary>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

impl ExecutionPage {
    /// The first `limit` of `rows`; if there were more, the next page
    /// starts after the last one kept.
    pub fn of(mut rows: Vec<ExecutionSummary>, limit: usize, more: bool) -> Self {
        let more = more || rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(PageCursor::of)
        } else {
            None
        };
        Self { items: rows, next }
    }
}

/// A position in the newest-first order of executions: the last row of a
/// page. Listings order by start time, then by id, both descending, so a
/// position is exact even when two executions started at the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageCursor {
    pub start_time: Timestamp,
    pub id: ExecutionId,
}

impl PageCursor {
    pub fn of(summary: &ExecutionSummary) -> Self {
        Self {
            start_time: summary.start_time,
            id: summary.id,
        }
    }

    /// The cursor as an opaque, URL-safe token (`<unix nanos>.<uuid>`).
    pub fn encode(&self) -> String {
        let nanos = self.start_time.timestamp_nanos_opt().unwrap_or(i64::MAX);
        format!("{nanos}.{}", self.id.0.simple())
    }

    /// Reads a token made by [`PageCursor::encode`]; `None` if it is not one.
    pub fn decode(token: &str) -> Option<Self> {
        let (nanos, id) = token.split_once('.')?;
        Some(Self {
            start_time: chrono::DateTime::from_timestamp_nanos(nanos.parse().ok()?),
            id: ExecutionId(id.parse().ok()?),
        })
    }
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

    /// Executions, newest first, filtered and paged by `query`.
    async fn list_executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, StoreError>;

    /// How many executions there are of each status (statuses with none
    /// left out).
    async fn count_executions(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError>;
}
