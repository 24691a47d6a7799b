//! DRS in restJson1: every operation is `POST /<OperationName>` with a JSON
//! body of camelCase members, answered from the simulator. Each request is
//! one counted (and possibly faulted) simulator call; the extra facts the
//! wire shapes hold (a job's `type`, a server's last launch) are read
//! without counting. Snapshot page tokens pin the instant the list was read,
//! since snapshots come and go with simulated time. Errors carry `X-Amzn-Errortype`, the status the model
//! gives the code, a `{"message"}` body, and `Retry-After` when throttled.
//!
//! This file routes a request to its operation and renders errors; the
//! operations are grouped by what they are about: `jobs.rs` (StartRecovery,
//! DescribeJobs, DescribeJobLogItems), `recovery_instances.rs`
//! (DescribeRecoveryInstances, TerminateRecoveryInstances) and
//! `source_servers.rs` (DescribeSourceServers, DescribeRecoverySnapshots).

mod input;
mod jobs;
mod recovery_instances;
mod render;
mod source_servers;

use crate::server::SimServer;
use crate::wire::ApiError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobs::{describe_job_log_items, describe_jobs, start_recovery};
use recovery_instances::{describe_recovery_instances, terminate_recovery_instances};
use serde_json::json;
use source_servers::{describe_recovery_snapshots, describe_source_servers};

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
