//! What a poll of a wave saw, carried by `WaveObserved` and
//! `PostLaunchObserved` events (shared/core/src/event.rs).

use crate::services::drs::{JobLogItem, RecoveryInstance, RecoveryJob};
use crate::services::ec2::{Ec2Instance, InstanceStatus};
use crate::services::ssm::{AgentInfo, CommandInvocation};
use serde::{Deserialize, Serialize};

/// What one poll of a launching wave saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveObservation {
    pub job: Option<RecoveryJob>,
    /// Read only when a server failed or the job ended without it.
    pub log_items: Vec<JobLogItem>,
    pub recovery_instances: Vec<RecoveryInstance>,
    pub instances: Vec<Ec2Instance>,
}

/// What one check of a wave in POST_ACTIONS saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostLaunchObservation {
    pub invocations: Vec<CommandInvocation>,
    pub instance_status: Vec<InstanceStatus>,
    pub agents: Vec<AgentInfo>,
}
