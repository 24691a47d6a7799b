//! The simulated source servers: what DescribeSourceServers shows of each
//! (replication, lag, tags, the recovery instance an earlier launch left,
//! the last launch's result), each one's latest launch, and the
//! point-in-time snapshots DescribeRecoverySnapshots lists.

use crate::jobs::{JobKind, LastLaunch};
use crate::scenario::{Operation, ReplicationState};
use crate::simulator::Simulator;
use crate::snapshots::snapshots_of;
use crate::state::SimState;
use crate::world_store::SimWorldError;
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::{DrsLaunchStatus, LastLaunchResult, RecoverySnapshot, SourceServer};
use ripcord::service_error::ServiceError;
use ripcord::time::Timestamp;
use std::collections::BTreeMap;
use std::time::Duration;

impl Simulator {
    /// The latest launch of each of these servers that was ever launched,
    /// read without counting a call.
    pub fn last_launches(
        &self,
        servers: &[SourceServerId],
    ) -> Result<BTreeMap<SourceServerId, LastLaunch>, SimWorldError> {
        let now = self.clock.now();
        self.read(|st| {
            let mut latest = BTreeMap::new();
            for job in &st.jobs {
                let JobKind::Launch {
                    is_drill,
                    servers: plans,
                } = &job.kind
                else {
                    continue;
                };
                for s in plans
                    .iter()
                    .filter(|s| servers.contains(&s.source_server_id))
                {
                    let status = st.launch_status(job, s, now);
                    let live = status == DrsLaunchStatus::Launched;
                    latest.insert(
                        s.source_server_id.clone(),
                        LastLaunch {
                            job_id: job.id.clone(),
                            initiated: job.created,
                            is_drill: *is_drill,
                            status,
                            recovery_instance_id: live.then(|| s.recovery_instance_id.clone()),
                        },
                    );
                }
            }
            latest
        })
    }
}

/// `lastLaunchResult` from the launch status of the server's latest launch.
fn last_launch_result(status: Option<DrsLaunchStatus>) -> LastLaunchResult {
    match status {
        None => LastLaunchResult::NotStarted,
        Some(DrsLaunchStatus::Pending | DrsLaunchStatus::InProgress) => LastLaunchResult::Pending,
        Some(DrsLaunchStatus::Launched | DrsLaunchStatus::Terminated) => {
            LastLaunchResult::Succeeded
        }
        Some(DrsLaunchStatus::Failed) => LastLaunchResult::Failed,
    }
}

/// A lag as DRS writes it: `PT5M30S`, `PT1H`, `PT0S`.
pub(crate) fn iso8601_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = "PT".to_owned();
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}S"));
    }
    out
}

impl Simulator {
    /// DescribeSourceServers of these (known) servers: one counted call.
    pub(super) async fn source_servers(
        &self,
        ids: &[&SourceServerId],
    ) -> Result<Vec<SourceServer>, ServiceError> {
        self.call_read(Operation::DescribeSourceServers, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(ids
                .iter()
                .map(|id| self.source_server_view(st, id, now))
                .collect())
        })
        .await
    }

    fn source_server_view(
        &self,
        st: &SimState,
        id: &SourceServerId,
        now: Timestamp,
    ) -> SourceServer {
        let spec = self.scenario.server(id);
        let lag =
            spec.replication_lag
                .unwrap_or(if spec.replication == ReplicationState::Continuous {
                    Duration::ZERO
                } else {
                    Duration::from_secs(3600)
                });
        // Jobs are kept in creation order: the latest launch is the last.
        let latest = st.jobs.iter().rev().find_map(|job| {
            job.launch_servers()
                .iter()
                .find(|s| &s.source_server_id == id)
                .map(|s| st.launch_status(job, s, now))
        });
        let leftover = st
            .live_recovery_instances(now)
            .filter(|(_, s)| &s.source_server_id == id)
            .max_by_key(|(_, s)| s.ends_at)
            .map(|(_, s)| s.recovery_instance_id.clone());
        SourceServer {
            source_server_id: id.clone(),
            hostname: Some(self.scenario.hostname(id)),
            data_replication_state: spec.replication.as_str().to_owned(),
            lag_duration: Some(iso8601_duration(lag)),
            tags: spec.tags,
            recovery_instance_id: leftover,
            last_launch_result: Some(last_launch_result(latest)),
        }
    }

    /// DescribeRecoverySnapshots: the snapshots `server` holds, taken within
    /// `from..=to`, newest first, as they stood at `as_of` (default now; never
    /// later than now), and the instant used, so that a caller paging
    /// through them sees one unchanging list. One counted call. A server not
    /// in the account is a ValidationException (the model lists no
    /// ResourceNotFoundException for this operation).
    pub async fn recovery_snapshots(
        &self,
        server: &SourceServerId,
        window: (Option<Timestamp>, Option<Timestamp>),
        as_of: Option<Timestamp>,
    ) -> Result<(Vec<RecoverySnapshot>, Timestamp), ServiceError> {
        let op = Operation::DescribeRecoverySnapshots;
        self.call_read(op, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            if !self.scenario.knows_server(server) {
                return Err(Self::error(
                    op,
                    "ValidationException",
                    format!(
                        "source server {server} is not in this account; use an id DescribeSourceServers lists"
                    ),
                ));
            }
            let at = as_of.map_or(now, |t| t.min(now));
            Ok((
                snapshots_of(&self.scenario, st.started_at, server, at, window),
                at,
            ))
        }).await
    }
}
