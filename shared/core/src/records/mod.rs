//! The records the execution store keeps: one execution record and one
//! record per wave. Everything the state machine knows lives here, so a
//! worker that crashed leaves nothing behind that another cannot resume.

use crate::ids::{ExecutionId, SourceServerId, WaveNumber};
use crate::plan::{
    ActionPlan, HealthCheck, Mode, PlanOptions, PreflightMode, ServerPlan, WavePlan,
};
use crate::preflight::PreflightReport;
use crate::status_model::{ActionStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod cleanup;
mod journal;

pub use crate::operator_action::{
    OperatorAction, OperatorActionKind, Pause, ServerAttempt, first_attempt, is_first_attempt,
};
pub use cleanup::{
    ExecutionCleanup, Leftover, LeftoverCleanup, ServerCleanup, WaveCleanup, WaveCleanupCount,
};
pub use journal::{Journal, JournalEntry};

/// The execution item: the plan's shape, the status of each wave, and the
/// execution's own status. Per-server detail lives in the wave records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub id: ExecutionId,
    pub plan_name: String,
    pub mode: Mode,
    pub region: String,
    pub options: PlanOptions,
    pub requested_by: String,
    pub status: ExecutionStatus,
    pub start_time: Timestamp,
    pub end_time: Option<Timestamp>,
    /// Why the execution ended other than COMPLETED.
    pub reason: Option<String>,
    pub waves: Vec<WaveSummary>,
    /// Its claim on the servers of its plan (one server, one active
    /// execution; docs/capacity.md).
    #[serde(default)]
    pub server_claim: ServerClaimState,
    /// The pre-flight before the first wave (docs/preflight.md).
    #[serde(default)]
    pub preflight: PreflightState,
    /// The drill clean-up, once requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<ExecutionCleanup>,
    /// Set while an operator has paused it: no new wave starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Pause>,
    /// Every retry, skip, pause and resume decided on it, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_actions: Vec<OperatorAction>,
    /// When an operator last reopened it (FAILED → IN_PROGRESS): its
    /// execution timeout and server claim count from here, and timers sent
    /// before are stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopened_at: Option<Timestamp>,
    pub journal: Journal,
}

/// Where an execution stands with the servers of its plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServerClaimState {
    /// Not claimed (a record from before the claims: its waves run as they
    /// did).
    #[default]
    Unclaimed,
    /// Asked at tick `tries`; `reason` while other executions hold some.
    Claiming {
        tries: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// When tick `tries` asked: the next is due a tick later (the
        /// sweep's bound, `machine/sweep/`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asked_at: Option<Timestamp>,
    },
    Claimed,
    Released,
}

/// Where an execution stands with its pre-flight.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PreflightState {
    /// None was run (`preflight: off`, or a record from before pre-flight).
    #[default]
    NotRun,
    /// Asked at tick `tries`; `last_error` if reading DRS failed;
    /// `throttled`: how many tries DRS throttled (they do not count
    /// against the retry policy's attempts, invariant 9).
    Checking {
        tries: u32,
        mode: PreflightMode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_error: Option<String>,
        #[serde(default, skip_serializing_if = "is_zero")]
        throttled: u32,
        /// Whether the last try was throttled (`last_error` is then DRS'
        /// throttling, not a permissions problem).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        last_throttled: bool,
        /// When tick `tries` asked: the next is due a tick later.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asked_at: Option<Timestamp>,
    },
    /// What it found, and what the findings did to the start.
    Done {
        mode: PreflightMode,
        report: PreflightReport,
    },
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What the execution record knows of a wave: enough to order the waves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveSummary {
    pub number: WaveNumber,
    pub name: String,
    pub depends_on: Vec<WaveNumber>,
    pub wait_for_approval: bool,
    pub approved_by: Option<String>,
    pub status: WaveStatus,
    /// StartWave (or RelaunchWave) has been sent for this wave.
    pub started: bool,
    /// When it was sent (the sweep's bound, `machine/sweep/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    pub server_count: usize,
    /// The wave's attempt: 1, then one more per retry or reopening (each
    /// attempt launches at most one DRS job, invariant 2).
    #[serde(default = "first_attempt", skip_serializing_if = "is_first_attempt")]
    pub attempt: u32,
    /// The servers a retry named (none: every failed one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry_servers: Vec<SourceServerId>,
}

