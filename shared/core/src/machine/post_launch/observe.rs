//! Observing a wave in POST_ACTIONS: what SSM and EC2 said (agents online,
//! command invocations) is recorded, the health checks evaluated against
//! it, and [`observation_needed`] says what the next tick must read.

use super::health::{command_checks, evaluate_health};
use super::{instance_index, live_indices};
use crate::event::PostLaunchObservation;
use crate::ids::SourceServerId;
use crate::machine::context::{Ctx, Handover, WaveOutcome};
use crate::machine::decision::Effect;
use crate::machine::wave::{
    fail_server, finish_wave, live_servers, observation_failed, observation_succeeded,
};
use crate::plan::HealthCheck;
use crate::ports::ssm::InvocationStatus;
use crate::records::{InvocationResult, ServerState, WaveRecord};
use crate::service_error::ServiceError;
use crate::status_model::Transitions;
use crate::status_model::{ActionStatus, WaveStatus};

pub(crate) fn observed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    obs: &PostLaunchObservation,
) -> WaveOutcome {
    if wave.status != WaveStatus::PostActions {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
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
    WaveOutcome::Changed(next, Some(Handover::AdvancePostLaunch))
}

pub(crate) fn check_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    error: &ServiceError,
) -> WaveOutcome {
    if wave.status != WaveStatus::PostActions {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let mut next = wave.clone();
    if let Some(why) = observation_failed(ctx, &mut next, error, "checks of SSM/EC2") {
        for i in live_indices(&next) {
            let message = format!("post-launch status unknown: {why}");
            fail_server(ctx, &mut next.servers[i], "STATUS_UNKNOWN", message);
        }
        finish_wave(ctx, &mut next, WaveStatus::Failed, Some(why));
    }
    WaveOutcome::Changed(next, None)
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

/// What the next tick must read: running commands, and the agents and
/// status checks the current step waits on.
pub(super) fn observation_needed(wave: &WaveRecord, seq: u32) -> Option<Effect> {
    let live: Vec<&ServerState> = live_servers(wave).collect();
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
