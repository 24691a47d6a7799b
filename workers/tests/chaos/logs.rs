//! What the worker processes' own logs say happened to them, counted over
//! every process that ran (a killed process' log stays, and its restart
//! appends to it): messages delivered again, events found already decided,
//! conflicts injected into the store, steps given up or panicked.
//! These are figures of the load, not checks: the checks read the
//! simulator and the store (`verdict`).

use ripcord_workers::fault_injection::INJECTED_CONFLICT;
use std::path::PathBuf;

/// Counts from the worker logs.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogCounts {
    /// Steps started on a message received before (receive count > 1):
    /// a redelivery after a kill, a freeze, or a failed step.
    pub redeliveries: u64,
    /// Steps that found their event already decided (the journal).
    pub duplicates_caught: u64,
    /// Conditional saves answered with an injected version conflict.
    pub injected_conflicts: u64,
    /// Steps given up at the step deadline.
    pub abandoned: u64,
    /// Steps that panicked.
    pub panicked: u64,
}

/// The receive count a `step started` line carries.
fn receive_count(line: &str) -> Option<u64> {
    let rest = &line[line.find("receive_count=")? + "receive_count=".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub fn count(files: &[PathBuf]) -> LogCounts {
    let mut counts = LogCounts::default();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines() {
            if line.contains("step started") {
                if receive_count(line).is_some_and(|n| n > 1) {
                    counts.redeliveries += 1;
                }
            } else if line.contains("step done") && line.contains("handled=Duplicate") {
                counts.duplicates_caught += 1;
            } else if line.contains(INJECTED_CONFLICT) {
                counts.injected_conflicts += 1;
            } else if line.contains("the step did not finish in time") {
                counts.abandoned += 1;
            } else if line.contains("panicked") {
                counts.panicked += 1;
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_receive_count_is_read_from_a_step_line() {
        let line = "2026-12-06T18:00:00.000Z DEBUG step{execution_id=1 wave=1}: ripcord_workers::worker: step started receive_count=3";
        assert_eq!(super::receive_count(line), Some(3));
        assert_eq!(super::receive_count("step started"), None);
    }
}