/// The wave item: its slice of the plan and the truth about each server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveRecord {
    pub execution_id: ExecutionId,
    pub number: WaveNumber,
    pub name: String,
    pub mode: Mode,
    pub options: PlanOptions,
    pub plan: WavePlanSlice,
    pub status: WaveStatus,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub reason: Option<String>,
    pub launch: LaunchState,
    pub servers: Vec<ServerState>,
    pub actions: Vec<ActionRun>,
    pub health: HealthPhase,
    /// The sequence number the next poll must carry; older polls are stale.
    pub poll_seq: u32,
    pub next_poll_at: Option<Timestamp>,
    /// When DRS was last read successfully for this wave.
    pub last_observed_at: Option<Timestamp>,
    /// A launch result was pushed before the job's start was recorded: poll
    /// as soon as it is.
    pub push_seen_before_start: bool,
    /// The launch timeout ran out: the next observation is the last look,
    /// and the servers it does not show settled are FAILED.
    #[serde(default)]
    pub launch_timed_out: bool,
    /// Failed polls in a row, throttling not counted: throttling slows a
    /// drill down (backoff), it never fails it; the timeouts bound it.
    pub consecutive_poll_errors: u32,
    /// Throttled polls in a row, for the backoff.
    pub consecutive_throttles: u32,
    pub last_poll_error: Option<String>,
    /// Set by CancelWave: finish observing the running job, start nothing new.
    pub cancel_requested: Option<String>,
    /// The wave's place in the DRS capacity ledger (docs/capacity.md).
    #[serde(default)]
    pub capacity: CapacityState,
    /// When the wave's execution started: its place in the capacity line.
    #[serde(default)]
    pub execution_started: Option<Timestamp>,
    /// When the ledger last admitted the wave's launch: `start_time` to
    /// here is how long it waited for DRS capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_at: Option<Timestamp>,
    /// The drill clean-up of this wave's servers, once requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<WaveCleanup>,
    /// The attempt this record runs (invariant 2: one job per attempt).
    #[serde(default = "first_attempt", skip_serializing_if = "is_first_attempt")]
    pub attempt: u32,
    /// When a retry started this attempt: wave events sent before belong
    /// to an earlier attempt and are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_started_at: Option<Timestamp>,
    /// `options.cleanup_previous`: terminating what earlier drills left,
    /// before the wave launches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leftovers: Option<LeftoverCleanup>,
    pub journal: Journal,
}

/// Where the wave stands with the DRS capacity ledger (docs/capacity.md).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CapacityState {
    /// Not asked (not started, or a record from before the ledger).
    #[default]
    NotAsked,
    /// Asked at tick `tries`: waiting for the answer, or in line.
    Asking {
        tries: u32,
        since: Timestamp,
        /// Why it waits, as the views show it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// A launch sent back to wait after StartRecovery was tried: the
        /// first try's time, so the next launch looks for a job by tag
        /// first (a 5xx before may have created one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reconcile_since: Option<Timestamp>,
        /// When tick `tries` asked: the next is due a tick later.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asked_at: Option<Timestamp>,
    },
    /// Admitted (at `admitted_at`): the servers are held until the launch
    /// is over.
    Held,
    /// Given back (or the release was sent: a lost one expires on its own).
    Released,
}

/// The part of the plan a wave record needs to run the wave on its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WavePlanSlice {
    pub post_launch: Vec<ActionPlan>,
    pub health_checks: Vec<HealthCheck>,
    #[serde(with = "humantime_serde")]
    pub launch_timeout: std::time::Duration,
    #[serde(with = "humantime_serde")]
    pub health_timeout: std::time::Duration,
}

impl From<&WavePlan> for WavePlanSlice {
    fn from(w: &WavePlan) -> Self {
        Self {
            post_launch: w.post_launch.clone(),
            health_checks: w.health_checks.clone(),
            launch_timeout: w.launch_timeout,
            health_timeout: w.health_timeout,
        }
    }
}

