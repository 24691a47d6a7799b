//! The drill clean-up as the views show it: the execution's summary (who
//! asked, when, why, where it stands, how many instances were terminated,
//! failed or are still terminating) and each server's clean-up status.
//! The status JSON and the drill report carry the same ones.

use crate::records::{ExecutionRecord, LeftoverCleanup, ServerCleanup, ServerState, WaveRecord};
use crate::status_model::CleanupStatus;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// An execution's clean-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CleanupView {
    /// IN_PROGRESS until every wave reported; then COMPLETED, or FAILED
    /// when an instance could not be terminated.
    pub status: CleanupPhase,
    pub requested_by: String,
    pub reason: String,
    pub requested_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    pub terminating: usize,
    pub terminated: usize,
    pub failed: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CleanupPhase {
    InProgress,
    Completed,
    Failed,
}

/// A server's clean-up (docs/status-model.md, "Server clean-up status").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServerCleanupView {
    pub status: CleanupStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
}

/// A drill instance an earlier drill left for a server, and what
/// `options.cleanup_previous` made of it before the wave launched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeftoverView {
    pub recovery_instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2_instance_id: Option<String>,
    pub status: CleanupStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One line for people: "terminated s-…'s leftover drill instance i-…
    /// from an earlier drill".
    pub summary: String,
}

pub fn leftover_views(s: &ServerState, leftovers: Option<&LeftoverCleanup>) -> Vec<LeftoverView> {
    let id = s.id();
    leftovers
        .iter()
        .flat_map(|l| &l.instances)
        .filter(|e| &e.source_server_id == id)
        .map(|e| LeftoverView {
            recovery_instance_id: e.recovery_instance_id.clone(),
            ec2_instance_id: e.ec2_instance_id.clone(),
            status: e.status,
            reason: e.reason.clone(),
            summary: e.summary(),
        })
        .collect()
}

pub fn server_cleanup_view(c: &ServerCleanup) -> ServerCleanupView {
    ServerCleanupView {
        status: c.status,
        reason: c.reason.clone(),
        end_time: c.ended_at,
    }
}

/// The execution's clean-up, counted over its wave records; `None` when
/// none was requested.
pub fn cleanup_view(execution: &ExecutionRecord, waves: &[WaveRecord]) -> Option<CleanupView> {
    let c = execution.cleanup.as_ref()?;
    let count = |status| {
        waves
            .iter()
            .flat_map(|w| &w.servers)
            .filter(|s| s.cleanup.as_ref().is_some_and(|c| c.status == status))
            .count()
    };
    let failed = count(CleanupStatus::Failed);
    Some(CleanupView {
        status: match (c.ended_at, failed) {
            (None, _) => CleanupPhase::InProgress,
            (Some(_), 0) => CleanupPhase::Completed,
            (Some(_), _) => CleanupPhase::Failed,
        },
        requested_by: c.requested_by.clone(),
        reason: c.reason.clone(),
        requested_at: c.requested_at,
        ended_at: c.ended_at,
        terminating: count(CleanupStatus::Terminating),
        terminated: count(CleanupStatus::Terminated),
        failed,
    })
}
