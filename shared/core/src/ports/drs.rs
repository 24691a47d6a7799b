//! The DRS port: start one recovery job per wave, find a job again by its
//! tags, read the per-server truth, and the account facts a pre-flight
//! reads (source servers, snapshots, leftover recovery instances). Its
//! requests and answers are in [`crate::services::drs`], re-exported here.

use crate::ids::SourceServerId;
use crate::service_error::ServiceError;
use crate::time::Timestamp;
use async_trait::async_trait;
use std::collections::BTreeMap;

pub use crate::services::drs::*;

#[async_trait]
pub trait RecoveryService: Send + Sync {
    /// StartRecovery: one job for all the servers of one wave attempt.
    async fn start_recovery(
        &self,
        request: &StartRecoveryRequest,
    ) -> Result<RecoveryJob, ServiceError>;

    /// Jobs created at or after `since` whose tags include all of `tags`:
    /// how a launch whose outcome was lost is found again.
    async fn find_jobs_by_tags(
        &self,
        tags: &BTreeMap<String, String>,
        since: Timestamp,
    ) -> Result<Vec<RecoveryJob>, ServiceError>;

    /// DescribeJobs for these ids (all pages).
    async fn describe_jobs(&self, job_ids: &[String]) -> Result<Vec<RecoveryJob>, ServiceError>;

    async fn describe_job_log_items(&self, job_id: &str) -> Result<Vec<JobLogItem>, ServiceError>;

    /// DescribeRecoveryInstances by recovery instance id (all pages).
    async fn describe_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<Vec<RecoveryInstance>, ServiceError>;

    /// DescribeRecoveryInstances of these source servers (filter
    /// `sourceServerIDs`, all pages): what an earlier drill left running.
    /// No ids, no call: an empty filter would list every instance.
    async fn describe_recovery_instances_of_servers(
        &self,
        source_server_ids: &[SourceServerId],
    ) -> Result<Vec<RecoveryInstance>, ServiceError>;

    /// DescribeSourceServers for these ids: whether each server replicates,
    /// how far behind it is, its tags and leftover recovery instance. What a
    /// pre-flight check reads before a drill, so that a server that cannot
    /// be recovered is reported before any wave launches; no worker step
    /// calls it. Unknown ids are left out; no ids, no call (use
    /// [`RecoveryService::list_source_servers`] for all).
    async fn describe_source_servers(
        &self,
        ids: &[SourceServerId],
    ) -> Result<Vec<SourceServer>, ServiceError>;

    /// Every source server of the account (DescribeSourceServers without a
    /// filter, all pages): DRS cannot filter by tag, so selection by tags
    /// matches on this list.
    async fn list_source_servers(&self) -> Result<Vec<SourceServer>, ServiceError>;

    /// DescribeRecoverySnapshots of one server, newest first (all pages);
    /// with `before`, only those taken at or before it (`toDateTime`).
    async fn describe_recovery_snapshots(
        &self,
        source_server_id: &SourceServerId,
        before: Option<Timestamp>,
    ) -> Result<Vec<RecoverySnapshot>, ServiceError>;

    /// The newest recovery snapshot of one server (`None`: it has none),
    /// whose age pre-flight checks. By default the newest of
    /// [`RecoveryService::describe_recovery_snapshots`]; an adapter whose
    /// listing is paged reads only the first page, newest first: a server
    /// keeps hundreds of snapshots, and a 360-server pre-flight that read
    /// them all made 4,000 calls.
    async fn newest_recovery_snapshot(
        &self,
        source_server_id: &SourceServerId,
    ) -> Result<Option<RecoverySnapshot>, ServiceError> {
        let all = self
            .describe_recovery_snapshots(source_server_id, None)
            .await?;
        Ok(all.into_iter().max_by_key(|s| s.taken_at()))
    }

    /// TerminateRecoveryInstances: removes the instances a drill launched
    /// (drill clean-up, so that a drill does not leave instances running and
    /// billed). Returns the id of the termination job. No worker step calls
    /// it.
    async fn terminate_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<String, ServiceError>;
}
