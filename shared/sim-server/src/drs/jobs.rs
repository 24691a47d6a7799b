//! The DRS operations on jobs: StartRecovery, DescribeJobs and
//! DescribeJobLogItems.

use super::input::{bad_token, check_id, job_id, source_server_id};
use super::render::{Answer, with_token};
use crate::server::SimServer;
use crate::wire::{ApiError, iso_time, page, parse_input, parse_iso_time};
use axum::http::StatusCode;
use ripcord::ports::drs::{RecoveryJob, RecoveryService, StartRecoveryRequest};
use ripcord_sim::JobOrigin;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

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

pub(super) async fn start_recovery(server: &SimServer, body: &[u8]) -> Answer {
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

pub(super) async fn describe_jobs(server: &SimServer, body: &[u8]) -> Answer {
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeJobLogItemsInput {
    #[serde(rename = "jobID")]
    job_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) async fn describe_job_log_items(server: &SimServer, body: &[u8]) -> Answer {
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
