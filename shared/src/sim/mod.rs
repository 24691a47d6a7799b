//! The DRS/EC2/SSM simulator, driven by a scenario file.
//!
//! [`Simulator`] implements [`RecoveryService`](crate::ports::RecoveryService),
//! [`InstanceDirectory`](crate::ports::InstanceDirectory) and
//! [`CommandRunner`](crate::ports::CommandRunner) in process, so a drill runs on
//! a machine with no AWS account. Every time is read from the [`Clock`] port and
//! state is computed lazily from it on each call: a job records when each of its
//! servers will be done, and a call made later sees the server done. No
//! background task is needed for correctness; [`push`] adds an optional one that
//! pushes launch results the way DRS does through EventBridge.
//!
//! - [`scenario`]: the scenario file (behaviour per server, commands, faults).
//! - `drs`, `ec2`, `ssm`: the three ports over the shared state.
//! - [`faults`]: seeded error injection.
//! - [`push`]: the launch-result pusher.
//!
//! Tests read what was asked of the simulator through [`Simulator::calls`] and
//! [`Simulator::start_recovery_calls`].

mod drs;
mod ec2;
pub mod faults;
pub mod push;
pub mod scenario;
mod ssm;

pub use push::LaunchResultSink;
pub use scenario::{Operation, Scenario, ScenarioError, load_scenario, parse_scenario};

use crate::ids::SourceServerId;
use crate::ports::Clock;
use crate::service_error::ServiceError;
use crate::time::Timestamp;
use faults::FaultInjector;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What one StartRecovery call came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartOutcome {
    /// The job was created and its id returned.
    Created { job_id: String },
    /// The call failed and nothing was created.
    Rejected { code: String },
    /// The caller got an error, but the job was created anyway
    /// (`faults.ambiguous_start`): only a lookup by tag can find it.
    CreatedDespiteError { job_id: String, code: String },
}

impl StartOutcome {
    /// The id of the job the call created, whatever the caller was told.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Self::Created { job_id } | Self::CreatedDespiteError { job_id, .. } => Some(job_id),
            Self::Rejected { .. } => None,
        }
    }
}

/// A launch job's timeline, see [`Simulator::launch_timeline`].
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchTimeline {
    pub job_id: String,
    pub tags: BTreeMap<String, String>,
    pub created: Timestamp,
    pub last_settled: Option<Timestamp>,
}

/// One StartRecovery call as the simulator received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartRecoveryCall {
    pub at: Timestamp,
    pub tags: BTreeMap<String, String>,
    pub source_servers: Vec<SourceServerId>,
    pub outcome: StartOutcome,
}

/// The simulated DRS account, its EC2 instances and SSM.
pub struct Simulator {
    scenario: Scenario,
    clock: Arc<dyn Clock>,
    /// The fault window is measured from here.
    started_at: Timestamp,
    state: Mutex<SimState>,
    sink: Mutex<Option<Arc<dyn LaunchResultSink>>>,
    /// Wakes the pusher when a job is created or a sink is set.
    wake: tokio::sync::Notify,
}

/// Everything that changes, behind one lock that is never held across an await.
struct SimState {
    /// Ids, launch times and addresses.
    rng: ChaCha8Rng,
    /// Its own generator, so that faults do not shift the ids of a run.
    faults: FaultInjector,
    issued_ids: HashSet<String>,
    jobs: Vec<drs::Job>,
    /// Recovery instance id → when its termination completes.
    terminations: BTreeMap<String, Timestamp>,
    commands: Vec<ssm::Command>,
    calls: BTreeMap<Operation, u64>,
    /// Injected faults per (operation, error code).
    faults_injected: BTreeMap<(Operation, String), u64>,
    start_calls: Vec<StartRecoveryCall>,
    /// (job index, server index) whose launch result has been pushed.
    pushed: BTreeSet<(usize, usize)>,
}

impl Simulator {
    pub fn new(scenario: Scenario, clock: Arc<dyn Clock>) -> Arc<Self> {
        let started_at = clock.now();
        let state = SimState {
            rng: ChaCha8Rng::seed_from_u64(scenario.seed),
            faults: FaultInjector::new(scenario.faults.clone(), scenario.seed),
            issued_ids: HashSet::new(),
            jobs: Vec::new(),
            terminations: BTreeMap::new(),
            commands: Vec::new(),
            calls: BTreeMap::new(),
            faults_injected: BTreeMap::new(),
            start_calls: Vec::new(),
            pushed: BTreeSet::new(),
        };
        Arc::new(Self {
            scenario,
            clock,
            started_at,
            state: Mutex::new(state),
            sink: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
        })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The clock every simulated time is read from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// How many times each operation was called (faulted calls included).
    pub fn calls(&self) -> BTreeMap<Operation, u64> {
        self.lock().calls.clone()
    }

    /// How many times one operation was called.
    /// How many faults were injected, per operation and error code.
    pub fn faults_injected(&self) -> BTreeMap<(Operation, String), u64> {
        self.lock().faults_injected.clone()
    }

    pub fn call_count(&self, operation: Operation) -> u64 {
        self.lock().calls.get(&operation).copied().unwrap_or(0)
    }

    /// Every StartRecovery call, in order, with what it came to.
    pub fn start_recovery_calls(&self) -> Vec<StartRecoveryCall> {
        self.lock().start_calls.clone()
    }

    /// Each launch job with when its last server settles (launched or
    /// failed; `None` while a stuck server keeps it open): what a benchmark
    /// measures the engine's reaction against.
    pub fn launch_timeline(&self) -> Vec<LaunchTimeline> {
        self.lock()
            .jobs
            .iter()
            .filter(|j| matches!(j.kind, drs::JobKind::Launch { .. }))
            .map(|j| LaunchTimeline {
                job_id: j.id.clone(),
                tags: j.tags.clone(),
                created: j.created,
                last_settled: j
                    .launch_servers()
                    .iter()
                    .map(|s| s.terminal_at())
                    .collect::<Option<Vec<_>>>()
                    .and_then(|t| t.into_iter().max()),
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a call: counts it, reads the clock and draws its fault.
    fn enter(
        &self,
        operation: Operation,
    ) -> (MutexGuard<'_, SimState>, Timestamp, Option<ServiceError>) {
        let mut st = self.lock();
        let now = self.clock.now();
        *st.calls.entry(operation).or_default() += 1;
        let elapsed = crate::time::between(self.started_at, now);
        let fault = st.faults.draw(operation, elapsed);
        if let Some(f) = &fault {
            *st.faults_injected
                .entry((operation, f.code.clone()))
                .or_default() += 1;
        }
        (st, now, fault)
    }

    fn error(operation: Operation, code: &str, message: impl AsRef<str>) -> ServiceError {
        ServiceError::from_code(
            operation.service(),
            operation.as_str(),
            code,
            message.as_ref(),
        )
    }
}

impl SimState {
    /// A fresh id: `prefix` and 17 lowercase hex digits, never issued before.
    fn new_hex_id(&mut self, prefix: &str) -> String {
        loop {
            let digits: String = (0..17)
                .map(|_| char::from_digit(self.rng.random_range(0..16u32), 16).expect("hex digit"))
                .collect();
            let id = format!("{prefix}{digits}");
            if self.issued_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    fn new_uuid(&mut self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }
}

#[cfg(test)]
mod test_support;
