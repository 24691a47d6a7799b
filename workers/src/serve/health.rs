//! `GET /healthz`: the deployment's health (docs/monitoring.md) — the last poll of each kind of
//! worker, stuck executions, dead-letter depths — judged by
//! [`ripcord::health::assess`]. 200 when healthy or degraded, 503 when a
//! kind of worker is missing (so a load balancer or a probe can act on it).

use super::AppState;
use super::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ripcord::health::{ActiveExecution, HealthInput, HealthLevel, HealthReport, assess};
use ripcord::ports::QueueName;
use ripcord::ports::dead_letters::QueueDepth;
use ripcord::ports::store::ExecutionQuery;
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::ExecutionStatus;

/// Active executions read at most, per status.
const MAX_ACTIVE: usize = 200;

/// The PENDING and IN_PROGRESS executions with their waves.
pub async fn active_executions(
    state: &AppState,
) -> Result<Vec<(ExecutionRecord, Vec<WaveRecord>)>, ApiError> {
    let mut active = Vec::new();
    for status in [ExecutionStatus::Pending, ExecutionStatus::InProgress] {
        let page = state
            .store
            .list_executions(&ExecutionQuery {
                status: Some(status),
                limit: MAX_ACTIVE,
                after: None,
            })
            .await?;
        for summary in page.items {
            if let Some(execution) = state.store.load_execution(summary.id).await? {
                let waves = state.store.load_waves(summary.id).await?;
                active.push((execution.record, waves));
            }
        }
    }
    Ok(active)
}

pub async fn queue_depths(state: &AppState) -> Result<Vec<(QueueName, QueueDepth)>, ApiError> {
    let mut depths = Vec::new();
    for queue in QueueName::ALL {
        depths.push((queue, state.dead_letters.depth(queue).await?));
    }
    Ok(depths)
}

pub async fn report(state: &AppState) -> Result<HealthReport, ApiError> {
    let now = chrono::Utc::now();
    let heartbeats = state.heartbeats.list_heartbeats(now).await?;
    let active = active_executions(state).await?;
    let queues = queue_depths(state).await?;
    let active: Vec<ActiveExecution<'_>> = active
        .iter()
        .map(|(execution, waves)| ActiveExecution { execution, waves })
        .collect();
    Ok(assess(
        &HealthInput {
            heartbeats: &heartbeats,
            active: &active,
            queues: &queues,
            now,
            execution_now: state.clock.now(),
        },
        &state.thresholds,
    ))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Healthy or degraded (stuck executions, dead letters)", body = HealthReport),
        (status = 503, description = "A kind of worker has not polled within the poll-age threshold, or the backend cannot be read", body = HealthReport),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match report(&state).await {
        Ok(report) => {
            let status = if report.status == HealthLevel::Unhealthy {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            (status, Json(report)).into_response()
        }
        Err(e) => e.into_response(),
    }
}
