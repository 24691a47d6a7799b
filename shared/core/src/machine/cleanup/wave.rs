//! A wave's drill clean-up: check that each recovery instance is still the
//! one this wave's job launched, record the intent, terminate the ones that
//! are (one TerminateRecoveryInstances of ≤100 ids), and observe the
//! TERMINATE job until every instance is gone or has failed. Ends by
//! telling the execution (`WaveCleanedUp`).
//!
//! Safety (invariant 14, docs/invariants.md): only an id recorded on one
//! of this wave's servers is ever passed to TerminateRecoveryInstances, and
//! only after DescribeRecoveryInstances showed it launched by this wave's
//! job, for this source server, as a drill or recovery like this
//! execution ([`not_ours`]). A retry (after a throttle, a 5xx, a lost
//! answer) checks again before it terminates again; terminating an
//! instance twice only asks DRS again.

use super::super::context::{Ctx, WaveOutcome};
use super::super::decision::Effect;
use super::super::retry::{backoff, may_retry};
use super::super::wave::{LAUNCH_CHECK_DELAY, next_tick};
use super::checks::check_again;
use crate::cleanup::{CleanupEffect, CleanupStep};
use crate::event::Event;
use crate::plan::Mode;
use crate::records::{ServerCleanup, ServerState, WaveCleanup, WaveRecord};
use crate::service_error::{ErrorClass, ServiceError};
use crate::services::drs::{JobStatus, RecoveryInstance, RecoveryJob};
use crate::status_model::{CleanupStatus, Transitions, transition};
use crate::time::after;
use std::time::Duration;

/// Decides one clean-up step of `wave`.
pub(crate) fn decide(ctx: &mut Ctx<'_>, wave: &WaveRecord, step: &CleanupStep) -> WaveOutcome {
    if let CleanupStep::Start {
        requested_by,
        reason,
        request,
    } = step
    {
        return start(ctx, wave, requested_by, reason, *request);
    }
    if super::previous::running(wave) {
        return super::previous::decide(ctx, wave, step);
    }
    let Some(cleanup) = wave.cleanup.as_ref().filter(|c| c.ended_at.is_none()) else {
        return WaveOutcome::Ignored("the wave has no clean-up in progress".into());
    };
    if of_an_earlier_request(step, cleanup) {
        return WaveOutcome::Ignored("a step of an earlier clean-up request".into());
    }
    let mut next = wave.clone();
    let applied = match step {
        CleanupStep::Start { .. } | CleanupStep::LeftoversFound { .. } => false,
        CleanupStep::Check { tries } => {
            *tries == cleanup.tries + 1 && cleanup.job_id.is_none() && {
                check(ctx, &mut next, *tries);
                true
            }
        }
        CleanupStep::Checked { tries, instances } => {
            *tries == cleanup.tries
                && cleanup.job_id.is_none()
                && cleanup.terminate_requested != Some(*tries)
                && {
                    checked(ctx, &mut next, *tries, instances);
                    true
                }
        }
        CleanupStep::CheckFailed { tries, error }
        | CleanupStep::TerminateFailed { tries, error } => {
            *tries == cleanup.tries && cleanup.job_id.is_none() && {
                failed(ctx, &mut next, *tries, error);
                true
            }
        }
        CleanupStep::Terminating { job_id, .. } => {
            cleanup.job_id.is_none() && {
                let c = next.cleanup.as_mut().expect("in progress");
                c.job_id = Some(job_id.clone());
                schedule_poll(ctx, &mut next);
                true
            }
        }
        CleanupStep::Poll { seq } => {
            *seq == cleanup.poll_seq && {
                poll(ctx, &mut next, *seq);
                true
            }
        }
        // What DRS showed is true whichever poll asked (the next one is
        // already scheduled, so a lost answer is covered by it).
        CleanupStep::Observed { job, remaining, .. } => {
            observed(ctx, &mut next, job.as_ref(), remaining);
            true
        }
        CleanupStep::ObserveFailed { error, .. } => {
            observe_failed(ctx, &mut next, error);
            true
        }
    };
    if !applied {
        return WaveOutcome::Ignored("a stale or duplicate clean-up step".into());
    }
    settle(ctx, &mut next);
    WaveOutcome::Changed(next, None)
}

