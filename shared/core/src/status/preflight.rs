//! The pre-flight as the views show it: the execution record's
//! [`PreflightState`] as a [`PreflightView`] (the status JSON and the drill
//! report carry the same one), and the waiting reason while it checks.

use super::{PreflightPhase, PreflightView};
use crate::machine::PREFLIGHT_TICK;
use crate::records::{ExecutionRecord, PreflightState};
use crate::status_model::Transitions;

/// The pre-flight of `execution`; `None` when none ran.
pub fn preflight_view(execution: &ExecutionRecord) -> Option<PreflightView> {
    match &execution.preflight {
        PreflightState::NotRun => None,
        PreflightState::Checking { mode, .. } => Some(PreflightView {
            state: PreflightPhase::Checking,
            mode: *mode,
            summary: if execution.status.is_terminal() {
                "did not finish: the execution ended before pre-flight answered".to_owned()
            } else {
                "running".to_owned()
            },
            checked_at: None,
            servers_checked: None,
            findings: Vec::new(),
        }),
        PreflightState::Done { mode, report } => Some(PreflightView {
            state: PreflightPhase::Done,
            mode: *mode,
            summary: report.summary(),
            checked_at: Some(report.checked_at),
            servers_checked: Some(report.servers_checked),
            findings: report.findings.clone(),
        }),
    }
}

/// Why no wave has started while pre-flight runs; `None` otherwise.
pub(super) fn preflight_waiting(execution: &ExecutionRecord) -> Option<String> {
    let PreflightState::Checking {
        tries,
        last_error,
        throttled,
        last_throttled,
        ..
    } = &execution.preflight
    else {
        return None;
    };
    if execution.status.is_terminal() {
        return None;
    }
    Some(match last_error {
        None => "running pre-flight checks: no wave starts until they finish".to_owned(),
        Some(error) => format!(
            "running pre-flight checks: try {tries} of {}{} could not read DRS ({error}); \
             trying again every {}s. {}",
            execution.options.retry.max_attempts + throttled,
            match throttled {
                0 => String::new(),
                n => format!(" ({n} throttled, which do not count)"),
            },
            PREFLIGHT_TICK.as_secs(),
            if *last_throttled {
                "DRS is throttling this account: the drill waits, it does not fail; fewer \
                 executions at once, or a higher DRS request quota, shorten the wait"
            } else {
                "If this persists, check the workers' DRS access (infra/iam/launch.json)"
            }
        ),
    })
}
