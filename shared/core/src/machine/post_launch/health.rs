//! Health checks after the actions: EC2 status checks, the SSM agent, and
//! command checks sent to every live server (again where the last run
//! failed), all within the wave's health timeout.

use super::{deadline, instance_index, live_indices};
use crate::event::{Event, PostLaunchObservation};
use crate::machine::context::{Ctx, Handover, WaveOutcome};
use crate::machine::decision::{CommandPurpose, Effect};
use crate::machine::retry::{backoff, may_retry};
use crate::machine::wave::{LAUNCH_CHECK_DELAY, fail_server, set_health};
use crate::plan::HealthCheck;
use crate::ports::ssm::{MAX_INSTANCES_PER_COMMAND, SendCommandRequest};
use crate::records::{InvocationResult, WaveRecord};
use crate::service_error::{ErrorClass, ServiceError};
use crate::status_model::{ActionStatus, HealthStatus, LaunchStatus, WaveStatus};
use crate::status_model::{Transitions, transition};
use crate::time::after;
use std::collections::BTreeMap;

/// The document health command checks run with.
pub const HEALTH_DOCUMENT: &str = "AWS-RunShellScript";

pub(crate) fn run_health_commands(wave: &WaveRecord, tries: u32) -> WaveOutcome {
    if wave.status != WaveStatus::PostActions
        || wave.health.retry_at.is_none()
        || wave.health.tries + 1 != tries
    {
        return WaveOutcome::Ignored(format!("health command retry {tries} is stale"));
    }
    let mut next = wave.clone();
    next.health.retry_at = None;
    WaveOutcome::Changed(next, Some(Handover::AdvancePostLaunch))
}

pub(crate) fn health_commands_sent(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    ids: &[String],
) -> WaveOutcome {
    if wave.health.tries != tries || wave.health.requested_at.is_none() {
        return WaveOutcome::Ignored(format!("health command send {tries} is stale"));
    }
    let _ = ctx;
    let mut next = wave.clone();
    next.health.command_ids = ids.to_vec();
    next.health.requested_at = None;
    WaveOutcome::Changed(next, None)
}

pub(crate) fn health_commands_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    error: &ServiceError,
) -> WaveOutcome {
    if wave.health.tries != tries || wave.health.requested_at.is_none() {
        return WaveOutcome::Ignored(format!("health command failure {tries} is stale"));
    }
    let mut next = wave.clone();
    next.health.requested_at = None;
    // The send failed: no command runs for the placeholders it left.
    next.health
        .command_results
        .retain(|_, r| r.status.is_terminal());
    let retry = &wave.options.retry;
    let throttled = wave.health.throttled + u32::from(error.class == ErrorClass::Throttling);
    // Throttled sends are retried within the health timeout.
    let until = deadline(wave.health.checks_started_at, wave.plan.health_timeout);
    let failed = tries - throttled.min(tries);
    if may_retry(retry, error, failed, until, ctx.now) {
        let delay = backoff(retry, tries, error.retry_after, ctx.envelope.event_id);
        next.health.throttled = throttled;
        next.health.retry_at = Some(after(ctx.now, delay));
        ctx.send_attempt(
            Some(next.number),
            Event::RunHealthCommands { tries: tries + 1 },
            delay,
            tries + 1,
        );
        return WaveOutcome::Changed(next, None);
    }
    let message = format!("the health command check could not be sent: {error}");
    for i in live_indices(&next) {
        set_health(ctx, &mut next.servers[i], HealthStatus::Unhealthy);
        fail_server(
            ctx,
            &mut next.servers[i],
            "HEALTH_CHECK_FAILED",
            message.clone(),
        );
    }
    WaveOutcome::Changed(next, Some(Handover::AdvancePostLaunch))
}

pub(super) fn command_checks(wave: &WaveRecord) -> Vec<String> {
    wave.plan
        .health_checks
        .iter()
        .filter_map(|c| match c {
            HealthCheck::Command { command } => Some(command.clone()),
            _ => None,
        })
        .collect()
}

