//! What operators did to an execution (`ripcord retry`, `skip`, `pause`,
//! `resume`): the actions kept on the execution record with who, when and
//! why, the pause, and each server's earlier launch attempts
//! (docs/status-model.md, "Operator control"). Plain data below the
//! records and the announcements, which both carry it.

use crate::ids::{SourceServerId, WaveNumber};
use crate::status_model::LaunchStatus;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Which operator command was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperatorActionKind {
    Retry,
    Skip,
    Pause,
    Resume,
}

impl OperatorActionKind {
    /// Its name in the status JSON and the report (`RETRY`).
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorActionKind::Retry => "RETRY",
            OperatorActionKind::Skip => "SKIP",
            OperatorActionKind::Pause => "PAUSE",
            OperatorActionKind::Resume => "RESUME",
        }
    }
}

/// One operator action, as decided on the execution record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OperatorAction {
    pub action: OperatorActionKind,
    pub requested_by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<WaveNumber>,
    /// Retry: the attempt it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Retry: the servers named (none: every failed one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<SourceServerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An execution paused by an operator: no new wave starts until resumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Pause {
    pub requested_by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How one earlier launch attempt of a server ended, kept when a retry
/// launches it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServerAttempt {
    pub attempt: u32,
    pub launch_status: LaunchStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_end_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// The attempt of a record written before retries: the first.
pub fn first_attempt() -> u32 {
    1
}

pub fn is_first_attempt(attempt: &u32) -> bool {
    *attempt == 1
}
