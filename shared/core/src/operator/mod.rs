//! Operator control (docs/status-model.md, "Operator control"): whether a
//! `retry`, `skip`, `pause` or `resume` applies to an execution as it
//! stands. One pure function, [`check`]: the CLI and the API call it on the
//! records they read to refuse at once with the reason and what to do; the
//! state machine calls it again when the event arrives (a command that
//! raced another change is then ignored with the same reason).

use crate::event::Event;
use crate::ids::{SourceServerId, WaveNumber};
use crate::records::{ExecutionRecord, OperatorActionKind, WaveRecord};
use crate::status_model::{ExecutionStatus, LaunchStatus, Transitions, WaveStatus, name};

#[cfg(test)]
mod tests;

/// What an operator asks of an execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorCommand {
    /// Relaunch the failed servers of a FAILED wave (`servers`: those
    /// named, which must have failed; none: every failed one).
    Retry {
        wave: WaveNumber,
        servers: Vec<SourceServerId>,
    },
    /// End a FAILED, WAITING or never-started wave as SKIPPED.
    Skip {
        wave: WaveNumber,
        reason: String,
    },
    Pause,
    Resume,
}

/// Why a command does not apply, and what to do instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}; {what_to_do}")]
pub struct Refusal {
    pub reason: String,
    pub what_to_do: String,
}

fn refuse(reason: impl Into<String>, what_to_do: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal {
        reason: reason.into(),
        what_to_do: what_to_do.into(),
    })
}

impl OperatorCommand {
    pub fn kind(&self) -> OperatorActionKind {
        match self {
            OperatorCommand::Retry { .. } => OperatorActionKind::Retry,
            OperatorCommand::Skip { .. } => OperatorActionKind::Skip,
            OperatorCommand::Pause => OperatorActionKind::Pause,
            OperatorCommand::Resume => OperatorActionKind::Resume,
        }
    }

    pub fn wave(&self) -> Option<WaveNumber> {
        match self {
            OperatorCommand::Retry { wave, .. } | OperatorCommand::Skip { wave, .. } => Some(*wave),
            OperatorCommand::Pause | OperatorCommand::Resume => None,
        }
    }

    /// The execution event that carries this command (with the wave number
    /// the envelope needs).
    pub fn event(&self, requested_by: &str, reason: Option<String>) -> Event {
        let requested_by = requested_by.to_owned();
        match self {
            OperatorCommand::Retry { servers, .. } => Event::RetryWave {
                requested_by,
                reason,
                servers: servers.clone(),
            },
            OperatorCommand::Skip { reason, .. } => Event::SkipWave {
                requested_by,
                reason: reason.clone(),
            },
            OperatorCommand::Pause => Event::PauseExecution {
                requested_by,
                reason,
            },
            OperatorCommand::Resume => Event::ResumeExecution { requested_by },
        }
    }

    /// The command an operator event carries; `None` for other events.
    pub fn from_event(wave: Option<WaveNumber>, event: &Event) -> Option<Self> {
        match (event, wave) {
            (Event::RetryWave { servers, .. }, Some(wave)) => Some(OperatorCommand::Retry {
                wave,
                servers: servers.clone(),
            }),
            (Event::SkipWave { reason, .. }, Some(wave)) => Some(OperatorCommand::Skip {
                wave,
                reason: reason.clone(),
            }),
            (Event::PauseExecution { .. }, _) => Some(OperatorCommand::Pause),
            (Event::ResumeExecution { .. }, _) => Some(OperatorCommand::Resume),
            _ => None,
        }
    }
}

