//! What the worker's effects (`workers/src/effects.rs`) and every test that
//! builds their results agree on, defined once: the id of an effect's result
//! event, and how far back a retried call looks for what an earlier,
//! unanswered try already did.

use crate::cleanup::CleanupStep;
use crate::event::{Envelope, Event};
use crate::service_error::ErrorClass;
use crate::time::Timestamp;

/// Clock skew allowed when searching for a job by its tags or a command by
/// its comment since the first try (invariant 2, docs/invariants.md).
pub const SEARCH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Where the result events of a decision's effects start among the events
/// derived from its cause: the `index`-th effect's result is derived at
/// `RESULT_INDEX_BASE + index`, clear of the follow-ups `decide` derives
/// (from 0), so the two never share an id.
pub const RESULT_INDEX_BASE: usize = 1000;

/// The result event of the `index`-th effect of `cause`'s decision. Its id
/// is derived from the cause and the position, so effects performed again
/// for a redelivered cause produce results with the same ids.
pub fn result_of(cause: &Envelope, index: usize, event: Event, now: Timestamp) -> Envelope {
    cause.caused(
        RESULT_INDEX_BASE + index,
        cause.wave,
        event,
        cause.attempt,
        now,
    )
}

/// The class of the error a result event reports about its effect's
/// call, if it reports one: what a worker counts its step's outcome by
/// (docs/monitoring.md, "Recent outcomes"). The capacity ledger's and
/// pre-flight's failures carry only their text; they are the store or
/// DRS failing to answer, counted as transient.
pub fn reported_error(event: &Event) -> Option<ErrorClass> {
    match event {
        Event::RecoveryStartFailed { error, .. }
        | Event::PollFailed { error, .. }
        | Event::ActionSendFailed { error, .. }
        | Event::HealthCommandsFailed { error, .. }
        | Event::PostLaunchCheckFailed { error, .. }
        | Event::CleanupWave {
            step:
                CleanupStep::CheckFailed { error, .. }
                | CleanupStep::TerminateFailed { error, .. }
                | CleanupStep::ObserveFailed { error, .. },
        } => Some(error.class),
        Event::ServerClaimFailed { .. }
        | Event::PreflightFailed { .. }
        | Event::AdmissionFailed { .. }
        | Event::ServersReleased { error: Some(_) }
        | Event::CapacityReleased { error: Some(_) } => Some(ErrorClass::Transient),
        _ => None,
    }
}
