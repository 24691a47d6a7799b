//! Before a wave launches, it takes its servers from the deployment's DRS
//! capacity ledger (docs/capacity.md): `StartWave` asks; an admitted wave
//! launches (`start`), one that does not fit goes WAITING with the reason
//! and asks again at each tick; DRS refusing a launch for its quotas sends
//! the wave back to wait. What a wave holds is given back when its launch
//! is over (`release_when_done`, which `decide` runs after every wave
//! decision).

use super::start::{Waiting, fail_launch, start_failed, start_launch, waiting_at};
use crate::capacity::{CapacityWait, Claim, HOLD_MARGIN, Holder, Priority};
use crate::event::Event;
use crate::machine::context::{Ctx, Handover, WaveOutcome};
use crate::machine::decision::Effect;
use crate::machine::wave::{finish_wave, poll_interval};
use crate::records::{CapacityState, LaunchState, WaveRecord};
use crate::service_error::{ErrorClass, ServiceError};
use crate::status_model::{LaunchStatus, WaveStatus, transition};
use crate::time::Timestamp;
use std::time::Duration;

/// The error code DRS refuses a launch with when a quota is full.
pub const QUOTA_EXCEEDED: &str = "ServiceQuotaExceededException";

/// The ledger's name for this wave's launch. The attempt is the job's
/// (`job_tags`): one per wave attempt.
pub fn holder(wave: &WaveRecord) -> Holder {
    Holder {
        execution_id: wave.execution_id,
        wave: wave.number,
        attempt: wave.attempt,
    }
}

/// How often a wave in line asks again.
fn tick(wave: &WaveRecord) -> Duration {
    poll_interval(wave)
}

fn claim(wave: &WaveRecord, now: Timestamp) -> Claim {
    Claim {
        holder: holder(wave),
        // A retry launches only the servers it put back to PENDING.
        servers: wave
            .servers
            .iter()
            .filter(|s| s.launch_status == LaunchStatus::Pending)
            .count() as u32,
        priority: Priority {
            recovery: !wave.mode.is_drill(),
            execution_started: wave.execution_started.unwrap_or(now),
        },
        hold_for: wave.plan.launch_timeout + HOLD_MARGIN,
        // Four ticks without asking and the place lapses.
        wait_for: tick(wave) * 4 + Duration::from_secs(60),
    }
}

/// Asks at tick `tries`, and sends the next tick: if this answer is lost
/// (a crash between the save and the call), the tick asks again.
fn ask(ctx: &mut Ctx<'_>, wave: &WaveRecord, tries: u32) {
    ctx.effect(Effect::Admit {
        tries,
        claim: claim(wave, ctx.now),
    });
    ctx.send(
        Some(wave.number),
        Event::AdmitWave { tries: tries + 1 },
        tick(wave),
    );
}

/// `StartWave`: ask the ledger for the wave's servers.
pub(crate) fn start_wave(ctx: &mut Ctx<'_>, wave: &WaveRecord) -> WaveOutcome {
    if wave.status != WaveStatus::Pending
        || wave.launch != LaunchState::NotStarted
        || wave.capacity != CapacityState::NotAsked
    {
        return WaveOutcome::Ignored(format!("wave {} has started already", wave.number));
    }
    if wave.cancel_requested.is_some() {
        return WaveOutcome::Ignored(format!("wave {} was cancelled", wave.number));
    }
    if crate::machine::cleanup::cleaning_up_previous(wave) {
        return WaveOutcome::Ignored(format!(
            "wave {} is terminating what earlier drills left",
            wave.number
        ));
    }
    let mut next = wave.clone();
    next.start_time = Some(ctx.now);
    // What earlier drills left is terminated once, before the first
    // attempt: a retry's attempt gets in line at once (the instances its
    // earlier attempt launched are this execution's, never terminated).
    if next.options.cleanup_previous && next.mode.is_drill() && next.leftovers.is_none() {
        return WaveOutcome::Changed(next, Some(Handover::CleanUpPrevious));
    }
    get_in_line(ctx, &mut next);
    WaveOutcome::Changed(next, None)
}

/// Asks the ledger for the wave's servers: right at `StartWave`, or once
/// what earlier drills left is terminated (`options.cleanup_previous`).
pub(crate) fn get_in_line(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    wave.capacity = CapacityState::Asking {
        tries: 1,
        since: ctx.now,
        reason: None,
        reconcile_since: None,
        asked_at: Some(ctx.now),
    };
    ask(ctx, wave, 1);
}

/// Whether `wave` is in line, asking at tick `tries` (any tick: `None`);
/// if so, where the job search of its launch starts (`reconcile_since`).
fn asking(wave: &WaveRecord, tries: Option<u32>) -> Result<Option<Timestamp>, String> {
    let in_line = matches!(wave.status, WaveStatus::Pending | WaveStatus::Waiting)
        && wave.launch == LaunchState::NotStarted;
    match &wave.capacity {
        CapacityState::Asking {
            tries: current,
            reconcile_since,
            ..
        } if in_line && tries.is_none_or(|t| t == *current) => Ok(*reconcile_since),
        CapacityState::Asking { tries: current, .. } if in_line => Err(format!(
            "tick {} is stale (the wave asks at tick {current})",
            tries.unwrap_or_default()
        )),
        _ => Err(format!(
            "wave {} is not waiting for DRS capacity",
            wave.number
        )),
    }
}

