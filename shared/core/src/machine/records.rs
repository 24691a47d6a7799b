//! The records the execution store keeps: one execution record and one
//! record per wave. Everything the state machine knows lives here, so a
//! worker that crashed leaves nothing behind that another cannot resume.

use crate::event::FollowUp;
use crate::ids::{EventId, ExecutionId, SourceServerId, WaveNumber};
use crate::plan::{ActionPlan, HealthCheck, Mode, PlanOptions, ServerPlan, WavePlan};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Pending,
    InProgress,
    Completed,
    Failed,
    Cancelled,
    Timeout,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 6] = [
        ExecutionStatus::Pending,
        ExecutionStatus::InProgress,
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::Cancelled,
        ExecutionStatus::Timeout,
    ];

    /// Its name in the status JSON (`IN_PROGRESS`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Pending => "PENDING",
            ExecutionStatus::InProgress => "IN_PROGRESS",
            ExecutionStatus::Completed => "COMPLETED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::Cancelled => "CANCELLED",
            ExecutionStatus::Timeout => "TIMEOUT",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WaveStatus {
    Pending,
    Launching,
    PostActions,
    Completed,
    Failed,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchStatus {
    Pending,
    Launching,
    Launched,
    Completed,
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthStatus {
    Pending,
    Checking,
    Healthy,
    Unhealthy,
    Timeout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionStatus {
    Pending,
    Running,
    Success,
    Failed,
    Timeout,
}

/// Processed event ids, each with the follow-ups its decision sent, so that
/// a redelivered message changes nothing and still re-sends what a crash may
/// have lost (invariants 3 and 4, docs/invariants.md). Bounded: the oldest entries go
/// first; `decide` is also idempotent by state for anything older.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    entries: VecDeque<JournalEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub event_id: EventId,
    /// The queued message whose step decided this event inline (a result
    /// of its effects); `None` for the message itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<EventId>,
    pub at: Timestamp,
    pub follow_ups: Vec<FollowUp>,
}

impl Journal {
    /// Event ids kept per record.
    pub const CAPACITY: usize = 256;
    /// Entries that keep their follow-ups. A redelivery comes one visibility
    /// timeout after a crash, long before this many more events decide on
    /// the same record; older outboxes only cost space (a DynamoDB write is
    /// billed per KB).
    pub const OUTBOX_CAPACITY: usize = 64;

    pub fn get(&self, id: EventId) -> Option<&JournalEntry> {
        self.entries.iter().rev().find(|e| e.event_id == id)
    }

    pub fn contains(&self, id: EventId) -> bool {
        self.get(id).is_some()
    }

    pub fn record(&mut self, event_id: EventId, at: Timestamp, follow_ups: Vec<FollowUp>) {
        self.record_caused(event_id, None, at, follow_ups);
    }

    /// Records an event decided inline in the step of message `root`.
    pub fn record_caused(
        &mut self,
        event_id: EventId,
        root: Option<EventId>,
        at: Timestamp,
        follow_ups: Vec<FollowUp>,
    ) {
        if self.contains(event_id) {
            return;
        }
        if self.entries.len() >= Self::CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(JournalEntry {
            event_id,
            root,
            at,
            follow_ups,
        });
        if let Some(old) = self
            .entries
            .len()
            .checked_sub(Self::OUTBOX_CAPACITY + 1)
            .and_then(|i| self.entries.get_mut(i))
        {
            old.follow_ups.clear();
        }
    }

    /// The follow-ups of message `id` and of every event decided inline in
    /// its step: what a redelivery of `id` must send again.
    pub fn follow_ups_of_step(&self, id: EventId) -> Vec<FollowUp> {
        self.entries
            .iter()
            .filter(|e| e.event_id == id || e.root == Some(id))
            .flat_map(|e| e.follow_ups.iter().cloned())
            .collect()
    }

    /// When the latest event recorded here was decided.
    pub fn last_at(&self) -> Option<Timestamp> {
        self.entries.iter().map(|e| e.at).max()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

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
    pub journal: Journal,
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
    /// StartWave has been sent for this wave.
    pub started: bool,
    pub server_count: usize,
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
    pub journal: Journal,
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
    pub healthy_time: Option<Timestamp>,
    pub error_message: Option<String>,
    pub error_code: Option<String>,
}

impl ServerState {
    pub fn new(plan: ServerPlan) -> Self {
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
            health_status: HealthStatus::Pending,
            launch_start_time: None,
            launch_end_time: None,
            healthy_time: None,
            error_message: None,
            error_code: None,
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
            .map(|w| WaveRecord::new(id, w, plan.mode, &plan.options))
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
                    server_count: w.servers.len(),
                })
                .collect(),
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
            servers: wave.servers.iter().cloned().map(ServerState::new).collect(),
            actions: wave
                .post_launch
                .iter()
                .map(|a| ActionRun {
                    name: a.name.clone(),
                    document_name: a.document.clone(),
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
                })
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
            journal: Journal::default(),
        }
    }
}

#[cfg(test)]
mod journal_tests {
    use super::*;
    use crate::event::{Envelope, Event};
    use crate::ids::ExecutionId;

    fn follow_up(now: Timestamp) -> FollowUp {
        FollowUp {
            envelope: Envelope::new(
                ExecutionId::new_random(),
                None,
                Event::PublishMetrics {},
                now,
            ),
            delay: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn the_journal_is_bounded_and_keeps_recent_outboxes() {
        let now = chrono::Utc::now();
        let mut journal = Journal::default();
        let ids: Vec<EventId> = (0..300).map(|_| EventId::new_random()).collect();
        for id in &ids {
            journal.record(*id, now, vec![follow_up(now)]);
        }
        assert_eq!(journal.len(), Journal::CAPACITY);
        assert!(!journal.contains(ids[0]), "the oldest ids are dropped");
        assert!(journal.contains(ids[299]));
        assert_eq!(journal.follow_ups_of_step(ids[299]).len(), 1);
        let oldest_with_outbox = 300 - Journal::OUTBOX_CAPACITY;
        assert_eq!(journal.follow_ups_of_step(ids[oldest_with_outbox]).len(), 1);
        assert!(
            journal
                .follow_ups_of_step(ids[oldest_with_outbox - 1])
                .is_empty()
        );
    }

    #[test]
    fn a_step_re_sends_the_follow_ups_of_its_inline_results() {
        let now = chrono::Utc::now();
        let mut journal = Journal::default();
        let (message, result, other) = (
            EventId::new_random(),
            EventId::new_random(),
            EventId::new_random(),
        );
        journal.record(message, now, vec![follow_up(now)]);
        journal.record_caused(
            result,
            Some(message),
            now,
            vec![follow_up(now), follow_up(now)],
        );
        journal.record(other, now, vec![follow_up(now)]);
        assert_eq!(journal.follow_ups_of_step(message).len(), 3);
        assert_eq!(journal.follow_ups_of_step(other).len(), 1);
    }
}
