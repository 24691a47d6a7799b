//! A running wave whose poll chain was lost. A running wave always has
//! exactly one poll scheduled (`poll_seq`, due at `next_poll_at`); if that
//! message is lost, nothing else moves the wave until its launch timeout,
//! or for ever in POST_ACTIONS. Its nudge (`NudgeWave`, on the poll queue)
//! re-arms the poll only while that very poll is still the wave's current
//! one and still overdue, so a nudge to a wave that moved since, or that
//! is not stuck, changes nothing (invariant 4). It only schedules a poll:
//! it never calls StartRecovery (invariant 2).

use super::found::{announce_wave, overdue, tick_bound};
use crate::machine::context::{Ctx, WaveOutcome};
use crate::machine::wave::{poll_interval, schedule_poll};
use crate::records::{LaunchState, WaveRecord};
use crate::status_model::WaveStatus;
use crate::time::Timestamp;
use std::time::Duration;

/// How late a wave's next poll may be before its chain counts as lost:
/// four of the wave's poll intervals, at least a minute (`MIN_OVERDUE`).
pub fn overdue_after(wave: &WaveRecord) -> Duration {
    tick_bound(poll_interval(wave))
}

/// When the poll that went missing was due, if `wave` runs on a poll chain
/// (LAUNCHING with a job, or POST_ACTIONS) and its next poll is overdue
/// past [`overdue_after`] at `now`.
pub fn poll_overdue(wave: &WaveRecord, now: Timestamp) -> Option<Timestamp> {
    let polled = match wave.status {
        WaveStatus::Launching => matches!(wave.launch, LaunchState::Started { .. }),
        WaveStatus::PostActions => true,
        _ => false,
    };
    let due = wave.next_poll_at.filter(|_| polled)?;
    overdue(due, overdue_after(wave), now).then_some(due)
}

/// Re-arms the wave's poll now, and announces it, if poll `seq` is still
/// the wave's current one and still overdue; otherwise changes nothing.
pub(crate) fn nudge(ctx: &mut Ctx<'_>, wave: &WaveRecord, seq: u32, due: Timestamp) -> WaveOutcome {
    if seq != wave.poll_seq {
        return WaveOutcome::Ignored(format!(
            "wave {} was polled since the sweep found poll {seq} overdue (now poll {})",
            wave.number, wave.poll_seq
        ));
    }
    let Some(due) = poll_overdue(wave, ctx.now).filter(|d| *d == due) else {
        return WaveOutcome::Ignored(format!(
            "wave {} ({:?}) has no poll overdue past {}",
            wave.number,
            wave.status,
            humantime::format_duration(overdue_after(wave))
        ));
    };
    let mut next = wave.clone();
    schedule_poll(ctx, &mut next, Duration::ZERO);
    announce_wave(ctx, wave, format!("poll {seq}"), due);
    WaveOutcome::Changed(next, None)
}