fn start(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    requested_by: &str,
    reason: &str,
    request: u32,
) -> WaveOutcome {
    // A later request retries the servers an ended one left FAILED; its
    // checks and polls are numbered on from the earlier one's.
    let (first_try, first_poll) = match &wave.cleanup {
        // Numbered on after the leftovers' clean-up, whose steps are alike.
        None => wave
            .leftovers
            .as_ref()
            .map_or((0, 0), |l| (l.tries, l.poll_seq)),
        Some(c)
            if c.ended_at.is_some()
                && request > c.request
                && left_failed(wave).next().is_some() =>
        {
            (c.tries, c.poll_seq)
        }
        Some(_) => {
            return WaveOutcome::Ignored("the wave's clean-up was already requested".into());
        }
    };
    let retry = wave.cleanup.is_some();
    let mut next = wave.clone();
    if let Some(l) = next.leftovers.as_mut().filter(|l| l.ended_at.is_none()) {
        // A wave cancelled while it terminated what earlier drills left.
        l.ended_at = Some(ctx.now);
    }
    next.cleanup = Some(WaveCleanup {
        requested_by: requested_by.to_owned(),
        reason: reason.to_owned(),
        requested_at: ctx.now,
        tries: first_try,
        terminate_requested: None,
        throttled: 0,
        job_id: None,
        poll_seq: first_poll,
        consecutive_poll_errors: 0,
        last_error: None,
        ended_at: None,
        request,
        first_try,
        first_poll,
    });
    let running = !wave.status.is_terminal();
    for server in next.servers.iter_mut().filter(|s| is_target(s)) {
        let again = server
            .cleanup
            .as_ref()
            .is_some_and(|c| c.status == CleanupStatus::Failed);
        if retry && !again {
            continue; // TERMINATED stays
        }
        // A new clean-up of the server, not a move out of FAILED.
        server.cleanup = Some(ServerCleanup {
            status: CleanupStatus::Terminating,
            reason: None,
            ended_at: None,
        });
        if running {
            // The execution's check makes this unreachable; never
            // terminate under a wave that still runs.
            end_server(
                ctx,
                server,
                CleanupStatus::Failed,
                "not terminated: the wave was still running".into(),
            );
        }
    }
    if terminating(&next).next().is_some() {
        check(ctx, &mut next, first_try + 1);
    }
    settle(ctx, &mut next);
    WaveOutcome::Changed(next, None)
}

/// Whether `step` answers or ticks a check or poll of an earlier request.
fn of_an_earlier_request(step: &CleanupStep, c: &WaveCleanup) -> bool {
    match step {
        CleanupStep::Start { .. } => false,
        CleanupStep::Check { tries }
        | CleanupStep::Checked { tries, .. }
        | CleanupStep::LeftoversFound { tries, .. }
        | CleanupStep::CheckFailed { tries, .. }
        | CleanupStep::Terminating { tries, .. }
        | CleanupStep::TerminateFailed { tries, .. } => *tries <= c.first_try,
        CleanupStep::Poll { seq }
        | CleanupStep::Observed { seq, .. }
        | CleanupStep::ObserveFailed { seq, .. } => *seq <= c.first_poll,
    }
}

/// A server this wave's own job gave a recovery instance.
fn is_target(server: &ServerState) -> bool {
    server.recovery_instance_id.is_some() && server.recovery_job_id.is_some()
}

fn terminating(wave: &WaveRecord) -> impl Iterator<Item = &ServerState> {
    with_status(wave, CleanupStatus::Terminating)
}

fn left_failed(wave: &WaveRecord) -> impl Iterator<Item = &ServerState> {
    with_status(wave, CleanupStatus::Failed)
}

fn with_status(wave: &WaveRecord, status: CleanupStatus) -> impl Iterator<Item = &ServerState> {
    wave.servers
        .iter()
        .filter(move |s| s.cleanup.as_ref().is_some_and(|c| c.status == status))
}

fn terminating_ids(wave: &WaveRecord) -> Vec<String> {
    terminating(wave)
        .filter_map(|s| s.recovery_instance_id.clone())
        .collect()
}

/// Check `tries`: describe the instances still being terminated, and send
/// the next check for when the answer (or the termination's) is lost.
fn check(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, tries: u32) {
    let ids = terminating_ids(wave);
    let c = wave.cleanup.as_mut().expect("in progress");
    c.tries = tries;
    ctx.effect(Effect::Cleanup(CleanupEffect::Check {
        tries,
        recovery_instance_ids: ids,
    }));
    check_again(ctx, wave.number, tries + 1, LAUNCH_CHECK_DELAY);
}

