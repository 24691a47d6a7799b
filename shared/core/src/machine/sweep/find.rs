//! What one sweep of one execution finds: every record whose one message
//! went missing, with when it was due. Pure: the sweeping worker reads the
//! records and sends a nudge for each (`workers/src/sweep.rs`).

use super::found::{Lost, Stalled};
use super::{execution, launch, poll, post_launch};
use crate::records::{ExecutionRecord, WaveRecord};
use crate::status_model::ExecutionStatus;
use crate::time::{Timestamp, between};

/// Every lost message of `execution` (IN_PROGRESS) and its `waves` at
/// `now`: the execution's own tick or a wave's unreported end, and each
/// wave's poll, start, capacity tick, launch check or post-launch retry.
pub fn stalled(execution: &ExecutionRecord, waves: &[WaveRecord], now: Timestamp) -> Vec<Stalled> {
    if execution.status != ExecutionStatus::InProgress {
        return Vec::new();
    }
    let found = |wave: Option<&WaveRecord>, lost: Lost, due: Timestamp| Stalled {
        execution_id: execution.id,
        wave: wave.map(|w| w.number),
        lost,
        due,
        overdue: between(due, now),
    };
    let mut stalled: Vec<Stalled> = execution::own_stall(execution, now)
        .map(|(stall, due)| found(None, Lost::Stall(stall), due))
        .into_iter()
        .collect();
    // The journal's last decision: when a StartWave of a record from
    // before `started_at` was sent, at the latest.
    let last_decided = execution.journal.last_at().unwrap_or(execution.start_time);
    for wave in waves {
        let of_wave = poll::poll_overdue(wave, now)
            .map(|due| (Lost::Poll { seq: wave.poll_seq }, due))
            .or_else(|| launch::own_stall(wave, now).map(|(s, due)| (Lost::Stall(s), due)))
            .or_else(|| post_launch::own_stall(wave, now).map(|(s, due)| (Lost::Stall(s), due)))
            .or_else(|| {
                let summary = execution.waves.get(wave.number.index())?;
                let sent_at = summary.started_at.unwrap_or(last_decided);
                launch::never_started(summary, wave, sent_at, now)
                    .or_else(|| execution::unreported(execution, wave, now))
                    .map(|(s, due)| (Lost::Stall(s), due))
            });
        stalled.extend(of_wave.map(|(lost, due)| found(Some(wave), lost, due)));
    }
    stalled
}
