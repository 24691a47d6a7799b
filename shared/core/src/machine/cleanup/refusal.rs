//! Whether a clean-up request applies to an execution: the one judgement
//! the CLI and the API answer with before they send anything, and the
//! machine applies again when the request arrives.

use crate::cleanup::CleanupRefusal;
use crate::plan::Mode;
use crate::records::ExecutionRecord;
use crate::status_model::Transitions;

/// Whether the execution has ended and every wave with it: nothing of it
/// runs any more, so its instances can be cleaned up.
pub fn settled(execution: &ExecutionRecord) -> bool {
    execution.status.is_terminal() && execution.waves.iter().all(|w| w.status.is_terminal())
}

/// Why a clean-up of `execution` does not apply, if it does not: one is
/// refused while the execution or an earlier clean-up runs, or once one
/// ended with every instance terminated; after one that ended with FAILED
/// servers, a new request retries those servers (TERMINATED ones stay).
pub fn cleanup_refusal(
    execution: &ExecutionRecord,
    confirm_recovery: bool,
) -> Result<(), CleanupRefusal> {
    let id = execution.id.to_string();
    if !execution.status.is_terminal() {
        return Err(CleanupRefusal::Running {
            id,
            status: execution.status.as_str(),
        });
    }
    if !settled(execution) {
        return Err(CleanupRefusal::WavesRunning { id });
    }
    if execution.mode == Mode::Recovery && !confirm_recovery {
        return Err(CleanupRefusal::RecoveryNotConfirmed { id });
    }
    match &execution.cleanup {
        Some(c) if c.ended_at.is_none() => Err(CleanupRefusal::AlreadyRequested {
            id,
            by: c.requested_by.clone(),
        }),
        // Ended with FAILED servers: a new request tries those again.
        Some(c) if c.failed() == 0 => Err(CleanupRefusal::AlreadyCleanedUp {
            id,
            by: c.requested_by.clone(),
        }),
        _ => Ok(()),
    }
}
