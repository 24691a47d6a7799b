//! Starting a wave's launch: exactly one DRS StartRecovery job per wave (invariant 2,
//! docs/invariants.md). The intent is recorded before the call; a retry after an
//! ambiguous failure, or a check after a lost answer, first looks for a job
//! carrying the wave's tags and adopts it instead of launching again.

use crate::event::Event;
use crate::machine::context::{Ctx, Handover, WaveOutcome};
use crate::machine::decision::Effect;
use crate::machine::retry::{backoff, may_retry};
use crate::machine::wave::{
    LAUNCH_CHECK_DELAY, after_launch_progress, fail_server, finish_wave, next_tick, observe_job,
    poll_interval, schedule_poll,
};
use crate::ports::drs::{RecoveryJob, StartRecoveryRequest, TAG_ATTEMPT, TAG_EXECUTION, TAG_WAVE};
use crate::records::{LaunchState, WaveRecord};
use crate::service_error::{ErrorClass, ServiceError};
use crate::status_model::{LaunchStatus, WaveStatus};
use crate::status_model::{Transitions, transition};
use crate::time::after;
use std::collections::BTreeMap;
use std::time::Duration;

/// The tags that identify a wave's job: execution id, wave and attempt.
/// The attempt is the wave record's: 1, and one more per operator retry;
/// retries of the call are the same attempt, which is what makes a found
/// job adoptable (invariant 2: one job per attempt).
pub fn job_tags(wave: &WaveRecord) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TAG_EXECUTION.to_owned(), wave.execution_id.to_string()),
        (TAG_WAVE.to_owned(), wave.number.to_string()),
        (TAG_ATTEMPT.to_owned(), wave.attempt.to_string()),
    ])
}

/// The servers the attempt launches: all of them the first time, those a
/// retry put back to PENDING after.
fn to_launch(wave: &WaveRecord) -> impl Iterator<Item = &crate::records::ServerState> {
    wave.servers
        .iter()
        .filter(|s| s.launch_status == LaunchStatus::Pending)
}

fn start_request(wave: &WaveRecord) -> StartRecoveryRequest {
    StartRecoveryRequest {
        source_servers: to_launch(wave).map(|s| s.id().clone()).collect(),
        is_drill: wave.mode.is_drill(),
        tags: job_tags(wave),
        // Chosen at submission (`recovery_snapshot: { before }`); a server
        // without one launches from its latest data, DRS' default.
        recovery_snapshots: to_launch(wave)
            .filter_map(|s| {
                let chosen = s.plan.recovery_snapshot.as_ref()?;
                Some((s.id().clone(), chosen.id.clone()))
            })
            .collect(),
    }
}

/// Launches an admitted wave: records the intent and asks for its one job.
/// With `reconcile_since` (an earlier try may have created the job), the
/// call looks for the job by its tags first.
pub(super) fn start_launch(
    ctx: &mut Ctx<'_>,
    next: &mut WaveRecord,
    reconcile_since: Option<crate::time::Timestamp>,
) {
    transition(
        &mut next.status,
        WaveStatus::Launching,
        "wave",
        &mut ctx.rejected,
    );
    next.launch = LaunchState::Requested {
        tries: 1,
        since: reconcile_since.unwrap_or(ctx.now),
        requested_at: ctx.now,
        reconcile: reconcile_since.is_some(),
        throttled: 0,
    };
    ctx.effect(Effect::StartRecovery {
        tries: 1,
        request: start_request(next),
        reconcile_since,
        start_if_missing: true,
    });
    ctx.send(
        Some(next.number),
        Event::LaunchCheck { tries: 1 },
        LAUNCH_CHECK_DELAY,
    );
    ctx.send(None, Event::PublishMetrics {}, Duration::ZERO);
}

/// The launch's (since, reconcile) when it is waiting at try `tries`; the
/// reason to ignore the event otherwise (`what` names it: "retry 3").
/// The launch's pending try, as `waiting_at` finds it.
pub(super) struct Waiting {
    pub since: crate::time::Timestamp,
    pub reconcile: bool,
    pub throttled: u32,
}

pub(super) fn waiting_at(wave: &WaveRecord, tries: u32, what: &str) -> Result<Waiting, String> {
    match wave.launch {
        LaunchState::Requested {
            tries: current,
            since,
            reconcile,
            throttled,
            ..
        } if current == tries => Ok(Waiting {
            since,
            reconcile,
            throttled,
        }),
        LaunchState::Requested { tries: current, .. } => {
            Err(format!("{what} is stale (the launch is at try {current})"))
        }
        _ => Err(format!("{what}: the wave is not waiting for a job")),
    }
}

