//! DRS in restJson1: every operation is `POST /<OperationName>` with a JSON
//! body of camelCase members, answered from the simulator. Each request is
//! one counted (and possibly faulted) simulator call; the extra facts the
//! wire shapes hold (a job's `type`, a server's last launch) are read
//! without counting. Snapshot page tokens pin the instant the list was read,
//! since snapshots come and go with simulated time. Errors carry `X-Amzn-Errortype`, the status the model
//! gives the code, a `{"message"}` body, and `Retry-After` when throttled.

mod input;
mod render;

use crate::server::SimServer;
use crate::wire::{ApiError, iso_time, page, parse_input, parse_iso_time};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use input::{bad_token, check_id, job_id, recovery_instance_id, source_server_id};
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::{RecoveryJob, RecoveryService, StartRecoveryRequest};
use ripcord_sim::{JobDetail, JobOrigin};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The operations served, by their path.
pub(crate) const OPERATIONS: [&str; 7] = [
    "StartRecovery",
    "DescribeJobs",
    "DescribeJobLogItems",
    "DescribeRecoveryInstances",
    "DescribeSourceServers",
    "DescribeRecoverySnapshots",
    "TerminateRecoveryInstances",
];

/// Answers one DRS request.
pub(crate) async fn handle(server: &SimServer, operation: &str, body: &[u8]) -> Response {
    let result = match operation {
        "StartRecovery" => start_recovery(server, body).await,
        "DescribeJobs" => describe_jobs(server, body).await,
        "DescribeJobLogItems" => describe_job_log_items(server, body).await,
        "DescribeRecoveryInstances" => describe_recovery_instances(server, body).await,
        "DescribeSourceServers" => describe_source_servers(server, body).await,
        "DescribeRecoverySnapshots" => describe_recovery_snapshots(server, body).await,
        "TerminateRecoveryInstances" => terminate_recovery_instances(server, body).await,
        other => Err(ApiError::unknown_operation(format!(
            "DRS operation `{other}` is not served by the Ripcord simulator; it serves {}",
            OPERATIONS.join(", ")
        ))),
    };
    match result {
        Ok((status, body)) => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}

type Answer = Result<(StatusCode, Value), ApiError>;

/// The status DRS' model gives each error code.
fn status_of(code: &str) -> StatusCode {
    match code {
        "ThrottlingException" => StatusCode::TOO_MANY_REQUESTS,
        "InternalServerException" => StatusCode::INTERNAL_SERVER_ERROR,
        "ResourceNotFoundException" | "UnknownOperationException" => StatusCode::NOT_FOUND,
        "ConflictException" => StatusCode::CONFLICT,
        "ServiceQuotaExceededException" => StatusCode::PAYMENT_REQUIRED,
        "AccessDeniedException" => StatusCode::FORBIDDEN,
        // ValidationException, UninitializedAccountException, ...
        _ => StatusCode::BAD_REQUEST,
    }
}

pub(crate) fn error_response(e: &ApiError) -> Response {
    let mut body = json!({ "message": e.message, "code": e.code });
    if let Some(reason) = e.reason {
        body["reason"] = json!(reason);
    }
    let mut response = (
        status_of(&e.code),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&e.code) {
        headers.insert("x-amzn-errortype", v);
    }
    if let Some(after) = e.retry_after.filter(|_| e.code == "ThrottlingException") {
        // Whole seconds, rounded up: what DRS sends.
        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartRecoveryInput {
    source_servers: Vec<StartRecoveryServer>,
    #[serde(default)]
    is_drill: bool,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRecoveryServer {
    #[serde(rename = "sourceServerID")]
    source_server_id: String,
    /// A snapshot of this server to launch from (DescribeRecoverySnapshots).
    #[serde(rename = "recoverySnapshotID")]
    recovery_snapshot_id: Option<String>,
}

async fn start_recovery(server: &SimServer, body: &[u8]) -> Answer {
    let input: StartRecoveryInput =
        parse_input("StartRecovery", body, &["sourceServers", "isDrill", "tags"])?;
    let mut source_servers = Vec::with_capacity(input.source_servers.len());
    let mut recovery_snapshots = BTreeMap::new();
    for s in &input.source_servers {
        let id = source_server_id(&s.source_server_id)?;
        if let Some(pit) = &s.recovery_snapshot_id {
            check_id(
                "recoverySnapshotID",
                pit,
                "pit-",
                |b| b.is_ascii_alphanumeric(),
                (21, 21),
            )?;
            recovery_snapshots.insert(id.clone(), pit.clone());
        }
        source_servers.push(id);
    }
    let sim = server.simulator();
    if let Some(mirror) = &server.mirror {
        mirror.prepare_launch(&sim, &source_servers).await?;
    }
    let origin = if input.is_drill {
        JobOrigin::StartDrill
    } else {
        JobOrigin::StartRecovery
    };
    let request = StartRecoveryRequest {
        source_servers,
        is_drill: input.is_drill,
        tags: input.tags,
        recovery_snapshots,
    };
    let job = sim.start_recovery(&request).await?;
    Ok((
        StatusCode::ACCEPTED,
        json!({ "job": server.job_json(&sim, &job, origin) }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DescribeJobsInput {
    filters: JobFilters,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct JobFilters {
    #[serde(rename = "jobIDs")]
    job_ids: Vec<String>,
    #[serde(rename = "fromDate")]
    from_date: Option<String>,
    #[serde(rename = "toDate")]
    to_date: Option<String>,
}

async fn describe_jobs(server: &SimServer, body: &[u8]) -> Answer {
    let input: DescribeJobsInput = parse_input(
        "DescribeJobs",
        body,
        &["filters", "maxResults", "nextToken"],
    )?;
    let f = &input.filters;
    if f.job_ids.len() > 1000 {
        return Err(ApiError::validation(
            "fieldValidationFailed",
            format!(
                "filters.jobIDs holds at most 1000 ids, got {}",
                f.job_ids.len()
            ),
        ));
    }
    for id in &f.job_ids {
        job_id(id)?;
    }
    let from = f
        .from_date
        .as_deref()
        .map(|d| parse_iso_time("filters.fromDate", d))
        .transpose()?;
    let to = f
        .to_date
        .as_deref()
        .map(|d| parse_iso_time("filters.toDate", d))
        .transpose()?;
    let sim = server.simulator();
    let jobs = if f.job_ids.is_empty() {
        // Every job since `from`: no tags to match.
        let since = from.unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        sim.find_jobs_by_tags(&BTreeMap::new(), since).await?
    } else {
        sim.describe_jobs(&f.job_ids).await?
    };
    let in_range = |job: &RecoveryJob| {
        job.creation_time
            .is_none_or(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|to| t <= to))
    };
    let jobs: Vec<RecoveryJob> = jobs.into_iter().filter(in_range).collect();
    let (jobs, next) = page(
        "DescribeJobs",
        jobs,
        input.max_results,
        input.next_token.as_deref(),
        server.settings.page_size,
        bad_token,
    )?;
    let ids: Vec<String> = jobs.iter().map(|j| j.job_id.clone()).collect();
    let origins: BTreeMap<String, JobOrigin> = sim
        .peek_jobs(&ids)?
        .into_iter()
        .map(|d| (d.job.job_id, d.origin))
        .collect();
    let items: Vec<Value> = jobs
        .iter()
        .map(|j| {
            let origin = origins
                .get(&j.job_id)
                .copied()
                .unwrap_or(JobOrigin::StartDrill);
            server.job_json(&sim, j, origin)
        })
        .collect();
    Ok((StatusCode::OK, with_token(json!({ "items": items }), next)))
}

fn with_token(mut v: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        v["nextToken"] = json!(t);
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeJobLogItemsInput {
    #[serde(rename = "jobID")]
    job_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

async fn describe_job_log_items(server: &SimServer, body: &[u8]) -> Answer {
    let input: DescribeJobLogItemsInput = parse_input(
        "DescribeJobLogItems",
        body,
        &["jobID", "maxResults", "nextToken"],
    )?;
    job_id(&input.job_id)?;
    let sim = server.simulator();
    let log = sim.describe_job_log_items(&input.job_id).await?;
    let (log, next) = page(
        "DescribeJobLogItems",
        log,
        input.max_results,
        input.next_token.as_deref(),
        server.settings.page_size,
        bad_token,
    )?;
    let items: Vec<Value> = log
        .iter()
        .map(|item| {
            let mut data = serde_json::Map::new();
            if let Some(s) = &item.source_server_id {
                data.insert("sourceServerID".into(), json!(s.as_str()));
            }
            if let Some(t) = &item.target_instance_id {
                data.insert("targetInstanceID".into(), json!(t));
            }
            if let Some(e) = &item.raw_error {
                data.insert("rawError".into(), json!(e));
            }
            let mut v = json!({ "event": item.event, "eventData": data });
            if let Some(t) = item.event_time {
                v["logDateTime"] = json!(iso_time(t));
            }
            v
        })
        .collect();
    Ok((StatusCode::OK, with_token(json!({ "items": items }), next)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DescribeRecoveryInstancesInput {
    filters: RecoveryInstanceFilters,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RecoveryInstanceFilters {
    #[serde(rename = "recoveryInstanceIDs")]
    recovery_instance_ids: Vec<String>,
    #[serde(rename = "sourceServerIDs")]
    source_server_ids: Vec<String>,
}

async fn describe_recovery_instances(server: &SimServer, body: &[u8]) -> Answer {
    let input: DescribeRecoveryInstancesInput = parse_input(
        "DescribeRecoveryInstances",
        body,
        &["filters", "maxResults", "nextToken"],
    )?;
    let f = &input.filters;
    if f.recovery_instance_ids.len() > 200 {
        return Err(ApiError::validation(
            "fieldValidationFailed",
            format!(
                "filters.recoveryInstanceIDs holds at most 200 ids, got {}",
                f.recovery_instance_ids.len()
            ),
        ));
    }
    for id in &f.recovery_instance_ids {
        recovery_instance_id(id)?;
    }
    let servers = f
        .source_server_ids
        .iter()
        .map(|s| source_server_id(s))
        .collect::<Result<Vec<_>, _>>()?;
    let sim = server.simulator();
    let instances = sim
        .describe_recovery_instances(&f.recovery_instance_ids)
        .await?;
    let instances: Vec<_> = instances
        .into_iter()
        .filter(|i| servers.is_empty() || servers.contains(&i.source_server_id))
        .collect();
    let (instances, next) = page(
        "DescribeRecoveryInstances",
        instances,
        input.max_results,
        input.next_token.as_deref(),
        server.settings.page_size,
        bad_token,
    )?;
    let items: Vec<Value> = instances
        .iter()
        .map(|i| {
            let hostname = sim.scenario().hostname(&i.source_server_id);
            let mut v = json!({
                "recoveryInstanceID": i.recovery_instance_id,
                "arn": server.arn(&sim, &format!("recovery-instance/{}", i.recovery_instance_id)),
                "sourceServerID": i.source_server_id.as_str(),
                "isDrill": i.is_drill,
                "tags": {},
                "originEnvironment": "ON_PREMISES",
                "recoveryInstanceProperties": {
                    "identificationHints": { "hostname": hostname },
                },
            });
            if let Some(id) = &i.ec2_instance_id {
                v["ec2InstanceID"] = json!(id);
                v["recoveryInstanceProperties"]["identificationHints"]["awsInstanceID"] = json!(id);
            }
            if let Some(state) = &i.ec2_instance_state {
                v["ec2InstanceState"] = json!(state);
            }
            if let Some(job) = &i.job_id {
                v["jobID"] = json!(job);
            }
            if let Some(t) = i.point_in_time_snapshot {
                v["pointInTimeSnapshotDateTime"] = json!(iso_time(t));
            }
            v
        })
        .collect();
    Ok((StatusCode::OK, with_token(json!({ "items": items }), next)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DescribeSourceServersInput {
    filters: SourceServerFilters,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct SourceServerFilters {
    #[serde(rename = "sourceServerIDs")]
    source_server_ids: Vec<String>,
    /// Accepted; the simulated servers have no hardware ids or staging
    /// accounts, so these filters match nothing more specific.
    #[serde(rename = "hardwareId")]
    hardware_id: Option<String>,
    #[serde(rename = "stagingAccountIDs")]
    staging_account_ids: Vec<String>,
}

async fn describe_source_servers(server: &SimServer, body: &[u8]) -> Answer {
    let input: DescribeSourceServersInput = parse_input(
        "DescribeSourceServers",
        body,
        &["filters", "maxResults", "nextToken"],
    )?;
    let f = &input.filters;
    if f.source_server_ids.len() > 200 {
        return Err(ApiError::validation(
            "fieldValidationFailed",
            format!(
                "filters.sourceServerIDs holds at most 200 ids, got {}",
                f.source_server_ids.len()
            ),
        ));
    }
    let ids = f
        .source_server_ids
        .iter()
        .map(|s| source_server_id(s))
        .collect::<Result<Vec<_>, _>>()?;
    let sim = server.simulator();
    let mut servers = if ids.is_empty() {
        sim.list_source_servers().await?
    } else {
        sim.describe_source_servers(&ids).await?
    };
    if f.hardware_id.is_some() || !f.staging_account_ids.is_empty() {
        servers.clear();
    }
    let (servers, next) = page(
        "DescribeSourceServers",
        servers,
        input.max_results,
        input.next_token.as_deref(),
        server.settings.page_size,
        bad_token,
    )?;
    let listed: Vec<SourceServerId> = servers.iter().map(|s| s.source_server_id.clone()).collect();
    let launches = sim.last_launches(&listed)?;
    let now = iso_time(sim.clock().now());
    let started = iso_time(sim.started_at()?);
    let zone = format!("{}a", sim.scenario().region);
    let items: Vec<Value> = servers
        .iter()
        .map(|s| {
            let id = s.source_server_id.as_str();
            let hostname = s.hostname.clone().unwrap_or_default();
            let spec = sim.scenario().server(&s.source_server_id);
            let last = launches.get(&s.source_server_id);
            let mut v = json!({
                "sourceServerID": id,
                "arn": server.arn(&sim, &format!("source-server/{id}")),
                "tags": s.tags,
                "lastLaunchResult": s.last_launch_result.as_ref().map_or("NOT_STARTED", |r| r.as_str()),
                "replicationDirection": "FAILOVER",
                "dataReplicationInfo": {
                    "dataReplicationState": s.data_replication_state,
                    "replicatedDisks": [],
                    "stagingAvailabilityZone": zone,
                },
                "lifeCycle": {
                    "addedToServiceDateTime": started,
                    "lastSeenByServiceDateTime": now,
                },
                "sourceProperties": {
                    "lastUpdatedDateTime": now,
                    "recommendedInstanceType": spec.instance_type,
                    "identificationHints": { "hostname": hostname, "fqdn": format!("{hostname}.example.internal") },
                    "os": { "fullString": "Linux" },
                },
            });
            if let Some(lag) = &s.lag_duration {
                v["dataReplicationInfo"]["lagDuration"] = json!(lag);
            }
            if let Some(ri) = &s.recovery_instance_id {
                v["recoveryInstanceId"] = json!(ri);
            }
            if let Some(last) = last {
                v["lifeCycle"]["lastLaunch"] = json!({
                    "initiated": {
                        "apiCallDateTime": iso_time(last.initiated),
                        "jobID": last.job_id,
                        "type": if last.is_drill { "DRILL" } else { "RECOVERY" },
                    },
                    "status": last.status,
                });
            }
            v
        })
        .collect();
    Ok((StatusCode::OK, with_token(json!({ "items": items }), next)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeRecoverySnapshotsInput {
    #[serde(rename = "sourceServerID")]
    source_server_id: String,
    #[serde(default)]
    filters: SnapshotFilters,
    order: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default, rename_all = "camelCase")]
struct SnapshotFilters {
    from_date_time: Option<String>,
    to_date_time: Option<String>,
}

/// Page tokens pin the instant the list was read at
/// (`DescribeRecoverySnapshots@<epoch ms>/<offset>`): snapshots are taken
/// and expire as time goes on, and a list read later would shift offsets.
const SNAPSHOTS_TOKEN: &str = "DescribeRecoverySnapshots@";

async fn describe_recovery_snapshots(server: &SimServer, body: &[u8]) -> Answer {
    let operation = "DescribeRecoverySnapshots";
    let input: DescribeRecoverySnapshotsInput = parse_input(
        operation,
        body,
        &[
            "sourceServerID",
            "filters",
            "order",
            "maxResults",
            "nextToken",
        ],
    )?;
    let id = source_server_id(&input.source_server_id)?;
    let newest_first = match input.order.as_deref() {
        // The model names no default; the simulator lists oldest first.
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => {
            return Err(ApiError::validation(
                "fieldValidationFailed",
                format!("order `{other}` is not ASC or DESC"),
            ));
        }
    };
    let f = &input.filters;
    let window = (
        f.from_date_time
            .as_deref()
            .map(|d| parse_iso_time("filters.fromDateTime", d))
            .transpose()?,
        f.to_date_time
            .as_deref()
            .map(|d| parse_iso_time("filters.toDateTime", d))
            .transpose()?,
    );
    let token = input.next_token.as_deref().filter(|t| !t.is_empty());
    let pinned = match token {
        None => None,
        Some(t) => Some(
            t.strip_prefix(SNAPSHOTS_TOKEN)
                .and_then(|rest| rest.split_once('/'))
                .and_then(|(ms, _)| ms.parse::<i64>().ok())
                .and_then(chrono::DateTime::from_timestamp_millis)
                .ok_or_else(|| {
                    bad_token(format!(
                        "`{t}` is not a {operation} page token from this simulator; start again without one"
                    ))
                })?,
        ),
    };
    let sim = server.simulator();
    let (mut snapshots, at) = sim.recovery_snapshots(&id, window, pinned)?;
    if !newest_first {
        snapshots.reverse();
    }
    let (snapshots, next) = page(
        &format!("{SNAPSHOTS_TOKEN}{}", at.timestamp_millis()),
        snapshots,
        input.max_results,
        token,
        server.settings.page_size,
        bad_token,
    )?;
    let items: Vec<Value> = snapshots
        .iter()
        .map(|s| {
            let mut v = json!({
                "snapshotID": s.snapshot_id,
                "sourceServerID": s.source_server_id.as_str(),
                "expectedTimestamp": iso_time(s.expected_timestamp),
                "ebsSnapshots": [],
            });
            if let Some(t) = s.timestamp {
                v["timestamp"] = json!(iso_time(t));
            }
            v
        })
        .collect();
    Ok((StatusCode::OK, with_token(json!({ "items": items }), next)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TerminateRecoveryInstancesInput {
    #[serde(rename = "recoveryInstanceIDs")]
    recovery_instance_ids: Vec<String>,
}

async fn terminate_recovery_instances(server: &SimServer, body: &[u8]) -> Answer {
    let input: TerminateRecoveryInstancesInput =
        parse_input("TerminateRecoveryInstances", body, &["recoveryInstanceIDs"])?;
    for id in &input.recovery_instance_ids {
        recovery_instance_id(id)?;
    }
    let sim = server.simulator();
    let ec2_ids = sim.peek_ec2_instance_ids(&input.recovery_instance_ids)?;
    let job_id = sim
        .terminate_recovery_instances(&input.recovery_instance_ids)
        .await?;
    if let Some(mirror) = &server.mirror {
        mirror.terminate(&ec2_ids).await;
    }
    let detail: Option<JobDetail> = sim.peek_jobs(std::slice::from_ref(&job_id))?.pop();
    let Some(detail) = detail else {
        return Err(ApiError::new(
            "InternalServerException",
            format!("the termination job {job_id} vanished from the simulated world"),
        ));
    };
    Ok((
        StatusCode::OK,
        json!({ "job": server.job_json(&sim, &detail.job, detail.origin) }),
    ))
}
