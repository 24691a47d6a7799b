//! After launch: wait for each launched server's SSM agent, run the wave's
//! post-launch actions one after another, then its health checks, each
//! bounded in time. A server that fails any of them is FAILED with the
//! reason; a wave completes only when every critical server completed.
//!
//! The phase is driven by `CheckPostLaunch` ticks: each tick enforces the
//! deadlines, starts what is ready, and observes what runs.

use super::decide::{Ctx, Outcome};
use super::decision::{Change, CommandPurpose, Effect};
use super::retry::{backoff, may_retry};
use super::transition::{Transitions, transition};
use super::wave::{
    LAUNCH_CHECK_DELAY, after_post_launch_progress, fail_server, finish_wave, live_servers,
    observation_failed, observation_succeeded, poll_interval, schedule_poll, set_health,
};
use super::{ActionStatus, HealthStatus, InvocationResult, LaunchStatus, WaveRecord, WaveStatus};
use crate::event::{Event, PostLaunchObservation};
use crate::ids::SourceServerId;
use crate::plan::HealthCheck;
use crate::ports::ssm::{InvocationStatus, MAX_INSTANCES_PER_COMMAND, SendCommandRequest};
use crate::service_error::{ErrorClass, ServiceError};
use crate::time::{Timestamp, after};
use std::collections::BTreeMap;
use std::time::Duration;

/// The document health command checks run with.
pub const HEALTH_DOCUMENT: &str = "AWS-RunShellScript";

/// Enters POST_ACTIONS and schedules the first check right away.
pub(crate) fn enter(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    let what = format!("wave {}", wave.number);
    if !transition(
        &mut wave.status,
        WaveStatus::PostActions,
        &what,
        &mut ctx.rejected,
    ) {
        return;
    }
    wave.health.started_at = Some(ctx.now);
    schedule_poll(ctx, wave, Duration::ZERO);
}

