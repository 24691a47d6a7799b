//! Workers' heartbeats: each worker process writes one as it polls its
//! queue, and `/healthz` and `/metrics` read the last poll per worker kind
//! from them (docs/monitoring.md).

use crate::ports::QueueName;
use crate::ports::store::StoreError;
use crate::recent::{Recent, StepCounts};
use crate::services::calls::ProcessCalls;
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A worker process' sign of life, written as it polls its queue: `/healthz`
/// reads the last poll per worker kind from these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerHeartbeat {
    pub kind: QueueName,
    /// Unique per worker: host, process id and kind.
    pub worker_id: String,
    pub started_at: Timestamp,
    /// The end of the worker's latest receive on its queue (wall-clock time,
    /// also on a simulated clock: this is about the process being alive).
    pub last_poll: Timestamp,
    /// Messages this worker has settled since it started.
    pub messages: u64,
    /// When the worker stopped (shut down cleanly): it polls no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<Timestamp>,
    /// How this worker's steps ended, per minute over the last quarter hour
    /// (docs/monitoring.md, "Recent outcomes").
    #[serde(default, skip_serializing_if = "Recent::is_empty")]
    pub steps: Recent<StepCounts>,
    /// The calls of this worker's process to each service it depends on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<ProcessCalls>,
}

impl WorkerHeartbeat {
    /// Whether the worker may still be polling: it has not said it stopped.
    pub fn running(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// How long a heartbeat is kept after its last poll: a worker that
    /// stopped longer ago than this no longer shows in health.
    pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(1);
}

/// Where heartbeats are kept: beside the executions, in the same store.
#[async_trait]
pub trait WorkerHeartbeats: Send + Sync {
    /// Writes a worker's heartbeat, replacing its previous one.
    async fn record_heartbeat(&self, heartbeat: &WorkerHeartbeat) -> Result<(), StoreError>;

    /// The heartbeats of workers that polled within
    /// [`WorkerHeartbeat::RETENTION`] of `now`.
    async fn list_heartbeats(&self, now: Timestamp) -> Result<Vec<WorkerHeartbeat>, StoreError>;
}
