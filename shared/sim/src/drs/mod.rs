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
//!
//! This file is the port itself ([`RecoveryService`] on the [`Simulator`]);
//! the rest is by concept:
//!
//! - `launch.rs`: what StartRecovery checks, and the launch job it creates;
//! - `job_views.rs`: what DRS shows of a job at an instant;
//! - `recovery_instances.rs`: which recovery instances exist at an instant;
//! - `source_servers.rs`: source servers, their last launches and their
//!   point-in-time snapshots.

mod job_views;
mod launch;
mod recovery_instances;
mod source_servers;
#[cfg(test)]
mod tests;

use crate::jobs::{Job, JobKind, LaunchPlan};
use crate::scenario::{LaunchOutcome, Operation};
use crate::simulator::Simulator;
use crate::state::{StartOutcome, StartRecoveryCall};
use async_trait::async_trait;
use launch::MAX_SERVERS_PER_CALL;
use recovery_instances::recovery_instance;
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::{
    JobLogEvent, JobLogItem, JobStatus, RecoveryInstance, RecoveryJob, RecoveryService,
    RecoverySnapshot, SourceServer, StartRecoveryRequest,
};
use ripcord::service_error::ServiceError;
use ripcord::time::{Timestamp, after};
use std::collections::BTreeMap;

#[async_trait]
impl RecoveryService for Simulator {
    async fn start_recovery(
        &self,
        request: &StartRecoveryRequest,
    ) -> Result<RecoveryJob, ServiceError> {
        let outcome = self
            .call(Operation::StartRecovery, |st, now, fault| {
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
            })
            .await;
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
        self.call_read(Operation::DescribeJobs, |st, now, fault| {
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
        .await
    }

    async fn describe_jobs(&self, job_ids: &[String]) -> Result<Vec<RecoveryJob>, ServiceError> {
        self.call_read(Operation::DescribeJobs, |st, now, fault| {
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
        .await
    }

    async fn describe_job_log_items(&self, job_id: &str) -> Result<Vec<JobLogItem>, ServiceError> {
        let op = Operation::DescribeJobLogItems;
        self.call_read(op, |st, now, fault| {
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
        .await
    }

    async fn describe_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        self.call_read(Operation::DescribeRecoveryInstances, |st, now, fault| {
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
        .await
    }

    async fn describe_recovery_instances_of_servers(
        &self,
        source_server_ids: &[SourceServerId],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        if source_server_ids.is_empty() {
            return Ok(Vec::new());
        }
        self.call_read(Operation::DescribeRecoveryInstances, |st, now, fault| {
            if let Some(f) = fault {
                return Err(f);
            }
            Ok(st
                .live_recovery_instances(now)
                .filter(|(_, s)| source_server_ids.contains(&s.source_server_id))
                .map(|(job, s)| recovery_instance(job, s))
                .collect())
        })
        .await
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
        self.source_servers(&known).await
    }

    async fn list_source_servers(&self) -> Result<Vec<SourceServer>, ServiceError> {
        // Without strict inventory any id exists, but only the listed ones
        // can be listed.
        let listed: Vec<&SourceServerId> = self.scenario.servers.by_id.keys().collect();
        self.source_servers(&listed).await
    }

    async fn describe_recovery_snapshots(
        &self,
        source_server_id: &SourceServerId,
        before: Option<Timestamp>,
    ) -> Result<Vec<RecoverySnapshot>, ServiceError> {
        self.recovery_snapshots(source_server_id, (None, before), None)
            .await
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
        .await
    }
}
