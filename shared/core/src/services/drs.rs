//! What Ripcord needs of AWS Elastic Disaster Recovery: start one recovery
//! job per wave, find a job again by its tags, and read the per-server truth
//! (participating servers, job log, recovery instances).

use crate::ids::SourceServerId;
use crate::services::values::service_values;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Tag keys put on every recovery job, so a job can be found again after a
/// crash instead of being launched twice (invariant 2, docs/invariants.md).
pub const TAG_EXECUTION: &str = "ripcord:execution-id";
pub const TAG_WAVE: &str = "ripcord:wave";
pub const TAG_ATTEMPT: &str = "ripcord:attempt";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRecoveryRequest {
    pub source_servers: Vec<SourceServerId>,
    pub is_drill: bool,
    pub tags: BTreeMap<String, String>,
}

/// A DRS job's own status: only whether it is still running. COMPLETED
/// says nothing about whether any server launched (invariant 1; docs/aws-facts.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Pending,
    Started,
    Completed,
}

/// A participating server's `launchStatus` as DRS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DrsLaunchStatus {
    Pending,
    InProgress,
    Launched,
    Failed,
    Terminated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipatingServer {
    pub source_server_id: SourceServerId,
    pub recovery_instance_id: Option<String>,
    pub launch_status: DrsLaunchStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryJob {
    pub job_id: String,
    pub status: JobStatus,
    pub creation_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub participating_servers: Vec<ParticipatingServer>,
    pub tags: BTreeMap<String, String>,
}

service_values! {
    /// The `event` of a DescribeJobLogItems line.
    pub enum JobLogEvent {
        JobStart = "JOB_START",
        ServerSkipped = "SERVER_SKIPPED",
        CleanupStart = "CLEANUP_START",
        CleanupEnd = "CLEANUP_END",
        CleanupFail = "CLEANUP_FAIL",
        SnapshotStart = "SNAPSHOT_START",
        SnapshotEnd = "SNAPSHOT_END",
        SnapshotFail = "SNAPSHOT_FAIL",
        UsingPreviousSnapshot = "USING_PREVIOUS_SNAPSHOT",
        UsingPreviousSnapshotFailed = "USING_PREVIOUS_SNAPSHOT_FAILED",
        ConversionStart = "CONVERSION_START",
        ConversionEnd = "CONVERSION_END",
        ConversionFail = "CONVERSION_FAIL",
        LaunchStart = "LAUNCH_START",
        LaunchFailed = "LAUNCH_FAILED",
        JobCancel = "JOB_CANCEL",
        JobEnd = "JOB_END",
        DeployNetworkConfigurationStart = "DEPLOY_NETWORK_CONFIGURATION_START",
        DeployNetworkConfigurationEnd = "DEPLOY_NETWORK_CONFIGURATION_END",
        DeployNetworkConfigurationFailed = "DEPLOY_NETWORK_CONFIGURATION_FAILED",
        UpdateNetworkConfigurationStart = "UPDATE_NETWORK_CONFIGURATION_START",
        UpdateNetworkConfigurationEnd = "UPDATE_NETWORK_CONFIGURATION_END",
        UpdateNetworkConfigurationFailed = "UPDATE_NETWORK_CONFIGURATION_FAILED",
        UpdateLaunchTemplateStart = "UPDATE_LAUNCH_TEMPLATE_START",
        UpdateLaunchTemplateEnd = "UPDATE_LAUNCH_TEMPLATE_END",
        UpdateLaunchTemplateFailed = "UPDATE_LAUNCH_TEMPLATE_FAILED",
        NetworkRecoveryFail = "NETWORK_RECOVERY_FAIL",
    }
}

impl JobLogEvent {
    /// Whether this event reports a failure for its server.
    pub fn is_failure(&self) -> bool {
        match self {
            Self::CleanupFail
            | Self::SnapshotFail
            | Self::UsingPreviousSnapshotFailed
            | Self::ConversionFail
            | Self::LaunchFailed
            | Self::DeployNetworkConfigurationFailed
            | Self::UpdateNetworkConfigurationFailed
            | Self::UpdateLaunchTemplateFailed
            | Self::NetworkRecoveryFail => true,
            // DRS adds events; every failure it has named so far ends so,
            // and missing one would leave a failed server looking pending.
            Self::Other(event) => event.ends_with("_FAIL") || event.ends_with("_FAILED"),
            _ => false,
        }
    }
}

/// One line of DescribeJobLogItems.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobLogItem {
    pub event: JobLogEvent,
    pub event_time: Option<Timestamp>,
    pub source_server_id: Option<SourceServerId>,
    pub target_instance_id: Option<String>,
    pub raw_error: Option<String>,
}

impl JobLogItem {
    /// Whether this log event reports a failure for its server.
    pub fn is_failure(&self) -> bool {
        self.event.is_failure()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryInstance {
    pub recovery_instance_id: String,
    pub ec2_instance_id: Option<String>,
    pub ec2_instance_state: Option<String>,
    pub job_id: Option<String>,
    pub source_server_id: SourceServerId,
    pub is_drill: bool,
    pub point_in_time_snapshot: Option<Timestamp>,
}

/// DescribeSourceServers' replication view, for a pre-flight check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceServer {
    pub source_server_id: SourceServerId,
    pub hostname: Option<String>,
    /// CONTINUOUS is healthy; STALLED, DISCONNECTED, PAUSED, ... are not.
    pub data_replication_state: String,
    pub lag_duration: Option<String>,
}