/// Why `found` is not the instance this execution launched for `server`,
/// if it is not: then it must not be terminated.
pub(crate) fn not_ours(
    server: &ServerState,
    found: &RecoveryInstance,
    mode: Mode,
) -> Option<String> {
    let drill = mode == Mode::Drill;
    if found.source_server_id != *server.id() {
        return Some(format!(
            "it now belongs to source server {}",
            found.source_server_id
        ));
    }
    if found.job_id.as_ref() != server.recovery_job_id.as_ref() {
        return Some(format!(
            "it was launched by job {}, not by this execution's job {}",
            found.job_id.as_deref().unwrap_or("(none)"),
            server.recovery_job_id.as_deref().unwrap_or("(none)")
        ));
    }
    if found.is_drill != drill {
        let what = |d: bool| if d { "a drill" } else { "a recovery" };
        return Some(format!(
            "DRS shows {} instance; this execution was {}",
            what(found.is_drill),
            what(drill)
        ));
    }
    match (&server.launched_instance_id, &found.ec2_instance_id) {
        (Some(ours), Some(now)) if ours != now => Some(format!(
            "its EC2 instance is now {now}, not {ours} as launched"
        )),
        _ => None,
    }
}

fn checked(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, tries: u32, instances: &[RecoveryInstance]) {
    let mode = wave.mode;
    let mut ids = Vec::new();
    for server in wave.servers.iter_mut() {
        let Some(ri) = server.recovery_instance_id.clone() else {
            continue;
        };
        if !server
            .cleanup
            .as_ref()
            .is_some_and(|c| c.status == CleanupStatus::Terminating)
        {
            continue;
        }
        match instances.iter().find(|i| i.recovery_instance_id == ri) {
            None => end_server(
                ctx,
                server,
                CleanupStatus::Terminated,
                "no longer in DRS (terminated)".into(),
            ),
            Some(found) => match not_ours(server, found, mode) {
                Some(why) => end_server(
                    ctx,
                    server,
                    CleanupStatus::Failed,
                    format!("not terminated: recovery instance {ri}: {why}"),
                ),
                None => ids.push(ri),
            },
        }
    }
    if past_limit(ctx, wave) {
        // The last look: what is gone is TERMINATED above; nothing new
        // starts past the clean-up's time limit.
        fail_timed_out(ctx, wave);
        return;
    }
    if ids.is_empty() {
        return;
    }
    wave.cleanup
        .as_mut()
        .expect("in progress")
        .terminate_requested = Some(tries);
    ctx.effect(Effect::Cleanup(CleanupEffect::Terminate {
        tries,
        recovery_instance_ids: ids,
    }));
}

/// A failed check or termination: retried (checking first) within the
/// clean-up's time limit; throttling does not use up the attempts.
fn failed(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, tries: u32, error: &ServiceError) {
    let policy = wave.options.retry;
    let until = after(cleanup_of(wave).requested_at, wave.plan.launch_timeout);
    let c = wave.cleanup.as_mut().expect("in progress");
    c.throttled += u32::from(error.class == ErrorClass::Throttling);
    c.last_error = Some(error.to_string());
    // An instance gone between the check and the call, or one DRS is still
    // busy with: check again.
    let recheck = matches!(
        error.code.as_str(),
        "ResourceNotFoundException" | "ConflictException"
    );
    let tries_made = tries - c.first_try;
    let failed_tries = tries_made - c.throttled.min(tries_made);
    let retry = ctx.now < until
        && (recheck && failed_tries < policy.max_attempts
            || may_retry(&policy, error, failed_tries, Some(until), ctx.now));
    if retry {
        let delay = backoff(
            &policy,
            tries_made,
            error.retry_after,
            ctx.envelope.event_id,
        );
        check_again(ctx, wave.number, tries + 1, delay);
        return;
    }
    let message = format!("not terminated: {error}");
    fail_terminating(ctx, wave, &message);
}

fn schedule_poll(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    let delay = next_tick(ctx.now, wave.options.poll_intervals.launching);
    let c = wave.cleanup.as_mut().expect("in progress");
    c.poll_seq += 1;
    let seq = c.poll_seq;
    ctx.send(
        Some(wave.number),
        Event::CleanupWave {
            step: CleanupStep::Poll { seq },
        },
        delay,
    );
}

