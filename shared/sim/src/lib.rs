//! The DRS/EC2/SSM simulator, driven by a scenario file.
//!
//! [`Simulator`] implements [`RecoveryService`](ripcord::ports::RecoveryService),
//! [`InstanceDirectory`](ripcord::ports::InstanceDirectory) and
//! [`CommandRunner`](ripcord::ports::CommandRunner) in process, so a drill runs on
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
//! - [`world_store`]: where the mutable state ([`SimState`]) lives: this
//!   process' memory, or a database file several processes share.
//!
//! Tests read what was asked of the simulator through [`Simulator::calls`] and
//! [`Simulator::start_recovery_calls`].

mod drs;
mod ec2;
pub mod faults;
pub mod push;
pub mod scenario;
mod ssm;
pub mod world_store;

pub use drs::{JobDetail, JobOrigin, LastLaunch};
pub use push::{LaunchResult, LaunchResultSink};
pub use scenario::{
    Operation, Scenario, ScenarioError, ScenarioSource, load_scenario, parse_scenario,
};
pub use ssm::{CommandRecord, InvocationRecord};
pub use world_store::{InMemoryWorld, SimWorldError, SimWorldStore};

use faults::FaultInjector;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ripcord::ids::SourceServerId;
use ripcord::ports::Clock;
use ripcord::service_error::{ErrorClass, ServiceError};
use ripcord::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// What one StartRecovery call came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    world: Arc<dyn SimWorldStore>,
    sink: Mutex<Option<Arc<dyn LaunchResultSink>>>,
    /// Wakes the pusher when a job is created or a sink is set.
    wake: tokio::sync::Notify,
}

/// Everything that changes: the simulated world. Serializable, so that a
/// [`SimWorldStore`] can keep it in a database several processes share.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SimState {
    /// The fault window is measured from here.
    started_at: Timestamp,
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
    #[serde(with = "fault_counts")]
    faults_injected: BTreeMap<(Operation, String), u64>,
    start_calls: Vec<StartRecoveryCall>,
    /// (job index, server index) whose launch result has been pushed. Part
    /// of the world, so that pushers in several processes push a result once.
    pushed: BTreeSet<(usize, usize)>,
    /// EC2 instance ids reserved per source server (real instances in an EC2
    /// mirror); a launch takes the oldest, see [`Simulator::reserve_ec2_instance_ids`].
    #[serde(default)]
    ec2_reservations: BTreeMap<SourceServerId, VecDeque<String>>,
}

impl SimState {
    /// A new world for `scenario` (its seed), starting at `started_at`.
    pub fn new(scenario: &Scenario, started_at: Timestamp) -> Self {
        Self {
            started_at,
            rng: ChaCha8Rng::seed_from_u64(scenario.seed),
            faults: FaultInjector::new(scenario.seed),
            issued_ids: HashSet::new(),
            jobs: Vec::new(),
            terminations: BTreeMap::new(),
            commands: Vec::new(),
            calls: BTreeMap::new(),
            faults_injected: BTreeMap::new(),
            start_calls: Vec::new(),
            pushed: BTreeSet::new(),
            ec2_reservations: BTreeMap::new(),
        }
    }

    /// When the world started (simulated time).
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    /// How many times each operation was called (faulted calls included).
    pub fn calls(&self) -> &BTreeMap<Operation, u64> {
        &self.calls
    }

    /// How many faults were injected, per operation and error code.
    pub fn faults_injected(&self) -> &BTreeMap<(Operation, String), u64> {
        &self.faults_injected
    }

    /// Every StartRecovery call, in order, with what it came to.
    pub fn start_recovery_calls(&self) -> &[StartRecoveryCall] {
        &self.start_calls
    }

    /// How many launch results have been pushed.
    pub fn pushed_count(&self) -> usize {
        self.pushed.len()
    }
}

impl Simulator {
    /// A simulator whose world lives in this process' memory.
    pub fn new(scenario: Scenario, clock: Arc<dyn Clock>) -> Arc<Self> {
        let world = Arc::new(InMemoryWorld::new(SimState::new(&scenario, clock.now())));
        Self::with_world(scenario, clock, world)
    }

