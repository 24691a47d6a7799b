//! Simulated DRS: recovery jobs, their participating servers, job logs,
//! recovery instances, source servers and their point-in-time snapshots
//! (computed in `snapshots.rs`).
//!
//! A job decides everything at creation (when each server leaves PENDING,
//! when and how it ends, its ids and addresses) and every call reads the
//! state at the clock's `now`. A job is COMPLETED once every participating
//! server is terminal, whether the servers launched or failed: exactly the
//! trap of invariant 1 (docs/invariants.md). A `stuck` server keeps its job STARTED forever, a
//! `not_launched` one lets its job complete while it is still PENDING.

use crate::jobs::{Job, JobDetail, JobKind, LastLaunch, LaunchPlan};
use crate::scenario::{LaunchOutcome, Operation, ReplicationState};
use crate::simulator::Simulator;
use crate::snapshots::snapshots_of;
use crate::state::{SimState, StartOutcome, StartRecoveryCall};
use crate::world_store::SimWorldError;
use async_trait::async_trait;
use rand::Rng;
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::{
    DrsLaunchStatus, JobLogEvent, JobLogItem, JobStatus, LastLaunchResult, ParticipatingServer,
    RecoveryInstance, RecoveryJob, RecoveryService, RecoverySnapshot, SourceServer,
    StartRecoveryRequest,
};
use ripcord::service_error::ServiceError;
use ripcord::time::{Timestamp, after};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// StartRecovery and TerminateRecoveryInstances take 1 to this many servers.
const MAX_SERVERS_PER_CALL: usize = 200;

impl Simulator {
    /// These jobs (unknown ids left out) with their origin, read without
    /// counting a call or drawing a fault: the wire server's annotation of
    /// what a counted call answered.
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

impl SimState {
    fn terminated(&self, recovery_instance_id: &str, now: Timestamp) -> bool {
        self.terminations
            .get(recovery_instance_id)
            .is_some_and(|t| *t <= now)
    }

