//! How SSM renders commands and invocations in its JSON answers (status
//! names and details, plugin output, truncation limits), for the handlers
//! of `mod.rs`.

use crate::wire::epoch_seconds;
use ripcord::ports::ssm::{CommandInvocation, InvocationStatus};
use ripcord_sim::{CommandRecord, InvocationRecord};
use serde_json::{Value, json};
use std::time::Duration;

/// SSM's default command timeout (TimeoutSeconds not given).
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);
/// SSM caps a plugin's Output and GetCommandInvocation's contents.
pub(super) const PLUGIN_OUTPUT_MAX: usize = 2500;
pub(super) const STDOUT_MAX: usize = 24_000;
pub(super) const STDERR_MAX: usize = 8_000;

pub(super) fn status_name(status: InvocationStatus) -> &'static str {
    match status {
        InvocationStatus::Pending => "Pending",
        InvocationStatus::InProgress => "InProgress",
        InvocationStatus::Delayed => "Delayed",
        InvocationStatus::Success => "Success",
        InvocationStatus::Cancelled => "Cancelled",
        InvocationStatus::TimedOut => "TimedOut",
        InvocationStatus::Failed => "Failed",
        InvocationStatus::Cancelling => "Cancelling",
    }
}

/// `StatusDetails`: like the status, with SSM's wording for a timeout.
pub(super) fn status_details(status: InvocationStatus) -> &'static str {
    match status {
        InvocationStatus::TimedOut => "ExecutionTimedOut",
        other => status_name(other),
    }
}

/// A plugin's status has no Delayed or Cancelling.
pub(super) fn plugin_status(status: InvocationStatus) -> &'static str {
    match status {
        InvocationStatus::Delayed => "Pending",
        InvocationStatus::Cancelling => "InProgress",
        other => status_name(other),
    }
}

/// The plugin a document runs as.
pub(super) fn plugin_name(document: &str) -> &'static str {
    if document == "AWS-RunPowerShellScript" {
        "aws:runPowerShellScript"
    } else {
        "aws:runShellScript"
    }
}

/// The first `max` characters of `text`.
pub(super) fn truncated(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A command's status from its invocations' (what ListCommands reports).
pub(super) fn command_status(record: &CommandRecord) -> &'static str {
    let statuses: Vec<InvocationStatus> = record
        .invocations
        .iter()
        .map(|i| i.invocation.status)
        .collect();
    if statuses.iter().any(|s| !s.is_terminal()) {
        "InProgress"
    } else if statuses.iter().all(|s| *s == InvocationStatus::Success) {
        "Success"
    } else if statuses.contains(&InvocationStatus::Failed) {
        "Failed"
    } else if statuses.contains(&InvocationStatus::TimedOut) {
        "TimedOut"
    } else {
        "Cancelled"
    }
}

pub(super) fn command_json(record: &CommandRecord, status: &str) -> Value {
    let count = |f: fn(InvocationStatus) -> bool| {
        record
            .invocations
            .iter()
            .filter(|i| f(i.invocation.status))
            .count()
    };
    let timeout = if record.timeout.is_zero() {
        DEFAULT_TIMEOUT
    } else {
        record.timeout
    };
    json!({
        "CommandId": record.command_id,
        "DocumentName": record.document_name,
        "DocumentVersion": "$DEFAULT",
        "Comment": record.comment,
        "ExpiresAfter": epoch_seconds(ripcord::time::after(record.requested_at, timeout)),
        "Parameters": record.parameters,
        "InstanceIds": record.invocations.iter().map(|i| &i.invocation.instance_id).collect::<Vec<_>>(),
        "Targets": [],
        "RequestedDateTime": epoch_seconds(record.requested_at),
        "Status": status,
        "StatusDetails": status,
        "MaxConcurrency": "50",
        "MaxErrors": "0",
        "TargetCount": record.invocations.len(),
        "CompletedCount": count(InvocationStatus::is_terminal),
        "ErrorCount": count(|s| matches!(s, InvocationStatus::Failed | InvocationStatus::TimedOut)),
        "DeliveryTimedOutCount": 0,
        "TimeoutSeconds": timeout.as_secs(),
    })
}

/// A plugin's Output: standard output, then standard error as SSM appends it.
pub(super) fn plugin_output(i: &CommandInvocation) -> String {
    let text = if i.error.is_empty() {
        i.output.clone()
    } else {
        format!("{}\n----------ERROR-------\n{}", i.output, i.error)
    };
    truncated(&text, PLUGIN_OUTPUT_MAX)
}

pub(super) fn invocation_json(
    record: &CommandRecord,
    inv: &InvocationRecord,
    details: bool,
) -> Value {
    let i = &inv.invocation;
    let mut v = json!({
        "CommandId": record.command_id,
        "InstanceId": i.instance_id,
        "InstanceName": "",
        "Comment": record.comment,
        "DocumentName": record.document_name,
        "DocumentVersion": "$DEFAULT",
        "RequestedDateTime": epoch_seconds(record.requested_at),
        "Status": status_name(i.status),
        "StatusDetails": status_details(i.status),
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": [],
    });
    if details {
        let mut plugin = json!({
            "Name": plugin_name(&record.document_name),
            "Status": plugin_status(i.status),
            "StatusDetails": status_details(i.status),
            // SSM reports -1 until the plugin has an exit code.
            "ResponseCode": i.response_code.unwrap_or(-1),
            "ResponseStartDateTime": epoch_seconds(record.requested_at),
            "Output": plugin_output(i),
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
        });
        if let Some(end) = inv.ended_at {
            plugin["ResponseFinishDateTime"] = json!(epoch_seconds(end));
        }
        v["CommandPlugins"] = json!([plugin]);
    }
    v
}
