//! StartRecovery in the simulator: what DRS checks of a request (the API's
//! limits, the inventory, the chosen snapshots, the active jobs and the
//! quotas), and the launch job it creates, which decides at creation when
//! and how each server ends, with which ids and addresses.

use crate::jobs::{Job, JobKind, LaunchPlan};
use crate::scenario::Operation;
use crate::simulator::Simulator;
use crate::snapshots::snapshots_of;
use crate::state::SimState;
use rand::Rng;
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::StartRecoveryRequest;
use ripcord::service_error::ServiceError;
use ripcord::time::{Timestamp, after};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// StartRecovery and TerminateRecoveryInstances take 1 to this many servers.
pub(super) const MAX_SERVERS_PER_CALL: usize = 200;

impl Simulator {
    /// Checks a StartRecovery request against the API, the inventory, the
    /// active jobs and the quotas, and creates its job.
    pub(super) fn create_launch_job(
        &self,
        st: &mut SimState,
        request: &StartRecoveryRequest,
        now: Timestamp,
    ) -> Result<String, ServiceError> {
        let op = Operation::StartRecovery;
        let servers = &request.source_servers;
        if servers.is_empty() || servers.len() > MAX_SERVERS_PER_CALL {
            return Err(Self::error(
                op,
                "ValidationException",
                format!(
                    "sourceServers must hold 1 to {MAX_SERVERS_PER_CALL} servers, got {}",
                    servers.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = servers.iter().find(|s| !seen.insert(*s)) {
            return Err(Self::error(
                op,
                "ValidationException",
                format!("source server {dup} is listed more than once"),
            ));
        }
        let unknown: Vec<&str> = servers
            .iter()
            .filter(|s| !self.scenario.knows_server(s))
            .map(SourceServerId::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Self::error(
                op,
                "ResourceNotFoundException",
                format!("source servers not found: {}", unknown.join(", ")),
            ));
        }
        let mut chosen = BTreeMap::new();
        for (server, snapshot_id) in &request.recovery_snapshots {
            if !servers.contains(server) {
                return Err(Self::error(
                    op,
                    "ValidationException",
                    format!(
                        "recovery snapshot {snapshot_id} is asked for source server {server}, which is not in sourceServers; add the server or drop the snapshot"
                    ),
                ));
            }
            let held = snapshots_of(&self.scenario, st.started_at, server, now, (None, None));
            let Some(snapshot) = held.into_iter().find(|s| &s.snapshot_id == snapshot_id) else {
                return Err(Self::error(
                    op,
                    "ValidationException",
                    format!(
                        "recoverySnapshotID {snapshot_id} is not a point-in-time snapshot of source server {server} (another server's, expired, or never taken); pick one DescribeRecoverySnapshots lists for it"
                    ),
                ));
            };
            chosen.insert(server.clone(), snapshot.taken_at());
        }
        for job in st.active_jobs(now) {
            if let Some(busy) = job.server_ids().into_iter().find(|s| servers.contains(s)) {
                return Err(Self::error(
                    op,
                    "ConflictException",
                    format!(
                        "source server {busy} is already part of active job {}",
                        job.id
                    ),
                ));
            }
        }
        let quotas = &self.scenario.quotas;
        if servers.len() > quotas.servers_per_job {
            return Err(Self::error(
                op,
                "ServiceQuotaExceededException",
                format!(
                    "a job may hold at most {} servers, got {}",
                    quotas.servers_per_job,
                    servers.len()
                ),
            ));
        }
        let active = st.active_jobs(now).count();
        if active >= quotas.concurrent_jobs {
            return Err(Self::error(
                op,
                "ServiceQuotaExceededException",
                format!(
                    "{active} jobs are active; the quota is {}",
                    quotas.concurrent_jobs
                ),
            ));
        }
        let busy: usize = st.active_jobs(now).map(|j| j.server_ids().len()).sum();
        if busy + servers.len() > quotas.servers_in_active_jobs {
            return Err(Self::error(
                op,
                "ServiceQuotaExceededException",
                format!(
                    "{busy} servers are in active jobs and {} more would exceed the quota of {}",
                    servers.len(),
                    quotas.servers_in_active_jobs
                ),
            ));
        }

        let started = after(now, self.scenario.job_pending);
        let range = self.scenario.launch_duration;
        let plans = servers
            .iter()
            .map(|id| {
                let earlier = st
                    .jobs
                    .iter()
                    .filter(|j| matches!(j.kind, JobKind::Launch { .. }))
                    .filter(|j| j.server_ids().contains(&id))
                    .count();
                let spec = self.scenario.server(id).for_launch(earlier);
                let duration =
                    spec.launch_duration.unwrap_or_else(|| {
                        Duration::from_millis(st.rng.random_range(
                            range.min.as_millis() as u64..=range.max.as_millis() as u64,
                        ))
                    });
                let lag = Duration::from_secs(st.rng.random_range(5..=300));
                let private_ip = format!(
                    "10.0.{}.{}",
                    st.rng.random_range(0..=255u8),
                    st.rng.random_range(4..=254u8)
                );
                let public_ip = spec.public_ip.then(|| {
                    format!(
                        "54.{}.{}.{}",
                        st.rng.random_range(0..=255u8),
                        st.rng.random_range(0..=255u8),
                        st.rng.random_range(1..=254u8)
                    )
                });
                LaunchPlan {
                    source_server_id: id.clone(),
                    ends_at: after(started, duration),
                    recovery_instance_id: st.new_hex_id("i-"),
                    // An id reserved for this server (a real instance in an
                    // EC2 mirror) wins over a generated one.
                    ec2_instance_id: st
                        .take_reserved_ec2_instance_id(id)
                        .unwrap_or_else(|| st.new_hex_id("i-")),
                    private_ip,
                    public_ip,
                    snapshot_time: chosen.get(id).copied().unwrap_or_else(|| {
                        let lag = spec.replication_lag.unwrap_or(lag);
                        now - chrono::Duration::from_std(lag).unwrap_or_default()
                    }),
                    spec,
                }
            })
            .collect();
        let id = st.new_hex_id("drsjob-");
        st.jobs.push(Job {
            id: id.clone(),
            created: now,
            started,
            tags: request.tags.clone(),
            kind: JobKind::Launch {
                is_drill: request.is_drill,
                servers: plans,
            },
        });
        Ok(id)
    }
}
