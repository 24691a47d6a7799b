//! The drill report's types: what `ripcord report --format json` prints
//! (camelCase, versioned by [`SCHEMA_VERSION`]) and what the Markdown,
//! HTML and SVG renderers read. Durations are seconds (`…Seconds`, to the
//! millisecond); instants are RFC 3339 UTC.

use super::rto::RtoMeasure;
use crate::ids::{ExecutionId, SourceServerId, WaveNumber};
use crate::operator_action::OperatorAction;
use crate::plan::Mode;
use crate::status::{CleanupView, PreflightView};
use crate::status_model::{
    ActionStatus, CleanupStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus,
};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The version of the JSON format. Adding a field keeps it; renaming,
/// removing or changing the meaning of one bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// What was recovered, how fast, and what failed, for one execution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillReport {
    pub schema_version: u32,
    pub execution_id: ExecutionId,
    pub plan_name: String,
    pub mode: Mode,
    pub region: String,
    /// Who started the execution (`--requested-by`, the trigger's `requestedBy`).
    pub requested_by: String,
    pub status: ExecutionStatus,
    /// Why the execution ended other than COMPLETED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub start_time: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// False while anything may still change: the report is provisional.
    pub settled: bool,
    /// The recovery time objective of the plan (`options.rto_target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_target_seconds: Option<f64>,
    /// The measured RTO of the whole execution (see the module docs).
    pub rto: RtoMeasure,
    /// The oldest point-in-time snapshot any server launched from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo: Option<RpoIndicator>,
    pub servers: ServerCounts,
    pub waves: Vec<WaveReport>,
    /// Every failure, in wave order: execution, wave, server, action.
    pub failures: Vec<FailureReport>,
    /// The pre-flight before the first wave, as the status view shows it
    /// (`state`, `mode`, `summary`, `checkedAt`, `serversChecked`,
    /// `findings`); absent when none ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<PreflightView>,
    /// The drill clean-up, once requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<CleanupReport>,
    /// Every retry, skip, pause and resume, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_actions: Vec<OperatorAction>,
    /// What `options.cleanup_previous` did before the waves launched, one
    /// line per earlier drill's instance ("terminated s-…'s leftover drill
    /// instance i-… from an earlier drill").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_drill_instances: Vec<String>,
}

/// Server counts over the execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerCounts {
    pub total: usize,
    /// COMPLETED: launched, actions succeeded, healthy.
    pub completed: usize,
    pub failed: usize,
    /// Of the failed, those marked `critical: false` in the plan.
    pub failed_optional: usize,
    /// Never launched or still under way.
    pub other: usize,
}

/// The recovery point indicator: the worst snapshot age at launch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpoIndicator {
    /// `launchStartTime - pointInTimeSnapshot` of the server below.
    pub worst_snapshot_age_seconds: f64,
    pub source_server_id: SourceServerId,
    pub hostname: String,
    pub wave_number: WaveNumber,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    pub wave_number: WaveNumber,
    pub name: String,
    pub status: WaveStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// `endTime - startTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// How long the wave waited for DRS capacity before it launched
    /// (docs/capacity.md); absent when it did not wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_wait_seconds: Option<f64>,
    /// The wave's single DRS recovery job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_job_id: Option<String>,
    /// Whether the wave had health checks (they define its ready moment).
    pub health_checked: bool,
    /// The measured RTO of this wave (see the module docs).
    pub rto: RtoMeasure,
    pub servers: Vec<ServerReport>,
    pub actions: Vec<ActionReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerReport {
    pub source_server_id: SourceServerId,
    /// The plan's hostname, or the source server id when the plan has none.
    pub hostname: String,
    pub critical: bool,
    pub launch_status: LaunchStatus,
    pub health_status: HealthStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_end_time: Option<Timestamp>,
    /// `launchEndTime - launchStartTime`, for a server that launched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_time: Option<Timestamp>,
    /// `healthyTime - execution startTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_healthy_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_in_time_snapshot: Option<Timestamp>,
    /// The snapshot the plan chose for the server (`recovery_snapshot:
    /// { before }`), launched as `recoverySnapshotID`; absent: the latest data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_snapshot_id: Option<String>,
    /// `launchStartTime - pointInTimeSnapshot`: how old the recovered data
    /// was when the launch started (negative: the snapshot was taken after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_age_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionReport {
    pub name: String,
    pub document_name: String,
    pub status: ActionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    pub command_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// One per targeted instance, by instance id.
    pub invocations: Vec<InvocationReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationReport {
    pub instance_id: String,
    pub source_server_id: SourceServerId,
    pub status: ActionStatus,
    pub output: String,
    pub error: String,
}

/// What failed, where, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureReport {
    pub kind: FailureKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave_number: Option<WaveNumber>,
    /// What failed: the execution, a wave's name, a hostname, an action's name.
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_server_id: Option<SourceServerId>,
    /// False for a server marked `critical: false` (its wave may still complete).
    pub critical: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailureKind {
    Execution,
    Wave,
    Server,
    Action,
}

/// The clean-up in the report (JSON `cleanup`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    #[serde(flatten)]
    pub summary: CleanupView,
    /// Every server not TERMINATED (still terminating, or failed), in wave
    /// order: the short list a reader has to act on.
    pub not_terminated: Vec<CleanupServer>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupServer {
    pub wave: WaveNumber,
    pub source_server_id: SourceServerId,
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_instance_id: Option<String>,
    pub status: CleanupStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
}
