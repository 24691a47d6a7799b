//! Nothing stuck for ever (docs/architecture.md, "The sweep"): which running
//! waves have lost their poll chain, the `NudgeWave` the sweep sends each of
//! them, and what a nudge decides. A running wave always has exactly one
//! poll scheduled (`poll_seq`, due at `next_poll_at`); if that message is
//! lost, nothing else moves the wave until its launch timeout, or for ever
//! in POST_ACTIONS. Pure: the sweeping worker (`workers/src/sweep.rs`)
//! reads the records, asks [`stalled_waves`] and sends the nudges.
//!
//! A nudge is idempotent (invariant 4): its id is derived from the wave and
//! the poll it found overdue, so two sweeps send the same one and the
//! journal catches the second; and it re-arms the poll only while that very
//! poll is still the wave's current one and still overdue, so a nudge to a
//! wave that moved since, or that is not stuck, changes nothing. A nudge
//! only schedules a poll: it never calls StartRecovery (invariant 2).

use super::context::{Ctx, WaveOutcome};
use super::wave::{poll_interval, schedule_poll};
use crate::event::{Envelope, Event};
use crate::ids::{EventId, ExecutionId, WaveNumber};
use crate::ports::announce::Announcement;
use crate::records::{LaunchState, WaveRecord};
use crate::status_model::WaveStatus;
use crate::time::{Timestamp, after, between};
use std::time::Duration;
use uuid::Uuid;

/// The least a poll must be overdue before its message counts as lost:
/// above a queue's visibility timeout (30 s by default), so a poll whose
/// step failed once and comes back is not taken for lost.
pub const MIN_OVERDUE: Duration = Duration::from_secs(60);

/// Poll intervals a poll may be late by before its message counts as lost.
const MISSED_POLLS: u32 = 4;

/// How late a wave's next poll may be before its chain counts as lost:
/// four of the wave's poll intervals, at least [`MIN_OVERDUE`].
pub fn overdue_after(wave: &WaveRecord) -> Duration {
    (poll_interval(wave) * MISSED_POLLS).max(MIN_OVERDUE)
}

/// When the poll that went missing was due, if `wave` runs on a poll chain
/// (LAUNCHING with a job, or POST_ACTIONS) and its next poll is overdue
/// past [`overdue_after`] at `now`.
pub fn stalled(wave: &WaveRecord, now: Timestamp) -> Option<Timestamp> {
    let polled = match wave.status {
        WaveStatus::Launching => matches!(wave.launch, LaunchState::Started { .. }),
        WaveStatus::PostActions => true,
        _ => false,
    };
    let due = wave.next_poll_at.filter(|_| polled)?;
    (now >= after(due, overdue_after(wave))).then_some(due)
}

/// A running wave whose poll went missing, as the sweep found it.
#[derive(Clone, Debug, PartialEq)]
pub struct StalledWave {
    pub execution_id: ExecutionId,
    pub wave: WaveNumber,
    pub wave_name: String,
    pub status: WaveStatus,
    /// The poll that went missing, and when it was due.
    pub seq: u32,
    pub due: Timestamp,
    /// How late it is.
    pub overdue: Duration,
}

/// The waves among `waves` whose poll went missing at `now`.
pub fn stalled_waves(waves: &[WaveRecord], now: Timestamp) -> Vec<StalledWave> {
    waves
        .iter()
        .filter_map(|w| {
            stalled(w, now).map(|due| StalledWave {
                execution_id: w.execution_id,
                wave: w.number,
                wave_name: w.name.clone(),
                status: w.status,
                seq: w.poll_seq,
                due,
                overdue: between(due, now),
            })
        })
        .collect()
}

/// The nudge for `stalled`. Its id depends only on the wave and the poll
/// found overdue: every sweep that finds the same lost poll sends the same
/// event.
pub fn nudge_envelope(stalled: &StalledWave, now: Timestamp) -> Envelope {
    let event = Event::NudgeWave {
        seq: stalled.seq,
        due: stalled.due,
    };
    let mut envelope = Envelope::new(stalled.execution_id, Some(stalled.wave), event, now);
    let name = format!("nudge:{}:{}", stalled.wave.0, stalled.seq);
    envelope.event_id = EventId(Uuid::new_v5(&stalled.execution_id.0, name.as_bytes()));
    envelope
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
    let Some(due) = stalled(wave, ctx.now).filter(|d| *d == due) else {
        return WaveOutcome::Ignored(format!(
            "wave {} ({:?}) has no poll overdue past {}",
            wave.number,
            wave.status,
            humantime::format_duration(overdue_after(wave))
        ));
    };
    let mut next = wave.clone();
    schedule_poll(ctx, &mut next, Duration::ZERO);
    let announcement = Announcement::WaveStuck {
        execution_id: wave.execution_id,
        wave: wave.number,
        wave_name: wave.name.clone(),
        status: wave.status,
        overdue_since: due,
        at: ctx.now,
    };
    ctx.send(
        Some(wave.number),
        Event::Announce { announcement },
        Duration::ZERO,
    );
    WaveOutcome::Changed(next, None)
}
