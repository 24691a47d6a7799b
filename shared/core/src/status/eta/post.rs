//! What the post-launch work (`P` in the estimate) has taken so far, read
//! from one wave's servers before the wave finishes (docs/status-model.md,
//! "Derived fields").
//!
//! A server's post-launch time runs from its launch outcome to the moment
//! it is HEALTHY. A wave ends with its slowest server, and its last one to
//! launch starts on its checks as the wave's phase begins, so the wave's
//! `P` is about the longest time a server takes. The phase only begins
//! once every launch is out: the servers found HEALTHY by its first check
//! may have been so for a while, and their times only bound their own
//! from above. Those found later are timed to within a poll.

use crate::records::WaveRecord;
use crate::status_model::{Transitions, WaveStatus};
use crate::time::Timestamp;

/// The post-launch time one wave shows, in seconds; `None` until a server
/// has shown one.
///
/// The longest of: its servers found HEALTHY after its first check (from
/// their own launch outcome); in a wave without checks, the end of its
/// actions (from the phase's start); a finished wave's end (from its last
/// launch outcome). When only the first check's servers are there, the
/// shortest of theirs, the tightest bound they give.
pub(super) fn post_seen(record: &WaveRecord, last_outcome: Option<Timestamp>) -> Option<f64> {
    let start = record.health.started_at.or(last_outcome)?;
    let secs = |from: Timestamp, to: Timestamp| (to - from).num_milliseconds().max(0) as f64 / 1e3;
    let healthy: Vec<(Timestamp, Timestamp)> = record
        .servers
        .iter()
        .filter_map(|s| Some((s.launch_end_time?, s.healthy_time?)))
        .collect();
    let first_check = healthy.iter().map(|(_, h)| *h).min();
    let (bounded, timed): (Vec<_>, Vec<_>) = healthy
        .iter()
        .map(|(launch, h)| (Some(*h) == first_check, secs(*launch, *h)))
        .partition(|(first, _)| *first);
    let actions_done = (record.plan.health_checks.is_empty()
        && !record.actions.is_empty()
        && record.actions.iter().all(|a| a.status.is_terminal()))
    .then(|| record.actions.iter().filter_map(|a| a.end_time).max())
    .flatten();
    let finished = matches!(record.status, WaveStatus::Completed | WaveStatus::Failed)
        .then_some(record.end_time)
        .flatten();
    let longest = timed
        .into_iter()
        .map(|(_, t)| t)
        .chain(
            actions_done
                .into_iter()
                .chain(finished)
                .map(|t| secs(start, t)),
        )
        .reduce(f64::max);
    longest.or_else(|| bounded.into_iter().map(|(_, t)| t).reduce(f64::min))
}
