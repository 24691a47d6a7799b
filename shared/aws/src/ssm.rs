//! The command runner on AWS Systems Manager: SendCommand for a post-launch
//! action, each invocation's result (ListCommandInvocations with details),
//! commands found again by their comment after a crash (ListCommands), and
//! the agents' ping status (DescribeInstanceInformation), over the official
//! `aws-sdk-ssm` client. Every list call follows `NextToken` to the end.

use crate::error::service_error;
use crate::timestamps::{format_iso8601, from_sdk};
use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{
    Command, CommandFilter, CommandFilterKey, CommandInvocation as SdkInvocation,
    CommandInvocationStatus, CommandPlugin, InstanceInformationStringFilter,
};
use ripcord::ports::CommandRunner;
use ripcord::ports::ssm::{
    AgentInfo, AgentPing, CommandInvocation, InvocationStatus, MAX_INSTANCES_PER_COMMAND,
    SendCommandRequest, SentCommand,
};
use ripcord::service_error::ServiceError;
use ripcord::time::Timestamp;

const SERVICE: &str = "ssm";

/// DescribeInstanceInformation's `InstanceIds` filter: ids per call.
pub const MAX_IDS_PER_AGENT_QUERY: usize = 50;

/// SendCommand's `TimeoutSeconds` range: shorter is refused, so the
/// request's timeout is raised to it.
const TIMEOUT_SECONDS: std::ops::RangeInclusive<i32> = 30..=2_592_000;

/// How the agent separates stderr from stdout in a plugin's `Output`.
const STDERR_MARKER: &str = "----------ERROR-------";

/// `CommandRunner` over the SSM API. Build the client with retries disabled
/// (see `Clients::new`): SendCommand has no client token.
#[derive(Clone, Debug)]
pub struct SsmCommands {
    client: Client,
}

impl SsmCommands {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl CommandRunner for SsmCommands {
    async fn send_command(
        &self,
        request: &SendCommandRequest,
    ) -> Result<SentCommand, ServiceError> {
        let op = "SendCommand";
        let n = request.instance_ids.len();
        if n == 0 || n > MAX_INSTANCES_PER_COMMAND {
            return Err(ServiceError::from_code(
                SERVICE,
                op,
                "ValidationException",
                &format!(
                    "SendCommand takes 1 to {MAX_INSTANCES_PER_COMMAND} instance ids, got {n}; send the instances in batches"
                ),
            ));
        }
        let timeout = i32::try_from(request.timeout.as_secs())
            .unwrap_or(i32::MAX)
            .clamp(*TIMEOUT_SECONDS.start(), *TIMEOUT_SECONDS.end());
        let output = self
            .client
            .send_command()
            .set_instance_ids(Some(request.instance_ids.clone()))
            .document_name(&request.document_name)
            .set_parameters(Some(request.parameters.clone().into_iter().collect()))
            .timeout_seconds(timeout)
            .comment(&request.comment)
            .send()
            .await
            .map_err(|e| service_error(SERVICE, op, e))?;
        let command = output.command.ok_or_else(|| {
            ServiceError::from_code(
                SERVICE,
                op,
                "InvalidResponse",
                "SSM answered SendCommand without a command; look for it with `aws ssm list-commands` before sending again",
            )
        })?;
        sent_command(command).ok_or_else(|| {
            ServiceError::from_code(
                SERVICE,
                op,
                "InvalidResponse",
                "SSM answered SendCommand with a command that has no CommandId",
            )
        })
    }

    async fn list_command_invocations(
        &self,
        command_id: &str,
    ) -> Result<Vec<CommandInvocation>, ServiceError> {
        let mut pages = self
            .client
            .list_command_invocations()
            .command_id(command_id)
            .details(true)
            .into_paginator()
            .send();
        let mut invocations = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| service_error(SERVICE, "ListCommandInvocations", e))?;
            invocations.extend(
                page.command_invocations
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|i| invocation(command_id, i)),
            );
        }
        Ok(invocations)
    }

    async fn find_commands(
        &self,
        comment: &str,
        since: Timestamp,
    ) -> Result<Vec<SentCommand>, ServiceError> {
        let op = "ListCommands";
        let invoked_after = CommandFilter::builder()
            .key(CommandFilterKey::InvokedAfter)
            .value(format_iso8601(since))
            .build()
            .map_err(|e| ServiceError::from_code(SERVICE, op, "InvalidRequest", &e.to_string()))?;
        let mut pages = self
            .client
            .list_commands()
            .filters(invoked_after)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| service_error(SERVICE, op, e))?;
            found.extend(
                page.commands
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| c.comment.as_deref() == Some(comment))
                    .filter_map(sent_command),
            );
        }
        Ok(found)
    }

    /// No ids means every agent SSM knows, as in the simulator.
    async fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AgentInfo>, ServiceError> {
        if instance_ids.is_empty() {
            return self.agents(None).await;
        }
        let mut agents = Vec::new();
        for chunk in instance_ids.chunks(MAX_IDS_PER_AGENT_QUERY) {
            agents.extend(self.agents(Some(chunk)).await?);
        }
        Ok(agents)
    }
}

