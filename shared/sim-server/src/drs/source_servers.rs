//! The DRS operations on source servers: DescribeSourceServers (with each
//! server's last launch) and DescribeRecoverySnapshots (whose page tokens
//! pin the instant the list was read).

use super::input::{bad_token, source_server_id};
use super::render::{Answer, with_token};
use crate::server::SimServer;
use crate::wire::{ApiError, iso_time, page, parse_input, parse_iso_time};
use axum::http::StatusCode;
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::RecoveryService;
use serde::Deserialize;
use serde_json::{Value, json};

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

pub(super) async fn describe_source_servers(server: &SimServer, body: &[u8]) -> Answer {
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

pub(super) async fn describe_recovery_snapshots(server: &SimServer, body: &[u8]) -> Answer {
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
    let (mut snapshots, at) = sim.recovery_snapshots(&id, window, pinned).await?;
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
