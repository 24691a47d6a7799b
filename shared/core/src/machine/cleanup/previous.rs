//! Before a drill's wave launches (`options.cleanup_previous`): find the
//! recovery instances of the wave's servers, keep those that are drills
//! not launched by this execution's jobs, terminate them (one
//! TerminateRecoveryInstances of ≤100 ids), observe that job to its end,
//! then get in line for DRS capacity (`Handover::GetInLine`). A failure is recorded and the wave
//! launches anyway: DRS replaces a server's drill instance on a new launch.
//!
//! Safety (invariant 14, docs/invariants.md): a recovery (non-drill)
//! instance is never passed to TerminateRecoveryInstances, nor one of
//! another source server; every termination follows a look made for it
//! (a retry looks again). The steps are the wave clean-up's own
//! ([`CleanupStep`]), routed here while this phase runs.

use super::super::context::{Ctx, Handover, WaveOutcome};
use super::super::decision::Effect;
use super::super::retry::{backoff, may_retry};
use super::super::wave::{LAUNCH_CHECK_DELAY, next_tick};
use super::checks::check_again;
use crate::cleanup::{CleanupEffect, CleanupStep};
use crate::event::Event;
use crate::records::{LaunchState, Leftover, LeftoverCleanup, WaveRecord};
use crate::service_error::{ErrorClass, ServiceError};
use crate::services::announce::Announcement;
use crate::services::drs::{JobStatus, RecoveryInstance, RecoveryJob};
use crate::status_model::{CleanupStatus, Transitions};
use crate::time::after;
use std::time::Duration;

/// DRS' limit on the ids of one TerminateRecoveryInstances (the wave's
/// servers are at most as many).
const MAX_IDS: usize = 100;

/// `StartWave` of a drill with `cleanup_previous`: the first look.
pub(crate) fn begin(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    wave.leftovers = Some(LeftoverCleanup {
        started_at: ctx.now,
        tries: 0,
        terminate_requested: None,
        throttled: 0,
        job_id: None,
        poll_seq: 0,
        consecutive_poll_errors: 0,
        error: None,
        ended_at: None,
        instances: Vec::new(),
    });
    look(ctx, wave, 1);
}

/// Whether `wave` is terminating what earlier drills left: then its
/// clean-up steps are this phase's.
pub(crate) fn running(wave: &WaveRecord) -> bool {
    wave.leftovers
        .as_ref()
        .is_some_and(|l| l.ended_at.is_none())
}

/// Decides one step of the phase.
pub(crate) fn decide(ctx: &mut Ctx<'_>, wave: &WaveRecord, step: &CleanupStep) -> WaveOutcome {
    let l = wave.leftovers.as_ref().expect("running");
    let mut next = wave.clone();
    let waiting = l.job_id.is_none();
    let applied = match step {
        CleanupStep::Check { tries } => {
            *tries == l.tries + 1 && waiting && {
                look(ctx, &mut next, *tries);
                true
            }
        }
        CleanupStep::LeftoversFound { tries, instances } => {
            *tries == l.tries && waiting && l.terminate_requested != Some(*tries) && {
                found(ctx, &mut next, *tries, instances);
                true
            }
        }
        CleanupStep::CheckFailed { tries, error }
        | CleanupStep::TerminateFailed { tries, error } => {
            *tries == l.tries && waiting && {
                failed(ctx, &mut next, *tries, error);
                true
            }
        }
        CleanupStep::Terminating { job_id, .. } => {
            waiting && {
                of(&mut next).job_id = Some(job_id.clone());
                schedule_poll(ctx, &mut next);
                true
            }
        }
        CleanupStep::Poll { seq } => {
            *seq == l.poll_seq && {
                poll(ctx, &mut next, *seq);
                true
            }
        }
        CleanupStep::Observed { job, remaining, .. } => {
            observed(ctx, &mut next, job.as_ref(), remaining);
            true
        }
        CleanupStep::ObserveFailed { error, .. } => {
            observe_failed(ctx, &mut next, error);
            true
        }
        CleanupStep::Start { .. } | CleanupStep::Checked { .. } => false,
    };
    if !applied {
        return WaveOutcome::Ignored("a stale or duplicate step of the leftovers' clean-up".into());
    }
    // Done: the wave gets in line for capacity (unless it was cancelled).
    let then = (!running(&next) && next.cancel_requested.is_none() && !next.status.is_terminal())
        .then_some(Handover::GetInLine);
    WaveOutcome::Changed(next, then)
}