/// Where the wave's single StartRecovery stands (invariant 2, docs/invariants.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LaunchState {
    NotStarted,
    /// The intent is recorded; the call is being (or may have been) made.
    /// `tries` counts calls; after an ambiguous failure or a lost outcome the
    /// next call first looks for a job carrying our tags.
    Requested {
        tries: u32,
        /// When the first try was recorded: the reconcile search starts here.
        since: Timestamp,
        requested_at: Timestamp,
        reconcile: bool,
        /// How many of the `tries` were throttled: those slow the launch
        /// down but do not use up the attempt budget.
        #[serde(default)]
        throttled: u32,
    },
    Started {
        job_id: String,
        started_at: Timestamp,
    },
    /// StartRecovery failed for good; the error is kept.
    Failed {
        code: String,
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerState {
    pub plan: ServerPlan,
    pub launch_status: LaunchStatus,
    pub recovery_job_id: Option<String>,
    pub recovery_instance_id: Option<String>,
    pub launched_instance_id: Option<String>,
    pub instance_type: Option<String>,
    pub private_ip_address: Option<String>,
    pub public_ip_address: Option<String>,
    pub availability_zone: Option<String>,
    pub point_in_time_snapshot: Option<Timestamp>,
    pub health_status: HealthStatus,
    pub launch_start_time: Option<Timestamp>,
    pub launch_end_time: Option<Timestamp>,
    /// When DRS first reported this server's launch result (a pushed
    /// result, or a poll that saw it LAUNCHED or FAILED), before its
    /// recovery instance was described: the launch's end time, and whether
    /// a push completes the wave's results (docs/architecture.md,
    /// "Batched reads").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_result_at: Option<Timestamp>,
    pub healthy_time: Option<Timestamp>,
    pub error_message: Option<String>,
    pub error_code: Option<String>,
    /// Its recovery instance's clean-up, when it is part of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<ServerCleanup>,
    /// Its earlier launch attempts, when a retry launched it again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<ServerAttempt>,
}

impl ServerState {
    /// A server not launched yet; `checked`: its wave has health checks
    /// (without any, its health is NOT_CHECKED from the start).
    pub fn new(plan: ServerPlan, checked: bool) -> Self {
        Self {
            plan,
            launch_status: LaunchStatus::Pending,
            recovery_job_id: None,
            recovery_instance_id: None,
            launched_instance_id: None,
            instance_type: None,
            private_ip_address: None,
            public_ip_address: None,
            availability_zone: None,
            point_in_time_snapshot: None,
            health_status: if checked {
                HealthStatus::Pending
            } else {
                HealthStatus::NotChecked
            },
            launch_start_time: None,
            launch_end_time: None,
            launch_result_at: None,
            healthy_time: None,
            error_message: None,
            error_code: None,
            cleanup: None,
            attempts: Vec::new(),
        }
    }

    pub fn id(&self) -> &SourceServerId {
        &self.plan.id
    }

    /// The plan's hostname, or the source server id when the plan has none.
    pub fn hostname(&self) -> String {
        self.plan
            .hostname
            .clone()
            .unwrap_or_else(|| self.plan.id.to_string())
    }
}

/// One post-launch action across the wave's launched servers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRun {
    pub name: String,
    pub document_name: String,
    pub status: ActionStatus,
    pub tries: u32,
    pub command_ids: Vec<String>,
    /// Set while a SendCommand is outstanding (intent recorded, no command
    /// ids yet).
    pub requested_at: Option<Timestamp>,
    /// Set while a retry of the send is scheduled.
    pub retry_at: Option<Timestamp>,
    /// When the first send was asked for: a retried send first looks for
    /// commands sent since then (same comment), so no instance runs the
    /// action twice.
    #[serde(default)]
    pub first_requested_at: Option<Timestamp>,
    /// How many sends were throttled (they do not use up the retry budget).
    #[serde(default)]
    pub throttled: u32,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub error_message: Option<String>,
    /// Per targeted instance: the invocation's result.
    pub invocations: BTreeMap<String, InvocationResult>,
}

