//! The status view's types: the Execution → Wave → Server → Action
//! shape, serialized as camelCase JSON. `ripcord status --json` prints them
//! and the CLI reads them back, so they derive both Serialize and Deserialize.

use crate::ids::{ExecutionId, SourceServerId, WaveNumber};
use crate::operator_action::{
    OperatorAction, Pause, ServerAttempt, first_attempt, is_first_attempt,
};
use crate::plan::{Mode, PreflightMode};
use crate::preflight::Finding;
use crate::status_model::{ActionStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One execution as a reader sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExecutionView {
    pub execution_id: ExecutionId,
    pub plan_name: String,
    pub mode: Mode,
    /// The AWS region the plan recovers into (links to the right console).
    pub region: String,
    pub status: ExecutionStatus,
    /// Set while an operator has paused it: no new wave starts (the status
    /// stays IN_PROGRESS; docs/status-model.md, "Operator control").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Pause>,
    /// Every retry, skip, pause and resume, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_actions: Vec<OperatorAction>,
    /// Why the execution ended other than COMPLETED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why no wave has started: pre-flight is still checking, or another
    /// active execution holds some of its servers (`options.busy_servers:
    /// wait`; docs/capacity.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<String>,
    /// The pre-flight before the first wave; absent when none ran
    /// (`options.preflight: off`, or a record from before pre-flight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<PreflightView>,
    /// The drill clean-up, once requested (docs/status-model.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<super::CleanupView>,
    pub requested_by: String,
    pub waves: Vec<WaveView>,
    pub progress: Progress,
    pub start_time: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// See [`super::estimate_completion`] for how it is computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_completion: Option<Timestamp>,
    /// The instant the view was built.
    pub last_updated: Timestamp,
}

/// What an execution's pre-flight found, or that it is still checking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PreflightView {
    pub state: PreflightPhase,
    /// What findings do to the start: `block` (an error fails the
    /// execution before any wave launches) or `warn` (they are recorded).
    pub mode: PreflightMode,
    /// DONE: "2 errors, 1 warning, 1 note" or "no findings". CHECKING:
    /// "running", or, once the execution has ended, that it never finished.
    pub summary: String,
    /// When the checks read DRS (DONE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<Timestamp>,
    /// How many of the plan's servers were checked (DONE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers_checked: Option<usize>,
    /// Errors first, then warnings, then notes; empty while CHECKING.
    pub findings: Vec<Finding>,
}

/// Where the pre-flight stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PreflightPhase {
    /// Asked, no answer yet (or the execution ended before one came).
    Checking,
    /// The findings are in.
    Done,
}

/// Server counts over the whole execution (see [`super::Progress::count`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub total_servers: usize,
    /// Servers LAUNCHED or COMPLETED.
    pub launched_servers: usize,
    pub completed_servers: usize,
    pub failed_servers: usize,
    /// `completedServers / totalServers * 100`, rounded to one decimal.
    pub percent_complete: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaveView {
    pub wave_number: WaveNumber,
    pub name: String,
    pub status: WaveStatus,
    pub depends_on: Vec<WaveNumber>,
    /// The wave waits, PENDING, for `ripcord approve` (never true once the
    /// execution is terminal: approving could no longer start it).
    pub awaiting_approval: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    pub servers: Vec<ServerView>,
    pub post_actions: Vec<ActionView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why a WAITING wave waits: the DRS capacity in use and the waves
    /// ahead of it, or DRS' refusal (docs/capacity.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<String>,
    /// The wave's single DRS recovery job, once StartRecovery returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_job_id: Option<String>,
    /// Its attempt: 1, one more per operator retry.
    #[serde(default = "first_attempt", skip_serializing_if = "is_first_attempt")]
    pub attempt: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    pub source_server_id: SourceServerId,
    /// The plan's hostname, or the source server id when the plan has none.
    pub hostname: String,
    pub critical: bool,
    pub launch_status: LaunchStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    pub health_status: HealthStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_end_time: Option<Timestamp>,
    /// The point-in-time snapshot DRS launched from (the RPO indicator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_in_time_snapshot: Option<Timestamp>,
    /// When every health check of the server first passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Its recovery instance's clean-up, when it is part of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<super::ServerCleanupView>,
    /// How its earlier attempts ended, when a retry launched it again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<ServerAttempt>,
    /// Drill instances earlier drills left, terminated before the wave
    /// launched (`options.cleanup_previous`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_drill_instances: Vec<super::LeftoverView>,
}

/// The kind of a post-launch action. Ripcord runs SSM documents only: there
/// are no Lambda or custom-script actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionType {
    SsmDocument,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ActionView {
    /// `<wave number>-<position in the wave, from 1>-<action name>`.
    pub action_id: String,
    /// The action's name in the plan.
    pub name: String,
    pub action_type: ActionType,
    pub status: ActionStatus,
    /// The first SSM command sent for this action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    pub document_name: String,
    /// One `<instance id>: <output>` line per instance that printed something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
}
