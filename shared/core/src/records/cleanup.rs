//! What the records keep of a drill clean-up (terminating the recovery
//! instances an execution launched): who asked and why on the execution
//! record with a count per wave, the one TERMINATE job of each wave on its
//! wave record, and each server's own clean-up status on the server.

use crate::ids::{SourceServerId, WaveNumber};
use crate::status_model::CleanupStatus;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The execution's clean-up: requested once, fanned out to every wave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionCleanup {
    pub requested_by: String,
    pub reason: String,
    pub requested_at: Timestamp,
    /// What each wave reported when its clean-up ended.
    #[serde(default)]
    pub waves: Vec<WaveCleanupCount>,
    /// When the last wave reported.
    pub ended_at: Option<Timestamp>,
    /// The earlier requests, oldest first: a request after one that ended
    /// with FAILED servers tries those servers again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<ExecutionCleanup>,
}

/// One wave's clean-up once it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveCleanupCount {
    pub wave: WaveNumber,
    pub terminated: u32,
    pub failed: u32,
}

impl ExecutionCleanup {
    pub fn terminated(&self) -> u32 {
        self.waves.iter().map(|w| w.terminated).sum()
    }
    pub fn failed(&self) -> u32 {
        self.waves.iter().map(|w| w.failed).sum()
    }
    /// Which request this is: 0 for the first, 1 for the first retry.
    pub fn request(&self) -> u32 {
        u32::try_from(self.earlier.len()).unwrap_or(u32::MAX)
    }
}

/// A wave's clean-up: its checks of DRS, its one TERMINATE job, and the
/// observation of that job to its end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveCleanup {
    pub requested_by: String,
    pub reason: String,
    pub requested_at: Timestamp,
    /// Checks made (DescribeRecoveryInstances before each
    /// TerminateRecoveryInstances); a check tick with an older number is stale.
    pub tries: u32,
    /// The check whose TerminateRecoveryInstances was asked for (the intent,
    /// recorded before the call).
    pub terminate_requested: Option<u32>,
    /// How many tries were throttled: they do not use up the attempts.
    #[serde(default)]
    pub throttled: u32,
    /// The TERMINATE job, once DRS answered with it.
    pub job_id: Option<String>,
    pub poll_seq: u32,
    pub consecutive_poll_errors: u32,
    pub last_error: Option<String>,
    pub ended_at: Option<Timestamp>,
    /// Which request of the execution's this is (0: the first). A retry
    /// goes on numbering checks and polls after `first_try` and
    /// `first_poll`, so a late answer to an earlier request is stale.
    #[serde(default)]
    pub request: u32,
    #[serde(default)]
    pub first_try: u32,
    #[serde(default)]
    pub first_poll: u32,
}

/// A wave's clean-up of what earlier drills left (`options.cleanup_previous`),
/// before it launches: found by source server, terminated with one
/// TerminateRecoveryInstances, observed until gone; then the wave launches,
/// whatever came of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeftoverCleanup {
    pub started_at: Timestamp,
    /// Looks made (DescribeRecoveryInstances by source server).
    pub tries: u32,
    pub terminate_requested: Option<u32>,
    #[serde(default)]
    pub throttled: u32,
    pub job_id: Option<String>,
    pub poll_seq: u32,
    pub consecutive_poll_errors: u32,
    /// Why it ended without terminating everything it found.
    pub error: Option<String>,
    pub ended_at: Option<Timestamp>,
    /// The earlier drills' instances found, and what became of each.
    pub instances: Vec<Leftover>,
}

/// A drill instance an earlier drill left for one of the wave's servers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leftover {
    pub source_server_id: SourceServerId,
    pub recovery_instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    pub status: CleanupStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Leftover {
    /// One line for people: "terminated s-…'s leftover drill instance i-…
    /// from an earlier drill", or why not.
    pub fn summary(&self) -> String {
        let what = format!(
            "{}'s leftover drill instance {} from an earlier drill",
            self.source_server_id, self.recovery_instance_id
        );
        match self.status {
            CleanupStatus::Terminating => format!("terminating {what}"),
            CleanupStatus::Terminated => format!("terminated {what}"),
            CleanupStatus::Failed => format!(
                "did not terminate {what}: {}",
                self.reason.as_deref().unwrap_or("unknown")
            ),
        }
    }
}

/// One server's clean-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerCleanup {
    pub status: CleanupStatus,
    /// Why it FAILED, or how it was found already gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
}
