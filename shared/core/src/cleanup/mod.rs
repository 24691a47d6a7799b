//! Drill clean-up: terminating the recovery instances an execution
//! launched, on request (`ripcord cleanup`, the API, the dashboard) or a
//! while after the execution settled (`options.cleanup.after`).
//!
//! `machine::cleanup_refusal` is the one judgement of whether a clean-up
//! applies ([`CleanupRefusal`]): the CLI and the API ask it before they
//! send anything (and answer the refusal), and the machine asks it again
//! when the request arrives. The events of a
//! wave's clean-up are [`CleanupStep`]s and its calls [`CleanupEffect`]s; the
//! decisions are in `machine/cleanup/`.

use std::time::Duration;

mod step;

pub use step::{CleanupEffect, CleanupStep};

/// Why a clean-up request does not apply. Nothing is changed by it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CleanupRefusal {
    #[error(
        "execution {id} is still running ({status}): cancel it first (`ripcord cancel {id}`) or wait for it to end, then clean up"
    )]
    Running { id: String, status: &'static str },
    #[error(
        "execution {id} has ended but waves that were running are still being observed to their end; wait until `ripcord status {id}` shows no wave running, then clean up"
    )]
    WavesRunning { id: String },
    #[error(
        "execution {id} is a real recovery (mode: recovery): cleaning it up would terminate the recovered production instances. If that is really intended, confirm it (`--confirm-recovery`, or \"confirmRecovery\": true)"
    )]
    RecoveryNotConfirmed { id: String },
    #[error(
        "execution {id} is already being cleaned up (requested by {by}); wait for it to end (`ripcord status {id}`): if servers end FAILED, ask again to retry them"
    )]
    AlreadyRequested { id: String, by: String },
    #[error(
        "execution {id} was already cleaned up (requested by {by}) and every instance was terminated: there is nothing left to clean up"
    )]
    AlreadyCleanedUp { id: String, by: String },
}

impl CleanupRefusal {
    /// The API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Running { .. } | Self::WavesRunning { .. } => "execution_running",
            Self::RecoveryNotConfirmed { .. } => "recovery_not_confirmed",
            Self::AlreadyRequested { .. } | Self::AlreadyCleanedUp { .. } => {
                "cleanup_already_requested"
            }
        }
    }

    /// A conflict with the execution's state (409), or a request missing
    /// its confirmation (422).
    pub fn is_conflict(&self) -> bool {
        !matches!(self, Self::RecoveryNotConfirmed { .. })
    }
}

/// Who a clean-up sent by `options.cleanup.after` is requested by.
pub fn automatic_requester(after: Duration) -> String {
    format!(
        "ripcord (cleanup.after {})",
        humantime::format_duration(after)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_automatic_requester_names_the_option() {
        assert_eq!(
            automatic_requester(Duration::from_secs(5400)),
            "ripcord (cleanup.after 1h 30m)"
        );
    }
}