    fn launch_status(&self, job: &Job, s: &LaunchPlan, now: Timestamp) -> DrsLaunchStatus {
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

    fn job_view(&self, job: &Job, now: Timestamp) -> RecoveryJob {
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

    fn active_jobs(&self, now: Timestamp) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(move |j| j.is_active(now))
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

impl Simulator {
    /// Checks a StartRecovery request against the API, the inventory, the
    /// active jobs and the quotas, and creates its job.
    fn create_launch_job(
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
                let spec = self.scenario.server(id);
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

    fn job_by_id(st: &SimState, job_id: &str) -> Option<usize> {
        st.jobs.iter().position(|j| j.id == job_id)
    }
}

#[async_trait]
impl RecoveryService for Simulator {
    async fn start_recovery(
        &self,
        request: &StartRecoveryRequest,
    ) -> Result<RecoveryJob, ServiceError> {
        let outcome = self.call(Operation::StartRecovery, |st, now, fault| {
            // Throttling rejects before any work; a 500 may come after the work
            // was done (ambiguous_start), which only a lookup by tag can reveal.
            let ambiguous = fault.as_ref().is_some_and(|f| {
                f.code == super::faults::INTERNAL_SERVER && self.scenario.faults.ambiguous_start
            });
            let created = match &fault {
                Some(_) if !ambiguous => None,
                _ => Some(self.create_launch_job(st, request, now)),
            };
            let (outcome, result) = match (created, fault) {
                (None, Some(f)) => (
                    StartOutcome::Rejected {
                        code: f.code.clone(),
                    },
                    Err(f),
                ),
                (Some(Err(e)), _) => (
                    StartOutcome::Rejected {
                        code: e.code.clone(),
                    },
                    Err(e),
                ),
                (Some(Ok(job_id)), Some(f)) => (
                    StartOutcome::CreatedDespiteError {
                        job_id,
                        code: f.code.clone(),
                    },
                    Err(f),
                ),
                (Some(Ok(job_id)), None) => {
                    let job = st.jobs.last().expect("job just created");
                    let view = st.job_view(job, now);
                    (StartOutcome::Created { job_id }, Ok(view))
                }
                (None, None) => unreachable!("a call is only skipped when it faulted"),
            };
            st.start_calls.push(StartRecoveryCall {
                at: now,
                tags: request.tags.clone(),
                source_servers: request.source_servers.clone(),
                recovery_snapshots: request.recovery_snapshots.clone(),
                outcome: outcome.clone(),
            });
            // The outer result says whether a job exists, the inner one is the answer.
            Ok((outcome.job_id().is_some(), result))
        });
        let (created, result) = outcome?;
        if created {
            self.wake.notify_one();
        }
        result
    }

    async fn find_jobs_by_tags(
        &self,
        tags: &BTreeMap<String, String>,
        since: Timestamp,
    ) -> Result<Vec<RecoveryJob>, ServiceError> {
        self.call(Operation::DescribeJobs, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(st
                .jobs
                .iter()
                .filter(|j| {
                    j.created >= since && tags.iter().all(|(k, v)| j.tags.get(k) == Some(v))
                })
                .map(|j| st.job_view(j, now))
                .collect())
        })
    }

    async fn describe_jobs(&self, job_ids: &[String]) -> Result<Vec<RecoveryJob>, ServiceError> {
        self.call(Operation::DescribeJobs, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            // Like the DescribeJobs filter: unknown ids are simply not in the answer.
            Ok(job_ids
                .iter()
                .filter_map(|id| Self::job_by_id(st, id))
                .map(|i| st.job_view(&st.jobs[i], now))
                .collect())
        })
    }

    async fn describe_job_log_items(&self, job_id: &str) -> Result<Vec<JobLogItem>, ServiceError> {
        let op = Operation::DescribeJobLogItems;
        self.call(op, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            let Some(i) = Self::job_by_id(st, job_id) else {
                return Err(Self::error(
                    op,
                    "ResourceNotFoundException",
                    format!("job {job_id} not found"),
                ));
            };
            let job = &st.jobs[i];
            let item =
                |event: JobLogEvent, at: Timestamp, server: Option<&LaunchPlan>| JobLogItem {
                    event,
                    event_time: Some(at),
                    source_server_id: server.map(|s| s.source_server_id.clone()),
                    target_instance_id: None,
                    raw_error: None,
                };
            let mut items = vec![item(JobLogEvent::JobStart, job.created, None)];
            for s in job.launch_servers() {
                if s.spec.outcome != LaunchOutcome::NotLaunched && job.started <= now {
                    items.push(item(JobLogEvent::LaunchStart, job.started, Some(s)));
                }
                if s.spec.outcome == LaunchOutcome::LaunchFailed && s.ends_at <= now {
                    items.push(JobLogItem {
                        raw_error: Some(s.spec.error.clone()),
                        ..item(s.spec.event.job_log_event(), s.ends_at, Some(s))
                    });
                }
            }
            if job.status(now) == JobStatus::Completed {
                let end = job.end_time().unwrap_or(now);
                items.push(item(JobLogEvent::JobEnd, end, None));
            }
            items.sort_by_key(|i| i.event_time);
            Ok(items)
        })
    }

    async fn describe_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        self.call(Operation::DescribeRecoveryInstances, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            // A terminated recovery instance leaves DRS, as it does in AWS.
            Ok(st
                .live_recovery_instances(now)
                .filter(|(_, s)| {
                    recovery_instance_ids.is_empty()
                        || recovery_instance_ids.contains(&s.recovery_instance_id)
                })
                .map(|(job, s)| recovery_instance(job, s))
                .collect())
        })
    }

