//! Counting servers into the execution's `progress` block.

use super::view::{Progress, WaveView};
use crate::status_model::LaunchStatus;

impl Progress {
    /// Counts the servers of `waves` as the status view defines them (docs/status-model.md): launched = LAUNCHED or
    /// COMPLETED, completed = COMPLETED, failed = FAILED.
    ///
    /// `percentComplete` is completed servers over
    /// all servers: a failed server is settled but not done, so an execution
    /// with failures never shows 100 % (the "never COMPLETED when a server
    /// failed" rule: invariant 1, docs/invariants.md). Rounded to one decimal place.
    pub fn count(waves: &[WaveView]) -> Self {
        let mut p = Progress {
            total_servers: 0,
            launched_servers: 0,
            completed_servers: 0,
            failed_servers: 0,
            percent_complete: 0.0,
        };
        for server in waves.iter().flat_map(|w| &w.servers) {
            p.total_servers += 1;
            match server.launch_status {
                LaunchStatus::Launched => p.launched_servers += 1,
                LaunchStatus::Completed => {
                    p.launched_servers += 1;
                    p.completed_servers += 1;
                }
                LaunchStatus::Failed => p.failed_servers += 1,
                LaunchStatus::Pending | LaunchStatus::Launching => {}
            }
        }
        p.percent_complete = percent(p.completed_servers, p.total_servers);
        p
    }

    /// The same counts with `pending` more servers that have not started
    /// (their wave record is not written yet).
    pub fn with_pending(self, pending: usize) -> Self {
        let total_servers = self.total_servers + pending;
        Progress {
            total_servers,
            percent_complete: percent(self.completed_servers, total_servers),
            ..self
        }
    }

    /// Servers that will not change any more: COMPLETED or FAILED.
    pub fn settled_servers(&self) -> usize {
        self.completed_servers + self.failed_servers
    }
}

/// `part / whole * 100` rounded to one decimal; 0 for an empty whole.
fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_to_one_decimal() {
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(1, 8), 12.5);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(4, 4), 100.0);
    }
}
