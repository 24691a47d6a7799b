//! Driving the post-launch phase: entering it, the `CheckPostLaunch` tick,
//! and [`advance`], which does what is due — deadlines first, then the
//! next action or the health checks, then settling the wave.

use super::actions::{finish_running_action, run_actions};
use super::health::run_health_checks;
use super::observe::observation_needed;
use crate::machine::context::{Ctx, WaveOutcome};
use crate::machine::wave::{
    LAUNCH_CHECK_DELAY, after_post_launch_progress, finish_wave, poll_interval, schedule_poll,
};
use crate::records::WaveRecord;
use crate::status_model::transition;
use crate::status_model::{ActionStatus, WaveStatus};
use crate::time::after;
use std::time::Duration;

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

pub(crate) fn check(ctx: &mut Ctx<'_>, wave: &WaveRecord, seq: u32) -> WaveOutcome {
    if seq != wave.poll_seq {
        return WaveOutcome::Ignored(format!("check {seq} is stale (current {})", wave.poll_seq));
    }
    if wave.status != WaveStatus::PostActions {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
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
    WaveOutcome::Changed(next, None)
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

/// Does what is due: deadlines first, then the next action or the health
/// checks, then settles the wave if every server is done.
pub(crate) fn advance(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
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
