//! The valid status transitions. Terminal states are terminal; anything not
//! listed is refused. `docs/status-model.md` holds the same tables, one per
//! level, and `shared/core/tests/status_model_doc.rs` fails when the two differ.

use super::{ActionStatus, CleanupStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus};

/// A status with a table of allowed successors.
pub trait Transitions: Copy + PartialEq + std::fmt::Debug + 'static {
    /// Every status of this level, in the order the docs list them.
    const ALL: &'static [Self];
    fn can_become(self, next: Self) -> bool;
    fn is_terminal(self) -> bool;
    /// The moves only an operator event makes (retry, skip): they may leave
    /// a terminal status. Docs: the "operator transitions" tables.
    fn operator_can_become(self, _next: Self) -> bool {
        false
    }
}

impl Transitions for ExecutionStatus {
    const ALL: &'static [Self] = &ExecutionStatus::ALL;
    fn can_become(self, next: Self) -> bool {
        use ExecutionStatus::*;
        matches!(
            (self, next),
            (Pending, InProgress | Failed | Cancelled | Timeout)
                | (InProgress, Completed | Failed | Cancelled | Timeout)
        )
    }
    fn operator_can_become(self, next: Self) -> bool {
        // Retry, or skip of the failed wave, reopens a FAILED execution.
        matches!(
            (self, next),
            (ExecutionStatus::Failed, ExecutionStatus::InProgress)
        )
    }
    fn is_terminal(self) -> bool {
        use ExecutionStatus::*;
        matches!(self, Completed | Failed | Cancelled | Timeout)
    }
}

impl Transitions for WaveStatus {
    const ALL: &'static [Self] = &[
        WaveStatus::Pending,
        WaveStatus::Waiting,
        WaveStatus::Launching,
        WaveStatus::PostActions,
        WaveStatus::Completed,
        WaveStatus::Failed,
        WaveStatus::Cancelled,
        WaveStatus::Skipped,
    ];
    fn can_become(self, next: Self) -> bool {
        use WaveStatus::*;
        matches!(
            (self, next),
            (Pending, Waiting | Launching | Cancelled | Failed)
                | (Waiting, Launching | Cancelled | Failed)
                | (
                    Launching,
                    Waiting | PostActions | Completed | Failed | Cancelled
                )
                | (PostActions, Completed | Failed | Cancelled)
        )
    }
    fn is_terminal(self) -> bool {
        use WaveStatus::*;
        matches!(self, Completed | Failed | Cancelled | Skipped)
    }
    fn operator_can_become(self, next: Self) -> bool {
        use WaveStatus::*;
        // Retry relaunches a FAILED wave (or one a skip reached after the
        // execution decided the retry) and reopens a never-started
        // CANCELLED one; skip ends a wave that is not running.
        matches!(
            (self, next),
            (Failed | Cancelled | Skipped, Pending)
                | (Pending | Waiting | Failed | Cancelled, Skipped)
        )
    }
}

impl Transitions for LaunchStatus {
    const ALL: &'static [Self] = &[
        LaunchStatus::Pending,
        LaunchStatus::Launching,
        LaunchStatus::Launched,
        LaunchStatus::Completed,
        LaunchStatus::Failed,
    ];
    fn can_become(self, next: Self) -> bool {
        use LaunchStatus::*;
        matches!(
            (self, next),
            (Pending, Launching | Failed)
                | (Launching, Launched | Failed)
                | (Launched, Completed | Failed)
        )
    }
    fn is_terminal(self) -> bool {
        matches!(self, LaunchStatus::Completed | LaunchStatus::Failed)
    }
    fn operator_can_become(self, next: Self) -> bool {
        // A retried server launches again; its failed attempt is kept.
        matches!((self, next), (LaunchStatus::Failed, LaunchStatus::Pending))
    }
}

impl Transitions for ActionStatus {
    const ALL: &'static [Self] = &[
        ActionStatus::Pending,
        ActionStatus::Running,
        ActionStatus::Success,
        ActionStatus::Failed,
        ActionStatus::Timeout,
    ];
    fn can_become(self, next: Self) -> bool {
        use ActionStatus::*;
        matches!(
            (self, next),
            (Pending, Running | Failed | Timeout) | (Running, Success | Failed | Timeout)
        )
    }
    fn is_terminal(self) -> bool {
        use ActionStatus::*;
        matches!(self, Success | Failed | Timeout)
    }
}

impl Transitions for HealthStatus {
    const ALL: &'static [Self] = &[
        HealthStatus::Pending,
        HealthStatus::NotChecked,
        HealthStatus::Checking,
        HealthStatus::Healthy,
        HealthStatus::Unhealthy,
        HealthStatus::Timeout,
    ];
    fn can_become(self, next: Self) -> bool {
        use HealthStatus::*;
        matches!(
            (self, next),
            (Pending, Checking | Healthy | Unhealthy | Timeout)
                | (NotChecked, Timeout)
                | (Checking, Healthy | Unhealthy | Timeout)
                | (Unhealthy, Checking | Healthy | Timeout)
        )
    }
    fn is_terminal(self) -> bool {
        matches!(self, HealthStatus::Healthy | HealthStatus::Timeout)
    }
}