fn of(wave: &mut WaveRecord) -> &mut LeftoverCleanup {
    wave.leftovers.as_mut().expect("running")
}

/// Look `tries`: the recovery instances of the wave's servers; the next
/// look is sent for when this answer (or the termination's) is lost.
fn look(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, tries: u32) {
    of(wave).tries = tries;
    let source_server_ids = wave.servers.iter().map(|s| s.id().clone()).collect();
    ctx.effect(Effect::Cleanup(CleanupEffect::FindLeftovers {
        tries,
        source_server_ids,
    }));
    check_again(ctx, wave.number, tries + 1, LAUNCH_CHECK_DELAY);
}

/// Whether `found` is a drill instance an earlier drill left for one of
/// the wave's servers: never a recovery, never one of this execution's jobs.
pub(crate) fn left_by_an_earlier_drill(wave: &WaveRecord, found: &RecoveryInstance) -> bool {
    let ours = |job: &String| {
        wave.servers
            .iter()
            .any(|s| s.recovery_job_id.as_ref() == Some(job))
            || matches!(&wave.launch, LaunchState::Started { job_id, .. } if job_id == job)
    };
    found.is_drill
        && wave
            .servers
            .iter()
            .any(|s| *s.id() == found.source_server_id)
        && !found.job_id.as_ref().is_some_and(ours)
}

fn found(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, tries: u32, instances: &[RecoveryInstance]) {
    let targets: Vec<&RecoveryInstance> = instances
        .iter()
        .filter(|i| left_by_an_earlier_drill(wave, i))
        .take(MAX_IDS)
        .collect();
    let cancelled = wave.cancel_requested.is_some() || wave.status.is_terminal();
    let l = of(wave);
    for gone in l.instances.iter_mut().filter(|e| {
        e.status == CleanupStatus::Terminating
            && !targets
                .iter()
                .any(|t| t.recovery_instance_id == e.recovery_instance_id)
    }) {
        gone.status = CleanupStatus::Terminated;
        gone.reason = Some("no longer in DRS (terminated)".into());
    }
    for t in &targets {
        if !l
            .instances
            .iter()
            .any(|e| e.recovery_instance_id == t.recovery_instance_id)
        {
            l.instances.push(Leftover {
                source_server_id: t.source_server_id.clone(),
                recovery_instance_id: t.recovery_instance_id.clone(),
                ec2_instance_id: t.ec2_instance_id.clone(),
                job_id: t.job_id.clone(),
                status: CleanupStatus::Terminating,
                reason: None,
            });
        }
    }
    if cancelled {
        end_terminating(wave, "not terminated: the wave was cancelled");
    } else if past_limit(ctx, wave) {
        fail_timed_out(wave);
    }
    let ids: Vec<String> = terminating(wave).collect();
    if ids.is_empty() {
        settle(ctx, wave);
        return;
    }
    of(wave).terminate_requested = Some(tries);
    ctx.effect(Effect::Cleanup(CleanupEffect::Terminate {
        tries,
        recovery_instance_ids: ids,
    }));
}

fn terminating(wave: &WaveRecord) -> impl Iterator<Item = String> + '_ {
    wave.leftovers.iter().flat_map(|l| {
        l.instances
            .iter()
            .filter(|e| e.status == CleanupStatus::Terminating)
            .map(|e| e.recovery_instance_id.clone())
    })
}

/// A failed look or termination: looked again within the policy and the
/// phase's limit; else the wave launches anyway with the reason recorded.
fn failed(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, tries: u32, error: &ServiceError) {
    let policy = wave.options.retry;
    let until = after(of(wave).started_at, wave.plan.launch_timeout);
    let l = of(wave);
    l.throttled += u32::from(error.class == ErrorClass::Throttling);
    let failed_tries = tries - l.throttled.min(tries);
    if ctx.now < until && may_retry(&policy, error, failed_tries, Some(until), ctx.now) {
        let delay = backoff(&policy, tries, error.retry_after, ctx.envelope.event_id);
        check_again(ctx, wave.number, tries + 1, delay);
        return;
    }
    let message = format!("not terminated: {error}");
    of(wave).error = Some(message.clone());
    end_terminating(wave, &message);
    settle(ctx, wave);
}