/// A scheduled retry of StartRecovery after a retryable failure.
pub(crate) fn retry_launch(ctx: &mut Ctx<'_>, wave: &WaveRecord, tries: u32) -> WaveOutcome {
    let Waiting {
        since,
        reconcile,
        throttled,
    } = match waiting_at(wave, tries, &format!("retry {tries}")) {
        Ok(found) => found,
        Err(reason) => return WaveOutcome::Ignored(reason),
    };
    let mut next = wave.clone();
    request_try(ctx, &mut next, tries, since, throttled, reconcile);
    WaveOutcome::Changed(next, None)
}

/// Records try `tries` of StartRecovery as requested, asks for the call
/// (looking for the job by tag first when `look_first`) and schedules the
/// check of its answer. From here on the call may have been made: deciding
/// this try again (a redelivery the journal no longer holds) must look first.
fn request_try(
    ctx: &mut Ctx<'_>,
    next: &mut WaveRecord,
    tries: u32,
    since: crate::time::Timestamp,
    throttled: u32,
    look_first: bool,
) {
    next.launch = LaunchState::Requested {
        tries,
        since,
        requested_at: ctx.now,
        reconcile: true,
        throttled,
    };
    ctx.effect(Effect::StartRecovery {
        tries,
        request: start_request(next),
        reconcile_since: look_first.then_some(since),
        start_if_missing: next.cancel_requested.is_none(),
    });
    ctx.send(
        Some(next.number),
        Event::LaunchCheck { tries },
        LAUNCH_CHECK_DELAY,
    );
}

/// No answer to try `tries` was recorded in time: the worker may have
/// crashed mid-call. Look for the job by tag; start it only if absent.
pub(crate) fn check_launch(ctx: &mut Ctx<'_>, wave: &WaveRecord, tries: u32) -> WaveOutcome {
    let Waiting {
        since, throttled, ..
    } = match waiting_at(wave, tries, &format!("the check of try {tries}")) {
        Ok(found) => found,
        Err(reason) => return WaveOutcome::Ignored(reason),
    };
    let mut next = wave.clone();
    let max = wave.options.retry.max_attempts;
    if tries - throttled.min(tries) >= max {
        let message = format!(
            "StartRecovery gave no answer after {tries} tries; check the DRS console for a job tagged {}={}",
            TAG_EXECUTION, wave.execution_id
        );
        fail_launch(ctx, &mut next, "NO_ANSWER", message);
        return WaveOutcome::Changed(next, None);
    }
    request_try(ctx, &mut next, tries + 1, since, throttled, true);
    WaveOutcome::Changed(next, None)
}

