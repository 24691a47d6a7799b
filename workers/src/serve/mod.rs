//! `ripcord serve`: the HTTP face of Ripcord on either backend — the
//! executions API with live Server-Sent Events, health, Prometheus metrics,
//! the OpenAPI document, and the dashboard.
//!
//! - [`executions`]: list, read, start, cancel, approve; [`cleanup`]: clean up a drill.
//! - [`operator`]: retry, skip, pause, resume (operator control).
//! - [`events`]: the SSE stream, one store watcher per followed execution.
//! - [`auth`]: the write token (and optionally read protection).
//! - [`report`]: the drill report (measured RTO) in html, md, json or svg.
//! - [`health`]: `/healthz`; [`prometheus`]: `/metrics`; [`capacity`]:
//!   the DRS capacity ledger; [`gauges`]: the health gauges the alarms watch.
//! - [`openapi`]: `/api/openapi.json`, generated from the types.
//! - [`dashboard`]: the page and its files, built into the binary.
//! - [`error`]: every error a JSON body; a request at fault gets a 4xx.
//! - `state`: what every handler works with ([`ServeState`]), and the
//!   watchers of followed executions.
//! - [`headers`]: the security headers on every response.

pub mod auth;
pub mod capacity;
pub mod cleanup;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod executions;
pub mod gauges;
pub mod headers;
pub mod health;
pub mod openapi;
pub mod operator;
pub mod outcome_metrics;
pub mod preflight;
pub mod prometheus;
pub mod report;
mod state;

pub use state::{AppState, DEFAULT_WATCH_EVERY, Observed, ServeState, Watchers};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use error::ApiError;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/executions",
            get(executions::list).post(executions::start),
        )
        .route("/api/executions/{id}", get(executions::get))
        .route("/api/executions/{id}/events", get(events::events))
        .route("/api/executions/{id}/report", get(report::report))
        .route("/api/executions/{id}/cancel", post(executions::cancel))
        .route("/api/executions/{id}/cleanup", post(cleanup::cleanup))
        .route(
            "/api/executions/{id}/waves/{wave}/approve",
            post(executions::approve),
        )
        .route(
            "/api/executions/{id}/waves/{wave}/retry",
            post(operator::retry),
        )
        .route(
            "/api/executions/{id}/waves/{wave}/skip",
            post(operator::skip),
        )
        .route("/api/executions/{id}/pause", post(operator::pause))
        .route("/api/executions/{id}/resume", post(operator::resume))
        .route("/api/capacity", get(capacity::capacity))
        .route("/api/preflight", post(preflight::preflight))
        .route("/api/openapi.json", get(openapi::json))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(prometheus::metrics))
        .merge(dashboard::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(executions::MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(headers::secure))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "there is nothing at {}; /api/openapi.json lists the API",
        uri.path()
    ))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method}; /api/openapi.json lists the API",
            uri.path()
        ),
    )
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
