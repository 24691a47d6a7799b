//! Systems Manager in awsJson1_1: `POST /` with `X-Amz-Target:
//! AmazonSSM.<Operation>` and a JSON body of PascalCase members, answered
//! from the simulator. Timestamps are epoch seconds. Errors are a
//! `{"__type", "message"}` body: throttling is a 400 with `__type`
//! ThrottlingException (as SSM answers it), a server fault a 500
//! InternalServerError, everything else a 400.

mod input;
mod render;

use crate::server::SimServer;
use crate::wire::{ApiError, epoch_seconds, iso_time_seconds, page, parse_input};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use input::{CommandFilter, bad_token, check_instance_id, command_page_size, filter_commands};
use render::{
    DEFAULT_TIMEOUT, STDERR_MAX, STDOUT_MAX, command_json, command_status, invocation_json,
    plugin_name, status_details, status_name, truncated,
};
use ripcord::ports::ssm::{CommandRunner, SendCommandRequest};
use ripcord_sim::{CommandRecord, InvocationRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "AmazonSSM.";

/// The operations served, by their target.
pub(crate) const OPERATIONS: [&str; 5] = [
    "SendCommand",
    "ListCommandInvocations",
    "GetCommandInvocation",
    "ListCommands",
    "DescribeInstanceInformation",
];

/// Answers one request whose `X-Amz-Target` is `target`.
pub(crate) async fn handle(server: &SimServer, target: &str, body: &[u8]) -> Response {
    let operation = target.strip_prefix(TARGET_PREFIX);
    let result = match operation {
        Some("SendCommand") => send_command(server, body).await,
        Some("ListCommandInvocations") => list_command_invocations(server, body).await,
        Some("GetCommandInvocation") => get_command_invocation(server, body).await,
        Some("ListCommands") => list_commands(server, body).await,
        Some("DescribeInstanceInformation") => describe_instance_information(server, body).await,
        _ => Err(ApiError::unknown_operation(format!(
            "X-Amz-Target `{target}` is not served by the Ripcord simulator; it serves {}",
            OPERATIONS
                .iter()
                .map(|o| format!("{TARGET_PREFIX}{o}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    };
    match result {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, CONTENT_TYPE)],
            body.to_string(),
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}

pub(crate) fn error_response(e: &ApiError) -> Response {
    let (status, code) = match e.code.as_str() {
        // The simulator's fault is DRS-named; SSM calls it InternalServerError.
        "InternalServerException" | "InternalServerError" => {
            (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError")
        }
        other => (StatusCode::BAD_REQUEST, other),
    };
    let body = json!({ "__type": code, "message": e.message, "Message": e.message });
    (
        status,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        body.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendCommandInput {
    #[serde(default)]
    instance_ids: Vec<String>,
    #[serde(default)]
    targets: Vec<Value>,
    document_name: String,
    timeout_seconds: Option<i64>,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    parameters: BTreeMap<String, Vec<String>>,
}

async fn send_command(server: &SimServer, body: &[u8]) -> Result<Value, ApiError> {
    let input: SendCommandInput = parse_input(
        "SendCommand",
        body,
        &[
            "InstanceIds",
            "Targets",
            "DocumentName",
            "DocumentVersion",
            "DocumentHash",
            "DocumentHashType",
            "TimeoutSeconds",
            "Comment",
            "Parameters",
            "OutputS3Region",
            "OutputS3BucketName",
            "OutputS3KeyPrefix",
            "MaxConcurrency",
            "MaxErrors",
            "ServiceRoleArn",
            "NotificationConfig",
            "CloudWatchOutputConfig",
            "AlarmConfiguration",
        ],
    )?;
    if !input.targets.is_empty() {
        return Err(ApiError::validation(
            "fieldValidationFailed",
            "the simulator runs commands on InstanceIds only; pass the instance ids instead of Targets",
        ));
    }
    for id in &input.instance_ids {
        check_instance_id(id)?;
    }
    if input.comment.chars().count() > 100 {
        return Err(ApiError::validation(
            "fieldValidationFailed",
            "Comment holds at most 100 characters",
        ));
    }
    let timeout = match input.timeout_seconds {
        None => DEFAULT_TIMEOUT,
        Some(s) if (30..=2_592_000).contains(&s) => Duration::from_secs(s as u64),
        Some(s) => {
            return Err(ApiError::validation(
                "fieldValidationFailed",
                format!("TimeoutSeconds must be 30 to 2592000, got {s}"),
            ));
        }
    };
    let request = SendCommandRequest {
        instance_ids: input.instance_ids,
        document_name: input.document_name,
        parameters: input.parameters,
        timeout,
        comment: input.comment,
    };
    let sim = server.simulator();
    let sent = sim.send_command(&request).await?;
    let record = sim.peek_command(&sent.command_id)?.ok_or_else(|| {
        ApiError::new(
            "InternalServerException",
            format!(
                "command {} vanished from the simulated world",
                sent.command_id
            ),
        )
    })?;
    Ok(json!({ "Command": command_json(&record, "Pending") }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListCommandInvocationsInput {
    command_id: Option<String>,
    instance_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    #[serde(default)]
    filters: Vec<CommandFilter>,
    #[serde(default)]
    details: bool,
}

async fn list_command_invocations(server: &SimServer, body: &[u8]) -> Result<Value, ApiError> {
    let input: ListCommandInvocationsInput = parse_input(
        "ListCommandInvocations",
        body,
        &[
            "CommandId",
            "InstanceId",
            "MaxResults",
            "NextToken",
            "Filters",
            "Details",
        ],
    )?;
    let size = command_page_size(server, input.max_results)?;
    let sim = server.simulator();
    let records = match &input.command_id {
        Some(id) => {
            // The counted call; the record adds what the port leaves out.
            sim.list_command_invocations(id).await?;
            sim.peek_command(id)?.into_iter().collect()
        }
        None => sim.list_commands(None, None).await?,
    };
    let records = filter_commands(records, &input.filters)?;
    let rows: Vec<(&CommandRecord, &InvocationRecord)> = records
        .iter()
        .flat_map(|r| r.invocations.iter().map(move |i| (r, i)))
        .filter(|(_, i)| {
            input
                .instance_id
                .as_ref()
                .is_none_or(|id| *id == i.invocation.instance_id)
        })
        .collect();
    let (rows, next) = page(
        "ListCommandInvocations",
        rows,
        size,
        input.next_token.as_deref(),
        server.settings.page_size,
        bad_token,
    )?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(r, i)| invocation_json(r, i, input.details))
        .collect();
    let mut v = json!({ "CommandInvocations": items });
    if let Some(t) = next {
        v["NextToken"] = json!(t);
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetCommandInvocationInput {
    command_id: String,
    instance_id: String,
    plugin_name: Option<String>,
}

async fn get_command_invocation(server: &SimServer, body: &[u8]) -> Result<Value, ApiError> {
    let input: GetCommandInvocationInput = parse_input(
        "GetCommandInvocation",
        body,
        &["CommandId", "InstanceId", "PluginName"],
    )?;
    check_instance_id(&input.instance_id)?;
    let sim = server.simulator();
    // Counted as ListCommandInvocations: the simulator's name for reading invocations.
    sim.list_command_invocations(&input.command_id).await?;
    let record = sim.peek_command(&input.command_id)?.ok_or_else(|| {
        ApiError::new(
            "InvalidCommandId",
            format!("command {} not found", input.command_id),
        )
    })?;
    let plugin = plugin_name(&record.document_name);
    if let Some(name) = input.plugin_name.as_deref().filter(|n| *n != plugin) {
        return Err(ApiError::new(
            "InvalidPluginName",
            format!(
                "command {} ran plugin {plugin}, not {name}",
                record.command_id
            ),
        ));
    }
    let Some(inv) = record
        .invocations
        .iter()
        .find(|i| i.invocation.instance_id == input.instance_id)
    else {
        return Err(ApiError::new(
            "InvocationDoesNotExist",
            format!(
                "command {} did not run on {}",
                record.command_id, input.instance_id
            ),
        ));
    };
    let i = &inv.invocation;
    let until = inv.ended_at.unwrap_or_else(|| sim.clock().now());
    let elapsed = ripcord::time::between(record.requested_at, until);
    let mut v = json!({
        "CommandId": record.command_id,
        "InstanceId": i.instance_id,
        "Comment": record.comment,
        "DocumentName": record.document_name,
        "DocumentVersion": "$DEFAULT",
        "PluginName": plugin,
        "ResponseCode": i.response_code.unwrap_or(-1),
        "ExecutionStartDateTime": iso_time_seconds(record.requested_at),
        "ExecutionElapsedTime": format!("PT{:.3}S", elapsed.as_secs_f64()),
        "Status": status_name(i.status),
        "StatusDetails": status_details(i.status),
        "StandardOutputContent": truncated(&i.output, STDOUT_MAX),
        "StandardOutputUrl": "",
        "StandardErrorContent": truncated(&i.error, STDERR_MAX),
        "StandardErrorUrl": "",
    });
    if let Some(end) = inv.ended_at {
        v["ExecutionEndDateTime"] = json!(iso_time_seconds(end));
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListCommandsInput {
    command_id: Option<String>,
    instance_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    #[serde(default)]
    filters: Vec<CommandFilter>,
}

async fn list_commands(server: &SimServer, body: &[u8]) -> Result<Value, ApiError> {
    let input: ListCommandsInput = parse_input(
        "ListCommands",
        body,
        &[
            "CommandId",
            "InstanceId",
            "MaxResults",
            "NextToken",
            "Filters",
        ],
    )?;
    let size = command_page_size(server, input.max_results)?;
    let sim = server.simulator();
    let records = sim.list_commands(None, None).await?;
    let records: Vec<CommandRecord> = filter_commands(records, &input.filters)?
        .into_iter()
        .filter(|r| {
            input
                .command_id
                .as_ref()
                .is_none_or(|id| *id == r.command_id)
        })
        .filter(|r| {
            input.instance_id.as_ref().is_none_or(|id| {
                r.invocations
                    .iter()
                    .any(|i| i.invocation.instance_id == *id)
            })
        })
        .collect();
    let (records, next) = page(
        "ListCommands",
        records,
        size,
        input.next_token.as_deref(),
        server.settings.page_size,
        bad_token,
    )?;
    let commands: Vec<Value> = records
        .iter()
        .map(|r| command_json(r, command_status(r)))
        .collect();
    let mut v = json!({ "Commands": commands });
    if let Some(t) = next {
        v["NextToken"] = json!(t);
    }
    Ok(v)
}

/// `InstanceInformationFilterList` entries (`key`, `valueSet`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InformationFilter {
    key: String,
    #[serde(rename = "valueSet")]
    value_set: Vec<String>,
}

/// `Filters` entries (`Key`, `Values`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InformationStringFilter {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Values")]
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstanceInformationInput {
    #[serde(default)]
    instance_information_filter_list: Vec<InformationFilter>,
    #[serde(default)]
    filters: Vec<InformationStringFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

async fn describe_instance_information(server: &SimServer, body: &[u8]) -> Result<Value, ApiError> {
    let input: DescribeInstanceInformationInput = parse_input(
        "DescribeInstanceInformation",
        body,
        &[
            "InstanceInformationFilterList",
            "Filters",
            "MaxResults",
            "NextToken",
        ],
    )?;
    let size = match input.max_results {
        Some(n) if !(5..=50).contains(&n) => {
            return Err(ApiError::validation(
                "fieldValidationFailed",
                format!("MaxResults must be 5 to 50, got {n}"),
            ));
        }
        Some(n) => n,
        None => server.settings.page_size.clamp(5, 50) as i64,
    };
    let filters: Vec<(String, Vec<String>)> = input
        .instance_information_filter_list
        .into_iter()
        .map(|f| (f.key, f.value_set))
        .chain(input.filters.into_iter().map(|f| (f.key, f.values)))
        .collect();
    let mut instance_ids: Option<Vec<String>> = None;
    let mut ping: Option<Vec<String>> = None;
    let mut match_none = false;
    for (key, values) in &filters {
        if values.is_empty() {
            return Err(ApiError::new(
                "InvalidInstanceInformationFilterValue",
                format!("the {key} filter needs at least one value"),
            ));
        }
        match key.as_str() {
            "InstanceIds" => {
                for id in values {
                    check_instance_id(id)?;
                }
                instance_ids
                    .get_or_insert_with(Vec::new)
                    .extend(values.iter().cloned());
            }
            "PingStatus" => ping = Some(values.clone()),
            // Every simulated instance is an EC2 instance running Linux.
            "ResourceType" if values.iter().any(|v| v == "EC2Instance") => {}
            "PlatformTypes" if values.iter().any(|v| v == "Linux") => {}
            "ResourceType" | "PlatformTypes" => match_none = true,
            other => {
                return Err(ApiError::new(
                    "InvalidInstanceInformationFilterValue",
                    format!(
                        "the simulator filters instance information by InstanceIds, PingStatus, ResourceType and PlatformTypes, not `{other}`"
                    ),
                ));
            }
        }
    }
    let sim = server.simulator();
    let agents = sim
        .describe_instance_information(&instance_ids.unwrap_or_default())
        .await?;
    let agents: Vec<_> = agents
        .into_iter()
        .filter(|_| !match_none)
        .filter(|a| {
            ping.as_ref()
                .is_none_or(|p| p.iter().any(|p| p == a.ping_status.as_str()))
        })
        .collect();
    let (agents, next) = page(
        "DescribeInstanceInformation",
        agents,
        Some(size),
        input.next_token.as_deref(),
        server.settings.page_size,
        bad_token,
    )?;
    let now = epoch_seconds(sim.clock().now());
    let list: Vec<Value> = agents
        .iter()
        .map(|a| {
            json!({
                "InstanceId": a.instance_id,
                "PingStatus": a.ping_status.as_str(),
                "LastPingDateTime": now,
                "AgentVersion": "3.3.1142.0",
                "IsLatestVersion": true,
                "PlatformType": "Linux",
                "PlatformName": "Amazon Linux",
                "PlatformVersion": "2023",
                "ResourceType": "EC2Instance",
                "SourceId": a.instance_id,
                "SourceType": "AWS::EC2::Instance",
            })
        })
        .collect();
    let mut v = json!({ "InstanceInformationList": list });
    if let Some(t) = next {
        v["NextToken"] = json!(t);
    }
    Ok(v)
}