pub(crate) fn job_started(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    job: &RecoveryJob,
) -> WaveOutcome {
    match &wave.launch {
        LaunchState::Started { job_id, .. } if *job_id == job.job_id => {
            return WaveOutcome::Ignored(format!("job {job_id} is already recorded"));
        }
        LaunchState::Started { job_id, .. } => {
            ctx.rejected.push(format!(
                "wave {}: a second DRS job {} was reported (try {tries}) while job {job_id} is recorded; \
                 it is not adopted — check the DRS console",
                wave.number, job.job_id
            ));
            return WaveOutcome::Ignored("the wave already has a job".into());
        }
        LaunchState::Requested { .. } => {}
        LaunchState::NotStarted | LaunchState::Failed { .. } => {
            return WaveOutcome::Ignored("the wave is not waiting for a job".into());
        }
    }
    if wave.status != WaveStatus::Launching {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let mut next = wave.clone();
    next.launch = LaunchState::Started {
        job_id: job.job_id.clone(),
        started_at: ctx.now,
    };
    // Servers an earlier attempt launched are not in this job.
    for server in next
        .servers
        .iter_mut()
        .filter(|s| s.launch_status == LaunchStatus::Pending)
    {
        server.recovery_job_id = Some(job.job_id.clone());
        if job
            .participating_servers
            .iter()
            .any(|p| p.source_server_id == *server.id())
        {
            let what = format!("server {}", server.id());
            if transition(
                &mut server.launch_status,
                LaunchStatus::Launching,
                &what,
                &mut ctx.rejected,
            ) {
                server.launch_start_time = Some(ctx.now);
            }
        } else {
            let message = format!("DRS job {} does not include this server", job.job_id);
            fail_server(ctx, server, "NOT_IN_JOB", message);
        }
    }
    ctx.send(
        Some(next.number),
        Event::LaunchTimedOut {
            job_id: job.job_id.clone(),
        },
        next.plan.launch_timeout,
    );
    let first_poll = if next.push_seen_before_start {
        Duration::ZERO
    } else {
        next_tick(ctx.now, poll_interval(&next))
    };
    schedule_poll(ctx, &mut next, first_poll);
    let then = after_launch_progress(ctx, &mut next);
    WaveOutcome::Changed(next, then)
}

pub(crate) fn start_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    error: &ServiceError,
) -> WaveOutcome {
    let Waiting {
        since,
        reconcile,
        throttled,
    } = match waiting_at(wave, tries, &format!("the failure of try {tries}")) {
        Ok(found) => found,
        Err(reason) => return WaveOutcome::Ignored(reason),
    };
    let mut next = wave.clone();
    let throttled = throttled + u32::from(error.class == ErrorClass::Throttling);
    // Throttled StartRecovery calls are retried for as long as the wave's
    // launch timeout, counted from the first try.
    let until = Some(after(since, wave.plan.launch_timeout));
    let failed = tries - throttled.min(tries);
    if may_retry(&wave.options.retry, error, failed, until, ctx.now)
        && next.cancel_requested.is_none()
    {
        let delay = backoff(
            &wave.options.retry,
            tries,
            error.retry_after,
            ctx.envelope.event_id,
        );
        next.launch = LaunchState::Requested {
            tries: tries + 1,
            since,
            requested_at: ctx.now,
            // After a 5xx or a network error the job may exist: look first.
            reconcile: reconcile || error.class == ErrorClass::Transient,
            throttled,
        };
        ctx.send_attempt(
            Some(next.number),
            Event::LaunchWave { tries: tries + 1 },
            delay,
            tries + 1,
        );
        return WaveOutcome::Changed(next, None);
    }
    if next.cancel_requested.is_some() {
        let reason = next.cancel_requested.clone();
        next.launch = LaunchState::Failed {
            code: error.code.clone(),
            message: error.message.clone(),
        };
        finish_wave(ctx, &mut next, WaveStatus::Cancelled, reason);
        return WaveOutcome::Changed(next, None);
    }
    let message = if error.class == ErrorClass::Throttling {
        format!(
            "StartRecovery was still throttled after {tries} tries over the launch_timeout of {}; \
             last error: {}: {} (raise the DRS API quota or stagger the waves)",
            humantime::format_duration(wave.plan.launch_timeout),
            error.code,
            error.message
        )
    } else if error.class.is_retryable() {
        format!(
            "StartRecovery failed {tries} times; last error: {}: {}",
            error.code, error.message
        )
    } else {
        format!("StartRecovery failed: {}: {}", error.code, error.message)
    };
    fail_launch(ctx, &mut next, &error.code, message);
    WaveOutcome::Changed(next, None)
}

pub(super) fn fail_launch(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, code: &str, message: String) {
    wave.launch = LaunchState::Failed {
        code: code.to_owned(),
        message: message.clone(),
    };
    for server in wave.servers.iter_mut() {
        if !server.launch_status.is_terminal() {
            fail_server(ctx, server, code, message.clone());
        }
    }
    finish_wave(ctx, wave, WaveStatus::Failed, Some(message));
}

pub(crate) fn timed_out(ctx: &mut Ctx<'_>, wave: &WaveRecord, job_id: &str) -> WaveOutcome {
    match &wave.launch {
        LaunchState::Started {
            job_id: current, ..
        } if current == job_id => {}
        _ => return WaveOutcome::Ignored(format!("job {job_id} is not this wave's running job")),
    }
    if wave.status != WaveStatus::Launching {
        return WaveOutcome::Ignored(format!("wave {} is no longer launching", wave.number));
    }
    if wave.launch_timed_out {
        return WaveOutcome::Ignored("the launch timeout was already handled".into());
    }
    // Take one last look at DRS before failing anyone: a delayed poll must
    // not turn a server that launched into a LAUNCH_TIMEOUT.
    let mut next = wave.clone();
    next.launch_timed_out = true;
    observe_job(ctx, &next, next.poll_seq, job_id, ctx.now);
    WaveOutcome::Changed(next, None)
}

pub(crate) fn cancel(ctx: &mut Ctx<'_>, wave: &WaveRecord, reason: &str) -> WaveOutcome {
    if wave.status.is_terminal() {
        return WaveOutcome::Ignored(format!("wave {} is already {:?}", wave.number, wave.status));
    }
    if wave.cancel_requested.is_some() {
        return WaveOutcome::Ignored(format!("wave {} is already being cancelled", wave.number));
    }
    let mut next = wave.clone();
    next.cancel_requested = Some(reason.to_owned());
    let then = match (&next.status, &next.launch) {
        (WaveStatus::Pending | WaveStatus::Waiting, _) => {
            finish_wave(
                ctx,
                &mut next,
                WaveStatus::Cancelled,
                Some(reason.to_owned()),
            );
            None
        }
        // A job may be running or about to: keep observing it so every
        // server's status stays true; nothing new starts.
        (WaveStatus::Launching, _) => None,
        (WaveStatus::PostActions, _) => Some(Handover::SettleCancelled),
        _ => None,
    };
    WaveOutcome::Changed(next, then)
}
