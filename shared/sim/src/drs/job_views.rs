//! What DRS shows of a simulated job at an instant: each participating
//! server's launch status, the job as DescribeJobs answers it, which jobs
//! are active, and the uncounted read of jobs the wire server annotates
//! its answers with.

use crate::jobs::{Job, JobDetail, JobKind, LaunchPlan};
use crate::scenario::LaunchOutcome;
use crate::simulator::Simulator;
use crate::state::SimState;
use crate::world_store::SimWorldError;
use ripcord::ports::drs::{DrsLaunchStatus, JobStatus, ParticipatingServer, RecoveryJob};
use ripcord::time::Timestamp;

impl Simulator {
    /// These jobs (unknown ids left out) with their origin, read without
    /// counting a call or drawing a fault: the wire server's annotation of
    /// what a counted call answered.
    pub fn peek_jobs(&self, job_ids: &[String]) -> Result<Vec<JobDetail>, SimWorldError> {
        let now = self.clock.now();
        self.read(|st| {
            job_ids
                .iter()
                .filter_map(|id| Self::job_by_id(st, id))
                .map(|i| JobDetail {
                    job: st.job_view(&st.jobs[i], now),
                    origin: st.jobs[i].origin(),
                })
                .collect()
        })
    }

    pub(super) fn job_by_id(st: &SimState, job_id: &str) -> Option<usize> {
        st.jobs.iter().position(|j| j.id == job_id)
    }
}

impl SimState {
    pub(super) fn launch_status(
        &self,
        job: &Job,
        s: &LaunchPlan,
        now: Timestamp,
    ) -> DrsLaunchStatus {
        if now < job.started {
            return DrsLaunchStatus::Pending;
        }
        let ended = s.ends_at <= now;
        match s.spec.outcome {
            LaunchOutcome::Launched if ended => {
                if self.terminated(&s.recovery_instance_id, now) {
                    DrsLaunchStatus::Terminated
                } else {
                    DrsLaunchStatus::Launched
                }
            }
            LaunchOutcome::LaunchFailed if ended => DrsLaunchStatus::Failed,
            LaunchOutcome::NotLaunched => DrsLaunchStatus::Pending,
            _ => DrsLaunchStatus::InProgress,
        }
    }

    pub(super) fn job_view(&self, job: &Job, now: Timestamp) -> RecoveryJob {
        let status = job.status(now);
        let participating_servers = match &job.kind {
            JobKind::Launch { servers, .. } => servers
                .iter()
                .map(|s| {
                    let launch_status = self.launch_status(job, s, now);
                    let has_instance = matches!(
                        launch_status,
                        DrsLaunchStatus::Launched | DrsLaunchStatus::Terminated
                    );
                    ParticipatingServer {
                        source_server_id: s.source_server_id.clone(),
                        recovery_instance_id: has_instance.then(|| s.recovery_instance_id.clone()),
                        launch_status,
                    }
                })
                .collect(),
            JobKind::Terminate { targets, done_at } => targets
                .iter()
                .map(|(source_server_id, ri)| ParticipatingServer {
                    source_server_id: source_server_id.clone(),
                    recovery_instance_id: Some(ri.clone()),
                    launch_status: if *done_at <= now {
                        DrsLaunchStatus::Terminated
                    } else {
                        DrsLaunchStatus::Pending
                    },
                })
                .collect(),
        };
        RecoveryJob {
            job_id: job.id.clone(),
            status,
            creation_time: Some(job.created),
            end_time: job.end_time().filter(|_| status == JobStatus::Completed),
            participating_servers,
            tags: job.tags.clone(),
        }
    }

    pub(super) fn active_jobs(&self, now: Timestamp) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(move |j| j.is_active(now))
    }
}
