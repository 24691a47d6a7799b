//! The primitives the wave phases share: failing a server, finishing the
//! wave, scheduling the next poll, and deciding what a wave whose launches
//! have all settled does next. Invariant 1 lives in
//! [`after_launch_progress`]: a wave completes only when every critical
//! server launched. Nothing here calls a phase: what comes next is
//! returned as a [`Handover`].

use super::context::{Ctx, Handover};
use super::decision::Effect;
use crate::event::Event;
use crate::records::{LaunchState, ServerState, WaveRecord};
use crate::status_model::{HealthStatus, LaunchStatus, WaveStatus};
use crate::status_model::{Transitions, transition};
use crate::time::Timestamp;
use std::time::Duration;

/// How long a recorded launch intent may go without an answer before the
/// job is looked for by tag (and started only if it does not exist).
pub const LAUNCH_CHECK_DELAY: Duration = Duration::from_secs(120);

/// Pushed launch results closer together than this share one poll.
pub const PUSH_COALESCE: Duration = Duration::from_millis(250);

/// A server whose launch has an outcome: launched (or further) or failed.
pub fn launch_settled(s: &ServerState) -> bool {
    matches!(
        s.launch_status,
        LaunchStatus::Launched | LaunchStatus::Completed | LaunchStatus::Failed
    )
}

/// How long a server DRS reports launched may wait for its recovery
/// instance and EC2 details while others of its wave still launch. Once
/// one has waited this long, the details of every server reported so far
/// are read together: at most one read a minute per wave, not one per poll.
pub const DETAILS_AFTER: Duration = Duration::from_secs(60);

/// Asks for a look at the wave's job (poll `seq`), as DRS reported it at or
/// after `fresh_since`, and at every server whose launch has no outcome yet.
pub(crate) fn observe_job(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    seq: u32,
    job_id: &str,
    fresh_since: Timestamp,
) {
    let awaiting: Vec<_> = wave.servers.iter().filter(|s| !launch_settled(s)).collect();
    let due = awaiting.iter().any(|s| {
        s.launch_result_at
            .is_some_and(|at| crate::time::between(at, ctx.now) >= DETAILS_AFTER)
    });
    let details = awaiting
        .iter()
        .filter(|s| due && s.launch_result_at.is_some())
        .map(|s| s.id().clone())
        .collect();
    ctx.effect(Effect::ObserveWave {
        seq,
        job_id: job_id.to_owned(),
        awaiting: awaiting.iter().map(|s| s.id().clone()).collect(),
        fresh_since,
        details,
    });
}

/// The delay to the wave's next regular poll: the first tick of `interval`
/// (a multiple of it since the Unix epoch, the same for every wave of the
/// deployment) at least half an interval away. Waves polled on the same
/// tick share one look at DRS.
pub fn next_tick(now: Timestamp, interval: Duration) -> Duration {
    let step = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    if step == 0 {
        return Duration::ZERO;
    }
    let now_ms = now.timestamp_millis();
    let mut due = (now_ms.div_euclid(step) + 1) * step;
    if due - now_ms < step / 2 {
        due += step;
    }
    Duration::from_millis(u64::try_from(due - now_ms).unwrap_or(0))
}

/// Marks a server FAILED with the error kept. A server already COMPLETED or
/// FAILED is left alone (terminal).
pub fn fail_server(ctx: &mut Ctx<'_>, server: &mut ServerState, code: &str, message: String) {
    let what = format!("server {}", server.id());
    if transition(
        &mut server.launch_status,
        LaunchStatus::Failed,
        &what,
        &mut ctx.rejected,
    ) {
        server.error_code = Some(code.to_owned());
        server.error_message = Some(message);
        if server.launch_end_time.is_none() {
            server.launch_end_time = Some(ctx.now);
        }
    }
}

/// Moves the wave to a terminal status and tells the execution.
pub fn finish_wave(
    ctx: &mut Ctx<'_>,
    wave: &mut WaveRecord,
    status: WaveStatus,
    reason: Option<String>,
) {
    let what = format!("wave {}", wave.number);
    if transition(&mut wave.status, status, &what, &mut ctx.rejected) {
        wave.end_time = Some(ctx.now);
        if reason.is_some() {
            wave.reason = reason;
        }
        wave.next_poll_at = None;
        ctx.send(
            Some(wave.number),
            Event::WaveFinished {
                status,
                attempt: wave.attempt,
            },
            Duration::ZERO,
        );
    }
}