pub(crate) fn check(ctx: &mut Ctx<'_>, wave: &WaveRecord, seq: u32) -> Outcome {
    if seq != wave.poll_seq {
        return Outcome::Ignored(format!("check {seq} is stale (current {})", wave.poll_seq));
    }
    if wave.status != WaveStatus::PostActions {
        return Outcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let mut next = wave.clone();
    advance(ctx, &mut next);
    if next.status == WaveStatus::PostActions {
        if let Some(effect) = observation_needed(&next, seq) {
            ctx.effect(effect);
        }
        let interval = poll_interval(&next);
        schedule_poll(ctx, &mut next, interval);
    }
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn observed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    obs: &PostLaunchObservation,
) -> Outcome {
    if wave.status != WaveStatus::PostActions {
        return Outcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let mut next = wave.clone();
    observation_succeeded(&mut next, ctx.now);
    let by_instance = instance_index(&next);
    for agent in obs.agents.iter().filter(|a| a.is_online()) {
        if let Some(id) = by_instance.get(&agent.instance_id)
            && !next.health.agents_online.contains(id)
        {
            next.health.agents_online.push(id.clone());
        }
    }
    for inv in &obs.invocations {
        let result = |prev: Option<&InvocationResult>, source: SourceServerId| InvocationResult {
            source_server_id: source,
            status: action_status(inv.status)
                .unwrap_or(prev.map(|p| p.status).unwrap_or(ActionStatus::Running)),
            output: inv.output.clone(),
            error: if inv.error.is_empty() {
                inv.response_code
                    .filter(|c| *c != 0)
                    .map(|c| format!("exit code {c}"))
                    .unwrap_or_default()
            } else {
                inv.error.clone()
            },
        };
        let Some(source) = by_instance.get(&inv.instance_id).cloned() else {
            continue;
        };
        if let Some(action) = next
            .actions
            .iter_mut()
            .find(|a| a.status == ActionStatus::Running && a.command_ids.contains(&inv.command_id))
            && let Some(slot) = action.invocations.get(&inv.instance_id)
            && !slot.status.is_terminal()
        {
            let r = result(Some(slot), source.clone());
            action.invocations.insert(inv.instance_id.clone(), r);
        }
        if next.health.command_ids.contains(&inv.command_id) {
            let prev = next.health.command_results.get(&inv.instance_id);
            let r = result(prev, source);
            next.health
                .command_results
                .insert(inv.instance_id.clone(), r);
        }
    }
    if next.health.checks_started_at.is_some() {
        evaluate_health(ctx, &mut next, obs);
    }
    advance(ctx, &mut next);
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn check_failed(ctx: &mut Ctx<'_>, wave: &WaveRecord, error: &ServiceError) -> Outcome {
    if wave.status != WaveStatus::PostActions {
        return Outcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let mut next = wave.clone();
    if let Some(why) = observation_failed(ctx, &mut next, error, "checks of SSM/EC2") {
        for i in live_indices(&next) {
            let message = format!("post-launch status unknown: {why}");
            fail_server(ctx, &mut next.servers[i], "STATUS_UNKNOWN", message);
        }
        finish_wave(ctx, &mut next, WaveStatus::Failed, Some(why));
    }
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn run_action(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    index: usize,
    tries: u32,
) -> Outcome {
    let Some(action) = wave.actions.get(index) else {
        return Outcome::Ignored(format!("wave {} has no action {index}", wave.number));
    };
    if wave.status != WaveStatus::PostActions || action.status != ActionStatus::Pending {
        return Outcome::Ignored("the action is not waiting for a retry".into());
    }
    if action.retry_at.is_none() || action.tries + 1 != tries {
        return Outcome::Ignored(format!("retry {tries} of action {index} is stale"));
    }
    let mut next = wave.clone();
    next.actions[index].retry_at = None;
    advance(ctx, &mut next);
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn action_sent(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    index: usize,
    tries: u32,
    ids: &[String],
) -> Outcome {
    let Some(action) = wave.actions.get(index) else {
        return Outcome::Ignored(format!("wave {} has no action {index}", wave.number));
    };
    if action.tries != tries
        || action.requested_at.is_none()
        || action.status != ActionStatus::Pending
    {
        return Outcome::Ignored(format!("send {tries} of action {index} is stale"));
    }
    let mut next = wave.clone();
    let action = &mut next.actions[index];
    let what = format!("action {}", action.name);
    transition(
        &mut action.status,
        ActionStatus::Running,
        &what,
        &mut ctx.rejected,
    );
    action.command_ids = ids.to_vec();
    action.requested_at = None;
    action.start_time = Some(ctx.now);
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn action_send_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    index: usize,
    tries: u32,
    error: &ServiceError,
) -> Outcome {
    let Some(action) = wave.actions.get(index) else {
        return Outcome::Ignored(format!("wave {} has no action {index}", wave.number));
    };
    if action.tries != tries
        || action.requested_at.is_none()
        || action.status != ActionStatus::Pending
    {
        return Outcome::Ignored(format!(
            "failure of send {tries} of action {index} is stale"
        ));
    }
    let mut next = wave.clone();
    let retry = &wave.options.retry;
    let throttled = action.throttled + u32::from(error.class == ErrorClass::Throttling);
    // Throttled sends are retried within the action's own timeout.
    let until = deadline(
        action.first_requested_at,
        wave.plan.post_launch[index].timeout,
    );
    let failed = tries - throttled.min(tries);
    if may_retry(retry, error, failed, until, ctx.now) && next.cancel_requested.is_none() {
        let delay = backoff(retry, tries, error.retry_after, ctx.envelope.event_id);
        let action = &mut next.actions[index];
        action.throttled = throttled;
        action.requested_at = None;
        action.retry_at = Some(after(ctx.now, delay));
        let event = Event::RunAction {
            action: index,
            tries: tries + 1,
        };
        ctx.send_attempt(Some(next.number), event, delay, tries + 1);
        return Outcome::Changed(Change::Wave(next));
    }
    let name = next.actions[index].name.clone();
    let message = format!("action {name} could not be sent: {error}");
    {
        let action = &mut next.actions[index];
        action.requested_at = None;
        action.error_message = Some(message.clone());
        action.end_time = Some(ctx.now);
        let what = format!("action {name}");
        transition(
            &mut action.status,
            ActionStatus::Failed,
            &what,
            &mut ctx.rejected,
        );
    }
    let targeted: Vec<String> = next.actions[index].invocations.keys().cloned().collect();
    for i in live_indices(&next) {
        if next.servers[i]
            .launched_instance_id
            .as_ref()
            .is_some_and(|id| targeted.contains(id))
        {
            fail_server(ctx, &mut next.servers[i], "ACTION_FAILED", message.clone());
        }
    }
    advance(ctx, &mut next);
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn run_health_commands(ctx: &mut Ctx<'_>, wave: &WaveRecord, tries: u32) -> Outcome {
    if wave.status != WaveStatus::PostActions
        || wave.health.retry_at.is_none()
        || wave.health.tries + 1 != tries
    {
        return Outcome::Ignored(format!("health command retry {tries} is stale"));
    }
    let mut next = wave.clone();
    next.health.retry_at = None;
    advance(ctx, &mut next);
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn health_commands_sent(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    ids: &[String],
) -> Outcome {
    if wave.health.tries != tries || wave.health.requested_at.is_none() {
        return Outcome::Ignored(format!("health command send {tries} is stale"));
    }
    let _ = ctx;
    let mut next = wave.clone();
    next.health.command_ids = ids.to_vec();
    next.health.requested_at = None;
    Outcome::Changed(Change::Wave(next))
}

pub(crate) fn health_commands_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    error: &ServiceError,
) -> Outcome {
    if wave.health.tries != tries || wave.health.requested_at.is_none() {
        return Outcome::Ignored(format!("health command failure {tries} is stale"));
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
        return Outcome::Changed(Change::Wave(next));
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
    advance(ctx, &mut next);
    Outcome::Changed(Change::Wave(next))
}

/// A cancelled wave in POST_ACTIONS ends once nothing it sent is still
/// running; until then it keeps observing so the results stay true.
pub(crate) fn settle_cancelled(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    // A send whose answer is overdue was lost with its worker: nothing new
    // is sent to find it again, so stop waiting for it.
    let running = wave.actions.iter().any(|a| {
        a.status == ActionStatus::Running
            || a.requested_at
                .is_some_and(|t| ctx.now <= after(t, LAUNCH_CHECK_DELAY))
    });
    if !running {
        let reason = wave.cancel_requested.clone();
        finish_wave(ctx, wave, WaveStatus::Cancelled, reason);
    }
}

/// Instance id → source server, for the servers with an instance.
fn instance_index(wave: &WaveRecord) -> BTreeMap<String, SourceServerId> {
    wave.servers
        .iter()
        .filter_map(|s| s.launched_instance_id.clone().map(|i| (i, s.id().clone())))
        .collect()
}

fn live_indices(wave: &WaveRecord) -> Vec<usize> {
    wave.servers
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.launch_status == LaunchStatus::Launched && s.launched_instance_id.is_some()
        })
        .map(|(i, _)| i)
        .collect()
}

fn action_status(s: InvocationStatus) -> Option<ActionStatus> {
    match s {
        InvocationStatus::Success => Some(ActionStatus::Success),
        InvocationStatus::Failed | InvocationStatus::Cancelled => Some(ActionStatus::Failed),
        InvocationStatus::TimedOut => Some(ActionStatus::Timeout),
        InvocationStatus::Pending
        | InvocationStatus::InProgress
        | InvocationStatus::Delayed
        | InvocationStatus::Cancelling => Some(ActionStatus::Running),
    }
}

fn deadline(start: Option<Timestamp>, limit: Duration) -> Option<Timestamp> {
    start.map(|s| after(s, limit))
}

/// Does what is due: deadlines first, then the next action or the health
/// checks, then settles the wave if every server is done.
fn advance(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    if wave.status != WaveStatus::PostActions {
        return;
    }
    if wave.cancel_requested.is_some() {
        // Start nothing new, but let what runs end (or time out) so the
        // cancelled wave can settle.
        for index in 0..wave.actions.len() {
            if wave.actions[index].status == ActionStatus::Running {
                finish_running_action(ctx, wave, index);
            }
        }
        settle_cancelled(ctx, wave);
        return;
    }
    if !run_actions(ctx, wave) {
        after_post_launch_progress(ctx, wave);
        return;
    }
    run_health_checks(ctx, wave);
    after_post_launch_progress(ctx, wave);
}

/// Advances the actions; true once every action has ended.
fn run_actions(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) -> bool {
    let timeout = wave.plan.health_timeout;
    if wave.actions.iter().any(|a| !a.status.is_terminal()) {
        // Actions need the SSM agent: wait for it, within the health timeout.
        if deadline(wave.health.started_at, timeout).is_some_and(|d| ctx.now > d) {
            for i in live_indices(wave) {
                if !wave.health.agents_online.contains(wave.servers[i].id()) {
                    let limit = humantime::format_duration(timeout);
                    let message = format!(
                        "the SSM agent did not come online within the health_timeout of {limit}"
                    );
                    set_health(ctx, &mut wave.servers[i], HealthStatus::Timeout);
                    fail_server(ctx, &mut wave.servers[i], "SSM_AGENT_OFFLINE", message);
                }
            }
        }
    }
    for index in 0..wave.actions.len() {
        if live_indices(wave).is_empty() {
            return true;
        }
        let action = &wave.actions[index];
        match action.status {
            ActionStatus::Success | ActionStatus::Failed | ActionStatus::Timeout => continue,
            ActionStatus::Pending => {
                request_action(ctx, wave, index);
                return false;
            }
            ActionStatus::Running => {
                if !finish_running_action(ctx, wave, index) {
                    return false;
                }
            }
        }
    }
    true
}

fn request_action(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, index: usize) {
    let action = &wave.actions[index];
    if action.retry_at.is_some() {
        return;
    }
    if let Some(requested_at) = action.requested_at {
        // The answer to the send was lost: find the command by its comment.
        if ctx.now > after(requested_at, LAUNCH_CHECK_DELAY) {
            let tries = action.tries;
            let requests = action_requests(
                wave,
                index,
                &action.invocations.keys().cloned().collect::<Vec<_>>(),
            );
            let since = action.first_requested_at.unwrap_or(requested_at);
            wave.actions[index].requested_at = Some(ctx.now);
            ctx.effect(Effect::SendCommands {
                purpose: CommandPurpose::Action(index),
                tries,
                requests,
                reconcile_since: Some(since),
            });
        }
        return;
    }
    let live: Vec<usize> = live_indices(wave);
    let all_online = live
        .iter()
        .all(|&i| wave.health.agents_online.contains(wave.servers[i].id()));
    if !all_online {
        return;
    }
    let instances: Vec<String> = live
        .iter()
        .filter_map(|&i| wave.servers[i].launched_instance_id.clone())
        .collect();
    let tries = wave.actions[index].tries + 1;
    let requests = action_requests(wave, index, &instances);
    // A retry: the failed try may have reached SSM (a 5xx), look first.
    let reconcile_since = wave.actions[index].first_requested_at;
    let action = &mut wave.actions[index];
    action.tries = tries;
    action.requested_at = Some(ctx.now);
    action.first_requested_at.get_or_insert(ctx.now);
    action.invocations = live
        .iter()
        .filter_map(|&i| {
            let s = &wave.servers[i];
            s.launched_instance_id.clone().map(|inst| {
                (
                    inst,
                    InvocationResult {
                        source_server_id: s.id().clone(),
                        status: ActionStatus::Pending,
                        output: String::new(),
                        error: String::new(),
                    },
                )
            })
        })
        .collect();
    ctx.effect(Effect::SendCommands {
        purpose: CommandPurpose::Action(index),
        tries,
        requests,
        reconcile_since,
    });
}

fn command_comment(wave: &WaveRecord, what: &str, tries: u32) -> String {
    format!(
        "ripcord:{}:w{}:{what}:t{tries}",
        wave.execution_id, wave.number
    )
}

/// One request per batch of ≤50 instances. The comment names the action
/// but not the try, so a retry finds what an earlier try sent.
fn action_requests(
    wave: &WaveRecord,
    index: usize,
    instances: &[String],
) -> Vec<SendCommandRequest> {
    let plan = &wave.plan.post_launch[index];
    instances
        .chunks(MAX_INSTANCES_PER_COMMAND)
        .map(|chunk| SendCommandRequest {
            instance_ids: chunk.to_vec(),
            document_name: plan.document.clone(),
            parameters: plan.parameters.clone(),
            timeout: plan.timeout,
            comment: format!("ripcord:{}:w{}:a{index}", wave.execution_id, wave.number),
        })
        .collect()
}

/// Ends a running action once every invocation ended or its timeout ran
/// out; true when the action has ended.
fn finish_running_action(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, index: usize) -> bool {
    let timeout = wave.plan.post_launch[index].timeout;
    let timed_out = deadline(wave.actions[index].start_time, timeout).is_some_and(|d| ctx.now > d);
    let all_done = wave.actions[index]
        .invocations
        .values()
        .all(|r| r.status.is_terminal());
    if !all_done && !timed_out {
        return false;
    }
    let name = wave.actions[index].name.clone();
    let limit = humantime::format_duration(timeout);
    let mut failures = Vec::new();
    for (instance, result) in wave.actions[index].invocations.iter_mut() {
        if !result.status.is_terminal() {
            result.status = ActionStatus::Timeout;
        }
        match result.status {
            ActionStatus::Success => {}
            ActionStatus::Timeout => failures.push((
                result.source_server_id.clone(),
                "ACTION_TIMEOUT",
                format!("action {name} did not finish on {instance} within its timeout of {limit}"),
            )),
            _ => failures.push((
                result.source_server_id.clone(),
                "ACTION_FAILED",
                format!(
                    "action {name} failed on {instance}: {}",
                    nonempty(&result.error, &result.output)
                ),
            )),
        }
    }
    // TIMEOUT when every failure is a timeout, whether SSM timed the
    // invocations out (TimedOut) or the action's own deadline ran out first:
    // the two race, and the action must not end differently by who won.
    let status = if failures.is_empty() {
        ActionStatus::Success
    } else if failures
        .iter()
        .all(|(_, code, _)| *code == "ACTION_TIMEOUT")
    {
        ActionStatus::Timeout
    } else {
        ActionStatus::Failed
    };
    {
        let action = &mut wave.actions[index];
        let what = format!("action {name}");
        transition(&mut action.status, status, &what, &mut ctx.rejected);
        action.end_time = Some(ctx.now);
        if !failures.is_empty() {
            let (n, of) = (failures.len(), action.invocations.len());
            action.error_message = Some(if status == ActionStatus::Timeout {
                format!("did not finish on {n} of {of} servers within its timeout of {limit}")
            } else {
                format!("failed on {n} of {of} servers")
            });
        }
    }
    for (id, code, message) in failures {
        if let Some(server) = wave.servers.iter_mut().find(|s| *s.id() == id) {
            fail_server(ctx, server, code, message);
        }
    }
    true
}

fn nonempty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.trim().is_empty() {
        b.trim()
    } else {
        a.trim()
    }
}

fn command_checks(wave: &WaveRecord) -> Vec<String> {
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
fn run_health_checks(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
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
fn evaluate_health(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, obs: &PostLaunchObservation) {
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

/// What the next tick must read: running commands, and the agents and
/// status checks the current step waits on.
fn observation_needed(wave: &WaveRecord, seq: u32) -> Option<Effect> {
    let live: Vec<&super::ServerState> = live_servers(wave).collect();
    if live.is_empty() {
        return None;
    }
    let mut command_ids: Vec<String> = wave
        .actions
        .iter()
        .filter(|a| a.status == ActionStatus::Running)
        .flat_map(|a| a.command_ids.iter().cloned())
        .collect();
    let in_checks = wave.health.checks_started_at.is_some();
    if in_checks {
        command_ids.extend(wave.health.command_ids.iter().cloned());
    }
    let actions_left = wave.actions.iter().any(|a| !a.status.is_terminal());
    let agent_missing = live
        .iter()
        .any(|s| !wave.health.agents_online.contains(s.id()));
    let runs_commands = actions_left || (in_checks && !command_checks(wave).is_empty());
    let wants_agent = (runs_commands && agent_missing)
        || (in_checks
            && wave
                .plan
                .health_checks
                .contains(&HealthCheck::SsmAgentOnline));
    let wants_status = in_checks && wave.plan.health_checks.contains(&HealthCheck::Ec2StatusOk);
    let instances = |on: bool| -> Vec<String> {
        if on {
            live.iter()
                .filter_map(|s| s.launched_instance_id.clone())
                .collect()
        } else {
            Vec::new()
        }
    };
    let effect = Effect::ObservePostLaunch {
        seq,
        command_ids,
        status_instance_ids: instances(wants_status),
        agent_instance_ids: instances(wants_agent),
    };
    match &effect {
        Effect::ObservePostLaunch {
            command_ids,
            status_instance_ids,
            agent_instance_ids,
            ..
        } if command_ids.is_empty()
            && status_instance_ids.is_empty()
            && agent_instance_ids.is_empty() =>
        {
            None
        }
        _ => Some(effect),
    }
}