fn schedule_poll(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    let delay = next_tick(ctx.now, wave.options.poll_intervals.launching);
    let l = of(wave);
    l.poll_seq += 1;
    let step = CleanupStep::Poll { seq: l.poll_seq };
    ctx.send(Some(wave.number), Event::CleanupWave { step }, delay);
}

fn poll(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, seq: u32) {
    let Some(job_id) = of(wave).job_id.clone() else {
        return;
    };
    ctx.effect(Effect::Cleanup(CleanupEffect::Observe {
        seq,
        job_id,
        recovery_instance_ids: terminating(wave).collect(),
        fresh_since: ctx.now,
    }));
    schedule_poll(ctx, wave);
}

fn observed(
    ctx: &mut Ctx<'_>,
    wave: &mut WaveRecord,
    job: Option<&RecoveryJob>,
    remaining: &[RecoveryInstance],
) {
    let job_ended = job.is_some_and(|j| j.status == JobStatus::Completed);
    let l = of(wave);
    l.consecutive_poll_errors = 0;
    let job_id = l.job_id.clone().unwrap_or_default();
    for e in l
        .instances
        .iter_mut()
        .filter(|e| e.status == CleanupStatus::Terminating)
    {
        let still = remaining
            .iter()
            .any(|i| i.recovery_instance_id == e.recovery_instance_id);
        if !still {
            e.status = CleanupStatus::Terminated;
        } else if job_ended {
            e.status = CleanupStatus::Failed;
            e.reason = Some(format!(
                "the TERMINATE job {job_id} ended and the instance still exists; the launch replaces it"
            ));
        }
    }
    if past_limit(ctx, wave) {
        fail_timed_out(wave);
    }
    settle(ctx, wave);
}

fn observe_failed(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, error: &ServiceError) {
    let max = wave.options.retry.max_poll_errors;
    let l = of(wave);
    if error.class != ErrorClass::Throttling {
        l.consecutive_poll_errors += 1;
    }
    if error.class == ErrorClass::Permanent || l.consecutive_poll_errors >= max {
        let message = format!("status unknown: the TERMINATE job could not be read: {error}");
        of(wave).error = Some(message.clone());
        end_terminating(wave, &message);
    } else if past_limit(ctx, wave) {
        fail_timed_out(wave);
    }
    settle(ctx, wave);
}

fn past_limit(ctx: &Ctx<'_>, wave: &mut WaveRecord) -> bool {
    ctx.now >= after(of(wave).started_at, wave.plan.launch_timeout)
}

fn fail_timed_out(wave: &mut WaveRecord) {
    let message = format!(
        "CLEANUP_TIMEOUT: still not terminated after {}; the launch replaces it",
        humantime::format_duration(wave.plan.launch_timeout)
    );
    end_terminating(wave, &message);
}

fn end_terminating(wave: &mut WaveRecord, reason: &str) {
    for e in of(wave)
        .instances
        .iter_mut()
        .filter(|e| e.status == CleanupStatus::Terminating)
    {
        e.status = CleanupStatus::Failed;
        e.reason = Some(reason.to_owned());
    }
}

/// Once an answer leaves nothing terminating, the phase ends (and
/// [`decide`] hands the wave on to get in line for DRS capacity).
fn settle(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    if terminating(wave).next().is_some() {
        return;
    }
    let l = of(wave);
    l.ended_at = Some(ctx.now);
    if !l.instances.is_empty() {
        let lines = l.instances.iter().map(Leftover::summary).collect();
        let announcement = Announcement::EarlierDrillInstances {
            execution_id: wave.execution_id,
            wave: wave.number,
            wave_name: wave.name.clone(),
            lines,
            at: ctx.now,
        };
        ctx.send(None, Event::Announce { announcement }, Duration::ZERO);
    }
}
