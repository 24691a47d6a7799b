//! The execution's `estimatedCompletion`: when it will finish at the pace it
//! has kept so far.

use super::view::{Progress, WaveView};
use crate::status_model::{ExecutionStatus, WaveStatus};
use crate::time::Timestamp;

/// Estimates when the execution finishes, from the pace of settled servers.
///
/// Method: a server is settled once it is COMPLETED or FAILED. The pace is
/// the settled servers per unit of time since the execution's start, and the
/// servers not yet settled are assumed to settle at that pace from `now`:
///
/// `eta = now + (now - start) * (total - settled) / settled`
///
/// Unlike the usual `elapsed / percentComplete`, failed servers count as
/// progress: with that formula one failure makes the ETA run away, and
/// an execution whose settled servers all failed gets none at all.
///
/// `None` when no estimate means anything: the execution is terminal, no
/// server has settled yet (no pace), every server has settled (nothing left
/// to extrapolate), or the execution is blocked on an approval with no wave
/// running (its pace says nothing about when a person will approve).
pub fn estimate_completion(
    status: ExecutionStatus,
    progress: &Progress,
    waves: &[WaveView],
    start: Timestamp,
    now: Timestamp,
) -> Option<Timestamp> {
    if super::is_terminal(status) {
        return None;
    }
    let settled = progress.settled_servers();
    let remaining = progress.total_servers.saturating_sub(settled);
    if settled == 0 || remaining == 0 {
        return None;
    }
    let running = waves
        .iter()
        .any(|w| matches!(w.status, WaveStatus::Launching | WaveStatus::PostActions));
    if !running && waves.iter().any(|w| w.awaiting_approval) {
        return None;
    }
    let elapsed_ms = i128::from((now - start).num_milliseconds().max(0));
    let to_go_ms = elapsed_ms * remaining as i128 / settled as i128;
    let to_go = chrono::TimeDelta::try_milliseconds(i64::try_from(to_go_ms).ok()?)?;
    now.checked_add_signed(to_go)
}