/// Schedules the wave's next observation after `delay`, superseding any
/// scheduled one (older sequence numbers are ignored when they arrive).
pub fn schedule_poll(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, delay: Duration) {
    wave.poll_seq += 1;
    wave.next_poll_at = Some(crate::time::after(ctx.now, delay));
    let seq = wave.poll_seq;
    let event = if wave.status == WaveStatus::PostActions {
        Event::CheckPostLaunch { seq }
    } else {
        Event::PollWave { seq }
    };
    ctx.send(Some(wave.number), event, delay);
}

/// The poll interval for the wave's phase (adaptive intervals; docs/architecture.md, "Delayed messages").
pub fn poll_interval(wave: &WaveRecord) -> Duration {
    let intervals = &wave.options.poll_intervals;
    match wave.status {
        WaveStatus::PostActions => intervals.post_actions,
        _ if wave
            .servers
            .iter()
            .any(|s| s.launch_status != LaunchStatus::Pending) =>
        {
            intervals.launching
        }
        _ if matches!(wave.launch, LaunchState::Started { .. }) => intervals.pending,
        _ => intervals.launching,
    }
}

/// The delay before the next poll after `failures` failed polls in a row:
/// the retry backoff, capped near the phase's poll interval (reads are
/// cheap, and a storm must not blind the engine for minutes).
pub fn poll_backoff(
    ctx: &Ctx<'_>,
    wave: &WaveRecord,
    failures: u32,
    error: &crate::service_error::ServiceError,
) -> Duration {
    let policy = wave.options.retry;
    let cap = (poll_interval(wave) * 4).max(Duration::from_secs(15));
    let capped = crate::plan::RetryPolicy {
        max_delay: policy.max_delay.min(cap),
        ..policy
    };
    super::retry::backoff(&capped, failures, error.retry_after, ctx.envelope.event_id)
}

/// Records a successful observation: the error counters start over.
pub fn observation_succeeded(wave: &mut WaveRecord, now: crate::time::Timestamp) {
    wave.last_observed_at = Some(now);
    wave.consecutive_poll_errors = 0;
    wave.consecutive_throttles = 0;
    wave.last_poll_error = None;
}

/// Counts a failed observation (`what`: "polls of DRS"). Throttling, and
/// retryable errors below `max_poll_errors` in a row, schedule the next
/// observation after a backoff and return `None`; a permanent error or the
/// limit returns why the wave must fail.
pub fn observation_failed(
    ctx: &mut Ctx<'_>,
    wave: &mut WaveRecord,
    error: &crate::service_error::ServiceError,
    what: &str,
) -> Option<String> {
    wave.last_poll_error = Some(error.to_string());
    if error.class == crate::service_error::ErrorClass::Throttling {
        wave.consecutive_throttles += 1;
        let delay = poll_backoff(ctx, wave, wave.consecutive_throttles, error);
        schedule_poll(ctx, wave, delay);
        return None;
    }
    wave.consecutive_poll_errors += 1;
    let errors = wave.consecutive_poll_errors;
    if !error.class.is_retryable() {
        return Some(format!("{what} failed: {error}"));
    }
    if errors >= wave.options.retry.max_poll_errors {
        return Some(format!(
            "{errors} consecutive {what} failed; last error: {error}"
        ));
    }
    let delay = poll_backoff(ctx, wave, errors, error);
    schedule_poll(ctx, wave, delay);
    None
}

/// Servers that launched and have not failed since: the ones post-launch
/// work runs on.
pub fn live_servers(wave: &WaveRecord) -> impl Iterator<Item = &ServerState> {
    wave.servers
        .iter()
        .filter(|s| s.launch_status == LaunchStatus::Launched && s.launched_instance_id.is_some())
}

fn has_post_launch_work(wave: &WaveRecord) -> bool {
    !wave.plan.post_launch.is_empty() || !wave.plan.health_checks.is_empty()
}

