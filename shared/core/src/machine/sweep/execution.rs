//! An execution lost while nothing runs for it: a wave ended and its
//! `WaveFinished` never reached the execution (nothing else reports it;
//! the execution would wait for its execution timeout and end TIMEOUT
//! instead of its real status), or its pre-flight or server-claim tick
//! never came (it would wait for its timeout without launching anything).
//!
//! The nudge is decided on the execution record by the lost event's own
//! handler, only if the record is still as the sweep found it and overdue
//! at the nudge's own time; otherwise it changes nothing (invariant 4).
//! None of these calls StartRecovery: a wave starts through its StartWave.

use super::found::{MIN_OVERDUE, announce_execution, overdue, tick_bound};
use crate::event::Event;
use crate::machine::context::{Ctx, Outcome};
use crate::machine::execution::{self, CLAIM_TICK};
use crate::machine::preflight::PREFLIGHT_TICK;
use crate::records::{ExecutionRecord, PreflightState, ServerClaimState, WaveRecord};
use crate::stall::Stall;
use crate::status_model::Transitions;
use crate::time::{Timestamp, after};

/// The execution record's own lost tick at `now`, if any: its pre-flight's
/// or its server claim's. The sweep and the nudge both ask this.
pub(super) fn own_stall(execution: &ExecutionRecord, now: Timestamp) -> Option<(Stall, Timestamp)> {
    if execution.status.is_terminal() {
        return None;
    }
    let asked_since = execution.reopened_at.unwrap_or(execution.start_time);
    let (stall, due, tick) = match (&execution.preflight, &execution.server_claim) {
        (
            PreflightState::Checking {
                tries, asked_at, ..
            },
            _,
        ) => (
            Stall::Preflight { tries: *tries },
            after(asked_at.unwrap_or(asked_since), PREFLIGHT_TICK),
            PREFLIGHT_TICK,
        ),
        (
            _,
            ServerClaimState::Claiming {
                tries, asked_at, ..
            },
        ) => (
            Stall::Claim { tries: *tries },
            after(asked_at.unwrap_or(asked_since), CLAIM_TICK),
            CLAIM_TICK,
        ),
        _ => return None,
    };
    overdue(due, tick_bound(tick), now).then_some((stall, due))
}

/// A wave whose record ended (`wave`) while the execution still counts it
/// running: when it ended, if its report is overdue at `now`.
pub(super) fn unreported(
    execution: &ExecutionRecord,
    wave: &WaveRecord,
    now: Timestamp,
) -> Option<(Stall, Timestamp)> {
    let summary = execution.waves.get(wave.number.index())?;
    let waiting = !execution.status.is_terminal()
        && summary.started
        && !summary.status.is_terminal()
        && summary.attempt == wave.attempt;
    let ended = wave
        .end_time
        .filter(|_| waiting && wave.status.is_terminal())?;
    let stall = Stall::WaveFinished {
        status: wave.status,
        attempt: wave.attempt,
    };
    overdue(ended, MIN_OVERDUE, now).then_some((stall, ended))
}

/// What a nudge of the execution decides: the lost event's handler, if the
/// execution is still as the sweep found it.
pub(crate) fn nudge(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    stall: &Stall,
    due: Timestamp,
) -> Outcome {
    let lost = match stall {
        Stall::WaveFinished { status, attempt } => {
            let summary = ctx
                .envelope
                .wave
                .and_then(|n| execution.waves.get(n.index()));
            let waiting = summary
                .is_some_and(|s| s.started && !s.status.is_terminal() && s.attempt == *attempt);
            if execution.status.is_terminal() || !waiting || !overdue(due, MIN_OVERDUE, ctx.now) {
                return Outcome::Ignored(format!(
                    "the execution no longer waits for {} (or not for long)",
                    stall.describe()
                ));
            }
            Event::WaveFinished {
                status: *status,
                attempt: *attempt,
            }
        }
        Stall::Preflight { tries } | Stall::Claim { tries } => {
            if own_stall(execution, ctx.now).as_ref() != Some(&(stall.clone(), due)) {
                return Outcome::Ignored(format!(
                    "the execution moved since the sweep found its {} lost, or it is not overdue",
                    stall.describe()
                ));
            }
            match stall {
                Stall::Preflight { .. } => Event::CheckPreflight { tries: tries + 1 },
                _ => Event::ClaimServers { tries: tries + 1 },
            }
        }
        other => {
            return Outcome::Ignored(format!(
                "{} is a wave's, not the execution's",
                other.describe()
            ));
        }
    };
    let outcome = execution::decide(ctx, execution, &lost);
    if let Outcome::Changed(_) = outcome {
        announce_execution(ctx, execution, stall.describe(), due);
    }
    outcome
}