/// `AdmitWave`: the next tick of a wave in line.
pub(crate) fn admit_tick(ctx: &mut Ctx<'_>, wave: &WaveRecord, tries: u32) -> WaveOutcome {
    if let Err(reason) = asking(wave, Some(tries.saturating_sub(1))) {
        return WaveOutcome::Ignored(reason);
    }
    if wave.cancel_requested.is_some() {
        return WaveOutcome::Ignored(format!("wave {} was cancelled", wave.number));
    }
    let mut next = wave.clone();
    if let CapacityState::Asking {
        tries: t, asked_at, ..
    } = &mut next.capacity
    {
        *t = tries;
        *asked_at = Some(ctx.now);
    }
    ask(ctx, &next, tries);
    WaveOutcome::Changed(next, None)
}

/// `LaunchAdmitted`: the servers are held; launch. A grant for any tick
/// counts: the ledger answers the same holder the same way.
pub(crate) fn admitted(ctx: &mut Ctx<'_>, wave: &WaveRecord) -> WaveOutcome {
    let reconcile_since = match asking(wave, None) {
        Ok(since) => since,
        Err(reason) => return WaveOutcome::Ignored(reason),
    };
    let mut next = wave.clone();
    next.capacity = CapacityState::Held;
    next.admitted_at = Some(ctx.now);
    if let Some(reason) = next.cancel_requested.clone() {
        finish_wave(ctx, &mut next, WaveStatus::Cancelled, Some(reason));
        return WaveOutcome::Changed(next, None);
    }
    start_launch(ctx, &mut next, reconcile_since);
    WaveOutcome::Changed(next, None)
}

/// `LaunchWaiting`: no room at tick `tries`; the wave shows WAITING and why.
pub(crate) fn waiting(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    wait: &CapacityWait,
) -> WaveOutcome {
    if let Err(reason) = asking(wave, Some(tries)) {
        return WaveOutcome::Ignored(reason);
    }
    let text = wait.to_string();
    let mut next = wave.clone();
    if let CapacityState::Asking { reason, .. } = &mut next.capacity {
        if next.status == WaveStatus::Waiting && reason.as_deref() == Some(text.as_str()) {
            return WaveOutcome::Ignored("still waiting, for the same reason".into());
        }
        *reason = Some(text);
    }
    transition(
        &mut next.status,
        WaveStatus::Waiting,
        "wave",
        &mut ctx.rejected,
    );
    WaveOutcome::Changed(next, None)
}

/// `LaunchRefused`: no wait can make the wave fit; it fails with what to do.
pub(crate) fn refused(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    reason: &str,
) -> WaveOutcome {
    if let Err(stale) = asking(wave, Some(tries)) {
        return WaveOutcome::Ignored(stale);
    }
    let mut next = wave.clone();
    fail_launch(ctx, &mut next, "CAPACITY_QUOTA", reason.to_owned());
    WaveOutcome::Changed(next, None)
}

/// `RecoveryStartFailed`: DRS refusing the launch for a full quota sends
/// the wave back to wait ([`back_to_waiting`]); anything else is the
/// launch's own retry or failure.
pub(crate) fn launch_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    tries: u32,
    error: &ServiceError,
) -> WaveOutcome {
    if error.code != QUOTA_EXCEEDED || wave.cancel_requested.is_some() {
        return start_failed(ctx, wave, tries, error);
    }
    let Waiting {
        since, reconcile, ..
    } = match waiting_at(wave, tries, &format!("the failure of try {tries}")) {
        Ok(found) => found,
        Err(reason) => return WaveOutcome::Ignored(reason),
    };
    let mut next = wave.clone();
    let ambiguous = reconcile || error.class == ErrorClass::Transient;
    back_to_waiting(ctx, &mut next, error, ambiguous.then_some(since));
    WaveOutcome::Changed(next, None)
}

/// StartRecovery was refused for a full quota (jobs outside Ripcord, a
/// lowered quota, DRS counting a job Ripcord saw end): the wave goes back
/// to WAITING, keeps what it holds, and tries again at the next tick. No
/// job was created, but an earlier try's may have been: the next launch
/// looks for it by tag first if `reconcile_since`.
fn back_to_waiting(
    ctx: &mut Ctx<'_>,
    wave: &mut WaveRecord,
    error: &ServiceError,
    reconcile_since: Option<Timestamp>,
) {
    wave.launch = LaunchState::NotStarted;
    wave.capacity = CapacityState::Asking {
        tries: 1,
        since: ctx.now,
        reason: Some(format!(
            "DRS refused the launch: {}: {}; trying again every {}",
            error.code,
            error.message,
            humantime::format_duration(tick(wave))
        )),
        reconcile_since,
        asked_at: Some(ctx.now),
    };
    transition(
        &mut wave.status,
        WaveStatus::Waiting,
        "wave",
        &mut ctx.rejected,
    );
    ctx.send(Some(wave.number), Event::AdmitWave { tries: 2 }, tick(wave));
}

/// Gives back what `wave` holds or waits for once its launch is over: it
/// left LAUNCHING, or ended before it launched.
pub(crate) fn release_when_done(ctx: &mut Ctx<'_>, wave: &mut WaveRecord) {
    let in_ledger = matches!(
        wave.capacity,
        CapacityState::Asking { .. } | CapacityState::Held
    );
    let launching = matches!(
        wave.status,
        WaveStatus::Pending | WaveStatus::Waiting | WaveStatus::Launching
    );
    if in_ledger && !launching {
        ctx.effect(Effect::ReleaseCapacity {
            holder: holder(wave),
        });
        wave.capacity = CapacityState::Released;
    }
}
