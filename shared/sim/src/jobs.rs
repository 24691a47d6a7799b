//! The simulated DRS jobs as the world keeps them: what each launch or
//! termination decided at creation (when each server ends, how, with which
//! ids and addresses), and what DRS shows of a job at a given instant.

use crate::scenario::{LaunchOutcome, ServerSpec};
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::{DrsLaunchStatus, JobStatus, RecoveryJob};
use ripcord::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) created: Timestamp,
    /// When the job leaves PENDING and its servers start launching.
    pub(crate) started: Timestamp,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) kind: JobKind,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum JobKind {
    Launch {
        is_drill: bool,
        servers: Vec<LaunchPlan>,
    },
    Terminate {
        targets: Vec<(SourceServerId, String)>,
        done_at: Timestamp,
    },
}

/// One participating server of a launch job, decided at creation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct LaunchPlan {
    pub(crate) source_server_id: SourceServerId,
    pub(crate) spec: ServerSpec,
    /// When the launch ends (LAUNCHED, FAILED, or the job stops waiting for a
    /// `not_launched` server). A `stuck` server has a time it never reaches.
    pub(crate) ends_at: Timestamp,
    pub(crate) recovery_instance_id: String,
    pub(crate) ec2_instance_id: String,
    pub(crate) private_ip: String,
    pub(crate) public_ip: Option<String>,
    pub(crate) snapshot_time: Timestamp,
}

impl LaunchPlan {
    /// When the server becomes terminal for its job; never for `stuck`.
    pub(crate) fn terminal_at(&self) -> Option<Timestamp> {
        match self.spec.outcome {
            LaunchOutcome::Stuck => None,
            _ => Some(self.ends_at),
        }
    }

    /// Whether a recovery instance (and an EC2 instance) exists at `now`.
    pub(crate) fn has_instance(&self, now: Timestamp) -> bool {
        self.spec.outcome == LaunchOutcome::Launched && self.ends_at <= now
    }
}

impl Job {
    pub(crate) fn launch_servers(&self) -> &[LaunchPlan] {
        match &self.kind {
            JobKind::Launch { servers, .. } => servers,
            JobKind::Terminate { .. } => &[],
        }
    }

    /// When the job ends, if it ever does.
    pub(crate) fn end_time(&self) -> Option<Timestamp> {
        match &self.kind {
            JobKind::Launch { servers, .. } => servers
                .iter()
                .map(LaunchPlan::terminal_at)
                .try_fold(self.started, |end, t| t.map(|t| end.max(t))),
            JobKind::Terminate { done_at, .. } => Some(*done_at),
        }
    }

    pub(crate) fn status(&self, now: Timestamp) -> JobStatus {
        if now < self.started {
            JobStatus::Pending
        } else if self.end_time().is_some_and(|end| end <= now) {
            JobStatus::Completed
        } else {
            JobStatus::Started
        }
    }

    pub(crate) fn is_active(&self, now: Timestamp) -> bool {
        self.status(now) != JobStatus::Completed
    }

    /// The source servers this job holds while it is active.
    pub(crate) fn server_ids(&self) -> Vec<&SourceServerId> {
        match &self.kind {
            JobKind::Launch { servers, .. } => {
                servers.iter().map(|s| &s.source_server_id).collect()
            }
            JobKind::Terminate { targets, .. } => targets.iter().map(|(s, _)| s).collect(),
        }
    }
}

/// Who started a job, as DRS' `type` and `initiatedBy` tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobOrigin {
    StartDrill,
    StartRecovery,
    TerminateRecoveryInstances,
}

/// A job as DescribeJobs shows it on the wire: the port's view and its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobDetail {
    pub job: RecoveryJob,
    pub origin: JobOrigin,
}

/// A source server's latest launch (DescribeSourceServers' `lifeCycle.lastLaunch`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastLaunch {
    pub job_id: String,
    pub initiated: Timestamp,
    pub is_drill: bool,
    pub status: DrsLaunchStatus,
    /// The recovery instance it launched, while that exists.
    pub recovery_instance_id: Option<String>,
}

impl Job {
    pub(crate) fn origin(&self) -> JobOrigin {
        match self.kind {
            JobKind::Launch { is_drill: true, .. } => JobOrigin::StartDrill,
            JobKind::Launch {
                is_drill: false, ..
            } => JobOrigin::StartRecovery,
            JobKind::Terminate { .. } => JobOrigin::TerminateRecoveryInstances,
        }
    }
}
