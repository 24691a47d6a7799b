//! The table a chaos run prints: what was done to the workers and to the
//! simulated cloud, and what the checks found (every figure from `duplicate
//! jobs` on must be 0). Markdown, so a run's table can go into the README.

use std::time::Duration;

/// One run's line.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub backend: &'static str,
    pub seed: u64,
    pub executions: usize,
    pub servers: usize,
    pub kills: usize,
    pub freezes: usize,
    /// Messages delivered again (receive count > 1), and of all deliveries
    /// the events found already decided.
    pub redeliveries: u64,
    pub duplicates_caught: u64,
    pub throttles: u64,
    pub server_errors: u64,
    /// Of the 500s, StartRecovery calls that created their job anyway.
    pub ambiguous_starts: u64,
    pub pushes: usize,
    pub pushes_dropped: usize,
    pub store_conflicts: u64,
    pub dead_letters: usize,
    /// Operator acts that took: retries, skips, pauses (each resumed).
    pub retries: usize,
    pub skips: usize,
    pub pauses: usize,
    /// Wave attempts seen WAITING for DRS capacity.
    pub waves_waited: usize,
    pub duplicate_jobs: usize,
    /// Launches admitted past the DRS quotas (`verdict::check_capacity`).
    pub over_admitted: usize,
    pub lost_events: usize,
    pub wrong_final_states: usize,
    pub stuck: usize,
    pub wall: Duration,
}

const HEADER: [&str; 19] = [
    "backend",
    "executions",
    "servers",
    "kills",
    "freezes",
    "duplicates delivered (caught)",
    "throttles",
    "5xx (ambiguous starts)",
    "pushes dropped",
    "store conflicts injected",
    "dead letters replayed",
    "retries / skips / pauses",
    "waves waited for capacity",
    "duplicate jobs",
    "over-admitted",
    "lost events",
    "wrong final states",
    "stuck executions",
    "wall time",
];

impl Row {
    fn cells(&self) -> [String; 19] {
        [
            self.backend.to_owned(),
            self.executions.to_string(),
            self.servers.to_string(),
            self.kills.to_string(),
            self.freezes.to_string(),
            format!("{} ({})", self.redeliveries, self.duplicates_caught),
            self.throttles.to_string(),
            format!("{} ({})", self.server_errors, self.ambiguous_starts),
            format!("{} of {}", self.pushes_dropped, self.pushes),
            self.store_conflicts.to_string(),
            self.dead_letters.to_string(),
            format!("{} / {} / {}", self.retries, self.skips, self.pauses),
            self.waves_waited.to_string(),
            self.duplicate_jobs.to_string(),
            self.over_admitted.to_string(),
            self.lost_events.to_string(),
            self.wrong_final_states.to_string(),
            self.stuck.to_string(),
            format!("{:.1} s", self.wall.as_secs_f64()),
        ]
    }

    /// The table, Markdown.
    pub fn render(&self) -> String {
        let line = |cells: &[String]| format!("| {} |", cells.join(" | "));
        let header: Vec<String> = HEADER.iter().map(|h| (*h).to_owned()).collect();
        let rule: Vec<String> = HEADER.iter().map(|_| "---".to_owned()).collect();
        format!(
            "{}\n{}\n{}\n",
            line(&header),
            line(&rule),
            line(&self.cells())
        )
    }
}
