//! The simulated recovery instances: which exist at an instant (launched,
//! not yet terminated), as DescribeRecoveryInstances shows them, and their
//! EC2 instance ids.

use crate::jobs::{Job, JobKind, LaunchPlan};
use crate::simulator::Simulator;
use crate::state::SimState;
use crate::world_store::SimWorldError;
use ripcord::ports::drs::RecoveryInstance;
use ripcord::time::Timestamp;

impl Simulator {
    /// The EC2 instance ids of live recovery instances among `recovery_instance_ids`
    /// (not a DRS call: counted nowhere, never faulted).
    pub fn peek_ec2_instance_ids(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<Vec<String>, SimWorldError> {
        let now = self.clock.now();
        self.read(|st| {
            st.live_recovery_instances(now)
                .filter(|(_, s)| recovery_instance_ids.contains(&s.recovery_instance_id))
                .map(|(_, s)| s.ec2_instance_id.clone())
                .collect()
        })
    }
}

impl SimState {
    pub(super) fn terminated(&self, recovery_instance_id: &str, now: Timestamp) -> bool {
        self.terminations
            .get(recovery_instance_id)
            .is_some_and(|t| *t <= now)
    }

    /// Recovery instances that exist at `now` (launched, not yet terminated).
    pub(super) fn live_recovery_instances(
        &self,
        now: Timestamp,
    ) -> impl Iterator<Item = (&Job, &LaunchPlan)> {
        self.jobs
            .iter()
            .flat_map(|j| j.launch_servers().iter().map(move |s| (j, s)))
            .filter(move |(_, s)| {
                s.has_instance(now) && !self.terminated(&s.recovery_instance_id, now)
            })
    }
}

pub(super) fn recovery_instance(job: &Job, s: &LaunchPlan) -> RecoveryInstance {
    RecoveryInstance {
        recovery_instance_id: s.recovery_instance_id.clone(),
        ec2_instance_id: Some(s.ec2_instance_id.clone()),
        ec2_instance_state: Some("RUNNING".to_owned()),
        job_id: Some(job.id.clone()),
        source_server_id: s.source_server_id.clone(),
        is_drill: matches!(job.kind, JobKind::Launch { is_drill: true, .. }),
        point_in_time_snapshot: Some(s.snapshot_time),
    }
}
