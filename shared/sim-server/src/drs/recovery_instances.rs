//! The DRS operations on recovery instances: DescribeRecoveryInstances and
//! TerminateRecoveryInstances (which mirrors the termination in EC2 when a
//! mirror is set).

use super::input::{bad_token, recovery_instance_id, source_server_id};
use super::render::{Answer, with_token};
use crate::server::SimServer;
use crate::wire::{ApiError, iso_time, page, parse_input};
use axum::http::StatusCode;
use ripcord::ports::drs::RecoveryService;
use ripcord_sim::JobDetail;
use serde::Deserialize;
use serde_json::{Value, json};

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

pub(super) async fn describe_recovery_instances(server: &SimServer, body: &[u8]) -> Answer {
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TerminateRecoveryInstancesInput {
    #[serde(rename = "recoveryInstanceIDs")]
    recovery_instance_ids: Vec<String>,
}

pub(super) async fn terminate_recovery_instances(server: &SimServer, body: &[u8]) -> Answer {
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