/// A short list of failed servers with their error codes, for reasons.
pub fn failed_summary(wave: &WaveRecord) -> String {
    let failed: Vec<String> = wave
        .servers
        .iter()
        .filter(|s| s.launch_status == LaunchStatus::Failed && s.plan.critical)
        .map(|s| match &s.error_code {
            Some(code) => format!(
                "{} ({code})",
                s.plan.hostname.as_deref().unwrap_or(s.id().as_str())
            ),
            None => s
                .plan
                .hostname
                .clone()
                .unwrap_or_else(|| s.id().to_string()),
        })
        .collect();
    let shown: Vec<&str> = failed.iter().take(5).map(String::as_str).collect();
    let more = failed.len().saturating_sub(5);
    let mut text = shown.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// After the launch timeout's last look: every server still not settled
/// is FAILED with LAUNCH_TIMEOUT. `last_look` says why the look did not
/// settle them (or that it failed).
pub fn fail_launch_timeout(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, last_look: &str) {
    let limit = humantime::format_duration(wave.plan.launch_timeout);
    let job = match &wave.launch {
        LaunchState::Started { job_id, .. } => job_id.clone(),
        _ => "-".to_owned(),
    };
    for server in wave.servers.iter_mut() {
        if !launch_settled(server) {
            let message = format!(
                "still {:?} when the wave's launch_timeout of {limit} ran out (DRS job {job}; {last_look})",
                server.launch_status
            );
            fail_server(ctx, server, "LAUNCH_TIMEOUT", message);
        }
    }
}

/// How a phase that has settled for every server ends the wave, when it
/// ends it: FAILED if a critical server failed or no server `succeeded`,
/// CANCELLED if a cancel was asked for; `None` when the wave goes on.
/// `failed` and `none` name the phase in the reason ("failed to launch",
/// "launched").
fn verdict(
    wave: &WaveRecord,
    succeeded: impl Fn(&ServerState) -> bool,
    failed: &str,
    none: &str,
) -> Option<(WaveStatus, String)> {
    let critical_total = wave.servers.iter().filter(|s| s.plan.critical).count();
    let critical_failed = wave
        .servers
        .iter()
        .filter(|s| s.plan.critical && s.launch_status == LaunchStatus::Failed)
        .count();
    if critical_failed > 0 {
        let reason = format!(
            "{critical_failed} of {critical_total} critical servers {failed}: {}",
            failed_summary(wave)
        );
        Some((WaveStatus::Failed, reason))
    } else if !wave.servers.iter().any(succeeded) {
        let total = wave.servers.len();
        Some((
            WaveStatus::Failed,
            format!("none of the {total} servers {none}"),
        ))
    } else {
        wave.cancel_requested
            .clone()
            .map(|reason| (WaveStatus::Cancelled, reason))
    }
}

/// Once every server's launch has an outcome: fail the wave if a critical
/// server failed (or none launched), else hand it on to post-launch work,
/// else complete it. A DRS job status never enters into this (invariant 1,
/// docs/invariants.md).
pub fn after_launch_progress(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) -> Option<Handover> {
    if wave.status != WaveStatus::Launching || !wave.servers.iter().all(launch_settled) {
        return None;
    }
    let launched = |s: &ServerState| s.launch_status != LaunchStatus::Failed;
    if let Some((status, reason)) = verdict(wave, launched, "failed to launch", "launched") {
        finish_wave(ctx, wave, status, Some(reason));
    } else if has_post_launch_work(wave) {
        return Some(Handover::EnterPostLaunch);
    } else {
        for s in wave.servers.iter_mut() {
            if s.launch_status == LaunchStatus::Launched {
                let what = format!("server {}", s.id());
                transition(
                    &mut s.launch_status,
                    LaunchStatus::Completed,
                    &what,
                    &mut ctx.rejected,
                );
            }
        }
        finish_wave(ctx, wave, WaveStatus::Completed, None);
    }
    None
}

/// Once every server is COMPLETED or FAILED after post-launch work.
pub fn after_post_launch_progress(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    if wave.status != WaveStatus::PostActions
        || !wave.servers.iter().all(|s| s.launch_status.is_terminal())
    {
        return;
    }
    let completed = |s: &ServerState| s.launch_status == LaunchStatus::Completed;
    match verdict(wave, completed, "failed", "completed") {
        Some((status, reason)) => finish_wave(ctx, wave, status, Some(reason)),
        None => finish_wave(ctx, wave, WaveStatus::Completed, None),
    }
}

/// Sets a server's health status, refusing invalid moves.
pub fn set_health(ctx: &mut Ctx<'_>, server: &mut ServerState, to: HealthStatus) {
    let what = format!("server {} health", server.id());
    transition(&mut server.health_status, to, &what, &mut ctx.rejected);
}

#[cfg(test)]
mod tick_tests {
    use super::*;

    /// A multiple of 15 s since the epoch.
    const BASE: i64 = 1_500_000_000_000;

    fn at(ms: i64) -> Timestamp {
        chrono::DateTime::from_timestamp_millis(ms).expect("valid time")
    }

    #[test]
    fn polls_fall_on_ticks_shared_by_every_wave() {
        let i = Duration::from_secs(15);
        assert_eq!(next_tick(at(BASE + 5), i), Duration::from_millis(14_995));
        // Two waves polled at different moments meet on the same tick.
        let a = at(BASE + 3_000);
        let b = at(BASE + 7_000);
        assert_eq!(a + next_tick(a, i), b + next_tick(b, i),);
        // Never sooner than half an interval.
        assert_eq!(
            next_tick(at(BASE + 14_000), i),
            Duration::from_millis(16_000)
        );
        assert_eq!(next_tick(at(5), Duration::ZERO), Duration::ZERO);
    }
}
