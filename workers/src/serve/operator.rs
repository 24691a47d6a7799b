//! Operator control through the API (docs/status-model.md, "Operator
//! control"): `POST /api/executions/{id}/waves/{wave}/retry|skip` and
//! `/api/executions/{id}/pause|resume`, with the write token. The records are
//! read and the command checked with `ripcord::operator::check` (the
//! function the machine applies again); one that does not apply is a 409
//! saying why and what to do, and nothing is queued.

use super::error::ApiError;
use super::executions::{Accepted, accept, wave_number, write_request};
use super::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use ripcord::event::Envelope;
use ripcord::ids::{ExecutionId, SourceServerId, WaveNumber};
use ripcord::operator::{OperatorCommand, check};
use ripcord::records::ExecutionRecord;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryRequest {
    /// Failed servers of the wave to relaunch; none: every failed one.
    #[serde(default)]
    pub servers: Vec<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub requested_by: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkipRequest {
    /// Why the wave is skipped (required; kept on the execution).
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub requested_by: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PauseRequest {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub requested_by: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/waves/{wave}/retry",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution id (a UUID)"),
        ("wave" = u32, Path, description = "The FAILED wave's number, from 1"),
    ),
    request_body(content = Option<RetryRequest>, description = "Optional: servers, reason, who retries"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued: the wave's failed servers relaunch as its next attempt, then the waves after it run", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 404, description = "No such execution or wave", body = super::error::ErrorBody),
        (status = 409, description = "The command does not apply (the wave did not fail, a named server did not fail, the execution was cancelled...): the message says why and what to do", body = super::error::ErrorBody),
        (status = 422, description = "A server id is malformed", body = super::error::ErrorBody),
    )
)]
pub async fn retry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, wave)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (id, request, execution) =
        write_request::<RetryRequest>(&state, &headers, &id, &body).await?;
    let servers = request
        .servers
        .iter()
        .map(|s| SourceServerId::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_server",
                e.to_string(),
            )
        })?;
    let command = |wave| OperatorCommand::Retry { wave, servers };
    let by = request.requested_by;
    operate(
        &state,
        id,
        &execution,
        Some(&wave),
        command,
        by,
        request.reason,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/waves/{wave}/skip",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution id (a UUID)"),
        ("wave" = u32, Path, description = "The wave's number, from 1"),
    ),
    request_body(content = SkipRequest, description = "Why the wave is skipped, and who skips it"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued: the wave ends SKIPPED and the waves depending on it run", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 404, description = "No such execution or wave", body = super::error::ErrorBody),
        (status = 409, description = "The command does not apply (the wave is running or ended...): the message says why and what to do", body = super::error::ErrorBody),
        (status = 422, description = "No reason was given", body = super::error::ErrorBody),
    )
)]
pub async fn skip(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, wave)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (id, request, execution) =
        write_request::<SkipRequest>(&state, &headers, &id, &body).await?;
    if request.reason.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
            "a skip needs a reason: send {\"reason\": \"...\"}, it is kept for the report",
        ));
    }
    let reason = request.reason;
    let command = |wave| OperatorCommand::Skip { wave, reason };
    operate(
        &state,
        id,
        &execution,
        Some(&wave),
        command,
        request.requested_by,
        None,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/pause",
    tag = "executions",
    params(("id" = String, Path, description = "The execution id (a UUID)")),
    request_body(content = Option<PauseRequest>, description = "Optional: reason and who pauses"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued: no new wave starts until resumed; running waves go on", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 404, description = "No such execution", body = super::error::ErrorBody),
        (status = 409, description = "Already paused, or the execution has ended", body = super::error::ErrorBody),
    )
)]
pub async fn pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (id, request, execution) =
        write_request::<PauseRequest>(&state, &headers, &id, &body).await?;
    let command = |_| OperatorCommand::Pause;
    operate(
        &state,
        id,
        &execution,
        None,
        command,
        request.requested_by,
        request.reason,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/resume",
    tag = "executions",
    params(("id" = String, Path, description = "The execution id (a UUID)")),
    request_body(content = Option<PauseRequest>, description = "Optional: who resumes (a reason is ignored)"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued: the waves that became ready start", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 404, description = "No such execution", body = super::error::ErrorBody),
        (status = 409, description = "The execution is not paused, or has ended", body = super::error::ErrorBody),
    )
)]
pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (id, request, execution) =
        write_request::<PauseRequest>(&state, &headers, &id, &body).await?;
    let command = |_| OperatorCommand::Resume;
    operate(
        &state,
        id,
        &execution,
        None,
        command,
        request.requested_by,
        None,
    )
    .await
}

/// Checks the command against the execution (read by `write_request`)
/// and the wave named by `wave`, and queues it.
async fn operate(
    state: &AppState,
    id: ExecutionId,
    execution: &ExecutionRecord,
    wave: Option<&str>,
    command: impl FnOnce(WaveNumber) -> OperatorCommand,
    requested_by: Option<String>,
    reason: Option<String>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let number = match wave {
        None => WaveNumber(0),
        Some(text) => wave_number(execution, text)?,
    };
    let command = command(number);
    let waves = state.store.load_waves(id).await?;
    let record = command
        .wave()
        .and_then(|n| waves.iter().find(|w| w.number == n));
    check(execution, record, &command)
        .map_err(|refusal| ApiError::conflict(refusal.to_string()))?;
    let by = requested_by.unwrap_or_else(|| "api".to_owned());
    let event = command.event(&by, reason);
    accept(
        state,
        Envelope::new(id, command.wave(), event, state.clock.now()),
    )
    .await
}
