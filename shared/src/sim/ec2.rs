//! Simulated EC2: the instance each launched recovery instance runs on, and
//! its status checks (`initializing` for `status_check_delay` after launch,
//! then `ok`, or `impaired` for a server the scenario says so).

use super::drs::LaunchPlan;
use super::scenario::{Operation, StatusChecks};
use super::{SimState, Simulator};
use crate::ports::ec2::{Ec2Instance, InstanceDirectory, InstanceStatus};
use crate::service_error::ServiceError;
use crate::time::{Timestamp, after};
use async_trait::async_trait;

impl SimState {
    /// Every EC2 instance that exists at `now`, terminated ones included
    /// (EC2 keeps showing those for a while), with whether it is terminated.
    pub(super) fn ec2_instances(
        &self,
        now: Timestamp,
    ) -> impl Iterator<Item = (&LaunchPlan, bool)> {
        self.jobs
            .iter()
            .flat_map(|j| j.launch_servers())
            .filter(move |s| s.has_instance(now))
            .map(move |s| {
                let terminated = self
                    .terminations
                    .get(&s.recovery_instance_id)
                    .is_some_and(|t| *t <= now);
                (s, terminated)
            })
    }
}

fn wanted(ids: &[String], s: &LaunchPlan) -> bool {
    ids.is_empty() || ids.contains(&s.ec2_instance_id)
}

#[async_trait]
impl InstanceDirectory for Simulator {
    async fn describe_instances(&self, ids: &[String]) -> Result<Vec<Ec2Instance>, ServiceError> {
        let zone = format!("{}a", self.scenario.region);
        self.call(Operation::DescribeInstances, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(st
                .ec2_instances(now)
                .filter(|(s, _)| wanted(ids, s))
                .map(|(s, terminated)| Ec2Instance {
                    instance_id: s.ec2_instance_id.clone(),
                    instance_type: s.spec.instance_type.clone(),
                    state: if terminated { "terminated" } else { "running" }.to_owned(),
                    private_ip_address: (!terminated).then(|| s.private_ip.clone()),
                    public_ip_address: s.public_ip.clone().filter(|_| !terminated),
                    availability_zone: Some(zone.clone()),
                    launch_time: Some(s.ends_at),
                })
                .collect())
        })
    }

    async fn describe_instance_status(
        &self,
        ids: &[String],
    ) -> Result<Vec<InstanceStatus>, ServiceError> {
        self.call(Operation::DescribeInstanceStatus, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            // Like DescribeInstanceStatus without IncludeAllInstances: running only.
            Ok(st
                .ec2_instances(now)
                .filter(|(s, terminated)| !terminated && wanted(ids, s))
                .map(|(s, _)| {
                    let checked = after(s.ends_at, self.scenario.status_check_delay) <= now;
                    let (instance, system) = match (checked, s.spec.status_checks) {
                        (false, _) => ("initializing", "initializing"),
                        (true, StatusChecks::Ok) => ("ok", "ok"),
                        (true, StatusChecks::Impaired) => ("impaired", "ok"),
                    };
                    InstanceStatus {
                        instance_id: s.ec2_instance_id.clone(),
                        instance_status: instance.to_owned(),
                        system_status: system.to_owned(),
                    }
                })
                .collect())
        })
    }
}
