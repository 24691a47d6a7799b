//! What every handler of `ripcord serve` works with: the ports, the auth,
//! the thresholds, and the watchers of the executions browsers follow
//! (which `events` runs). It sits below the handlers, which take it as
//! their axum state.

use super::auth::Auth;
use crate::ports::Ports;
use crate::preflight::PreflightPorts;
use crate::telemetry::WorkerTelemetry;
use ripcord::health::HealthThresholds;
use ripcord::ids::ExecutionId;
use ripcord::ports::{
    CapacityLedger, Clock, DeadLetters, ExecutionStore, SubmissionLog, WorkQueue, WorkerHeartbeats,
};
use ripcord::status::ExecutionView;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// What every handler works with.
pub struct ServeState {
    pub store: Arc<dyn ExecutionStore>,
    pub queue: Arc<dyn WorkQueue>,
    /// The markers of queued starts (`GET /api/executions/{id}` says "queued").
    pub submissions: Arc<dyn SubmissionLog>,
    /// The dead-letter queues and every queue's depth (health, `/metrics`).
    pub dead_letters: Arc<dyn DeadLetters>,
    /// The workers' heartbeats (health, `/metrics`).
    pub heartbeats: Arc<dyn WorkerHeartbeats>,
    /// The deployment's DRS capacity ledger (`/api/capacity`, `/metrics`).
    pub capacity: Arc<dyn CapacityLedger>,
    /// What `POST /api/preflight` reads (DRS, the ledger, the region);
    /// `None` where this process has no DRS to read.
    pub preflight: Option<PreflightPorts>,
    /// The executions' clock (simulated on the embedded backend).
    pub clock: Arc<dyn Clock>,
    pub auth: Auth,
    /// The metrics of workers running in this process, if any.
    pub telemetry: Option<WorkerTelemetry>,
    pub thresholds: HealthThresholds,
    /// How often a followed execution is read from the store.
    pub watch_every: Duration,
    pub watchers: Watchers,
}

impl ServeState {
    /// What `ripcord serve` works with over a worker's `ports` and the dead
    /// letters beside its queues: no workers in this process, the default
    /// health thresholds and watch interval.
    pub fn new(ports: &Ports, dead_letters: Arc<dyn DeadLetters>, auth: Auth) -> Self {
        Self {
            store: ports.store.clone(),
            queue: ports.queue.clone(),
            submissions: ports.submissions.clone(),
            dead_letters,
            heartbeats: ports.heartbeats.clone(),
            capacity: ports.capacity.clone(),
            preflight: Some(ports.preflight()),
            clock: ports.clock.clone(),
            auth,
            telemetry: None,
            thresholds: HealthThresholds::default(),
            watch_every: DEFAULT_WATCH_EVERY,
            watchers: Watchers::default(),
        }
    }
}

pub type AppState = Arc<ServeState>;

/// The default of [`ServeState::watch_every`]: twice a second, well inside
/// the fastest poll interval (LAUNCHING, 3 s).
pub const DEFAULT_WATCH_EVERY: Duration = Duration::from_millis(500);

/// The latest view of an execution, and whether it can still change.
#[derive(Clone, Debug)]
pub struct Observed {
    pub view: Arc<ExecutionView>,
    pub settled: bool,
}

/// The running watchers, one per execution someone follows.
#[derive(Default)]
pub struct Watchers {
    running: Mutex<HashMap<ExecutionId, watch::Receiver<Observed>>>,
}

impl Watchers {
    pub(super) fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<ExecutionId, watch::Receiver<Observed>>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many executions are watched now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