    async fn describe_recovery_instances_of_servers(
        &self,
        source_server_ids: &[SourceServerId],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        if source_server_ids.is_empty() {
            return Ok(Vec::new());
        }
        self.call(Operation::DescribeRecoveryInstances, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(st
                .live_recovery_instances(now)
                .filter(|(_, s)| source_server_ids.contains(&s.source_server_id))
                .map(|(job, s)| recovery_instance(job, s))
                .collect())
        })
    }

    async fn describe_source_servers(
        &self,
        ids: &[SourceServerId],
    ) -> Result<Vec<SourceServer>, ServiceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let known: Vec<&SourceServerId> = ids
            .iter()
            .filter(|id| self.scenario.knows_server(id))
            .collect();
        self.source_servers(&known)
    }

    async fn list_source_servers(&self) -> Result<Vec<SourceServer>, ServiceError> {
        // Without strict inventory any id exists, but only the listed ones
        // can be listed.
        let listed: Vec<&SourceServerId> = self.scenario.servers.by_id.keys().collect();
        self.source_servers(&listed)
    }

    async fn describe_recovery_snapshots(
        &self,
        source_server_id: &SourceServerId,
        before: Option<Timestamp>,
    ) -> Result<Vec<RecoverySnapshot>, ServiceError> {
        self.recovery_snapshots(source_server_id, (None, before), None)
            .map(|(snapshots, _)| snapshots)
    }

    async fn terminate_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<String, ServiceError> {
        let op = Operation::TerminateRecoveryInstances;
        self.call(op, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            if recovery_instance_ids.is_empty()
                || recovery_instance_ids.len() > MAX_SERVERS_PER_CALL
            {
                return Err(Self::error(
                    op,
                    "ValidationException",
                    format!(
                        "recoveryInstanceIDs must hold 1 to {MAX_SERVERS_PER_CALL} ids, got {}",
                        recovery_instance_ids.len()
                    ),
                ));
            }
            let live: BTreeMap<&str, &SourceServerId> = st
                .live_recovery_instances(now)
                .map(|(_, s)| (s.recovery_instance_id.as_str(), &s.source_server_id))
                .collect();
            let mut targets = Vec::new();
            let mut unknown = Vec::new();
            for ri in recovery_instance_ids {
                match live.get(ri.as_str()) {
                    Some(server) => targets.push(((*server).clone(), ri.clone())),
                    None => unknown.push(ri.as_str()),
                }
            }
            if !unknown.is_empty() {
                return Err(Self::error(
                    op,
                    "ResourceNotFoundException",
                    format!(
                        "recovery instances not found (never launched or already terminated): {}",
                        unknown.join(", ")
                    ),
                ));
            }
            let started = after(now, self.scenario.job_pending);
            let done_at = after(started, self.scenario.terminate_duration);
            for (_, ri) in &targets {
                let t = st.terminations.entry(ri.clone()).or_insert(done_at);
                *t = (*t).min(done_at);
            }
            let id = st.new_hex_id("drsjob-");
            st.jobs.push(Job {
                id: id.clone(),
                created: now,
                started,
                tags: BTreeMap::new(),
                kind: JobKind::Terminate { targets, done_at },
            });
            Ok(id)
        })
    }
}

