//! Post-launch actions: SSM commands run one after another on every live
//! server once its agent is online, each bounded by its own timeout; a
//! lost send is found again by its comment.

use super::{deadline, live_indices};
use crate::event::Event;
use crate::machine::context::{Ctx, Handover, WaveOutcome};
use crate::machine::decision::{CommandPurpose, Effect};
use crate::machine::retry::{backoff, may_retry};
use crate::machine::wave::{LAUNCH_CHECK_DELAY, fail_server, set_health};
use crate::ports::ssm::{MAX_INSTANCES_PER_COMMAND, SendCommandRequest};
use crate::records::{ActionRun, InvocationResult, WaveRecord};
use crate::service_error::{ErrorClass, ServiceError};
use crate::status_model::{ActionStatus, HealthStatus, WaveStatus};
use crate::status_model::{Transitions, transition};
use crate::time::after;

pub(crate) fn run_action(wave: &WaveRecord, index: usize, tries: u32) -> WaveOutcome {
    let Some(action) = wave.actions.get(index) else {
        return WaveOutcome::Ignored(format!("wave {} has no action {index}", wave.number));
    };
    if wave.status != WaveStatus::PostActions || action.status != ActionStatus::Pending {
        return WaveOutcome::Ignored("the action is not waiting for a retry".into());
    }
    if action.retry_at.is_none() || action.tries + 1 != tries {
        return WaveOutcome::Ignored(format!("retry {tries} of action {index} is stale"));
    }
    let mut next = wave.clone();
    next.actions[index].retry_at = None;
    WaveOutcome::Changed(next, Some(Handover::AdvancePostLaunch))
}

pub(crate) fn action_sent(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    index: usize,
    tries: u32,
    ids: &[String],
) -> WaveOutcome {
    if let Err(stale) = awaiting_send(wave, index, tries) {
        return WaveOutcome::Ignored(stale);
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
    WaveOutcome::Changed(next, None)
}

/// Action `index` if it is waiting for the outcome of send `tries`; why
/// the outcome is stale otherwise.
fn awaiting_send(wave: &WaveRecord, index: usize, tries: u32) -> Result<&ActionRun, String> {
    match wave.actions.get(index) {
        None => Err(format!(
            "send {tries} of action {index}: wave {} has no such action",
            wave.number
        )),
        Some(action)
            if action.tries != tries
                || action.requested_at.is_none()
                || action.status != ActionStatus::Pending =>
        {
            Err(format!("send {tries} of action {index} is stale"))
        }
        Some(action) => Ok(action),
    }
}

pub(crate) fn action_send_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    index: usize,
    tries: u32,
    error: &ServiceError,
) -> WaveOutcome {
    let action = match awaiting_send(wave, index, tries) {
        Ok(action) => action,
        Err(stale) => return WaveOutcome::Ignored(format!("failure of {stale}")),
    };
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
        return WaveOutcome::Changed(next, None);
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
    WaveOutcome::Changed(next, Some(Handover::AdvancePostLaunch))
}

/// Advances the actions; true once every action has ended.
pub(super) fn run_actions(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) -> bool {
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
pub(super) fn finish_running_action(
    ctx: &mut Ctx<'_>,
    wave: &mut WaveRecord,
    index: usize,
) -> bool {
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