impl SsmCommands {
    /// DescribeInstanceInformation, filtered on `InstanceIds` (a filter, not
    /// the old `InstanceInformationFilterList`, so unknown ids are just absent).
    async fn agents(&self, ids: Option<&[String]>) -> Result<Vec<AgentInfo>, ServiceError> {
        let op = "DescribeInstanceInformation";
        let mut request = self.client.describe_instance_information();
        if let Some(ids) = ids {
            let filter = InstanceInformationStringFilter::builder()
                .key("InstanceIds")
                .set_values(Some(ids.to_vec()))
                .build()
                .map_err(|e| {
                    ServiceError::from_code(SERVICE, op, "InvalidRequest", &e.to_string())
                })?;
            request = request.filters(filter);
        }
        let mut pages = request.into_paginator().send();
        let mut agents = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| service_error(SERVICE, op, e))?;
            agents.extend(
                page.instance_information_list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|info| {
                        Some(AgentInfo {
                            instance_id: info.instance_id?,
                            // Anything but Online (an unknown status included) is offline.
                            ping_status: info.ping_status.map_or_else(
                                || AgentPing::Other("Unknown".to_owned()),
                                |p| p.as_str().into(),
                            ),
                        })
                    }),
            );
        }
        Ok(agents)
    }
}

fn sent_command(command: Command) -> Option<SentCommand> {
    Some(SentCommand {
        command_id: command.command_id?,
        comment: command.comment.unwrap_or_default(),
        instance_ids: command.instance_ids.unwrap_or_default(),
        requested_at: command.requested_date_time.as_ref().and_then(from_sdk),
    })
}

/// An invocation without an instance id cannot be matched to a server and
/// is left out.
fn invocation(command_id: &str, invocation: SdkInvocation) -> Option<CommandInvocation> {
    let plugins = invocation.command_plugins.unwrap_or_default();
    let (output, error) = plugin_output(&plugins);
    Some(CommandInvocation {
        command_id: invocation
            .command_id
            .unwrap_or_else(|| command_id.to_owned()),
        instance_id: invocation.instance_id?,
        status: invocation_status(invocation.status.as_ref()),
        response_code: response_code(&plugins),
        output,
        error,
    })
}

/// A status this SDK does not know is InProgress: not terminal, so the
/// action's own timeout decides instead of a guess.
fn invocation_status(status: Option<&CommandInvocationStatus>) -> InvocationStatus {
    use CommandInvocationStatus as Sdk;
    match status {
        Some(Sdk::Pending) | None => InvocationStatus::Pending,
        Some(Sdk::InProgress) => InvocationStatus::InProgress,
        Some(Sdk::Delayed) => InvocationStatus::Delayed,
        Some(Sdk::Success) => InvocationStatus::Success,
        Some(Sdk::Cancelled) => InvocationStatus::Cancelled,
        Some(Sdk::TimedOut) => InvocationStatus::TimedOut,
        Some(Sdk::Failed) => InvocationStatus::Failed,
        Some(Sdk::Cancelling) => InvocationStatus::Cancelling,
        Some(other) => {
            tracing::warn!(
                status = other.as_str(),
                "unknown SSM invocation status; treating it as InProgress"
            );
            InvocationStatus::InProgress
        }
    }
}

/// The first failing plugin's code, else the first plugin's. SSM reports
/// -1 for a plugin that has not run, which is no code at all.
fn response_code(plugins: &[CommandPlugin]) -> Option<i32> {
    let ran = plugins.iter().map(|p| p.response_code).filter(|c| *c != -1);
    ran.clone()
        .find(|c| *c != 0)
        .or_else(|| ran.into_iter().next())
}

/// Each plugin's `Output` (the first 2,500 characters, stdout then stderr
/// after the agent's marker), split into stdout and stderr and joined over
/// the plugins. ListCommandInvocations has no StandardOutputContent; that is
/// GetCommandInvocation's, one call per instance.
fn plugin_output(plugins: &[CommandPlugin]) -> (String, String) {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    for text in plugins.iter().filter_map(|p| p.output.as_deref()) {
        let (out, err) = text.split_once(STDERR_MARKER).unwrap_or((text, ""));
        let (out, err) = (out.trim_end(), err.trim());
        if !out.is_empty() {
            stdout.push(out);
        }
        if !err.is_empty() {
            stderr.push(err);
        }
    }
    (stdout.join("\n"), stderr.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(code: i32, output: &str) -> CommandPlugin {
        CommandPlugin::builder()
            .response_code(code)
            .output(output)
            .build()
    }

    #[test]
    fn stderr_is_split_from_the_plugin_output() {
        let plugins = [
            plugin(0, "started\n"),
            plugin(
                2,
                "checking\n\n----------ERROR-------\npg_isready: no response\n",
            ),
        ];
        let (out, err) = plugin_output(&plugins);
        assert_eq!(out, "started\nchecking");
        assert_eq!(err, "pg_isready: no response");
        assert_eq!(response_code(&plugins), Some(2));
    }

    #[test]
    fn a_plugin_that_has_not_run_has_no_code() {
        assert_eq!(response_code(&[plugin(-1, "")]), None);
        assert_eq!(response_code(&[plugin(0, ""), plugin(-1, "")]), Some(0));
        assert_eq!(response_code(&[]), None);
    }

    #[test]
    fn unknown_invocation_statuses_are_not_terminal() {
        let s = CommandInvocationStatus::from("Undeliverable");
        assert!(!invocation_status(Some(&s)).is_terminal());
        assert_eq!(
            invocation_status(Some(&CommandInvocationStatus::TimedOut)),
            InvocationStatus::TimedOut
        );
    }
}