/// Starts the health checks when the actions are done, sends the command
/// checks (again, for servers whose last run failed), enforces the
/// deadline, and completes servers without checks.
pub(super) fn run_health_checks(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    let live = live_indices(wave);
    if wave.health.checks_started_at.is_none() {
        wave.health.checks_started_at = Some(ctx.now);
        // CHECKING from now, not from launch: a server that fails an action
        // before its checks start keeps the PENDING it had.
        if !wave.plan.health_checks.is_empty() {
            for &i in &live {
                set_health(ctx, &mut wave.servers[i], HealthStatus::Checking);
            }
        }
    }
    if wave.plan.health_checks.is_empty() {
        for i in live {
            let what = format!("server {}", wave.servers[i].id());
            transition(
                &mut wave.servers[i].launch_status,
                LaunchStatus::Completed,
                &what,
                &mut ctx.rejected,
            );
        }
        return;
    }
    let timeout = wave.plan.health_timeout;
    if deadline(wave.health.checks_started_at, timeout).is_some_and(|d| ctx.now > d) {
        let limit = humantime::format_duration(timeout);
        for i in live {
            let message =
                format!("health checks did not pass within the health_timeout of {limit}");
            set_health(ctx, &mut wave.servers[i], HealthStatus::Timeout);
            fail_server(ctx, &mut wave.servers[i], "HEALTH_CHECK_TIMEOUT", message);
        }
        return;
    }
    let commands = command_checks(wave);
    if commands.is_empty() || wave.health.retry_at.is_some() {
        return;
    }
    if let Some(requested_at) = wave.health.requested_at {
        if ctx.now > after(requested_at, LAUNCH_CHECK_DELAY) {
            let tries = wave.health.tries;
            let instances: Vec<String> = wave.health.command_results.keys().cloned().collect();
            let requests = health_requests(wave, &commands, tries, &instances);
            wave.health.requested_at = Some(ctx.now);
            ctx.effect(Effect::SendCommands {
                purpose: CommandPurpose::HealthCheck,
                tries,
                requests,
                reconcile_since: Some(requested_at),
            });
        }
        return;
    }
    // (Re)send to every live server whose SSM agent is online and whose
    // command check has not passed and is not running.
    let due: Vec<String> = live
        .iter()
        .filter(|&&i| wave.health.agents_online.contains(wave.servers[i].id()))
        .filter_map(|&i| wave.servers[i].launched_instance_id.clone())
        .filter(|inst| match wave.health.command_results.get(inst) {
            None => true,
            Some(r) => r.status.is_terminal() && r.status != ActionStatus::Success,
        })
        .collect();
    if due.is_empty() {
        return;
    }
    let tries = wave.health.tries + 1;
    let requests = health_requests(wave, &commands, tries, &due);
    wave.health.tries = tries;
    wave.health.requested_at = Some(ctx.now);
    let by_instance = instance_index(wave);
    for inst in &due {
        if let Some(id) = by_instance.get(inst) {
            wave.health.command_results.insert(
                inst.clone(),
                InvocationResult {
                    source_server_id: id.clone(),
                    status: ActionStatus::Pending,
                    output: String::new(),
                    error: String::new(),
                },
            );
        }
    }
    ctx.effect(Effect::SendCommands {
        purpose: CommandPurpose::HealthCheck,
        tries,
        requests,
        reconcile_since: None,
    });
}

fn command_comment(wave: &WaveRecord, what: &str, tries: u32) -> String {
    format!(
        "ripcord:{}:w{}:{what}:t{tries}",
        wave.execution_id, wave.number
    )
}

fn health_requests(
    wave: &WaveRecord,
    commands: &[String],
    tries: u32,
    instances: &[String],
) -> Vec<SendCommandRequest> {
    let mut script = vec!["set -e".to_owned()];
    script.extend(commands.iter().cloned());
    instances
        .chunks(MAX_INSTANCES_PER_COMMAND)
        .map(|chunk| SendCommandRequest {
            instance_ids: chunk.to_vec(),
            document_name: HEALTH_DOCUMENT.to_owned(),
            parameters: BTreeMap::from([("commands".to_owned(), script.clone())]),
            timeout: wave.plan.health_timeout,
            comment: command_comment(wave, "health", tries),
        })
        .collect()
}

/// Marks servers HEALTHY (and COMPLETED) whose every check passes in this
/// observation; UNHEALTHY where a check answered no.
pub(super) fn evaluate_health(
    ctx: &mut Ctx<'_>,
    wave: &mut WaveRecord,
    obs: &PostLaunchObservation,
) {
    let checks = wave.plan.health_checks.clone();
    for i in live_indices(wave) {
        let server = &wave.servers[i];
        let Some(instance) = server.launched_instance_id.clone() else {
            continue;
        };
        let mut passed = true;
        let mut failed = false;
        for check in &checks {
            let ok = match check {
                HealthCheck::Ec2StatusOk => {
                    let status = obs
                        .instance_status
                        .iter()
                        .find(|s| s.instance_id == instance);
                    if status.is_some_and(|s| s.is_impaired()) {
                        failed = true;
                    }
                    status.is_some_and(|s| s.is_ok())
                }
                HealthCheck::SsmAgentOnline => wave.health.agents_online.contains(server.id()),
                HealthCheck::Command { .. } => match wave.health.command_results.get(&instance) {
                    Some(r) if r.status == ActionStatus::Success => true,
                    Some(r) if r.status.is_terminal() => {
                        failed = true;
                        false
                    }
                    _ => false,
                },
            };
            passed &= ok;
        }
        let server = &mut wave.servers[i];
        if passed {
            set_health(ctx, server, HealthStatus::Healthy);
            server.healthy_time = Some(ctx.now);
            let what = format!("server {}", server.id());
            transition(
                &mut server.launch_status,
                LaunchStatus::Completed,
                &what,
                &mut ctx.rejected,
            );
        } else if failed {
            set_health(ctx, server, HealthStatus::Unhealthy);
        } else if server.health_status == HealthStatus::Unhealthy {
            set_health(ctx, server, HealthStatus::Checking);
        }
    }
}
