//! The simulated world: everything that changes (jobs, commands, ids
//! issued, calls counted, faults drawn), serializable (all but the call
//! counts, which a store keeps apart) so that a
//! [`SimWorldStore`](crate::SimWorldStore) can keep it in a database several
//! processes share, and what a StartRecovery call came to.

use crate::commands::Command;
use crate::faults::FaultInjector;
use crate::jobs::{Job, JobKind, LaunchPlan};
use crate::scenario::{LaunchOutcome, Operation, Scenario, ServerSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ripcord::ids::SourceServerId;
use ripcord::time::{Timestamp, after};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::time::Duration;

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

/// One StartRecovery call as the simulator received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRecoveryCall {
    pub at: Timestamp,
    pub tags: BTreeMap<String, String>,
    pub source_servers: Vec<SourceServerId>,
    /// The point-in-time snapshot asked for each server, if any.
    #[serde(default)]
    pub recovery_snapshots: BTreeMap<SourceServerId, String>,
    pub outcome: StartOutcome,
}

/// Everything that changes: the simulated world. Serializable, so that a
/// [`SimWorldStore`] can keep it in a database several processes share.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SimState {
    /// The fault window is measured from here.
    pub(crate) started_at: Timestamp,
    /// Ids, launch times and addresses.
    pub(crate) rng: ChaCha8Rng,
    /// Its own generator, so that faults do not shift the ids of a run.
    pub(crate) faults: FaultInjector,
    pub(crate) issued_ids: HashSet<String>,
    pub(crate) jobs: Vec<Job>,
    /// Recovery instance id → when its termination completes.
    pub(crate) terminations: BTreeMap<String, Timestamp>,
    pub(crate) commands: Vec<Command>,
    /// Calls per operation. Not in the serialized world: a store that
    /// shares the world keeps the counts apart ([`SimWorldStore::update`](crate::SimWorldStore::update)),
    /// so that a call that changes nothing else does not rewrite the world.
    #[serde(skip)]
    pub(crate) calls: BTreeMap<Operation, u64>,
    /// Injected faults per (operation, error code); kept apart like `calls`.
    #[serde(skip)]
    pub(crate) faults_injected: BTreeMap<(Operation, String), u64>,
    pub(crate) start_calls: Vec<StartRecoveryCall>,
    /// (job index, server index) whose launch result has been pushed. Part
    /// of the world, so that pushers in several processes push a result once.
    pub(crate) pushed: BTreeSet<(usize, usize)>,
    /// How many of the `pushed` results were dropped on the way
    /// (`faults.drop_launch_results`): marked pushed, never delivered.
    #[serde(default)]
    pub(crate) pushes_dropped: usize,
    /// EC2 instance ids reserved per source server (real instances in an EC2
    /// mirror); a launch takes the oldest, see [`Simulator::reserve_ec2_instance_ids`].
    #[serde(default)]
    pub(crate) ec2_reservations: BTreeMap<SourceServerId, VecDeque<String>>,
}

impl SimState {
    /// A new world for `scenario` (its seed), starting at `started_at`,
    /// with the recovery instances its servers left from an earlier drill.
    pub fn new(scenario: &Scenario, started_at: Timestamp) -> Self {
        let mut world = Self {
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
            pushes_dropped: 0,
            ec2_reservations: BTreeMap::new(),
        };
        world.add_leftover(scenario, true);
        world.add_leftover(scenario, false);
        world
    }

    /// One completed drill (or recovery) job, a day before the start,
    /// whose recovery instances still run: one per server with
    /// `leftover_recovery_instance` (`leftover_recovery`). Already pushed:
    /// its results were announced long ago.
    fn add_leftover(&mut self, scenario: &Scenario, is_drill: bool) {
        let servers: Vec<(SourceServerId, ServerSpec)> = scenario
            .servers
            .by_id
            .keys()
            .map(|id| (id.clone(), scenario.server(id)))
            .filter(|(_, spec)| {
                if is_drill {
                    spec.leftover_recovery_instance
                } else {
                    spec.leftover_recovery
                }
            })
            .collect();
        if servers.is_empty() {
            return;
        }
        let created = self.started_at - chrono::Duration::days(1);
        let started = after(created, scenario.job_pending);
        let plans: Vec<LaunchPlan> = servers
            .into_iter()
            .map(|(id, spec)| {
                let duration = spec.launch_duration.unwrap_or(scenario.launch_duration.min);
                let lag = spec.replication_lag.unwrap_or(Duration::from_secs(60));
                LaunchPlan {
                    source_server_id: id,
                    ends_at: after(started, duration),
                    recovery_instance_id: self.new_hex_id("i-"),
                    ec2_instance_id: self.new_hex_id("i-"),
                    private_ip: format!("10.0.255.{}", self.rng.random_range(4..=254u8)),
                    public_ip: None,
                    snapshot_time: created - chrono::Duration::from_std(lag).unwrap_or_default(),
                    spec: ServerSpec {
                        outcome: LaunchOutcome::Launched,
                        ..spec
                    },
                }
            })
            .collect();
        let job = self.jobs.len();
        self.pushed.extend((0..plans.len()).map(|s| (job, s)));
        let id = self.new_hex_id("drsjob-");
        self.jobs.push(Job {
            id,
            created,
            started,
            tags: BTreeMap::new(),
            kind: JobKind::Launch {
                is_drill,
                servers: plans,
            },
        });
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

    /// Replaces the call counts with the ones a store kept apart from the
    /// serialized world (see [`SimWorldStore::update`](crate::SimWorldStore::update)).
    pub fn set_counts(
        &mut self,
        calls: BTreeMap<Operation, u64>,
        faults_injected: BTreeMap<(Operation, String), u64>,
    ) {
        self.calls = calls;
        self.faults_injected = faults_injected;
    }

    /// Every StartRecovery call, in order, with what it came to.
    pub fn start_recovery_calls(&self) -> &[StartRecoveryCall] {
        &self.start_calls
    }

    /// How many launch results have been pushed (dropped ones included).
    pub fn pushed_count(&self) -> usize {
        self.pushed.len()
    }

    /// How many pushed launch results were dropped on the way.
    pub fn dropped_count(&self) -> usize {
        self.pushes_dropped
    }
}

impl SimState {
    /// A fresh id: `prefix` and 17 lowercase hex digits, never issued before.
    pub(crate) fn new_hex_id(&mut self, prefix: &str) -> String {
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

    pub(crate) fn new_uuid(&mut self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }
}
