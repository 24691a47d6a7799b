//! Simulated Systems Manager: SendCommand on launched instances whose agent
//! is online, invocation results decided by the scenario's command rules
//! (first match wins), and the agents' ping status.
//!
//! An invocation is InProgress until its duration has passed, then ends with
//! its rule's status. One that would outlast the command's timeout ends
//! TimedOut when the timeout runs out, as SSM does.

use crate::commands::{Command, CommandRecord, PlannedInvocation};
use crate::scenario::{AgentBehaviour, CommandRule, CommandStatus, Operation};
use crate::simulator::Simulator;
use crate::state::SimState;
use crate::world_store::SimWorldError;
use async_trait::async_trait;
use ripcord::ports::ssm::{
    AgentInfo, AgentPing, CommandInvocation, CommandRunner, InvocationStatus,
    MAX_INSTANCES_PER_COMMAND, SendCommandRequest, SentCommand,
};
use ripcord::service_error::ServiceError;
use ripcord::time::{Timestamp, after};

impl Simulator {
    /// ListCommands without a comment to match: every command requested in
    /// `[after, before)` (either bound optional), oldest first.
    pub async fn list_commands(
        &self,
        after: Option<Timestamp>,
        before: Option<Timestamp>,
    ) -> Result<Vec<CommandRecord>, ServiceError> {
        self.call_read(Operation::ListCommands, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(st
                .commands
                .iter()
                .filter(|c| after.is_none_or(|a| c.requested_at >= a))
                .filter(|c| before.is_none_or(|b| c.requested_at < b))
                .map(|c| c.record(now))
                .collect())
        })
        .await
    }

    /// One command, read without counting a call or drawing a fault: the
    /// wire server's annotation of what a counted call answered.
    pub fn peek_command(&self, command_id: &str) -> Result<Option<CommandRecord>, SimWorldError> {
        let now = self.clock.now();
        self.read(|st| {
            st.commands
                .iter()
                .find(|c| c.id == command_id)
                .map(|c| c.record(now))
        })
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
        self.call(op, |st, now, fault| {
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
            document_name: request.document_name.clone(),
            parameters: request.parameters.clone(),
            timeout: request.timeout,
        };
        let sent = command.sent();
        st.commands.push(command);
        Ok(sent)
        }).await
    }

    async fn list_command_invocations(
        &self,
        command_id: &str,
    ) -> Result<Vec<CommandInvocation>, ServiceError> {
        let op = Operation::ListCommandInvocations;
        self.call_read(op, |st, now, fault| {
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
        })
        .await
    }

    async fn find_commands(
        &self,
        comment: &str,
        since: Timestamp,
    ) -> Result<Vec<SentCommand>, ServiceError> {
        self.call_read(Operation::ListCommands, |st, _now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(st
                .commands
                .iter()
                .filter(|c| c.comment == comment && c.requested_at >= since)
                .map(Command::sent)
                .collect())
        })
        .await
    }

    async fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AgentInfo>, ServiceError> {
        self.call_read(Operation::DescribeInstanceInformation, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            // SSM knows an instance once its agent has registered; a terminated
            // instance's agent stops answering.
            Ok(st
                .ec2_instances(now)
                .filter(|(s, _)| {
                    instance_ids.is_empty() || instance_ids.contains(&s.ec2_instance_id)
                })
                .filter(|(s, _)| {
                    self.agent_online_at(s.ends_at, s.spec.ssm_agent)
                        .is_some_and(|t| t <= now)
                })
                .map(|(s, terminated)| AgentInfo {
                    instance_id: s.ec2_instance_id.clone(),
                    ping_status: if terminated {
                        AgentPing::ConnectionLost
                    } else {
                        AgentPing::Online
                    },
                })
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{mins, server, sim, start};
    use super::*;
    use ripcord::ports::Clock;
    use ripcord::ports::clock::ManualClock;
    use ripcord::ports::drs::RecoveryService;
    use ripcord::service_error::ErrorClass;
    use std::collections::BTreeMap;
    use std::time::Duration;

    const RULES: &str = r#"
job_pending: 10s
launch_duration: { min: 3m, max: 3m }
ssm_agent_delay: 30s
command_duration: 5s
servers:
  s-1234567890abcdef2: { ssm_agent: never }
commands:
  - { server: s-1234567890abcdef0, document: AWS-RunShellScript, contains: "pg_isready", status: Failed, exit_code: 2, output: "no response" }
  - { document: Restart-App, status: TimedOut }
  - { contains: "curl", duration: 10m }
"#;

    /// Launches servers 0, 1 and 2 and returns their EC2 instance ids once
    /// the agents that come online are online.
    async fn launched(sim: &Simulator, clock: &ManualClock) -> Vec<String> {
        sim.start_recovery(&start(&[server(0), server(1), server(2)], 1))
            .await
            .unwrap();
        clock.advance(mins(3) + Duration::from_secs(40));
        let mut by_server: Vec<_> = sim
            .describe_recovery_instances(&[])
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.source_server_id, r.ec2_instance_id.unwrap()))
            .collect();
        by_server.sort();
        by_server.into_iter().map(|(_, i)| i).collect()
    }

    fn shell(ids: &[String], document: &str, command: &str, comment: &str) -> SendCommandRequest {
        SendCommandRequest {
            instance_ids: ids.to_vec(),
            document_name: document.to_owned(),
            parameters: BTreeMap::from([("commands".to_owned(), vec![command.to_owned()])]),
            timeout: mins(5),
            comment: comment.to_owned(),
        }
    }

    async fn result_after(
        sim: &Simulator,
        clock: &ManualClock,
        request: &SendCommandRequest,
        wait: Duration,
    ) -> Vec<CommandInvocation> {
        let sent = sim.send_command(request).await.unwrap();
        clock.advance(wait);
        sim.list_command_invocations(&sent.command_id)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn commands_follow_the_first_matching_rule() {
        let (sim, clock) = sim(RULES);
        let ids = launched(&sim, &clock).await;
        let (db, app) = (&ids[0..1], &ids[1..2]);

        let check = shell(db, "AWS-RunShellScript", "pg_isready -h localhost", "c1");
        let sent = sim.send_command(&check).await.unwrap();
        uuid::Uuid::parse_str(&sent.command_id).expect("command ids are uuids");
        let running = sim
            .list_command_invocations(&sent.command_id)
            .await
            .unwrap();
        assert_eq!(running[0].status, InvocationStatus::InProgress);
        assert_eq!(running[0].response_code, None);
        clock.advance(Duration::from_secs(5));
        let done = sim
            .list_command_invocations(&sent.command_id)
            .await
            .unwrap();
        assert_eq!(done[0].status, InvocationStatus::Failed);
        assert_eq!(done[0].response_code, Some(2));
        assert_eq!(done[0].output, "no response");
        assert_eq!(done[0].instance_id, db[0]);

        // The same check on another server matches no rule: the default.
        let other = shell(app, "AWS-RunShellScript", "pg_isready", "c2");
        let ok = result_after(&sim, &clock, &other, Duration::from_secs(5)).await;
        assert_eq!(ok[0].status, InvocationStatus::Success);
        assert_eq!(
            (ok[0].response_code, ok[0].output.as_str()),
            (Some(0), "ok")
        );

        let restart = shell(app, "Restart-App", "", "c3");
        let timed_out = result_after(&sim, &clock, &restart, Duration::from_secs(5)).await;
        assert_eq!(timed_out[0].status, InvocationStatus::TimedOut);

        // Longer than the command's own 5-minute timeout: TimedOut at 5m.
        let slow = shell(
            app,
            "AWS-RunShellScript",
            "curl -f http://localhost/health",
            "c4",
        );
        let still = result_after(&sim, &clock, &slow, mins(4)).await;
        assert_eq!(still[0].status, InvocationStatus::InProgress);
        clock.advance(mins(1));
        let sent = sim
            .find_commands("c4", crate::test_support::t0())
            .await
            .unwrap();
        let late = sim
            .list_command_invocations(&sent[0].command_id)
            .await
            .unwrap();
        assert_eq!(late[0].status, InvocationStatus::TimedOut);
        assert!(late[0].status.is_terminal());

        let unknown = sim.list_command_invocations("nope").await.unwrap_err();
        assert_eq!(unknown.code, "InvalidCommandId");
    }

    #[tokio::test]
    async fn send_command_checks_its_targets() {
        let (sim, clock) = sim(RULES);
        let ids = launched(&sim, &clock).await;
        let too_many: Vec<String> = (0..51).map(|_| ids[1].clone()).collect();
        let err = sim
            .send_command(&shell(&too_many, "AWS-RunShellScript", "true", "x"))
            .await
            .unwrap_err();
        assert_eq!(err.code, "ValidationException");
        let fifty: Vec<String> = (0..50).map(|_| ids[1].clone()).collect();
        assert!(
            sim.send_command(&shell(&fifty, "AWS-RunShellScript", "true", "x"))
                .await
                .is_ok()
        );

        // Server 2's agent never comes online; an unknown id is never known.
        for target in [ids[2].clone(), "i-00000000000000000".to_owned()] {
            let err = sim
                .send_command(&shell(
                    &[ids[0].clone(), target.clone()],
                    "AWS-RunShellScript",
                    "true",
                    "x",
                ))
                .await
                .unwrap_err();
            assert_eq!(err.code, "InvalidInstanceId");
            assert_eq!(err.class, ErrorClass::Permanent);
            assert!(err.message.contains(&target) && !err.message.contains(&ids[0]));
        }
        let agents = sim.describe_instance_information(&ids).await.unwrap();
        let online: Vec<_> = agents.iter().map(|a| a.instance_id.clone()).collect();
        assert_eq!(online, ids[0..2]);
    }

    #[tokio::test]
    async fn an_agent_not_yet_online_refuses_commands() {
        let (sim, clock) = sim(RULES);
        sim.start_recovery(&start(&[server(1)], 1)).await.unwrap();
        // Launched at 3m10s; the agent is online 30s later.
        clock.advance(mins(3) + Duration::from_secs(39));
        let id = sim.describe_recovery_instances(&[]).await.unwrap()[0]
            .ec2_instance_id
            .clone()
            .unwrap();
        let request = shell(std::slice::from_ref(&id), "AWS-RunShellScript", "true", "x");
        assert_eq!(
            sim.send_command(&request).await.unwrap_err().code,
            "InvalidInstanceId"
        );
        clock.advance(Duration::from_secs(1));
        assert!(sim.send_command(&request).await.is_ok());
    }

    #[tokio::test]
    async fn commands_are_found_by_exact_comment_and_time() {
        let (sim, clock) = sim(RULES);
        let ids = launched(&sim, &clock).await;
        let request = shell(&ids[0..2], "AWS-RunShellScript", "true", "exec-1/w1/a1/1");
        let sent = sim.send_command(&request).await.unwrap();
        let since = clock.now();
        clock.advance(Duration::from_secs(1));
        let found = sim.find_commands("exec-1/w1/a1/1", since).await.unwrap();
        assert_eq!(found, std::slice::from_ref(&sent));
        assert_eq!(sent.instance_ids, ids[0..2]);
        assert!(
            sim.find_commands("exec-1/w1/a1", since)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            sim.find_commands("exec-1/w1/a1/1", clock.now())
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(sim.call_count(Operation::ListCommands), 3);
    }
}
