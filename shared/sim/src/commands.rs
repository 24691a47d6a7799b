//! The simulated SSM commands as the world keeps them: each command's
//! invocations planned at SendCommand (when each ends, how, what it printed),
//! and what SSM shows of them at a given instant.

use ripcord::ports::ssm::{CommandInvocation, InvocationStatus, SentCommand};
use ripcord::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Command {
    pub(crate) id: String,
    pub(crate) comment: String,
    pub(crate) requested_at: Timestamp,
    pub(crate) invocations: Vec<PlannedInvocation>,
    #[serde(default)]
    pub(crate) document_name: String,
    #[serde(default)]
    pub(crate) parameters: BTreeMap<String, Vec<String>>,
    #[serde(default, with = "humantime_serde")]
    pub(crate) timeout: Duration,
}

/// A command as ListCommands shows it on the wire: what was sent and each
/// invocation's state at the time of the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRecord {
    pub command_id: String,
    pub comment: String,
    pub document_name: String,
    pub parameters: BTreeMap<String, Vec<String>>,
    /// The command's own timeout (zero: none was given).
    pub timeout: Duration,
    pub requested_at: Timestamp,
    pub invocations: Vec<InvocationRecord>,
}

/// One invocation of a [`CommandRecord`], with when it ended (if it has).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvocationRecord {
    pub invocation: CommandInvocation,
    pub ended_at: Option<Timestamp>,
}

/// One instance's invocation, decided when the command is sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PlannedInvocation {
    pub(crate) instance_id: String,
    pub(crate) ends_at: Timestamp,
    pub(crate) status: InvocationStatus,
    pub(crate) response_code: i32,
    pub(crate) output: String,
    pub(crate) error: String,
}

impl Command {
    pub(crate) fn sent(&self) -> SentCommand {
        SentCommand {
            command_id: self.id.clone(),
            comment: self.comment.clone(),
            instance_ids: self
                .invocations
                .iter()
                .map(|i| i.instance_id.clone())
                .collect(),
            requested_at: Some(self.requested_at),
        }
    }
}

impl Command {
    pub(crate) fn record(&self, now: Timestamp) -> CommandRecord {
        CommandRecord {
            command_id: self.id.clone(),
            comment: self.comment.clone(),
            document_name: self.document_name.clone(),
            parameters: self.parameters.clone(),
            timeout: self.timeout,
            requested_at: self.requested_at,
            invocations: self
                .invocations
                .iter()
                .map(|i| InvocationRecord {
                    invocation: i.view(&self.id, now),
                    ended_at: (i.ends_at <= now).then_some(i.ends_at),
                })
                .collect(),
        }
    }
}

impl PlannedInvocation {
    pub(crate) fn view(&self, command_id: &str, now: Timestamp) -> CommandInvocation {
        if now < self.ends_at {
            return CommandInvocation {
                command_id: command_id.to_owned(),
                instance_id: self.instance_id.clone(),
                status: InvocationStatus::InProgress,
                response_code: None,
                output: String::new(),
                error: String::new(),
            };
        }
        CommandInvocation {
            command_id: command_id.to_owned(),
            instance_id: self.instance_id.clone(),
            status: self.status,
            response_code: Some(self.response_code),
            output: self.output.clone(),
            error: self.error.clone(),
        }
    }
}
