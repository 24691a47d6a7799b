//! The status model (docs/status-model.md): the status of each level, an
//! execution, a wave, a server's launch, its health, each post-launch
//! action and a server's clean-up, and in `transition` the moves allowed between them. Below the
//! events and the records, which both name these statuses.

use serde::{Deserialize, Serialize};

pub mod transition;

pub use transition::{Transitions, operator_transition, transition};

/// A status as the JSON shows it (`COMPLETED`, `POST_ACTIONS`).
pub fn name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

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
    /// Ready to launch, in line for DRS capacity (docs/capacity.md).
    Waiting,
    Launching,
    PostActions,
    Completed,
    Failed,
    Cancelled,
    /// An operator skipped it (`ripcord skip`): ended without running, and
    /// its dependents may start (docs/status-model.md).
    Skipped,
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
    /// The wave has no health checks: nothing will ever check this server.
    NotChecked,
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

/// A server's drill clean-up: its recovery instance is being terminated,
/// is gone, or could not be terminated (docs/status-model.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CleanupStatus {
    Terminating,
    Terminated,
    Failed,
}
