//! What the sweep's parts share: how late a message may be before it
//! counts as lost, what the sweep found ([`Stalled`]), the nudge it sends
//! for it, and the announcements of the nudges that re-arm a record.

use crate::event::{Envelope, Event};
use crate::ids::{EventId, ExecutionId, WaveNumber};
use crate::machine::context::Ctx;
use crate::ports::announce::Announcement;
use crate::records::{ExecutionRecord, WaveRecord};
use crate::stall::Stall;
use crate::time::{Timestamp, after};
use std::time::Duration;
use uuid::Uuid;

/// The least a message must be overdue before it counts as lost: above a
/// queue's visibility timeout (30 s by default), so a message whose step
/// failed once and comes back is not taken for lost.
pub const MIN_OVERDUE: Duration = Duration::from_secs(60);

/// Ticks (poll intervals, capacity or claim ticks) a periodic message may
/// be late by before it counts as lost.
pub(super) const MISSED_TICKS: u32 = 4;

/// How late a message of a chain ticking every `tick` may be:
/// [`MISSED_TICKS`] ticks, at least [`MIN_OVERDUE`].
pub fn tick_bound(tick: Duration) -> Duration {
    (tick * MISSED_TICKS).max(MIN_OVERDUE)
}

/// Whether a message due at `due` is overdue past `bound` at `now`.
pub(super) fn overdue(due: Timestamp, bound: Duration, now: Timestamp) -> bool {
    now >= after(due, bound)
}

/// Which message went missing.
#[derive(Clone, Debug, PartialEq)]
pub enum Lost {
    /// A running wave's poll `seq` (`PollWave`, `CheckPostLaunch`).
    Poll { seq: u32 },
    /// Any other (`crate::stall`).
    Stall(Stall),
}

impl Lost {
    /// Every [`Lost::kind`], for metrics that list each one.
    pub const KINDS: [&'static str; 8] = [
        "poll",
        "start",
        "admission",
        "launch",
        "post_launch_retry",
        "wave_finished",
        "preflight",
        "claim",
    ];

    /// The metrics' `kind` label.
    pub fn kind(&self) -> &'static str {
        match self {
            Lost::Poll { .. } => "poll",
            Lost::Stall(stall) => stall.kind(),
        }
    }

    /// Whether the nudge moves a wave record (else the execution record).
    pub fn on_wave(&self) -> bool {
        match self {
            Lost::Poll { .. } => true,
            Lost::Stall(stall) => stall.on_wave(),
        }
    }
}

/// A record whose one message went missing, as the sweep found it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stalled {
    pub execution_id: ExecutionId,
    /// The wave it is about (for `WaveFinished`, the wave that ended).
    pub wave: Option<WaveNumber>,
    pub lost: Lost,
    /// When the lost message was due, and how late it is.
    pub due: Timestamp,
    pub overdue: Duration,
}

/// The nudge for `stalled`. Its id depends only on what was found lost
/// (the record, the message, when it was due): every sweep that finds the
/// same lost message sends the same event, and the journal catches the
/// second; a later loss of a like message (due at another time) gets
/// another id.
pub fn nudge_envelope(stalled: &Stalled, now: Timestamp) -> Envelope {
    let (event, name) = match &stalled.lost {
        Lost::Poll { seq } => {
            let name = format!("nudge:{}:{seq}", stalled.wave.map_or(0, |w| w.0));
            let event = Event::NudgeWave {
                seq: *seq,
                due: stalled.due,
            };
            (event, name)
        }
        Lost::Stall(stall) => {
            let name = format!(
                "nudge:{}:{}:{}",
                stalled.wave.map_or(0, |w| w.0),
                serde_json::to_string(stall).expect("a stall always serializes"),
                stalled.due.timestamp_millis()
            );
            let event = Event::Nudge {
                stall: stall.clone(),
                due: stalled.due,
            };
            (event, name)
        }
    };
    let mut envelope = Envelope::new(stalled.execution_id, stalled.wave, event, now);
    envelope.event_id = EventId(Uuid::new_v5(&stalled.execution_id.0, name.as_bytes()));
    envelope
}

/// Announces that the sweep re-armed `wave`, whose `lost` message was due
/// at `due` (`Ripcord Wave Stuck`).
pub(super) fn announce_wave(ctx: &mut Ctx<'_>, wave: &WaveRecord, lost: String, due: Timestamp) {
    let announcement = Announcement::WaveStuck {
        execution_id: wave.execution_id,
        wave: wave.number,
        wave_name: wave.name.clone(),
        status: wave.status,
        overdue_since: due,
        lost: Some(lost),
        at: ctx.now,
    };
    ctx.send(
        Some(wave.number),
        Event::Announce { announcement },
        Duration::ZERO,
    );
}

/// Announces that the sweep re-armed `execution`, whose `lost` message
/// (about `wave`, if any) was due at `due` (`Ripcord Execution Stuck`).
pub(super) fn announce_execution(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    lost: String,
    due: Timestamp,
) {
    let announcement = Announcement::ExecutionStuck {
        execution_id: execution.id,
        plan_name: execution.plan_name.clone(),
        wave: ctx.envelope.wave,
        lost,
        overdue_since: due,
        at: ctx.now,
    };
    ctx.send(None, Event::Announce { announcement }, Duration::ZERO);
}
