//! What operators did, as the final table shows it under the summary: the
//! pause if the execution is paused, then one line per retry, skip, pause
//! and resume (docs/status-model.md, "Operator control").

use super::clock;
use ripcord::status::ExecutionView;
use std::fmt::Write as _;

/// `Paused: by dana at 09:12:00 UTC (network change window); ...` and
/// `Operator: RETRY wave 2 (attempt 2) by alice at 09:30:00 UTC: ...`.
pub fn operator_lines(view: &ExecutionView) -> String {
    let mut out = String::new();
    if let Some(pause) = &view.paused {
        let why = pause
            .reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Paused: by {} at {} UTC{why}; no new wave starts until `ripcord resume {}`",
            pause.requested_by,
            clock(pause.at),
            view.execution_id
        );
    }
    for action in &view.operator_actions {
        let wave = action
            .wave
            .map(|w| format!(" wave {w}"))
            .unwrap_or_default();
        let attempt = action
            .attempt
            .map(|a| format!(" (attempt {a})"))
            .unwrap_or_default();
        let why = action
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Operator: {}{wave}{attempt} by {} at {} UTC{why}",
            action.action.as_str(),
            action.requested_by,
            clock(action.at)
        );
    }
    out
}