impl Transitions for CleanupStatus {
    const ALL: &'static [Self] = &[
        CleanupStatus::Terminating,
        CleanupStatus::Terminated,
        CleanupStatus::Failed,
    ];
    fn can_become(self, next: Self) -> bool {
        use CleanupStatus::*;
        matches!((self, next), (Terminating, Terminated | Failed))
    }
    fn is_terminal(self) -> bool {
        !matches!(self, CleanupStatus::Terminating)
    }
}

/// Moves `slot` to `next` if allowed. A refused move is described in
/// `rejected` and leaves `slot` as it was; staying put is not a move.
pub fn transition<S: Transitions>(
    slot: &mut S,
    next: S,
    what: &str,
    rejected: &mut Vec<String>,
) -> bool {
    if *slot == next {
        return false;
    }
    if slot.can_become(next) {
        *slot = next;
        true
    } else {
        rejected.push(format!(
            "{what}: {:?} → {:?} is not a valid transition",
            *slot, next
        ));
        false
    }
}

/// Like [`transition`], also allowing the operator moves
/// ([`Transitions::operator_can_become`]): only operator events use it.
pub fn operator_transition<S: Transitions>(
    slot: &mut S,
    next: S,
    what: &str,
    rejected: &mut Vec<String>,
) -> bool {
    if *slot != next && slot.operator_can_become(next) {
        *slot = next;
        return true;
    }
    transition(slot, next, what, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_have_no_successors() {
        use ExecutionStatus::*;
        for t in [Completed, Failed, Cancelled, Timeout] {
            for n in [Pending, InProgress, Completed, Failed, Cancelled, Timeout] {
                assert!(!t.can_become(n), "{t:?} → {n:?}");
            }
        }
        use WaveStatus as W;
        for t in [W::Completed, W::Failed, W::Cancelled] {
            for n in [
                W::Pending,
                W::Launching,
                W::PostActions,
                W::Completed,
                W::Failed,
                W::Cancelled,
            ] {
                assert!(!t.can_become(n), "{t:?} → {n:?}");
            }
        }
    }

    #[test]
    fn a_failed_server_never_becomes_launched() {
        let mut s = LaunchStatus::Failed;
        let mut rejected = vec![];
        assert!(!transition(
            &mut s,
            LaunchStatus::Launched,
            "server",
            &mut rejected
        ));
        assert_eq!(s, LaunchStatus::Failed);
        assert_eq!(rejected.len(), 1);
    }

    /// Fails to compile when a status is added without being listed in `ALL`
    /// (and so in the docs' tables, which the doc test compares).
    #[test]
    fn every_status_is_listed_in_all() {
        fn index<S: Transitions>(s: S) -> usize {
            S::ALL.iter().position(|x| *x == s).expect("listed in ALL")
        }
        for s in ExecutionStatus::ALL {
            use ExecutionStatus::*;
            match s {
                Pending | InProgress | Completed | Failed | Cancelled | Timeout => index(s),
            };
        }
        for &s in <WaveStatus as Transitions>::ALL {
            use WaveStatus::*;
            match s {
                Pending | Waiting | Launching | PostActions | Completed | Failed | Cancelled
                | Skipped => index(s),
            };
        }
        for &s in LaunchStatus::ALL {
            use LaunchStatus::*;
            match s {
                Pending | Launching | Launched | Completed | Failed => index(s),
            };
        }
        for &s in ActionStatus::ALL {
            use ActionStatus::*;
            match s {
                Pending | Running | Success | Failed | Timeout => index(s),
            };
        }
        for &s in HealthStatus::ALL {
            use HealthStatus::*;
            match s {
                Pending | NotChecked | Checking | Healthy | Unhealthy | Timeout => index(s),
            };
        }
        assert_eq!(<ExecutionStatus as Transitions>::ALL.len(), 6);
        assert_eq!(<WaveStatus as Transitions>::ALL.len(), 8);
        assert_eq!(LaunchStatus::ALL.len(), 5);
        assert_eq!(ActionStatus::ALL.len(), 5);
        assert_eq!(HealthStatus::ALL.len(), 6);
        for &s in CleanupStatus::ALL {
            use CleanupStatus::*;
            match s {
                Terminating | Terminated | Failed => index(s),
            };
        }
        assert_eq!(CleanupStatus::ALL.len(), 3);
    }

    #[test]
    fn a_wave_cannot_skip_launching() {
        assert!(!WaveStatus::Pending.can_become(WaveStatus::Completed));
        assert!(!WaveStatus::Pending.can_become(WaveStatus::PostActions));
        assert!(!WaveStatus::Waiting.can_become(WaveStatus::Completed));
        assert!(!WaveStatus::Waiting.can_become(WaveStatus::PostActions));
    }
}