fn recovery_instance(job: &Job, s: &LaunchPlan) -> RecoveryInstance {
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
    fn source_servers(&self, ids: &[&SourceServerId]) -> Result<Vec<SourceServer>, ServiceError> {
        self.call(Operation::DescribeSourceServers, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(ids
                .iter()
                .map(|id| self.source_server_view(st, id, now))
                .collect())
        })
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
    pub fn recovery_snapshots(
        &self,
        server: &SourceServerId,
        window: (Option<Timestamp>, Option<Timestamp>),
        as_of: Option<Timestamp>,
    ) -> Result<(Vec<RecoverySnapshot>, Timestamp), ServiceError> {
        let op = Operation::DescribeRecoverySnapshots;
        self.call(op, |st, now, fault| {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{mins, server, sim, start, t0, wave_tags};
    use super::*;
    use ripcord::ports::ec2::InstanceDirectory;
    use ripcord::ports::ssm::CommandRunner;
    use ripcord::service_error::ErrorClass;

    const FIXED: &str = "job_pending: 10s\nlaunch_duration: { min: 3m, max: 3m }\n";

    async fn job(sim: &Simulator, id: &str) -> RecoveryJob {
        let mut jobs = sim.describe_jobs(&[id.to_owned()]).await.unwrap();
        assert_eq!(jobs.len(), 1);
        jobs.remove(0)
    }

    fn statuses(job: &RecoveryJob) -> Vec<DrsLaunchStatus> {
        job.participating_servers
            .iter()
            .map(|s| s.launch_status)
            .collect()
    }

    #[tokio::test]
    async fn a_server_goes_pending_in_progress_launched() {
        let (sim, clock) = sim(FIXED);
        let created = sim.start_recovery(&start(&[server(1)], 1)).await.unwrap();
        assert!(created.job_id.starts_with("drsjob-") && created.job_id.len() == 24);
        assert_eq!(created.status, JobStatus::Pending);
        assert_eq!(created.tags, wave_tags(1));
        assert_eq!(statuses(&created), [DrsLaunchStatus::Pending]);

        clock.advance(Duration::from_secs(10));
        let j = job(&sim, &created.job_id).await;
        assert_eq!(j.status, JobStatus::Started);
        assert_eq!(statuses(&j), [DrsLaunchStatus::InProgress]);
        assert_eq!(j.participating_servers[0].recovery_instance_id, None);
        assert!(
            sim.describe_recovery_instances(&[])
                .await
                .unwrap()
                .is_empty()
        );

        clock.advance(mins(3));
        let j = job(&sim, &created.job_id).await;
        assert_eq!(j.status, JobStatus::Completed);
        assert_eq!(
            j.end_time,
            Some(clock_at(mins(3) + Duration::from_secs(10)))
        );
        assert_eq!(statuses(&j), [DrsLaunchStatus::Launched]);
        let ri = j.participating_servers[0]
            .recovery_instance_id
            .clone()
            .unwrap();
        assert!(ri.starts_with("i-") && ri.len() == 19, "{ri}");

        let instances = sim
            .describe_recovery_instances(std::slice::from_ref(&ri))
            .await
            .unwrap();
        assert_eq!(instances.len(), 1);
        let inst = &instances[0];
        let ec2_id = inst.ec2_instance_id.clone().unwrap();
        assert!(ec2_id.starts_with("i-") && ec2_id.len() == 19 && ec2_id != ri);
        assert_eq!(inst.ec2_instance_state.as_deref(), Some("RUNNING"));
        assert_eq!(inst.job_id.as_deref(), Some(created.job_id.as_str()));
        assert_eq!(inst.source_server_id, server(1));
        assert!(inst.is_drill);
        let snapshot = inst.point_in_time_snapshot.unwrap();
        assert!(snapshot < t0() && snapshot > t0() - chrono::Duration::minutes(10));

        let ec2 = sim
            .describe_instances(std::slice::from_ref(&ec2_id))
            .await
            .unwrap();
        assert_eq!(ec2[0].instance_type, "t3.medium");
        assert_eq!(ec2[0].state, "running");
        assert!(
            ec2[0]
                .private_ip_address
                .as_deref()
                .unwrap()
                .starts_with("10.0.")
        );
        assert_eq!(ec2[0].public_ip_address, None);
        assert_eq!(ec2[0].availability_zone.as_deref(), Some("us-east-1a"));
        assert_eq!(ec2[0].launch_time, j.end_time);

        let checks = sim
            .describe_instance_status(std::slice::from_ref(&ec2_id))
            .await
            .unwrap();
        assert_eq!(
            checks[0].instance_status,
            ripcord::ports::ec2::InstanceCheck::Initializing
        );
        assert!(
            sim.describe_instance_information(std::slice::from_ref(&ec2_id))
                .await
                .unwrap()
                .is_empty()
        );
        clock.advance(Duration::from_secs(30));
        let agents = sim
            .describe_instance_information(std::slice::from_ref(&ec2_id))
            .await
            .unwrap();
        assert!(agents[0].is_online());
        clock.advance(Duration::from_secs(30));
        assert!(sim.describe_instance_status(&[ec2_id]).await.unwrap()[0].is_ok());
    }

    fn clock_at(d: Duration) -> Timestamp {
        after(t0(), d)
    }

    #[tokio::test]
    async fn a_job_completes_while_a_server_failed() {
        let (sim, clock) = sim(&format!(
            "{FIXED}servers:\n  s-1234567890abcdef0: {{ outcome: launch_failed, event: CONVERSION_FAIL, error: \"Failed to convert boot volume\" }}\n"
        ));
        let id = sim
            .start_recovery(&start(&[server(0), server(1)], 1))
            .await
            .unwrap()
            .job_id;
        clock.advance(mins(4));
        let j = job(&sim, &id).await;
        assert_eq!(
            j.status,
            JobStatus::Completed,
            "a job COMPLETED with a failed server (invariant 1)"
        );
        assert_eq!(
            statuses(&j),
            [DrsLaunchStatus::Failed, DrsLaunchStatus::Launched]
        );
        assert_eq!(j.participating_servers[0].recovery_instance_id, None);

        let log = sim.describe_job_log_items(&id).await.unwrap();
        let events: Vec<&str> = log.iter().map(|i| i.event.as_str()).collect();
        assert_eq!(
            events,
            [
                "JOB_START",
                "LAUNCH_START",
                "LAUNCH_START",
                "CONVERSION_FAIL",
                "JOB_END"
            ]
        );
        let fail = &log[3];
        assert!(fail.is_failure());
        assert_eq!(fail.source_server_id, Some(server(0)));
        assert_eq!(
            fail.raw_error.as_deref(),
            Some("Failed to convert boot volume")
        );
        let missing = sim.describe_job_log_items("drsjob-00000000000000000").await;
        assert_eq!(missing.unwrap_err().code, "ResourceNotFoundException");
    }

    #[tokio::test]
    async fn a_stuck_server_keeps_its_job_started() {
        let (sim, clock) = sim(&format!(
            "{FIXED}servers:\n  s-1234567890abcdef1: {{ outcome: stuck }}\n"
        ));
        let id = sim
            .start_recovery(&start(&[server(1), server(2)], 1))
            .await
            .unwrap()
            .job_id;
        clock.advance(mins(600));
        let j = job(&sim, &id).await;
        assert_eq!(j.status, JobStatus::Started);
        assert_eq!(j.end_time, None);
        assert_eq!(
            statuses(&j),
            [DrsLaunchStatus::InProgress, DrsLaunchStatus::Launched]
        );
        let log = sim.describe_job_log_items(&id).await.unwrap();
        assert!(log.iter().all(|i| i.event != JobLogEvent::JobEnd));
        let again = sim
            .start_recovery(&start(&[server(1)], 1))
            .await
            .unwrap_err();
        assert_eq!(again.code, "ConflictException");
    }

    #[tokio::test]
    async fn a_not_launched_server_stays_pending_in_a_completed_job() {
        let (sim, clock) = sim(&format!(
            "{FIXED}servers:\n  s-1234567890abcdef3: {{ outcome: not_launched }}\n"
        ));
        let id = sim
            .start_recovery(&start(&[server(3), server(4)], 1))
            .await
            .unwrap()
            .job_id;
        clock.advance(mins(1));
        assert_eq!(job(&sim, &id).await.status, JobStatus::Started);
        clock.advance(mins(3));
        let j = job(&sim, &id).await;
        assert_eq!(j.status, JobStatus::Completed);
        assert_eq!(
            statuses(&j),
            [DrsLaunchStatus::Pending, DrsLaunchStatus::Launched]
        );
        let log = sim.describe_job_log_items(&id).await.unwrap();
        let starts: Vec<_> = log
            .iter()
            .filter(|i| i.event == JobLogEvent::LaunchStart)
            .map(|i| i.source_server_id.clone().unwrap())
            .collect();
        assert_eq!(starts, [server(4)]);
    }

    #[tokio::test]
    async fn a_server_in_an_active_job_cannot_be_started_again() {
        let (sim, clock) = sim(FIXED);
        let first = sim
            .start_recovery(&start(&[server(1), server(2)], 1))
            .await
            .unwrap();
        let err = sim
            .start_recovery(&start(&[server(3), server(2)], 2))
            .await
            .unwrap_err();
        assert_eq!(err.code, "ConflictException");
        assert_eq!(err.class, ErrorClass::Permanent);
        assert!(err.message.contains(&first.job_id), "{}", err.message);
        clock.advance(mins(4));
        let later = sim.start_recovery(&start(&[server(2)], 2)).await.unwrap();
        let calls = sim.start_recovery_calls();
        let outcomes: Vec<_> = calls.iter().map(|c| c.outcome.clone()).collect();
        assert_eq!(
            outcomes,
            [
                StartOutcome::Created {
                    job_id: first.job_id
                },
                StartOutcome::Rejected {
                    code: "ConflictException".into()
                },
                StartOutcome::Created {
                    job_id: later.job_id
                },
            ]
        );
        assert_eq!(calls[1].source_servers, [server(3), server(2)]);
        assert_eq!(calls[1].tags, wave_tags(2));
        assert_eq!(sim.call_count(Operation::StartRecovery), 3);
    }

    #[tokio::test]
    async fn start_recovery_validates_its_request() {
        let (sim, _) = sim(
            "strict_inventory: true\nquotas: { servers_per_job: 2 }\nservers:\n  s-1234567890abcdef1: {}\n  s-1234567890abcdef2: {}\n  s-1234567890abcdef3: {}\n",
        );
        let code = |r: Result<RecoveryJob, ServiceError>| r.unwrap_err().code;
        assert_eq!(
            code(sim.start_recovery(&start(&[], 1)).await),
            "ValidationException"
        );
        let many: Vec<_> = (0..201).map(|_| server(1)).collect();
        assert_eq!(
            code(sim.start_recovery(&start(&many, 1)).await),
            "ValidationException"
        );
        assert_eq!(
            code(sim.start_recovery(&start(&[server(1), server(1)], 1)).await),
            "ValidationException"
        );
        let unknown = sim
            .start_recovery(&start(&[server(1), server(9)], 1))
            .await
            .unwrap_err();
        assert_eq!(unknown.code, "ResourceNotFoundException");
        assert!(unknown.message.contains(server(9).as_str()));
        assert_eq!(
            code(
                sim.start_recovery(&start(&[server(1), server(2), server(3)], 1))
                    .await
            ),
            "ServiceQuotaExceededException"
        );
        assert!(
            sim.start_recovery(&start(&[server(1), server(2)], 1))
                .await
                .is_ok()
        );
        assert!(
            sim.start_recovery_calls()
                .iter()
                .filter(|c| c.outcome.job_id().is_some())
                .count()
                == 1
        );
    }

    #[tokio::test]
    async fn an_ambiguous_start_creates_the_job_that_a_tag_lookup_finds() {
        let (sim, clock) = sim(
            "faults: { server_error_rate: 1.0, operations: [StartRecovery], ambiguous_start: true }\n",
        );
        clock.advance(mins(1));
        let err = sim
            .start_recovery(&start(&[server(1)], 1))
            .await
            .unwrap_err();
        assert_eq!(err.code, "InternalServerException");
        assert!(err.class.is_retryable());
        let found = sim.find_jobs_by_tags(&wave_tags(1), t0()).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].participating_servers[0].source_server_id,
            server(1)
        );
        let calls = sim.start_recovery_calls();
        assert_eq!(
            calls[0].outcome,
            StartOutcome::CreatedDespiteError {
                job_id: found[0].job_id.clone(),
                code: "InternalServerException".into()
            }
        );
        assert!(
            sim.find_jobs_by_tags(&wave_tags(2), t0())
                .await
                .unwrap()
                .is_empty()
        );
        let later = after(t0(), mins(2));
        assert!(
            sim.find_jobs_by_tags(&wave_tags(1), later)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_plain_server_error_creates_nothing() {
        let (sim, _) = sim("faults: { server_error_rate: 1.0, operations: [StartRecovery] }\n");
        let err = sim
            .start_recovery(&start(&[server(1)], 1))
            .await
            .unwrap_err();
        assert_eq!(err.code, "InternalServerException");
        assert!(
            sim.find_jobs_by_tags(&wave_tags(1), t0())
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            sim.start_recovery_calls()[0].outcome,
            StartOutcome::Rejected {
                code: "InternalServerException".into()
            }
        );
    }

    #[tokio::test]
    async fn faults_follow_their_rate_and_window() {
        let (sim, clock) =
            sim("seed: 3\nfaults: { throttling_rate: 0.3, retry_after: 2s, until: 10m }\n");
        let mut throttled = 0;
        for _ in 0..1000 {
            if let Err(e) = sim.describe_jobs(&[]).await {
                assert_eq!(e.code, "ThrottlingException");
                assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
                throttled += 1;
            }
        }
        assert!(
            (240..360).contains(&throttled),
            "{throttled} of 1000 throttled"
        );
        clock.advance(mins(10));
        for _ in 0..200 {
            sim.describe_jobs(&[]).await.expect("the storm is over");
        }
        assert_eq!(sim.calls().get(&Operation::DescribeJobs), Some(&1200));
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_run() {
        async fn run(seed: u64) -> Vec<String> {
            let (sim, clock) = sim(&format!("seed: {seed}\n"));
            let id = sim
                .start_recovery(&start(&[server(1), server(2)], 1))
                .await
                .unwrap()
                .job_id;
            clock.advance(mins(6));
            let j = job(&sim, &id).await;
            let mut out = vec![id, format!("{:?}", j.end_time)];
            out.extend(
                j.participating_servers
                    .into_iter()
                    .filter_map(|s| s.recovery_instance_id),
            );
            out
        }
        assert_eq!(run(42).await, run(42).await);
        assert_ne!(run(42).await, run(43).await);
    }

    #[tokio::test]
    async fn terminated_recovery_instances_go_away() {
        let (sim, clock) = sim(&format!("{FIXED}terminate_duration: 1m\n"));
        let id = sim
            .start_recovery(&start(&[server(1)], 1))
            .await
            .unwrap()
            .job_id;
        clock.advance(mins(4));
        let ri = job(&sim, &id).await.participating_servers[0]
            .recovery_instance_id
            .clone()
            .unwrap();
        let ec2_id = sim.describe_recovery_instances(&[]).await.unwrap()[0]
            .ec2_instance_id
            .clone()
            .unwrap();
        let missing = sim
            .terminate_recovery_instances(&["i-00000000000000000".into()])
            .await
            .unwrap_err();
        assert_eq!(missing.code, "ResourceNotFoundException");
        let termination = sim
            .terminate_recovery_instances(std::slice::from_ref(&ri))
            .await
            .unwrap();
        assert_eq!(job(&sim, &termination).await.status, JobStatus::Pending);
        assert_eq!(
            sim.describe_recovery_instances(std::slice::from_ref(&ri))
                .await
                .unwrap()
                .len(),
            1
        );

        clock.advance(Duration::from_secs(70));
        assert_eq!(job(&sim, &termination).await.status, JobStatus::Completed);
        assert!(
            sim.describe_recovery_instances(std::slice::from_ref(&ri))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            statuses(&job(&sim, &id).await),
            [DrsLaunchStatus::Terminated]
        );
        assert_eq!(
            sim.describe_instances(std::slice::from_ref(&ec2_id))
                .await
                .unwrap()[0]
                .state,
            "terminated"
        );
        assert!(
            sim.describe_instance_status(&[ec2_id])
                .await
                .unwrap()
                .is_empty()
        );
        let again = sim.terminate_recovery_instances(&[ri]).await.unwrap_err();
        assert_eq!(again.code, "ResourceNotFoundException");
    }

    #[tokio::test]
    async fn source_servers_report_their_replication() {
        let (lenient, _) =
            sim("servers:\n  s-1234567890abcdef2: { replication: STALLED, hostname: db-1 }\n");
        let servers = lenient
            .describe_source_servers(&[server(1), server(2)])
            .await
            .unwrap();
        assert_eq!(servers[0].data_replication_state, "CONTINUOUS");
        assert_eq!(servers[1].data_replication_state, "STALLED");
        assert_eq!(servers[1].hostname.as_deref(), Some("db-1"));
        let (strict, _) = sim("strict_inventory: true\nservers:\n  s-1234567890abcdef2: {}\n");
        let known = strict
            .describe_source_servers(&[server(1), server(2)])
            .await
            .unwrap();
        assert_eq!(known.len(), 1);
        assert_eq!(known[0].source_server_id, server(2));
    }
    #[tokio::test]
    async fn source_servers_report_tags_lag_and_their_last_launch() {
        let (sim, clock) = sim(&format!(
            "{FIXED}strict_inventory: true\nservers:\n  s-1234567890abcdef1: {{ tags: {{ app: billing }}, replication_lag: 5m30s }}\n  s-1234567890abcdef2: {{ replication: STALLED }}\n  s-1234567890abcdef3: {{ outcome: launch_failed }}\n"
        ));
        let all = sim.list_source_servers().await.unwrap();
        let ids: Vec<_> = all.iter().map(|s| s.source_server_id.clone()).collect();
        assert_eq!(ids, [server(1), server(2), server(3)]);
        assert_eq!(all[0].tags.get("app").map(String::as_str), Some("billing"));
        assert_eq!(all[0].lag_duration.as_deref(), Some("PT5M30S"));
        assert_eq!(all[0].lag(), Ok(Some(Duration::from_secs(330))));
        assert_eq!(all[1].lag_duration.as_deref(), Some("PT1H"));
        assert_eq!(all[2].lag_duration.as_deref(), Some("PT0S"));
        assert!(all.iter().all(|s| s.recovery_instance_id.is_none()
            && s.last_launch_result == Some(LastLaunchResult::NotStarted)));
        assert!(sim.describe_source_servers(&[]).await.unwrap().is_empty());
        assert_eq!(
            sim.call_count(Operation::DescribeSourceServers),
            1,
            "no ids, no call"
        );

        sim.start_recovery(&start(&[server(1), server(3)], 1))
            .await
            .unwrap();
        let pending = sim.describe_source_servers(&[server(1)]).await.unwrap();
        assert_eq!(
            pending[0].last_launch_result,
            Some(LastLaunchResult::Pending)
        );
        clock.advance(mins(4));
        let done = sim
            .describe_source_servers(&[server(1), server(3), server(9)])
            .await
            .unwrap();
        assert_eq!(done.len(), 2, "an unknown id is left out");
        assert_eq!(
            done[0].last_launch_result,
            Some(LastLaunchResult::Succeeded)
        );
        let launched = sim
            .describe_recovery_instances_of_servers(&[server(1)])
            .await
            .unwrap();
        assert_eq!(
            done[0].recovery_instance_id.as_deref(),
            Some(launched[0].recovery_instance_id.as_str())
        );
        assert_eq!(done[1].last_launch_result, Some(LastLaunchResult::Failed));
        assert_eq!(done[1].recovery_instance_id, None);
    }

    #[tokio::test]
    async fn a_leftover_recovery_instance_is_there_from_the_start() {
        let (sim, _) = sim(
            "servers:\n  s-1234567890abcdef1: { leftover_recovery_instance: true }\n  s-1234567890abcdef2: {}\n",
        );
        let leftovers = sim
            .describe_recovery_instances_of_servers(&[server(1), server(2)])
            .await
            .unwrap();
        assert_eq!(leftovers.len(), 1);
        let left = &leftovers[0];
        assert_eq!(left.source_server_id, server(1));
        assert!(left.is_drill);
        assert!(left.point_in_time_snapshot.unwrap() < t0() - chrono::Duration::hours(23));
        let servers = sim.list_source_servers().await.unwrap();
        assert_eq!(
            servers[0].recovery_instance_id.as_deref(),
            Some(left.recovery_instance_id.as_str())
        );
        assert_eq!(
            servers[0].last_launch_result,
            Some(LastLaunchResult::Succeeded)
        );
        assert_eq!(servers[1].recovery_instance_id, None);
        let ec2_id = left.ec2_instance_id.clone().unwrap();
        let ec2 = sim.describe_instances(&[ec2_id]).await.unwrap();
        assert_eq!(ec2[0].state, "running");
        assert!(
            sim.describe_recovery_instances_of_servers(&[])
                .await
                .unwrap()
                .is_empty(),
            "no ids, nothing"
        );
        assert_eq!(sim.call_count(Operation::DescribeRecoveryInstances), 1);
        // It can be cleaned up like any recovery instance.
        sim.terminate_recovery_instances(std::slice::from_ref(&left.recovery_instance_id))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn snapshots_are_listed_newest_first_and_bounded_by_before() {
        let (sim, clock) = sim(
            "strict_inventory: true\nsnapshots: { every: 10m, newest_age: 2m, retention: 1h }\nservers:\n  s-1234567890abcdef1: {}\n  s-1234567890abcdef2: { newest_snapshot_age: 3h, replication: STALLED }\n",
        );
        let all = sim
            .describe_recovery_snapshots(&server(1), None)
            .await
            .unwrap();
        assert_eq!(all.len(), 6);
        assert_eq!(
            all[0].expected_timestamp,
            t0() - chrono::Duration::minutes(2)
        );
        let before = sim
            .describe_recovery_snapshots(&server(1), Some(t0() - chrono::Duration::minutes(15)))
            .await
            .unwrap();
        assert_eq!(before[0], all[2], "the newest at or before `before`");
        assert!(
            sim.describe_recovery_snapshots(&server(2), None)
                .await
                .unwrap()
                .is_empty(),
            "3h old, kept 1h"
        );
        clock.advance(mins(10));
        let moved = sim
            .describe_recovery_snapshots(&server(1), None)
            .await
            .unwrap();
        assert_eq!(moved[1], all[0]);
        let unknown = sim
            .describe_recovery_snapshots(&server(9), None)
            .await
            .unwrap_err();
        assert_eq!(unknown.code, "ValidationException");
        assert!(
            unknown.message.contains(server(9).as_str()),
            "{}",
            unknown.message
        );
        assert_eq!(sim.call_count(Operation::DescribeRecoverySnapshots), 5);
    }

    #[tokio::test]
    async fn a_launch_from_a_snapshot_takes_its_point_in_time() {
        let (sim, clock) = sim(FIXED);
        let snapshots = sim
            .describe_recovery_snapshots(&server(1), None)
            .await
            .unwrap();
        let other = sim
            .describe_recovery_snapshots(&server(2), None)
            .await
            .unwrap();
        let chosen = &snapshots[3];
        let mut request = start(&[server(1), server(2)], 1);
        request
            .recovery_snapshots
            .insert(server(1), other[0].snapshot_id.clone());
        let err = sim.start_recovery(&request).await.unwrap_err();
        assert_eq!(err.code, "ValidationException");
        assert!(
            err.message.contains("DescribeRecoverySnapshots"),
            "{}",
            err.message
        );
        request.recovery_snapshots = BTreeMap::from([(server(3), chosen.snapshot_id.clone())]);
        let err = sim.start_recovery(&request).await.unwrap_err();
        assert_eq!(err.code, "ValidationException");

        request.recovery_snapshots = BTreeMap::from([(server(1), chosen.snapshot_id.clone())]);
        sim.start_recovery(&request).await.unwrap();
        clock.advance(mins(4));
        let instances = sim
            .describe_recovery_instances_of_servers(&[server(1), server(2)])
            .await
            .unwrap();
        let of = |n| {
            instances
                .iter()
                .find(|i| i.source_server_id == server(n))
                .unwrap()
        };
        assert_eq!(of(1).point_in_time_snapshot, Some(chosen.taken_at()));
        assert!(of(2).point_in_time_snapshot.unwrap() > t0() - chrono::Duration::minutes(10));
        let calls = sim.start_recovery_calls();
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[2].recovery_snapshots, request.recovery_snapshots);
        assert!(calls[0].outcome.job_id().is_none());
    }

    #[tokio::test]
    async fn snapshot_listing_faults_by_its_own_name() {
        let (sim, _) =
            sim("faults: { throttling_rate: 1.0, operations: [DescribeRecoverySnapshots] }\n");
        let err = sim
            .describe_recovery_snapshots(&server(1), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, "ThrottlingException");
        assert!(sim.list_source_servers().await.is_ok());
    }
}
