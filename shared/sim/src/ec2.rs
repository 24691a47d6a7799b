//! Simulated EC2: the instance each launched recovery instance runs on, and
//! its status checks (`initializing` for `status_check_delay` after launch,
//! then `ok`, or `impaired` for a server the scenario says so).
//!
//! Instance ids are generated, unless ids were reserved for a server with
//! [`Simulator::reserve_ec2_instance_ids`]: `ripcord sim serve` launches real
//! instances in an EC2 stand-in (moto) and reserves their ids, so the ids DRS
//! and SSM report are ids that EC2 knows.

use super::scenario::{LaunchOutcome, Operation, StatusChecks};
use crate::jobs::LaunchPlan;
use crate::simulator::Simulator;
use crate::state::SimState;
use crate::world_store::SimWorldError;
use async_trait::async_trait;
use ripcord::ids::SourceServerId;
use ripcord::ports::ec2::{Ec2Instance, InstanceCheck, InstanceDirectory, InstanceStatus};
use ripcord::service_error::ServiceError;
use ripcord::time::{Timestamp, after};

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

impl SimState {
    /// The oldest id reserved for `server`, removed from the reservations.
    pub(super) fn take_reserved_ec2_instance_id(
        &mut self,
        server: &SourceServerId,
    ) -> Option<String> {
        let queue = self.ec2_reservations.get_mut(server)?;
        let id = queue.pop_front();
        if queue.is_empty() {
            self.ec2_reservations.remove(server);
        }
        id
    }
}

impl Simulator {
    /// Of the servers a StartRecovery is about to name, those whose launch
    /// will produce an EC2 instance (known, outcome `launched`) and that
    /// have no reserved id yet: what an EC2 mirror launches before the call.
    pub fn servers_needing_ec2_instances(
        &self,
        servers: &[SourceServerId],
    ) -> Result<Vec<SourceServerId>, SimWorldError> {
        self.read(|st| {
            servers
                .iter()
                .filter(|s| {
                    self.scenario.knows_server(s)
                        && self.scenario.server(s).outcome == LaunchOutcome::Launched
                        && !st.ec2_reservations.contains_key(*s)
                })
                .cloned()
                .collect()
        })
    }

    /// Reserves EC2 instance ids: the next launch job of each server takes
    /// its oldest reserved id instead of generating one. A reservation
    /// outlives a rejected StartRecovery, so a retried call uses it.
    pub fn reserve_ec2_instance_ids(
        &self,
        reservations: &[(SourceServerId, String)],
    ) -> Result<(), SimWorldError> {
        self.world.update(&mut |st| {
            for (server, id) in reservations {
                st.issued_ids.insert(id.clone());
                st.ec2_reservations
                    .entry(server.clone())
                    .or_default()
                    .push_back(id.clone());
            }
            !reservations.is_empty()
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
        self.call_read(Operation::DescribeInstances, |st, now, fault| {
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
        .await
    }

    async fn describe_instance_status(
        &self,
        ids: &[String],
    ) -> Result<Vec<InstanceStatus>, ServiceError> {
        self.call_read(Operation::DescribeInstanceStatus, |st, now, fault| {
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
                        (false, _) => (InstanceCheck::Initializing, InstanceCheck::Initializing),
                        (true, StatusChecks::Ok) => (InstanceCheck::Ok, InstanceCheck::Ok),
                        (true, StatusChecks::Impaired) => {
                            (InstanceCheck::Impaired, InstanceCheck::Ok)
                        }
                    };
                    InstanceStatus {
                        instance_id: s.ec2_instance_id.clone(),
                        instance_status: instance,
                        system_status: system,
                    }
                })
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{mins, server, sim, start};
    use ripcord::ports::drs::RecoveryService;

    #[tokio::test]
    async fn a_launch_takes_the_id_reserved_for_its_server() {
        let (sim, clock) = sim(
            "strict_inventory: true\nfaults: { throttling_rate: 1.0, operations: [StartRecovery], until: 1m }\nservers:\n  s-1234567890abcdef1: {}\n  s-1234567890abcdef2: { outcome: launch_failed }\n",
        );
        // A failing server gets no instance, an unknown one does not exist.
        let wanted = sim
            .servers_needing_ec2_instances(&[server(1), server(2), server(9)])
            .unwrap();
        assert_eq!(wanted, [server(1)]);
        let reserved = "i-0a0a0a0a0a0a0a0a0".to_owned();
        sim.reserve_ec2_instance_ids(&[(server(1), reserved.clone())])
            .unwrap();
        assert!(
            sim.servers_needing_ec2_instances(&[server(1)])
                .unwrap()
                .is_empty()
        );
        // A throttled call leaves the reservation for its retry.
        assert!(sim.start_recovery(&start(&[server(1)], 1)).await.is_err());
        clock.advance(mins(1));
        sim.start_recovery(&start(&[server(1)], 1)).await.unwrap();
        clock.advance(mins(10));
        let instances = sim.describe_recovery_instances(&[]).await.unwrap();
        assert_eq!(
            instances[0].ec2_instance_id.as_deref(),
            Some(reserved.as_str())
        );
        assert_ne!(instances[0].recovery_instance_id, reserved);
        // Used up: the next launch of the server needs a new instance.
        assert_eq!(
            sim.servers_needing_ec2_instances(&[server(1)]).unwrap(),
            [server(1)]
        );
    }
}