    /// A simulator on a world kept by `world` (e.g. in a database file that
    /// other processes share). `clock` must agree with theirs.
    pub fn with_world(
        scenario: Scenario,
        clock: Arc<dyn Clock>,
        world: Arc<dyn SimWorldStore>,
    ) -> Arc<Self> {
        Arc::new(Self {
            scenario,
            clock,
            world,
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

    /// A copy of the whole world as it is now.
    pub fn world_snapshot(&self) -> Result<SimState, SimWorldError> {
        self.read(SimState::clone)
    }

    /// When the simulated world started (simulated time).
    pub fn started_at(&self) -> Result<Timestamp, SimWorldError> {
        self.read(|st| st.started_at)
    }

    /// How many times each operation was called (faulted calls included).
    /// Panics if a shared world cannot be read; [`Self::world_snapshot`] doesn't.
    pub fn calls(&self) -> BTreeMap<Operation, u64> {
        self.read_or_panic(|st| st.calls.clone())
    }

    /// How many faults were injected, per operation and error code.
    pub fn faults_injected(&self) -> BTreeMap<(Operation, String), u64> {
        self.read_or_panic(|st| st.faults_injected.clone())
    }

    /// How many times one operation was called.
    pub fn call_count(&self, operation: Operation) -> u64 {
        self.read_or_panic(|st| st.calls.get(&operation).copied().unwrap_or(0))
    }

    /// Every StartRecovery call, in order, with what it came to.
    pub fn start_recovery_calls(&self) -> Vec<StartRecoveryCall> {
        self.read_or_panic(|st| st.start_calls.clone())
    }

    /// Each launch job with when its last server settles (launched or
    /// failed; `None` while a stuck server keeps it open): what a benchmark
    /// measures the engine's reaction against.
    pub fn launch_timeline(&self) -> Vec<LaunchTimeline> {
        self.read_or_panic(|st| {
            st.jobs
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
        })
    }

    /// Reads the world without changing it.
    fn read<T>(&self, mut f: impl FnMut(&SimState) -> T) -> Result<T, SimWorldError> {
        let mut out = None;
        self.world.update(&mut |st| {
            out = Some(f(st));
            false
        })?;
        out.ok_or_else(|| SimWorldError::Storage("the world store skipped a read".to_owned()))
    }

    fn read_or_panic<T>(&self, f: impl FnMut(&SimState) -> T) -> T {
        self.read(f)
            .unwrap_or_else(|e| panic!("reading the simulated world failed: {e}"))
    }

    /// Runs one call on the world: counts it, reads the clock, draws its
    /// fault, and hands all three to `body`, alone on the world.
    fn call<T>(
        &self,
        operation: Operation,
        mut body: impl FnMut(&mut SimState, Timestamp, Option<ServiceError>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut out = None;
        let stored = self.world.update(&mut |st| {
            // Read inside: another process' call ordered before this one
            // must not see a later time than this one does.
            let now = self.clock.now();
            *st.calls.entry(operation).or_default() += 1;
            let elapsed = ripcord::time::between(st.started_at, now);
            let fault = st.faults.draw(&self.scenario.faults, operation, elapsed);
            if let Some(f) = &fault {
                *st.faults_injected
                    .entry((operation, f.code.clone()))
                    .or_default() += 1;
            }
            out = Some(body(st, now, fault));
            true
        });
        match (stored, out) {
            (Ok(()), Some(result)) => result,
            (Err(e), _) => Err(Self::world_error(operation, &e.to_string())),
            (Ok(()), None) => Err(Self::world_error(
                operation,
                "the world store did not run the call",
            )),
        }
    }

    /// A simulator whose world cannot be reached answers like a DRS outage:
    /// a retryable 500.
    fn world_error(operation: Operation, reason: &str) -> ServiceError {
        ServiceError {
            class: ErrorClass::Transient,
            ..Self::error(operation, faults::INTERNAL_SERVER, reason)
        }
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

/// `faults_injected` as a list (JSON map keys must be strings).
mod fault_counts {
    use super::Operation;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize)]
    struct Count {
        operation: Operation,
        code: String,
        count: u64,
    }

    pub(super) fn serialize<S: Serializer>(
        counts: &BTreeMap<(Operation, String), u64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(counts.iter().map(|((operation, code), count)| Count {
            operation: *operation,
            code: code.clone(),
            count: *count,
        }))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(Operation, String), u64>, D::Error> {
        Ok(Vec::<Count>::deserialize(d)?
            .into_iter()
            .map(|c| ((c.operation, c.code), c.count))
            .collect())
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
