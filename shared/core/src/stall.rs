//! What the sweep found lost (docs/architecture.md, "The sweep"): the one
//! message that would have moved a record on, named so that a `Nudge` can
//! carry it. Which records are stalled and what a nudge decides is the
//! machine's (`machine/sweep/`); these are only the names, below the
//! events that carry them.

use crate::ids::SourceServerId;
use crate::services::queue::QueueName;
use crate::status_model::WaveStatus;
use serde::{Deserialize, Serialize};

/// A lost message, as a nudge names it. The first five are about a wave
/// record, the others about the execution record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "lost",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Stall {
    /// The execution started the wave as attempt `attempt` (its summary
    /// says so) but the record never got its `StartWave` (attempt 1) or
    /// `RelaunchWave` (a later attempt, for `servers`).
    NotStarted {
        attempt: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        servers: Vec<SourceServerId>,
    },
    /// In line for DRS capacity, asked at tick `tries`; `AdmitWave`
    /// `tries + 1` never came.
    Admission { tries: u32 },
    /// A StartRecovery intent recorded at try `tries`; its `LaunchCheck`
    /// (or, after a failed try, its `LaunchWave`) never came.
    Launch { tries: u32 },
    /// In POST_ACTIONS, action `action` failed to send at try `tries`;
    /// its retry (`RunAction` `tries + 1`) never came.
    ActionRetry { action: usize, tries: u32 },
    /// In POST_ACTIONS, the health commands failed to send at try
    /// `tries`; their retry (`RunHealthCommands` `tries + 1`) never came.
    HealthRetry { tries: u32 },
    /// The wave (the envelope's) ended `status` at `attempt`; its
    /// `WaveFinished` never reached the execution.
    WaveFinished { status: WaveStatus, attempt: u32 },
    /// The pre-flight asked at tick `tries`; `CheckPreflight` `tries + 1`
    /// never came.
    Preflight { tries: u32 },
    /// The execution asked for its servers at tick `tries`; `ClaimServers`
    /// `tries + 1` never came.
    Claim { tries: u32 },
}

impl Stall {
    /// Whether the nudge is decided on the wave record (else the execution's).
    pub fn on_wave(&self) -> bool {
        matches!(
            self,
            Stall::NotStarted { .. }
                | Stall::Admission { .. }
                | Stall::Launch { .. }
                | Stall::ActionRetry { .. }
                | Stall::HealthRetry { .. }
        )
    }

    /// The queue of the worker whose calls the nudge may make: SSM's for a
    /// post-launch retry, the launch worker's for the rest.
    pub fn queue(&self) -> QueueName {
        match self {
            Stall::ActionRetry { .. } | Stall::HealthRetry { .. } => QueueName::PostActions,
            _ => QueueName::Launch,
        }
    }

    /// A short label: the metrics' `kind`, the logs' and ids' name.
    pub fn kind(&self) -> &'static str {
        match self {
            Stall::NotStarted { .. } => "start",
            Stall::Admission { .. } => "admission",
            Stall::Launch { .. } => "launch",
            Stall::ActionRetry { .. } | Stall::HealthRetry { .. } => "post_launch_retry",
            Stall::WaveFinished { .. } => "wave_finished",
            Stall::Preflight { .. } => "preflight",
            Stall::Claim { .. } => "claim",
        }
    }

    /// The message that was lost, as an operator reads it.
    pub fn describe(&self) -> String {
        match self {
            Stall::NotStarted { attempt: 1, .. } => "StartWave".to_owned(),
            Stall::NotStarted { attempt, .. } => format!("RelaunchWave (attempt {attempt})"),
            Stall::Admission { tries } => format!("AdmitWave {}", tries + 1),
            Stall::Launch { tries } => format!("LaunchCheck or LaunchWave of try {tries}"),
            Stall::ActionRetry { action, tries } => {
                format!("RunAction {} of action {action}", tries + 1)
            }
            Stall::HealthRetry { tries } => format!("RunHealthCommands {}", tries + 1),
            Stall::WaveFinished { status, attempt } => {
                format!("WaveFinished {status:?} (attempt {attempt})")
            }
            Stall::Preflight { tries } => format!("CheckPreflight {}", tries + 1),
            Stall::Claim { tries } => format!("ClaimServers {}", tries + 1),
        }
    }
}
