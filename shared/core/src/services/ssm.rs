//! What Ripcord needs of Systems Manager: run a document on launched
//! instances, read each invocation's result, and see whether the agent is
//! online.

use crate::services::values::service_values;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// SendCommand takes at most this many instance ids per call.
pub const MAX_INSTANCES_PER_COMMAND: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendCommandRequest {
    pub instance_ids: Vec<String>,
    pub document_name: String,
    pub parameters: BTreeMap<String, Vec<String>>,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Identifies the command as Ripcord's (execution, wave, action, try),
    /// so that it can be found again after a crash.
    pub comment: String,
}

/// An invocation's status as SSM reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvocationStatus {
    Pending,
    InProgress,
    Delayed,
    Success,
    Cancelled,
    TimedOut,
    Failed,
    Cancelling,
}

impl InvocationStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Success | Self::Cancelled | Self::TimedOut | Self::Failed
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandInvocation {
    pub command_id: String,
    pub instance_id: String,
    pub status: InvocationStatus,
    pub response_code: Option<i32>,
    pub output: String,
    pub error: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentCommand {
    pub command_id: String,
    pub comment: String,
    pub instance_ids: Vec<String>,
    pub requested_at: Option<Timestamp>,
}

service_values! {
    /// The `PingStatus` of an instance's SSM agent.
    pub enum AgentPing {
        Online = "Online",
        ConnectionLost = "ConnectionLost",
        Inactive = "Inactive",
    }
}

/// DescribeInstanceInformation for one instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub instance_id: String,
    pub ping_status: AgentPing,
}

impl AgentInfo {
    pub fn is_online(&self) -> bool {
        self.ping_status == AgentPing::Online
    }
}
