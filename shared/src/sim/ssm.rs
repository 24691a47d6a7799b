//! Simulated Systems Manager: SendCommand on launched instances whose agent
//! is online, invocation results decided by the scenario's command rules
//! (first match wins), and the agents' ping status.
//!
//! An invocation is InProgress until its duration has passed, then ends with
//! its rule's status. One that would outlast the command's timeout ends
//! TimedOut when the timeout runs out, as SSM does.

use super::scenario::{AgentBehaviour, CommandRule, CommandStatus, Operation};
use super::{SimState, Simulator};
use crate::ports::ssm::{
    AgentInfo, CommandInvocation, CommandRunner, InvocationStatus, MAX_INSTANCES_PER_COMMAND,
    SendCommandRequest, SentCommand,
};
use crate::service_error::ServiceError;
use crate::time::{Timestamp, after};
use async_trait::async_trait;

pub(super) struct Command {
    id: String,
    comment: String,
    requested_at: Timestamp,
    invocations: Vec<PlannedInvocation>,
}

/// One instance's invocation, decided when the command is sent.
struct PlannedInvocation {
    instance_id: String,
    ends_at: Timestamp,
    status: InvocationStatus,
    response_code: i32,
    output: String,
    error: String,
}

impl Command {
    fn sent(&self) -> SentCommand {
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

impl PlannedInvocation {
    fn view(&self, command_id: &str, now: Timestamp) -> CommandInvocation {
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

impl CommandRule {
    fn matches(
        &self,
        source_server_id: &str,
        instance_id: &str,
        request: &SendCommandRequest,
    ) -> bool {
        let server = self
            .server
            .as_ref()
            .is_none_or(|s| s == source_server_id || s == instance_id);
        let document = self
            .document
            .as_ref()
            .is_none_or(|d| *d == request.document_name);
        let contains = self.contains.as_ref().is_none_or(|needle| {
            request
                .parameters
                .values()
                .flatten()
                .any(|v| v.contains(needle.as_str()))
        });
        server && document && contains
    }
}

impl Simulator {
    /// The invocation one instance will have, from the first matching rule.
    fn plan_invocation(
        &self,
        source_server_id: &str,
        instance_id: &str,
        request: &SendCommandRequest,
        now: Timestamp,
    ) -> PlannedInvocation {
        let rule = self
            .scenario
            .commands
            .iter()
            .find(|r| r.matches(source_server_id, instance_id, request))
            .cloned()
            .unwrap_or_default();
        let duration = rule.duration.unwrap_or(self.scenario.command_duration);
        let timed_out = !request.timeout.is_zero() && duration > request.timeout;
        if timed_out {
            return PlannedInvocation {
                instance_id: instance_id.to_owned(),
                ends_at: after(now, request.timeout),
                status: InvocationStatus::TimedOut,
                response_code: -1,
                output: String::new(),
                error: format!(
                    "command timed out after {}",
                    humantime::format_duration(request.timeout)
                ),
            };
        }
        let status = rule.status.unwrap_or_default();
        let response_code = rule.exit_code.unwrap_or(match status {
            CommandStatus::Success => 0,
            CommandStatus::Failed => 1,
            CommandStatus::TimedOut | CommandStatus::Cancelled => -1,
        });
        let output = rule.output.unwrap_or_else(|| match status {
            CommandStatus::Success => "ok".to_owned(),
            _ => String::new(),
        });
        let error = rule.error.unwrap_or_else(|| match status {
            CommandStatus::Success => String::new(),
            CommandStatus::Failed => format!("command failed with exit code {response_code}"),
            CommandStatus::TimedOut => "command timed out".to_owned(),
            CommandStatus::Cancelled => "command was cancelled".to_owned(),
        });
        PlannedInvocation {
            instance_id: instance_id.to_owned(),
            ends_at: after(now, duration),
            status: match status {
                CommandStatus::Success => InvocationStatus::Success,
                CommandStatus::Failed => InvocationStatus::Failed,
                CommandStatus::TimedOut => InvocationStatus::TimedOut,
                CommandStatus::Cancelled => InvocationStatus::Cancelled,
            },
            response_code,
            output,
            error,
        }
    }

    /// When the agent of a launched instance comes online, if ever.
    fn agent_online_at(&self, launched_at: Timestamp, agent: AgentBehaviour) -> Option<Timestamp> {
        (agent == AgentBehaviour::Online).then(|| after(launched_at, self.scenario.ssm_agent_delay))
    }
}

impl SimState {
    /// The source server id of an instance whose agent is online at `now`.
    fn online_instance(
        &self,
        sim: &Simulator,
        instance_id: &str,
        now: Timestamp,
    ) -> Option<String> {
        self.ec2_instances(now)
            .find(|(s, terminated)| !terminated && s.ec2_instance_id == instance_id)
            .filter(|(s, _)| {
                sim.agent_online_at(s.ends_at, s.spec.ssm_agent)
                    .is_some_and(|t| t <= now)
            })
            .map(|(s, _)| s.source_server_id.as_str().to_owned())
    }
}

#[async_trait]
impl CommandRunner for Simulator {
    async fn send_command(
        &self,
        request: &SendCommandRequest,
    ) -> Result<SentCommand, ServiceError> {
        let op = Operation::SendCommand;
        let (mut st, now, fault) = self.enter(op);
        if let Some(f) = fault {
            return Err(f);
        }
        let n = request.instance_ids.len();
        if n == 0 || n > MAX_INSTANCES_PER_COMMAND {
            return Err(Self::error(
                op,
                "ValidationException",
                format!("InstanceIds must hold 1 to {MAX_INSTANCES_PER_COMMAND} ids, got {n}"),
            ));
        }
        if request.document_name.is_empty() {
            return Err(Self::error(
                op,
                "ValidationException",
                "DocumentName must not be empty",
            ));
        }
        let mut targets = Vec::with_capacity(n);
        let mut offline = Vec::new();
        for id in &request.instance_ids {
            match st.online_instance(self, id, now) {
                Some(server) => targets.push((server, id.clone())),
                None => offline.push(id.as_str()),
            }
        }
        if !offline.is_empty() {
            return Err(Self::error(
                op,
                "InvalidInstanceId",
                format!(
                    "instances not running or their SSM agent not online: {}; check the ids or wait for DescribeInstanceInformation to show them Online",
                    offline.join(", ")
                ),
            ));
        }
        let invocations = targets
            .iter()
            .map(|(server, instance)| self.plan_invocation(server, instance, request, now))
            .collect();
        let command = Command {
            id: st.new_uuid().to_string(),
            comment: request.comment.clone(),
            requested_at: now,
            invocations,
        };
        let sent = command.sent();
        st.commands.push(command);
        Ok(sent)
    }

    async fn list_command_invocations(
        &self,
        command_id: &str,
    ) -> Result<Vec<CommandInvocation>, ServiceError> {
        let op = Operation::ListCommandInvocations;
        let (st, now, fault) = self.enter(op);
        if let Some(f) = fault {
            return Err(f);
        }
        let Some(command) = st.commands.iter().find(|c| c.id == command_id) else {
            return Err(Self::error(
                op,
                "InvalidCommandId",
                format!("command {command_id} not found"),
            ));
        };
        Ok(command
            .invocations
            .iter()
            .map(|i| i.view(&command.id, now))
            .collect())
    }

    async fn find_commands(
        &self,
        comment: &str,
        since: Timestamp,
    ) -> Result<Vec<SentCommand>, ServiceError> {
        let (st, _now, fault) = self.enter(Operation::ListCommands);
        if let Some(f) = fault {
            return Err(f);
        }
        Ok(st
            .commands
            .iter()
            .filter(|c| c.comment == comment && c.requested_at >= since)
            .map(Command::sent)
            .collect())
    }

    async fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AgentInfo>, ServiceError> {
        let (st, now, fault) = self.enter(Operation::DescribeInstanceInformation);
        if let Some(f) = fault {
            return Err(f);
        }
        // SSM knows an instance once its agent has registered; a terminated
        // instance's agent stops answering.
        Ok(st
            .ec2_instances(now)
            .filter(|(s, _)| instance_ids.is_empty() || instance_ids.contains(&s.ec2_instance_id))
            .filter(|(s, _)| {
                self.agent_online_at(s.ends_at, s.spec.ssm_agent)
                    .is_some_and(|t| t <= now)
            })
            .map(|(s, terminated)| AgentInfo {
                instance_id: s.ec2_instance_id.clone(),
                ping_status: if terminated {
                    "ConnectionLost"
                } else {
                    "Online"
                }
                .to_owned(),
            })
            .collect())
    }
}