/// Whether `command` applies to `execution` now. `wave` is the record of
/// the wave the command names, when the caller has read it (the CLI and the
/// API do; the machine, deciding on the execution record, does not, and the
/// wave record decides its own part when the wave event arrives).
pub fn check(
    execution: &ExecutionRecord,
    wave: Option<&WaveRecord>,
    command: &OperatorCommand,
) -> Result<(), Refusal> {
    let id = execution.id;
    match command {
        OperatorCommand::Pause | OperatorCommand::Resume if execution.status.is_terminal() => {
            refuse(
                format!(
                    "execution {id} is {}: it is over",
                    execution.status.as_str()
                ),
                "retry or skip a failed wave to go on with it, or start a new execution",
            )
        }
        OperatorCommand::Pause => match &execution.paused {
            Some(pause) => refuse(
                format!(
                    "execution {id} is already paused (by {})",
                    pause.requested_by
                ),
                format!("resume it with `ripcord resume {id}`"),
            ),
            None => Ok(()),
        },
        OperatorCommand::Resume => match execution.paused {
            Some(_) => Ok(()),
            None => refuse(
                format!("execution {id} is not paused"),
                "nothing to resume; pause it first if no new wave should start",
            ),
        },
        OperatorCommand::Retry { wave: n, servers } => {
            let status = wave_status(execution, wave, *n)?;
            open_for_waves(execution)?;
            if status != WaveStatus::Failed {
                return refuse(
                    format!("wave {n} is {}, not FAILED", name(status)),
                    "only a FAILED wave can be retried; see `ripcord status` for which failed",
                );
            }
            match wave {
                Some(record) => check_retried_servers(record, servers),
                None => Ok(()),
            }
        }
        OperatorCommand::Skip { wave: n, reason } => {
            let status = wave_status(execution, wave, *n)?;
            open_for_waves(execution)?;
            if reason.trim().is_empty() {
                return refuse(
                    "a skip needs a reason",
                    "say why the wave is skipped (--reason), for the report",
                );
            }
            match status {
                WaveStatus::Failed | WaveStatus::Waiting | WaveStatus::Pending => Ok(()),
                WaveStatus::Launching | WaveStatus::PostActions => refuse(
                    format!(
                        "wave {n} is {}: a running wave cannot be skipped",
                        name(status)
                    ),
                    "wait for it to end (cancel the execution to stop it), then retry or skip it if it failed",
                ),
                WaveStatus::Cancelled => refuse(
                    format!(
                        "wave {n} is CANCELLED: it never started because an earlier wave failed"
                    ),
                    "retry or skip the FAILED wave; this one goes back to PENDING then",
                ),
                WaveStatus::Completed | WaveStatus::Skipped => refuse(
                    format!("wave {n} is already {}", name(status)),
                    "nothing to skip",
                ),
            }
        }
    }
}

/// A retry or a skip needs an execution that failed or still runs, and
/// whose recovery instances were not cleaned up: the waves after it would
/// launch against dependencies that are gone.
fn open_for_waves(execution: &ExecutionRecord) -> Result<(), Refusal> {
    if let Some(cleanup) = &execution.cleanup {
        return refuse(
            format!(
                "execution {} was cleaned up (asked by {} at {}): its recovery instances are terminated",
                execution.id,
                cleanup.requested_by,
                cleanup.requested_at.to_rfc3339()
            ),
            "start a new drill of the plan (`ripcord run`)",
        );
    }
    match execution.status {
        ExecutionStatus::Failed | ExecutionStatus::InProgress => Ok(()),
        status => refuse(
            format!(
                "execution {} is {}: only a FAILED or IN_PROGRESS execution goes on",
                execution.id,
                status.as_str()
            ),
            "start a new execution of the plan (`ripcord run`)",
        ),
    }
}

/// The wave's status as far as the command is concerned: the execution's
/// summary once it is final or before the wave started, the wave record's
/// (when read) while it runs.
fn wave_status(
    execution: &ExecutionRecord,
    wave: Option<&WaveRecord>,
    n: WaveNumber,
) -> Result<WaveStatus, Refusal> {
    let Some(summary) = execution.waves.get(n.index()).filter(|w| w.number == n) else {
        return Err(Refusal {
            reason: format!("execution {} has no wave {n}", execution.id),
            what_to_do: format!("its waves are 1 to {}", execution.waves.len()),
        });
    };
    if summary.status.is_terminal() || !summary.started {
        return Ok(summary.status);
    }
    Ok(wave.map_or(summary.status, |w| w.status))
}

fn check_retried_servers(wave: &WaveRecord, servers: &[SourceServerId]) -> Result<(), Refusal> {
    for id in servers {
        match wave.servers.iter().find(|s| s.id() == id) {
            None => {
                return refuse(
                    format!("server {id} is not in wave {}", wave.number),
                    "name servers of the wave (see `ripcord status`)",
                );
            }
            Some(s) if s.launch_status != LaunchStatus::Failed => {
                return refuse(
                    format!(
                        "server {id} is {}, not FAILED: only failed servers are relaunched",
                        name(s.launch_status)
                    ),
                    "name only failed servers, or none to relaunch every failed one",
                );
            }
            Some(_) => {}
        }
    }
    if !wave
        .servers
        .iter()
        .any(|s| s.launch_status == LaunchStatus::Failed)
    {
        return refuse(
            format!("wave {} has no failed server to relaunch", wave.number),
            "skip the wave instead (`ripcord skip`)",
        );
    }
    Ok(())
}