impl ActionRun {
    /// The action before its first send.
    pub fn new(name: String, document_name: String) -> Self {
        Self {
            name,
            document_name,
            status: ActionStatus::Pending,
            tries: 0,
            command_ids: Vec::new(),
            requested_at: None,
            retry_at: None,
            first_requested_at: None,
            throttled: 0,
            start_time: None,
            end_time: None,
            error_message: None,
            invocations: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvocationResult {
    pub source_server_id: SourceServerId,
    pub status: ActionStatus,
    pub output: String,
    pub error: String,
}

/// The post-launch phase: waiting for SSM agents, then the actions, then
/// the health checks, each bounded by the wave's `health_timeout`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthPhase {
    /// When the wave entered POST_ACTIONS.
    pub started_at: Option<Timestamp>,
    /// When the actions were done and the health checks began.
    pub checks_started_at: Option<Timestamp>,
    /// The health command checks (AWS-RunShellScript) of the current try.
    pub command_ids: Vec<String>,
    pub tries: u32,
    /// How many sends were throttled (they do not use up the retry budget).
    #[serde(default)]
    pub throttled: u32,
    /// Set while a SendCommand for the health commands is requested and its
    /// command ids are not yet recorded.
    pub requested_at: Option<Timestamp>,
    /// Set while a retry of the send is scheduled.
    pub retry_at: Option<Timestamp>,
    /// Servers whose SSM agent has been seen Online.
    pub agents_online: Vec<SourceServerId>,
    /// Per instance: the latest result of the health command checks.
    pub command_results: BTreeMap<String, InvocationResult>,
}

impl ExecutionRecord {
    /// A new PENDING execution of `plan`, and one PENDING record per wave.
    pub fn new(
        id: ExecutionId,
        plan: &crate::plan::Plan,
        requested_by: &str,
        now: Timestamp,
    ) -> (ExecutionRecord, Vec<WaveRecord>) {
        let waves = plan
            .waves
            .iter()
            .map(|w| WaveRecord {
                execution_started: Some(now),
                ..WaveRecord::new(id, w, plan.mode, &plan.options)
            })
            .collect();
        let execution = ExecutionRecord {
            id,
            plan_name: plan.name.clone(),
            mode: plan.mode,
            region: plan.region.clone(),
            options: plan.options.clone(),
            requested_by: requested_by.to_owned(),
            status: ExecutionStatus::Pending,
            start_time: now,
            end_time: None,
            reason: None,
            waves: plan
                .waves
                .iter()
                .map(|w| WaveSummary {
                    number: w.number,
                    name: w.name.clone(),
                    depends_on: w.depends_on.clone(),
                    wait_for_approval: w.wait_for_approval,
                    approved_by: None,
                    status: WaveStatus::Pending,
                    started: false,
                    started_at: None,
                    server_count: w.servers.len(),
                    attempt: 1,
                    retry_servers: Vec::new(),
                })
                .collect(),
            server_claim: ServerClaimState::Unclaimed,
            preflight: PreflightState::NotRun,
            cleanup: None,
            paused: None,
            operator_actions: Vec::new(),
            reopened_at: None,
            journal: Journal::default(),
        };
        (execution, waves)
    }
}

impl WaveRecord {
    pub fn new(
        execution_id: ExecutionId,
        wave: &WavePlan,
        mode: Mode,
        options: &PlanOptions,
    ) -> Self {
        Self {
            execution_id,
            number: wave.number,
            name: wave.name.clone(),
            mode,
            options: options.clone(),
            plan: WavePlanSlice::from(wave),
            status: WaveStatus::Pending,
            start_time: None,
            end_time: None,
            reason: None,
            launch: LaunchState::NotStarted,
            servers: wave
                .servers
                .iter()
                .cloned()
                .map(|plan| ServerState::new(plan, !wave.health_checks.is_empty()))
                .collect(),
            actions: wave
                .post_launch
                .iter()
                .map(|a| ActionRun::new(a.name.clone(), a.document.clone()))
                .collect(),
            health: HealthPhase::default(),
            poll_seq: 0,
            next_poll_at: None,
            last_observed_at: None,
            push_seen_before_start: false,
            launch_timed_out: false,
            consecutive_poll_errors: 0,
            consecutive_throttles: 0,
            last_poll_error: None,
            cancel_requested: None,
            capacity: CapacityState::NotAsked,
            execution_started: None,
            admitted_at: None,
            cleanup: None,
            attempt: 1,
            attempt_started_at: None,
            leftovers: None,
            journal: Journal::default(),
        }
    }
}
