//! The simulator served over HTTP in DRS' and SSM's real wire protocols
//! (`ripcord sim serve`), so the real aws-sdk-drs and aws-sdk-ssm clients,
//! and boto3, talk to it unchanged.
//!
//! One listener serves both: a request with an `X-Amz-Target` header is SSM
//! (awsJson1_1, [`ssm`]), a path under
//! `/service/GraniteServiceVersion20100801/` is CloudWatch (Smithy RPC v2
//! CBOR, [`cloudwatch`]: PutMetricData, which moto cannot serve), any other
//! is DRS (restJson1, `POST /<Operation>`, [`drs`]); `/sim-api/*` is the
//! test API ([`admin`]). Signatures are not checked: any credentials are
//! accepted.
//!
//! - [`ec2_mirror`]: with an EC2 endpoint (moto), launched recovery
//!   instances are real instances there, and their ids are the ones DRS and
//!   SSM report.
//! - [`launch_events`]: with an EventBridge endpoint, each launch result is
//!   published as DRS' "DRS Source Server Launch Result" event.
//! - [`wire`]: errors, pages, times and input checks both protocols share.

mod admin;
pub mod cbor;
pub mod cloudwatch;
mod config;
mod drs;
pub mod ec2_mirror;
pub mod launch_events;
mod server;
mod ssm;
mod wire;

pub use config::{
    DEFAULT_ACCOUNT_ID, DEFAULT_INVENTORY, DEFAULT_PAGE_SIZE, SimServerConfig, SimServerError,
    default_inventory,
};
use server::SimServer;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

/// Serves the simulator on `listener` until the future is dropped or the
/// listener fails. Bind port 0 to let the system pick a port (tests).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SimServerConfig,
) -> Result<(), SimServerError> {
    let server = SimServer::start(config).await?;
    axum::serve(listener, router(server)).await?;
    Ok(())
}

fn router(server: Arc<SimServer>) -> Router {
    Router::new()
        .route("/sim-api/reset", post(admin::reset))
        .route("/sim-api/calls", get(admin::calls))
        .route("/sim-api/metrics", get(admin::metrics))
        .fallback(dispatch)
        .with_state(server)
}

/// SSM by its target header, DRS by its path.
async fn dispatch(
    State(server): State<Arc<SimServer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        tracing::debug!(target, "SSM request");
        return ssm::handle(&server, target, &body).await;
    }
    if let Some(operation) = uri.path().strip_prefix(cloudwatch::PATH_PREFIX) {
        tracing::debug!(operation, "CloudWatch request");
        return cloudwatch::handle(&server, operation, &headers, &body);
    }
    let operation = uri.path().trim_start_matches('/');
    tracing::debug!(operation, "DRS request");
    if method != Method::POST {
        return drs::error_response(&wire::ApiError::unknown_operation(format!(
            "{method} {uri} is not a DRS operation: DRS operations are POST /<OperationName>"
        )));
    }
    drs::handle(&server, operation, &body).await
}