/// Looks at the TERMINATE job and the instances, and schedules the next
/// look now: an answer lost to a crash is made up for by it.
fn poll(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, seq: u32) {
    let Some(job_id) = cleanup_of(wave).job_id.clone() else {
        return;
    };
    ctx.effect(Effect::Cleanup(CleanupEffect::Observe {
        seq,
        job_id,
        recovery_instance_ids: terminating_ids(wave),
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
    let c = wave.cleanup.as_mut().expect("in progress");
    c.consecutive_poll_errors = 0;
    let job_ended = job.is_some_and(|j| j.status == JobStatus::Completed);
    let job_id = c.job_id.clone().unwrap_or_default();
    for server in wave.servers.iter_mut() {
        let still = remaining
            .iter()
            .any(|i| Some(&i.recovery_instance_id) == server.recovery_instance_id.as_ref());
        let active = server
            .cleanup
            .as_ref()
            .is_some_and(|c| c.status == CleanupStatus::Terminating);
        if !active {
            continue;
        }
        if !still {
            end_server(ctx, server, CleanupStatus::Terminated, String::new());
        } else if job_ended {
            let status = job
                .and_then(|j| {
                    j.participating_servers
                        .iter()
                        .find(|p| p.source_server_id == *server.id())
                })
                .map_or("not in the job".to_owned(), |p| {
                    format!("{:?}", p.launch_status).to_uppercase()
                });
            end_server(
                ctx,
                server,
                CleanupStatus::Failed,
                format!(
                    "the TERMINATE job {job_id} ended and the recovery instance still exists \
                     (DRS: {status}); terminate it in the DRS console or run the clean-up again"
                ),
            );
        }
    }
    if past_limit(ctx, wave) {
        fail_timed_out(ctx, wave);
    }
}

fn observe_failed(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, error: &ServiceError) {
    let max = wave.options.retry.max_poll_errors;
    let c = wave.cleanup.as_mut().expect("in progress");
    c.last_error = Some(error.to_string());
    if error.class != ErrorClass::Throttling {
        c.consecutive_poll_errors += 1;
    }
    if past_limit(ctx, wave) {
        fail_timed_out(ctx, wave);
        return;
    }
    let c = wave.cleanup.as_mut().expect("in progress");
    if error.class == ErrorClass::Permanent || c.consecutive_poll_errors >= max {
        let message = format!("status unknown: the TERMINATE job could not be read: {error}");
        fail_terminating(ctx, wave, &message);
    }
}

/// Whether the clean-up's time limit (the wave's `launch_timeout` from the
/// request) has passed: the look being decided is the last one.
fn past_limit(ctx: &Ctx<'_>, wave: &WaveRecord) -> bool {
    ctx.now >= after(cleanup_of(wave).requested_at, wave.plan.launch_timeout)
}

/// Past the limit, what is still terminating after the last look is
/// FAILED: every clean-up ends.
fn fail_timed_out(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    let message = format!(
        "CLEANUP_TIMEOUT: still not terminated after {}; check the instance in the DRS console",
        humantime::format_duration(wave.plan.launch_timeout)
    );
    fail_terminating(ctx, wave, &message);
}

fn fail_terminating(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, message: &str) {
    for server in wave.servers.iter_mut() {
        end_server(ctx, server, CleanupStatus::Failed, message.to_owned());
    }
}

fn end_server(ctx: &mut Ctx<'_>, server: &mut ServerState, status: CleanupStatus, reason: String) {
    let what = format!("server {} clean-up", server.id());
    let Some(c) = server.cleanup.as_mut() else {
        return;
    };
    if c.status.is_terminal() {
        return;
    }
    if transition(&mut c.status, status, &what, &mut ctx.rejected) {
        c.ended_at = Some(ctx.now);
        c.reason = Some(reason).filter(|r| !r.is_empty());
    }
}

fn cleanup_of(wave: &WaveRecord) -> &WaveCleanup {
    wave.cleanup.as_ref().expect("in progress")
}

/// Ends the wave's clean-up once no server is terminating, and tells the
/// execution.
fn settle(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    if terminating(wave).next().is_some() {
        return;
    }
    let count = |status| {
        let n = wave
            .servers
            .iter()
            .filter(|s| s.cleanup.as_ref().is_some_and(|c| c.status == status))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let (terminated, failed) = (
        count(CleanupStatus::Terminated),
        count(CleanupStatus::Failed),
    );
    let c = wave.cleanup.as_mut().expect("in progress");
    if c.ended_at.is_some() {
        return;
    }
    c.ended_at = Some(ctx.now);
    let request = c.request;
    ctx.send(
        Some(wave.number),
        Event::WaveCleanedUp {
            terminated,
            failed,
            request,
        },
        Duration::ZERO,
    );
}
