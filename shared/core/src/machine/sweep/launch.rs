//! A wave lost before it runs on a poll chain: its `StartWave` (or
//! `RelaunchWave`) never came though its execution started it; it is in
//! line for DRS capacity and its next `AdmitWave` tick never came; or its
//! StartRecovery intent is recorded and neither its `LaunchCheck` nor its
//! `LaunchWave` retry came. Each rests so for ever otherwise (a launching
//! wave has no launch timeout before it has a job).
//!
//! The nudge does what the lost message would have done, through the same
//! handler, and only if the record is still exactly as the sweep found it
//! and overdue at the nudge's own time; otherwise it changes nothing
//! (invariant 4). A recorded StartRecovery intent is nudged through the
//! launch check (`check_launch`), whose next try always looks for a job
//! carrying the wave's tags before it starts one: never a bare
//! StartRecovery (invariant 2).

use super::found::{MIN_OVERDUE, announce_wave, overdue, tick_bound};
use super::post_launch;
use crate::machine::context::{Ctx, WaveOutcome};
use crate::machine::launch;
use crate::machine::relaunch;
use crate::machine::wave::{LAUNCH_CHECK_DELAY, poll_interval};
use crate::records::{CapacityState, LaunchState, WaveRecord, WaveSummary};
use crate::stall::Stall;
use crate::status_model::WaveStatus;
use crate::time::{Timestamp, after};

/// How late a lost wave message may be: four of the wave's poll intervals
/// (its capacity tick is the same), at least a minute.
fn bound(wave: &WaveRecord) -> std::time::Duration {
    tick_bound(poll_interval(wave))
}

/// When a recorded StartRecovery try's next message is due: its launch
/// check, or after a failed try its retry, whose backoff is at most the
/// retry policy's `max_delay` (a Retry-After longer than that and the
/// bound is known to be short; the nudge then makes the reconciling try
/// sooner, which is safe).
fn launch_due(wave: &WaveRecord, requested_at: Timestamp) -> Timestamp {
    after(
        requested_at,
        LAUNCH_CHECK_DELAY.max(wave.options.retry.max_delay),
    )
}

/// Whether `wave` is untouched at `attempt`: never asked for capacity,
/// never launched, nothing in hand.
fn untouched(wave: &WaveRecord, attempt: u32) -> bool {
    wave.attempt == attempt
        && wave.status == WaveStatus::Pending
        && wave.launch == LaunchState::NotStarted
        && wave.capacity == CapacityState::NotAsked
        && wave.start_time.is_none()
        && wave.leftovers.is_none()
        && wave.cancel_requested.is_none()
}

/// The wave record's own lost message at `now`, if any: its capacity tick
/// or its launch check. The sweep and the nudge both ask this.
pub(super) fn own_stall(wave: &WaveRecord, now: Timestamp) -> Option<(Stall, Timestamp)> {
    let (stall, due) = match (&wave.status, &wave.capacity, &wave.launch) {
        (
            WaveStatus::Pending | WaveStatus::Waiting,
            CapacityState::Asking {
                tries,
                since,
                asked_at,
                ..
            },
            LaunchState::NotStarted,
        ) => (
            Stall::Admission { tries: *tries },
            after(asked_at.unwrap_or(*since), poll_interval(wave)),
        ),
        (
            WaveStatus::Launching,
            _,
            LaunchState::Requested {
                tries,
                requested_at,
                ..
            },
        ) => (
            Stall::Launch { tries: *tries },
            launch_due(wave, *requested_at),
        ),
        _ => return None,
    };
    overdue(due, bound(wave), now).then_some((stall, due))
}

/// A wave its execution started (`summary`) whose record never got the
/// message: when that was sent, if it is overdue at `now`.
pub(super) fn never_started(
    summary: &WaveSummary,
    wave: &WaveRecord,
    sent_at: Timestamp,
    now: Timestamp,
) -> Option<(Stall, Timestamp)> {
    let waiting = summary.started && summary.status == WaveStatus::Pending;
    let lost = untouched(wave, summary.attempt)
        || (summary.attempt > 1 && wave.attempt + 1 == summary.attempt);
    let stall = Stall::NotStarted {
        attempt: summary.attempt,
        servers: summary.retry_servers.clone(),
    };
    (waiting && lost && overdue(sent_at, MIN_OVERDUE, now)).then_some((stall, sent_at))
}

/// What a nudge of a wave decides: the lost message's handler, if the
/// wave is still as the sweep found it.
pub(crate) fn nudge(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    stall: &Stall,
    due: Timestamp,
) -> WaveOutcome {
    let outcome = match stall {
        Stall::NotStarted { attempt, servers } => {
            if !overdue(due, MIN_OVERDUE, ctx.now) {
                return WaveOutcome::Ignored(format!(
                    "wave {}'s start is not overdue yet",
                    wave.number
                ));
            }
            if untouched(wave, *attempt) {
                launch::start_wave(ctx, wave)
            } else if *attempt > 1 && wave.attempt + 1 == *attempt {
                relaunch::relaunch(ctx, wave, *attempt, servers)
            } else {
                return WaveOutcome::Ignored(format!(
                    "wave {} started attempt {} since",
                    wave.number, wave.attempt
                ));
            }
        }
        Stall::Admission { tries } | Stall::Launch { tries } => {
            if own_stall(wave, ctx.now).as_ref() != Some(&(stall.clone(), due)) {
                return WaveOutcome::Ignored(format!(
                    "wave {} ({:?}) moved since the sweep found its {} lost, or it is not overdue",
                    wave.number,
                    wave.status,
                    stall.describe()
                ));
            }
            if matches!(stall, Stall::Admission { .. }) {
                launch::admit_tick(ctx, wave, tries + 1)
            } else {
                // The launch check of the try found: the next try looks
                // for the job by tag first (invariant 2), or the wave
                // fails with NO_ANSWER once its tries are used up, as the
                // check would.
                launch::check_launch(ctx, wave, *tries)
            }
        }
        Stall::ActionRetry { .. } | Stall::HealthRetry { .. } => {
            return post_launch::nudge(ctx, wave, stall, due);
        }
        other => {
            return WaveOutcome::Ignored(format!(
                "{} is the execution's, not wave {}'s",
                other.describe(),
                wave.number
            ));
        }
    };
    if let WaveOutcome::Changed(..) = outcome {
        announce_wave(ctx, wave, stall.describe(), due);
    }
    outcome
}
