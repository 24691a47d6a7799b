//! Operator events on a wave record (docs/status-model.md, "Operator
//! control"): `RelaunchWave` starts the wave's next attempt — the failed
//! servers of a FAILED wave launch again, or a wave a failure cancelled
//! before it started runs after all — and `MarkWaveSkipped` ends a wave
//! that is not running as SKIPPED. Each applies once: a relaunch only to
//! the attempt before it, a skip only to a wave not already ended so.

use super::context::{Ctx, WaveOutcome};
use super::launch;
use crate::event::Event;
use crate::ids::SourceServerId;
use crate::records::{
    ActionRun, CapacityState, HealthPhase, LaunchState, ServerAttempt, ServerState, WaveRecord,
};
use crate::status_model::operator_transition;
use crate::status_model::{LaunchStatus, Transitions, WaveStatus};
use std::time::Duration;

/// `RelaunchWave`: attempt `attempt` of the wave, relaunching `servers`
/// (those that failed; none named: every failed one).
pub(crate) fn relaunch(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    attempt: u32,
    servers: &[SourceServerId],
) -> WaveOutcome {
    if attempt != wave.attempt + 1 {
        return WaveOutcome::Ignored(format!(
            "wave {} is at attempt {}; attempt {attempt} is not the next one",
            wave.number, wave.attempt
        ));
    }
    let never_started = wave.start_time.is_none() && wave.launch == LaunchState::NotStarted;
    let mut next = wave.clone();
    match wave.status {
        // A skip the execution sent before it decided this retry may have
        // reached the record first: the retry, decided later, wins.
        WaveStatus::Failed | WaveStatus::Skipped => {
            relaunch_failed_servers(ctx, &mut next, servers)
        }
        WaveStatus::Pending | WaveStatus::Cancelled if never_started => {}
        status => {
            return WaveOutcome::Ignored(format!(
                "wave {} is {status:?}: only a FAILED or never-started wave is launched again",
                wave.number
            ));
        }
    }
    let what = format!("wave {}", wave.number);
    operator_transition(
        &mut next.status,
        WaveStatus::Pending,
        &what,
        &mut ctx.rejected,
    );
    next.attempt = attempt;
    next.attempt_started_at = Some(ctx.now);
    next.start_time = None;
    next.end_time = None;
    next.reason = None;
    next.launch = LaunchState::NotStarted;
    next.capacity = CapacityState::NotAsked;
    next.admitted_at = None;
    next.cancel_requested = None;
    next.launch_timed_out = false;
    next.push_seen_before_start = false;
    next.next_poll_at = None;
    next.consecutive_poll_errors = 0;
    next.consecutive_throttles = 0;
    next.last_poll_error = None;
    // Post-launch work runs again, on the relaunched servers only (those
    // that completed are not live any more).
    next.health = HealthPhase::default();
    for action in next.actions.iter_mut() {
        *action = ActionRun::new(action.name.clone(), action.document_name.clone());
    }
    match launch::start_wave(ctx, &next) {
        WaveOutcome::Changed(started, then) => WaveOutcome::Changed(started, then),
        WaveOutcome::Ignored(_) => WaveOutcome::Changed(next, None),
    }
}

/// Puts the failed servers to relaunch back to PENDING, each keeping how
/// its attempt ended. Servers that completed keep their state.
fn relaunch_failed_servers(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, named: &[SourceServerId]) {
    let failed = |s: &ServerState| s.launch_status == LaunchStatus::Failed;
    let any_named = wave
        .servers
        .iter()
        .any(|s| failed(s) && named.contains(s.id()));
    let checked = !wave.plan.health_checks.is_empty();
    let attempt = wave.attempt;
    for server in wave.servers.iter_mut() {
        if !failed(server) || (any_named && !named.contains(server.id())) {
            continue;
        }
        let mut attempts = std::mem::take(&mut server.attempts);
        attempts.push(ServerAttempt {
            attempt,
            launch_status: server.launch_status,
            recovery_job_id: server.recovery_job_id.clone(),
            launch_start_time: server.launch_start_time,
            launch_end_time: server.launch_end_time,
            error_code: server.error_code.clone(),
            error_message: server.error_message.clone(),
        });
        let mut fresh = ServerState::new(server.plan.clone(), checked);
        fresh.launch_status = server.launch_status;
        let what = format!("server {}", server.id());
        operator_transition(
            &mut fresh.launch_status,
            LaunchStatus::Pending,
            &what,
            &mut ctx.rejected,
        );
        fresh.attempts = attempts;
        *server = fresh;
    }
}

/// `MarkWaveSkipped`: a wave not running ends SKIPPED and tells the
/// execution; a running one goes on (the skip raced its launch).
pub(crate) fn mark_skipped(ctx: &mut Ctx<'_>, wave: &WaveRecord, reason: &str) -> WaveOutcome {
    let cancelled_running = wave.status == WaveStatus::Cancelled && wave.start_time.is_some();
    if !wave.status.operator_can_become(WaveStatus::Skipped) || cancelled_running {
        return WaveOutcome::Ignored(format!(
            "wave {} is {:?}: only a FAILED, WAITING or not started wave is skipped",
            wave.number, wave.status
        ));
    }
    let mut next = wave.clone();
    let what = format!("wave {}", wave.number);
    operator_transition(
        &mut next.status,
        WaveStatus::Skipped,
        &what,
        &mut ctx.rejected,
    );
    next.reason = Some(reason.to_owned());
    next.end_time = Some(ctx.now);
    next.next_poll_at = None;
    ctx.send(
        Some(next.number),
        Event::WaveFinished {
            status: WaveStatus::Skipped,
            attempt: next.attempt,
        },
        Duration::ZERO,
    );
    WaveOutcome::Changed(next, None)
}
