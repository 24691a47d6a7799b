//! The recovery service on AWS Elastic Disaster Recovery: StartRecovery for
//! a wave (optionally from chosen point-in-time snapshots), DescribeJobs (by
//! id, or by tag to find a launch whose answer was lost), the job log,
//! recovery instances (by id or by source server), source servers (by id or
//! all of them), recovery snapshots and drill clean-up, over the official
//! `aws-sdk-drs` client.
//!
//! Every list call follows `nextToken` through all pages (a later page DRS
//! throttles is asked again in place: `crate::pages`), and id filters are
//! sent in chunks no larger than the API takes. An empty id filter means
//! "everything" to DRS, so the adapter never sends one by accident.

use crate::error::service_error;
use crate::pages::every_page;
use crate::timestamps::{format_iso8601, parse_drs_time};
use async_trait::async_trait;
use aws_sdk_drs::Client;
use aws_sdk_drs::types::{
    DescribeJobsRequestFilters, DescribeRecoveryInstancesRequestFilters,
    DescribeRecoverySnapshotsRequestFilters, DescribeSourceServersRequestFilters, Job, JobLog,
    LaunchStatus, RecoveryInstance as SdkInstance, RecoverySnapshot as SdkSnapshot,
    RecoverySnapshotsOrder, SourceServer as SdkSourceServer, StartRecoveryRequestSourceServer,
};
use ripcord::ids::SourceServerId;
use ripcord::ports::RecoveryService;
use ripcord::ports::drs::{
    DrsLaunchStatus, JobLogEvent, JobLogItem, JobStatus, LastLaunchResult, ParticipatingServer,
    RecoveryInstance, RecoveryJob, RecoverySnapshot, SourceServer, StartRecoveryRequest,
};
use ripcord::service_error::{ErrorClass, ServiceError};
use ripcord::time::Timestamp;
use std::collections::BTreeMap;

const SERVICE: &str = "drs";

/// StartRecovery and TerminateRecoveryInstances take 1 to this many servers
/// (the core asks for at most 100, the usual per-job quota).
pub const MAX_SERVERS_PER_CALL: usize = 200;
/// DescribeJobs' `filters.jobIDs` holds at most this many ids.
pub const MAX_JOB_IDS_PER_CALL: usize = 1000;
/// DescribeRecoveryInstances' and DescribeSourceServers' id filters hold at
/// most this many ids. DescribeRecoveryInstances' `sourceServerIDs` has no
/// maximum in the model; it is sent in chunks of this size too, as its
/// sibling `recoveryInstanceIDs` must be.
pub const MAX_IDS_PER_FILTER: usize = 200;

/// How many snapshots the newest is read from (one page, newest first).
pub const NEWEST_SNAPSHOTS_PAGE: i32 = 10;

/// `RecoveryService` over the DRS API. Build the client with retries
/// disabled (see `Clients::new`): StartRecovery has no client token.
#[derive(Clone, Debug)]
pub struct DrsService {
    client: Client,
}

impl DrsService {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// DescribeJobs with these filters, every page.
    async fn describe_jobs_filtered(
        &self,
        filters: DescribeJobsRequestFilters,
    ) -> Result<Vec<Job>, ServiceError> {
        let mut jobs = Vec::new();
        let send = |token| {
            self.client
                .describe_jobs()
                .filters(filters.clone())
                .set_next_token(token)
                .send()
        };
        every_page(SERVICE, "DescribeJobs", send, |page| {
            jobs.extend(page.items.unwrap_or_default());
            Ok(page.next_token)
        })
        .await?;
        Ok(jobs)
    }

    async fn describe_recovery_instances_filtered(
        &self,
        filters: DescribeRecoveryInstancesRequestFilters,
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        let mut instances = Vec::new();
        let send = |token| {
            self.client
                .describe_recovery_instances()
                .filters(filters.clone())
                .set_next_token(token)
                .send()
        };
        every_page(SERVICE, "DescribeRecoveryInstances", send, |page| {
            for item in page.items.unwrap_or_default() {
                instances.push(recovery_instance(item)?);
            }
            Ok(page.next_token)
        })
        .await?;
        Ok(instances)
    }

