//! A wave in POST_ACTIONS whose SSM send failed and whose retry never
//! came: an action's `RunAction`, or the health commands'
//! `RunHealthCommands`. Its poll runs on, but the tick does not send
//! again while a retry is due (`retry_at`): a lost action retry leaves
//! the action PENDING until the execution times out, a lost health retry
//! leaves the servers to fail at the health timeout. The nudge is that
//! retry, decided by its own handler, only while the same retry is still
//! due and overdue (invariant 4); it goes to the post-actions queue, whose
//! worker may call SSM.

use super::found::{announce_wave, overdue};
use super::poll::overdue_after;
use crate::machine::context::{Ctx, WaveOutcome};
use crate::machine::post_launch;
use crate::records::WaveRecord;
use crate::stall::Stall;
use crate::status_model::{ActionStatus, WaveStatus};
use crate::time::Timestamp;

/// The wave's lost post-launch retry at `now`, if any (the first action's,
/// then the health commands'). The sweep and the nudge both ask this.
pub(super) fn own_stall(wave: &WaveRecord, now: Timestamp) -> Option<(Stall, Timestamp)> {
    if wave.status != WaveStatus::PostActions {
        return None;
    }
    let action = wave.actions.iter().enumerate().find_map(|(index, a)| {
        let due = a.retry_at.filter(|_| a.status == ActionStatus::Pending)?;
        Some((
            Stall::ActionRetry {
                action: index,
                tries: a.tries,
            },
            due,
        ))
    });
    let health = || {
        let due = wave.health.retry_at?;
        Some((
            Stall::HealthRetry {
                tries: wave.health.tries,
            },
            due,
        ))
    };
    let (stall, due) = action.or_else(health)?;
    overdue(due, overdue_after(wave), now).then_some((stall, due))
}

/// What the nudge of a lost post-launch retry decides: the retry, if the
/// wave still waits for it.
pub(crate) fn nudge(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    stall: &Stall,
    due: Timestamp,
) -> WaveOutcome {
    if own_stall(wave, ctx.now).as_ref() != Some(&(stall.clone(), due)) {
        return WaveOutcome::Ignored(format!(
            "wave {} ({:?}) no longer waits for {}, or not for long",
            wave.number,
            wave.status,
            stall.describe()
        ));
    }
    let outcome = match stall {
        Stall::ActionRetry { action, tries } => post_launch::run_action(wave, *action, tries + 1),
        Stall::HealthRetry { tries } => post_launch::run_health_commands(wave, tries + 1),
        other => WaveOutcome::Ignored(format!("{} is not a post-launch retry", other.describe())),
    };
    if let WaveOutcome::Changed(..) = outcome {
        announce_wave(ctx, wave, stall.describe(), due);
    }
    outcome
}
