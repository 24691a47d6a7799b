//! Measured recovery time (RTO): when a wave, and the whole execution, was
//! ready, and how that compares with the plan's `rto_target`.
//!
//! - A wave is *ready* when it is COMPLETED, at the moment its last server
//!   became HEALTHY (the latest `healthyTime` of its COMPLETED servers) if
//!   the wave has health checks; at the wave's end (the moment its last
//!   server COMPLETED: launched and every action succeeded) if it has none.
//!   Health checks run after the actions, so in both cases the actions are
//!   done. A failed optional server does not delay it (it never becomes
//!   ready), an optional server that completed late does.
//! - Its measured RTO is `ready - execution start`: the clock starts when
//!   the execution starts (StartExecution was decided), so it includes
//!   waiting for earlier waves and for approvals, as a real recovery would.
//! - The execution's measured RTO is `(the latest wave ready moment) -
//!   execution start`, and exists only if the execution COMPLETED: a failed,
//!   cancelled or timed-out execution did not recover the plan, whatever
//!   its waves did ("not achieved", with why).
//! - Against the target: met when `measured <= target`, missed by
//!   `measured - target` otherwise; each wave is held to the same target
//!   (the plan has one objective: everything up within it).

use super::format;
use crate::records::{ExecutionRecord, WaveRecord};
use crate::status_model::Transitions;
use crate::status_model::{ExecutionStatus, LaunchStatus, WaveStatus};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One measured RTO and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtoMeasure {
    pub outcome: RtoOutcome,
    /// The moment the wave (or the plan) was ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_time: Option<Timestamp>,
    /// `readyTime - execution startTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<f64>,
    /// `target - measured`: positive means under the target, negative
    /// means missed by that much. Absent without a target or a measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_seconds: Option<f64>,
    /// One sentence for people: the verdict, or why there is no measure.
    pub summary: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RtoOutcome {
    /// Ready within the target.
    Met,
    /// Ready, after the target.
    Missed,
    /// Ready; the plan sets no `rto_target`.
    NoTarget,
    /// It ended without being ready (failed, cancelled, timed out).
    NotAchieved,
    /// Still running: nothing to measure yet.
    InProgress,
}

/// Why something has no ready moment.
enum NotReady {
    Running(String),
    Ended(String),
}

/// The moment `wave` was ready, per the module docs; `None` unless it
/// COMPLETED.
pub fn wave_ready_time(wave: &WaveRecord) -> Option<Timestamp> {
    if wave.status != WaveStatus::Completed {
        return None;
    }
    let last_healthy = wave
        .servers
        .iter()
        .filter(|s| s.launch_status == LaunchStatus::Completed)
        .filter_map(|s| s.healthy_time)
        .max();
    if wave.plan.health_checks.is_empty() {
        wave.end_time
    } else {
        // Records written before healthy times were kept have none.
        last_healthy.or(wave.end_time)
    }
}

/// The measured RTO of one wave of `execution`.
pub fn wave_rto(
    execution: &ExecutionRecord,
    wave: Option<&WaveRecord>,
    summary_status: WaveStatus,
) -> RtoMeasure {
    let status = wave.map_or(summary_status, |w| w.status);
    let ready = match (status, wave.and_then(wave_ready_time)) {
        (WaveStatus::Completed, Some(t)) => Ok(t),
        (WaveStatus::Completed, None) => Err(NotReady::Ended(
            "the wave COMPLETED but its records hold no end time".to_owned(),
        )),
        (WaveStatus::Failed | WaveStatus::Cancelled | WaveStatus::Skipped, _) => {
            let why = wave.and_then(|w| w.reason.clone());
            Err(NotReady::Ended(match why {
                Some(why) => format!("the wave ended {} ({why})", format::status(status)),
                None => format!("the wave ended {}", format::status(status)),
            }))
        }
        (WaveStatus::Pending, _) if execution.status.is_terminal() => Err(NotReady::Ended(
            "the wave never started: the execution ended before it".to_owned(),
        )),
        (WaveStatus::Pending, _) => {
            Err(NotReady::Running("the wave has not started yet".to_owned()))
        }
        (WaveStatus::Waiting | WaveStatus::Launching | WaveStatus::PostActions, _) => Err(
            NotReady::Running(format!("the wave is still {}", format::status(status))),
        ),
    };
    measure(execution, ready)
}

/// The measured RTO of the whole execution, given its waves' ready moments.
pub fn execution_rto(execution: &ExecutionRecord, wave_ready: &[Option<Timestamp>]) -> RtoMeasure {
    let ready = match execution.status {
        ExecutionStatus::Completed => wave_ready
            .iter()
            .copied()
            .collect::<Option<Vec<_>>>()
            .and_then(|all| all.into_iter().max())
            .or(execution.end_time)
            .ok_or_else(|| {
                NotReady::Ended(
                    "the execution COMPLETED but its records hold no end time".to_owned(),
                )
            }),
        ExecutionStatus::Pending | ExecutionStatus::InProgress => Err(NotReady::Running(format!(
            "the execution is still {}",
            format::status(execution.status)
        ))),
        ExecutionStatus::Failed | ExecutionStatus::Cancelled | ExecutionStatus::Timeout => {
            let status = format::status(execution.status);
            Err(NotReady::Ended(match &execution.reason {
                Some(why) => format!("the execution ended {status} ({why})"),
                None => format!("the execution ended {status}"),
            }))
        }
    };
    measure(execution, ready)
}

fn measure(execution: &ExecutionRecord, ready: Result<Timestamp, NotReady>) -> RtoMeasure {
    let target = execution.options.rto_target;
    let target_text = |t: Duration| format::duration(t.as_secs_f64());
    let ready_time = match ready {
        Ok(t) => t,
        Err(NotReady::Running(why)) => {
            return RtoMeasure {
                outcome: RtoOutcome::InProgress,
                ready_time: None,
                measured_seconds: None,
                margin_seconds: None,
                summary: format!("not measured yet: {why}"),
            };
        }
        Err(NotReady::Ended(why)) => {
            let summary = match target {
                Some(t) => format!("not achieved: {why}; the target was {}", target_text(t)),
                None => format!("not achieved: {why}"),
            };
            return RtoMeasure {
                outcome: RtoOutcome::NotAchieved,
                ready_time: None,
                measured_seconds: None,
                margin_seconds: None,
                summary,
            };
        }
    };
    let measured = format::seconds_between(execution.start_time, ready_time);
    let shown = format::duration(measured);
    let (outcome, margin, summary) = match target {
        None => (
            RtoOutcome::NoTarget,
            None,
            format!("{shown} (the plan sets no rto_target)"),
        ),
        Some(t) => {
            let margin = format::round_ms(t.as_secs_f64() - measured);
            if margin >= 0.0 {
                (
                    RtoOutcome::Met,
                    Some(margin),
                    format!(
                        "met: {shown}, {} under the {} target",
                        format::duration(margin),
                        target_text(t)
                    ),
                )
            } else {
                (
                    RtoOutcome::Missed,
                    Some(margin),
                    format!(
                        "missed by {}: {shown} against the {} target",
                        format::duration(-margin),
                        target_text(t)
                    ),
                )
            }
        }
    };
    RtoMeasure {
        outcome,
        ready_time: Some(ready_time),
        measured_seconds: Some(measured),
        margin_seconds: margin,
        summary,
    }
}