    async fn describe_source_servers_filtered(
        &self,
        filters: DescribeSourceServersRequestFilters,
    ) -> Result<Vec<SourceServer>, ServiceError> {
        let mut servers = Vec::new();
        let send = |token| {
            self.client
                .describe_source_servers()
                .filters(filters.clone())
                .set_next_token(token)
                .send()
        };
        every_page(SERVICE, "DescribeSourceServers", send, |page| {
            for item in page.items.unwrap_or_default() {
                servers.push(source_server(item)?);
            }
            Ok(page.next_token)
        })
        .await?;
        Ok(servers)
    }
}

#[async_trait]
impl RecoveryService for DrsService {
    async fn start_recovery(
        &self,
        request: &StartRecoveryRequest,
    ) -> Result<RecoveryJob, ServiceError> {
        let op = "StartRecovery";
        check_count(op, "sourceServers", request.source_servers.len())?;
        if let Some(stray) = request
            .recovery_snapshots
            .keys()
            .find(|id| !request.source_servers.contains(id))
        {
            return Err(invalid_request(
                op,
                &format!(
                    "a recovery snapshot is chosen for source server {stray}, which is not in the request; add the server or drop its snapshot"
                ),
            ));
        }
        let servers = request
            .source_servers
            .iter()
            .map(|id| {
                StartRecoveryRequestSourceServer::builder()
                    .source_server_id(id.as_str())
                    .set_recovery_snapshot_id(request.recovery_snapshots.get(id).cloned())
                    .build()
                    .map_err(|e| invalid_request(op, &e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .start_recovery()
            .set_source_servers(Some(servers))
            .is_drill(request.is_drill)
            .set_tags(Some(request.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| service_error(SERVICE, op, e))?;
        let job = output
            .job
            .ok_or_else(|| invalid_response(op, "the answer holds no job"))?;
        recovery_job(op, job)
    }

    async fn find_jobs_by_tags(
        &self,
        tags: &BTreeMap<String, String>,
        since: Timestamp,
    ) -> Result<Vec<RecoveryJob>, ServiceError> {
        let filters = DescribeJobsRequestFilters::builder()
            .from_date(format_iso8601(since))
            .build();
        self.describe_jobs_filtered(filters)
            .await?
            .into_iter()
            .filter(|job| {
                let job_tags = job.tags.as_ref();
                tags.iter()
                    .all(|(k, v)| job_tags.and_then(|t| t.get(k)) == Some(v))
            })
            .map(|job| recovery_job("DescribeJobs", job))
            .collect()
    }

    /// No ids, no call: an empty `jobIDs` filter would list every job.
    async fn describe_jobs(&self, job_ids: &[String]) -> Result<Vec<RecoveryJob>, ServiceError> {
        let mut jobs = Vec::new();
        for chunk in job_ids.chunks(MAX_JOB_IDS_PER_CALL) {
            let filters = DescribeJobsRequestFilters::builder()
                .set_job_ids(Some(chunk.to_vec()))
                .build();
            for job in self.describe_jobs_filtered(filters).await? {
                jobs.push(recovery_job("DescribeJobs", job)?);
            }
        }
        Ok(jobs)
    }

    async fn describe_job_log_items(&self, job_id: &str) -> Result<Vec<JobLogItem>, ServiceError> {
        let mut items = Vec::new();
        let send = |token| {
            self.client
                .describe_job_log_items()
                .job_id(job_id)
                .set_next_token(token)
                .send()
        };
        every_page(SERVICE, "DescribeJobLogItems", send, |page| {
            items.extend(page.items.unwrap_or_default().into_iter().map(job_log_item));
            Ok(page.next_token)
        })
        .await?;
        Ok(items)
    }

    /// No ids means every recovery instance, as in the simulator.
    async fn describe_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        if recovery_instance_ids.is_empty() {
            let all = DescribeRecoveryInstancesRequestFilters::builder().build();
            return self.describe_recovery_instances_filtered(all).await;
        }
        let mut instances = Vec::new();
        for chunk in recovery_instance_ids.chunks(MAX_IDS_PER_FILTER) {
            let filters = DescribeRecoveryInstancesRequestFilters::builder()
                .set_recovery_instance_ids(Some(chunk.to_vec()))
                .build();
            instances.extend(self.describe_recovery_instances_filtered(filters).await?);
        }
        Ok(instances)
    }

    /// No ids, no call: an empty filter would list every instance.
    async fn describe_recovery_instances_of_servers(
        &self,
        source_server_ids: &[SourceServerId],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        let mut instances = Vec::new();
        for chunk in source_server_ids.chunks(MAX_IDS_PER_FILTER) {
            let filters = DescribeRecoveryInstancesRequestFilters::builder()
                .set_source_server_ids(Some(chunk.iter().map(|s| s.as_str().to_owned()).collect()))
                .build();
            instances.extend(self.describe_recovery_instances_filtered(filters).await?);
        }
        Ok(instances)
    }

    /// No ids, no call: an empty filter would list every server.
    async fn describe_source_servers(
        &self,
        ids: &[SourceServerId],
    ) -> Result<Vec<SourceServer>, ServiceError> {
        let mut servers = Vec::new();
        for chunk in ids.chunks(MAX_IDS_PER_FILTER) {
            let filters = DescribeSourceServersRequestFilters::builder()
                .set_source_server_ids(Some(chunk.iter().map(|s| s.as_str().to_owned()).collect()))
                .build();
            servers.extend(self.describe_source_servers_filtered(filters).await?);
        }
        Ok(servers)
    }

    async fn list_source_servers(&self) -> Result<Vec<SourceServer>, ServiceError> {
        let all = DescribeSourceServersRequestFilters::builder().build();
        self.describe_source_servers_filtered(all).await
    }

    /// Asks DESC with `toDateTime`, and still filters and sorts the answer:
    /// the model does not say which timestamp `toDateTime` bounds.
    async fn describe_recovery_snapshots(
        &self,
        source_server_id: &SourceServerId,
        before: Option<Timestamp>,
    ) -> Result<Vec<RecoverySnapshot>, ServiceError> {
        let op = "DescribeRecoverySnapshots";
        // The filter is sent to the second, rounded up so that nothing at or
        // before `before` is left out; the answer is trimmed to it below.
        let filters = DescribeRecoverySnapshotsRequestFilters::builder()
            .set_to_date_time(before.map(|b| format_iso8601(whole_second_at_or_after(b))))
            .build();
        let mut snapshots = Vec::new();
        let send = |token| {
            self.client
                .describe_recovery_snapshots()
                .source_server_id(source_server_id.as_str())
                .filters(filters.clone())
                .order(RecoverySnapshotsOrder::Desc)
                .set_next_token(token)
                .send()
        };
        every_page(SERVICE, op, send, |page| {
            for item in page.items.unwrap_or_default() {
                snapshots.push(recovery_snapshot(item)?);
            }
            Ok(page.next_token)
        })
        .await?;
        snapshots.retain(|s| before.is_none_or(|b| s.taken_at() <= b));
        snapshots.sort_by_key(|s| std::cmp::Reverse(s.taken_at()));
        Ok(snapshots)
    }

    /// One page, newest first: the newest is on it. Its newest by time is
    /// taken, in case DESC orders by the expected time of each snapshot.
    async fn newest_recovery_snapshot(
        &self,
        source_server_id: &SourceServerId,
    ) -> Result<Option<RecoverySnapshot>, ServiceError> {
        let op = "DescribeRecoverySnapshots";
        let page = self
            .client
            .describe_recovery_snapshots()
            .source_server_id(source_server_id.as_str())
            .order(RecoverySnapshotsOrder::Desc)
            .max_results(NEWEST_SNAPSHOTS_PAGE)
            .send()
            .await
            .map_err(|e| service_error(SERVICE, op, e))?;
        let mut newest: Option<RecoverySnapshot> = None;
        for item in page.items.unwrap_or_default() {
            let snapshot = recovery_snapshot(item)?;
            if newest
                .as_ref()
                .is_none_or(|n| snapshot.taken_at() > n.taken_at())
            {
                newest = Some(snapshot);
            }
        }
        Ok(newest)
    }

    async fn terminate_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<String, ServiceError> {
        let op = "TerminateRecoveryInstances";
        check_count(op, "recoveryInstanceIDs", recovery_instance_ids.len())?;
        let output = self
            .client
            .terminate_recovery_instances()
            .set_recovery_instance_ids(Some(recovery_instance_ids.to_vec()))
            .send()
            .await
            .map_err(|e| service_error(SERVICE, op, e))?;
        output
            .job
            .map(|job| job.job_id)
            .ok_or_else(|| invalid_response(op, "the answer holds no job"))
    }
}

fn check_count(operation: &str, field: &str, n: usize) -> Result<(), ServiceError> {
    if (1..=MAX_SERVERS_PER_CALL).contains(&n) {
        Ok(())
    } else {
        Err(invalid_request(
            operation,
            &format!(
                "{field} must hold 1 to {MAX_SERVERS_PER_CALL} ids, got {n}; split the request"
            ),
        ))
    }
}

/// A request the API would refuse, caught before sending it.
fn invalid_request(operation: &str, message: &str) -> ServiceError {
    ServiceError::from_code(SERVICE, operation, "ValidationException", message)
}

/// An answer the adapter cannot read. Permanent: asking again gets the same
/// answer, and guessing could report a server launched that is not.
fn invalid_response(operation: &str, message: &str) -> ServiceError {
    ServiceError {
        class: ErrorClass::Permanent,
        ..ServiceError::from_code(
            SERVICE,
            operation,
            "InvalidResponse",
            &format!(
                "DRS answered something Ripcord cannot read: {message}; report this with the job id"
            ),
        )
    }
}

fn source_server_id(operation: &str, id: Option<String>) -> Result<SourceServerId, ServiceError> {
    let id = id.ok_or_else(|| invalid_response(operation, "an item has no sourceServerID"))?;
    SourceServerId::parse(&id).map_err(|e| invalid_response(operation, &e.to_string()))
}

fn recovery_job(operation: &str, job: Job) -> Result<RecoveryJob, ServiceError> {
    let participating_servers = job
        .participating_servers
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            Ok(ParticipatingServer {
                source_server_id: source_server_id(operation, s.source_server_id)?,
                recovery_instance_id: s.recovery_instance_id.filter(|id| !id.is_empty()),
                launch_status: launch_status(s.launch_status.as_ref()),
            })
        })
        .collect::<Result<_, ServiceError>>()?;
    Ok(RecoveryJob {
        status: job_status(job.status.as_ref()),
        creation_time: job.creation_date_time.as_deref().and_then(parse_drs_time),
        end_time: job.end_date_time.as_deref().and_then(parse_drs_time),
        participating_servers,
        tags: job.tags.unwrap_or_default().into_iter().collect(),
        job_id: job.job_id,
    })
}

/// A status this SDK does not know (or none) counts as still running: the
/// core keeps polling until its launch timeout instead of concluding from a
/// COMPLETED nobody sent.
fn job_status(status: Option<&aws_sdk_drs::types::JobStatus>) -> JobStatus {
    use aws_sdk_drs::types::JobStatus as Sdk;
    match status {
        Some(Sdk::Pending) => JobStatus::Pending,
        Some(Sdk::Completed) => JobStatus::Completed,
        Some(Sdk::Started) => JobStatus::Started,
        Some(other) => {
            tracing::warn!(
                status = other.as_str(),
                "unknown DRS job status; treating it as STARTED"
            );
            JobStatus::Started
        }
        None => JobStatus::Started,
    }
}

/// An unknown launch status is IN_PROGRESS: never LAUNCHED on a guess
/// (invariant 1, docs/invariants.md); the wave's launch timeout fails a server that stays so.
fn launch_status(status: Option<&LaunchStatus>) -> DrsLaunchStatus {
    match status {
        Some(LaunchStatus::Pending) | None => DrsLaunchStatus::Pending,
        Some(LaunchStatus::InProgress) => DrsLaunchStatus::InProgress,
        Some(LaunchStatus::Launched) => DrsLaunchStatus::Launched,
        Some(LaunchStatus::Failed) => DrsLaunchStatus::Failed,
        Some(LaunchStatus::Terminated) => DrsLaunchStatus::Terminated,
        Some(other) => {
            tracing::warn!(
                status = other.as_str(),
                "unknown DRS launch status; treating it as IN_PROGRESS"
            );
            DrsLaunchStatus::InProgress
        }
    }
}

/// An event this version does not know keeps DRS' own name, so
/// `is_failure` still sees a new `..._FAILED` event.
fn job_log_item(log: JobLog) -> JobLogItem {
    let data = log
        .event_data
        .unwrap_or_else(|| aws_sdk_drs::types::JobLogEventData::builder().build());
    JobLogItem {
        event: log
            .event
            .map_or_else(|| JobLogEvent::Other(String::new()), |e| e.as_str().into()),
        event_time: log.log_date_time.as_deref().and_then(parse_drs_time),
        source_server_id: data
            .source_server_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .and_then(|id| SourceServerId::parse(id).ok()),
        target_instance_id: data.target_instance_id.filter(|id| !id.is_empty()),
        raw_error: data.raw_error.filter(|e| !e.is_empty()),
    }
}

fn recovery_instance(item: SdkInstance) -> Result<RecoveryInstance, ServiceError> {
    let op = "DescribeRecoveryInstances";
    Ok(RecoveryInstance {
        recovery_instance_id: item
            .recovery_instance_id
            .ok_or_else(|| invalid_response(op, "an item has no recoveryInstanceID"))?,
        ec2_instance_id: item.ec2_instance_id.filter(|id| !id.is_empty()),
        // Kept as DRS spells it (RUNNING, STOPPED, a state new to this SDK, ...).
        ec2_instance_state: item.ec2_instance_state.map(|s| s.as_str().to_owned()),
        job_id: item.job_id,
        source_server_id: source_server_id(op, item.source_server_id)?,
        // Not knowing counts as a real recovery, so clean-up leaves it alone.
        is_drill: item.is_drill.unwrap_or(false),
        point_in_time_snapshot: item
            .point_in_time_snapshot_date_time
            .as_deref()
            .and_then(parse_drs_time),
    })
}

fn source_server(item: SdkSourceServer) -> Result<SourceServer, ServiceError> {
    let replication = item.data_replication_info;
    Ok(SourceServer {
        source_server_id: source_server_id("DescribeSourceServers", item.source_server_id)?,
        hostname: item
            .source_properties
            .and_then(|p| p.identification_hints)
            .and_then(|h| h.hostname),
        // Only CONTINUOUS is healthy, so an unknown or missing state never passes.
        data_replication_state: replication
            .as_ref()
            .and_then(|r| r.data_replication_state.as_ref())
            .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
        lag_duration: replication.and_then(|r| r.lag_duration),
        tags: item.tags.unwrap_or_default().into_iter().collect(),
        recovery_instance_id: item.recovery_instance_id.filter(|id| !id.is_empty()),
        last_launch_result: item
            .last_launch_result
            .map(|r| LastLaunchResult::from(r.as_str())),
    })
}

fn whole_second_at_or_after(t: Timestamp) -> Timestamp {
    use chrono::Timelike;
    match t.with_nanosecond(0) {
        Some(floor) if floor < t => floor + chrono::Duration::seconds(1),
        _ => t,
    }
}

fn recovery_snapshot(item: SdkSnapshot) -> Result<RecoverySnapshot, ServiceError> {
    let op = "DescribeRecoverySnapshots";
    let expected_timestamp = parse_drs_time(&item.expected_timestamp).ok_or_else(|| {
        invalid_response(
            op,
            &format!(
                "snapshot {} has the expectedTimestamp `{}`, which is not an ISO-8601 time",
                item.snapshot_id, item.expected_timestamp
            ),
        )
    })?;
    Ok(RecoverySnapshot {
        source_server_id: source_server_id(op, Some(item.source_server_id))?,
        expected_timestamp,
        timestamp: item.timestamp.as_deref().and_then(parse_drs_time),
        snapshot_id: item.snapshot_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_never_read_as_finished() {
        let job = aws_sdk_drs::types::JobStatus::from("CANCELLING");
        assert_eq!(job_status(Some(&job)), JobStatus::Started);
        assert_eq!(job_status(None), JobStatus::Started);
        let launch = LaunchStatus::from("RESERVED_FOR_LATER");
        assert_eq!(launch_status(Some(&launch)), DrsLaunchStatus::InProgress);
        assert_eq!(
            launch_status(Some(&LaunchStatus::Launched)),
            DrsLaunchStatus::Launched
        );
    }

    #[test]
    fn server_counts_are_checked_before_sending() {
        assert!(check_count("StartRecovery", "sourceServers", 0).is_err());
        assert!(check_count("StartRecovery", "sourceServers", 1).is_ok());
        assert!(check_count("StartRecovery", "sourceServers", 200).is_ok());
        let e = check_count("StartRecovery", "sourceServers", 201).unwrap_err();
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Permanent, "ValidationException")
        );
        assert!(e.message.contains("got 201"), "{}", e.message);
    }
}
