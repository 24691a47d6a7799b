//! The events of one wave's clean-up (inside `Event::CleanupWave`) and the
//! calls it makes (inside `Effect::Cleanup`). One variant of each shared
//! enum carries them all, so the clean-up stays in its own files.

use crate::service_error::ServiceError;
use crate::services::drs::{RecoveryInstance, RecoveryJob};
use crate::services::queue::QueueName;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "step",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CleanupStep {
    /// The execution's clean-up reached this wave.
    Start {
        requested_by: String,
        reason: String,
        /// Which request of the execution's (0: the first; later ones
        /// retry the servers an earlier one left FAILED).
        #[serde(default)]
        request: u32,
    },
    /// What DescribeRecoveryInstances says of the wave's servers before it
    /// launches (`options.cleanup_previous`; a failure is `CheckFailed`).
    LeftoversFound {
        tries: u32,
        instances: Vec<RecoveryInstance>,
    },
    /// Check (again) which recovery instances are still ours, then
    /// terminate them: a retry, or the cover for a lost answer.
    Check {
        tries: u32,
    },
    /// What DescribeRecoveryInstances says of the wave's instances now.
    Checked {
        tries: u32,
        instances: Vec<RecoveryInstance>,
    },
    CheckFailed {
        tries: u32,
        error: ServiceError,
    },
    /// TerminateRecoveryInstances answered with its TERMINATE job.
    Terminating {
        tries: u32,
        job_id: String,
    },
    TerminateFailed {
        tries: u32,
        error: ServiceError,
    },
    /// Look at the TERMINATE job and the instances (a tick).
    Poll {
        seq: u32,
    },
    /// The job, and the wave's instances DRS still has.
    Observed {
        seq: u32,
        job: Option<RecoveryJob>,
        remaining: Vec<RecoveryInstance>,
    },
    ObserveFailed {
        seq: u32,
        error: ServiceError,
    },
}

impl CleanupStep {
    /// Checks and calls on the launch queue, observations on the poll queue.
    pub fn queue(&self) -> QueueName {
        match self {
            Self::Poll { .. } | Self::Observed { .. } | Self::ObserveFailed { .. } => {
                QueueName::Poll
            }
            _ => QueueName::Launch,
        }
    }
}

/// A call of a wave's clean-up; its outcome comes back as a [`CleanupStep`].
#[derive(Clone, Debug, PartialEq)]
pub enum CleanupEffect {
    /// DescribeRecoveryInstances of these ids → `Checked` / `CheckFailed`.
    Check {
        tries: u32,
        recovery_instance_ids: Vec<String>,
    },
    /// DescribeRecoveryInstances of these source servers →
    /// `LeftoversFound` / `CheckFailed`.
    FindLeftovers {
        tries: u32,
        source_server_ids: Vec<crate::ids::SourceServerId>,
    },
    /// TerminateRecoveryInstances (≤200 ids) → `Terminating` / `TerminateFailed`.
    Terminate {
        tries: u32,
        recovery_instance_ids: Vec<String>,
    },
    /// DescribeJobs of the TERMINATE job (served by the job watch when a
    /// look made since `fresh_since` holds it) and DescribeRecoveryInstances
    /// of the ids → `Observed` / `ObserveFailed`.
    Observe {
        seq: u32,
        job_id: String,
        recovery_instance_ids: Vec<String>,
        fresh_since: crate::time::Timestamp,
    },
}
