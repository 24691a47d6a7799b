//! The valid status transitions. Terminal states are terminal; anything not
//! listed is refused (seed 002's transition table, for each level).

use super::{ActionStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus};

/// A status with a table of allowed successors.
pub trait Transitions: Copy + PartialEq + std::fmt::Debug {
    fn can_become(self, next: Self) -> bool;
    fn is_terminal(self) -> bool;
}

impl Transitions for ExecutionStatus {
    fn can_become(self, next: Self) -> bool {
        use ExecutionStatus::*;
        matches!(
            (self, next),
            (Pending, InProgress | Failed | Cancelled | Timeout)
                | (InProgress, Completed | Failed | Cancelled | Timeout)
        )
    }
    fn is_terminal(self) -> bool {
        use ExecutionStatus::*;
        matches!(self, Completed | Failed | Cancelled | Timeout)
    }
}

impl Transitions for WaveStatus {
    fn can_become(self, next: Self) -> bool {
        use WaveStatus::*;
        matches!(
            (self, next),
            (Pending, Launching | Cancelled)
                | (Launching, PostActions | Completed | Failed | Cancelled)
                | (PostActions, Completed | Failed | Cancelled)
        )
    }
    fn is_terminal(self) -> bool {
        use WaveStatus::*;
        matches!(self, Completed | Failed | Cancelled)
    }
}

impl Transitions for LaunchStatus {
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
}

impl Transitions for ActionStatus {
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
    fn can_become(self, next: Self) -> bool {
        use HealthStatus::*;
        matches!(
            (self, next),
            (Pending, Checking | Healthy | Unhealthy | Timeout)
                | (Checking, Healthy | Unhealthy | Timeout)
                | (Unhealthy, Checking | Healthy | Timeout)
        )
    }
    fn is_terminal(self) -> bool {
        matches!(self, HealthStatus::Healthy | HealthStatus::Timeout)
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

    #[test]
    fn a_wave_cannot_skip_launching() {
        assert!(!WaveStatus::Pending.can_become(WaveStatus::Completed));
        assert!(!WaveStatus::Pending.can_become(WaveStatus::PostActions));
    }
}
