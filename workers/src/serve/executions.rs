//! The executions API: list, read, start, cancel, approve. Writes go to the
//! launch queue as events, exactly as `ripcord start`, `cancel` and
//! `approve` send them; the launch worker applies them.

use super::AppState;
use super::error::{ApiError, ErrorDetail, parse_id, unknown_execution};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ripcord::event::{Envelope, Event};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::plan::Mode;
use ripcord::ports::QueueName;
use ripcord::ports::store::{ExecutionQuery, PageCursor};
use ripcord::records::ExecutionRecord;
use ripcord::status::{ExecutionView, QueuedView};
use ripcord::status_model::Transitions;
use ripcord::status_model::{ExecutionStatus, WaveStatus};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// Rows per page when the request says none, and at most.
pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 500;
/// The largest plan a request may carry.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
    /// Rows per page (1 to 500, default 50).
    pub limit: Option<usize>,
    /// The `nextCursor` of the page before.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionListItem {
    pub execution_id: ExecutionId,
    pub plan_name: String,
    pub status: ExecutionStatus,
    pub start_time: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionList {
    /// Newest first.
    pub items: Vec<ExecutionListItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/executions",
    tag = "executions",
    params(ListParams),
    responses(
        (status = 200, description = "One page of executions, newest first", body = ExecutionList),
        (status = 400, description = "An unknown status, a limit out of range or a bad cursor", body = super::error::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ExecutionList>, ApiError> {
    state.auth.check_read(&headers)?;
    let Query(params) = params?;
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_PAGE}, not {limit}"
        )));
    }
    let after = params
        .cursor
        .as_deref()
        .map(|c| {
            PageCursor::decode(c).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{} is not a cursor; pass the nextCursor of the page before, unchanged",
                    ripcord::reason::quoted(c)
                ))
            })
        })
        .transpose()?;
    let page = state
        .store
        .list_executions(&ExecutionQuery {
            status: params.status,
            limit,
            after,
        })
        .await?;
    Ok(Json(ExecutionList {
        items: page
            .items
            .into_iter()
            .map(|s| ExecutionListItem {
                execution_id: s.id,
                plan_name: s.plan_name,
                status: s.status,
                start_time: s.start_time,
            })
            .collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

#[utoipa::path(
    get,
    path = "/api/executions/{id}",
    tag = "executions",
    params(("id" = String, Path, description = "The execution id (a UUID)")),
    responses(
        (status = 200, description = "The status view (see docs/status-model.md)", body = ExecutionView),
        (status = 202, description = "Queued, not yet started: the start was submitted and no launch worker has taken it up yet (`whatToCheck` says what to check)", body = QueuedView),
        (status = 404, description = "No such execution, and none queued", body = super::error::ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.auth.check_read(&headers)?;
    let id = parse_id(&id)?;
    if let Some(observed) = super::events::observe(&state, id).await? {
        return Ok(Json((*observed.view).clone()).into_response());
    }
    let queued = crate::queued::queued(
        &*state.submissions,
        &*state.heartbeats,
        id,
        "this deployment",
        state.clock.now(),
    )
    .await?
    .ok_or_else(|| unknown_execution(id))?;
    Ok((StatusCode::ACCEPTED, Json(queued)).into_response())
}

/// `POST /api/executions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRequest {
    /// The plan file's text (YAML; JSON is YAML too).
    pub plan: String,
    /// The name errors give the plan (default `plan.yaml`).
    #[serde(default)]
    pub plan_file: Option<String>,
    /// Must be true to start a plan with `mode: recovery` (a real failover).
    #[serde(default)]
    pub confirm_recovery: bool,
    /// Who starts it (recorded and reported; default `api`).
    #[serde(default)]
    pub requested_by: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub execution_id: ExecutionId,
    /// What was queued for the launch worker.
    pub accepted: String,
}

#[utoipa::path(
    post,
    path = "/api/executions",
    tag = "executions",
    request_body = StartRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "The same key starts the same execution once: a retried request gets the same id and starts nothing new")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued for the launch worker", body = Accepted),
        (status = 400, description = "The body is not JSON of this shape", body = super::error::ErrorBody),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 413, description = "The body is over 2 MiB, or the plan is too large to queue (`too_large_to_queue`: the start message would be over SQS's 1 MiB)", body = super::error::ErrorBody),
        (status = 422, description = "The plan is invalid (details give line and column), a selection matches no server or too many, or a recovery is not confirmed", body = super::error::ErrorBody),
        (status = 503, description = "The plan selects by tags or snapshots by time and DRS could not be read, or this server has no DRS (embedded, no workers)", body = super::error::ErrorBody),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<StartRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    state.auth.check_write(&headers)?;
    let Json(request) = body?;
    let plan = plan_of_request(
        &request.plan,
        request.plan_file.as_deref(),
        "nothing was started",
    )?;
    if plan.mode == Mode::Recovery && !request.confirm_recovery {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recovery_not_confirmed",
            "this plan is a real recovery (mode: recovery); nothing was started. Send \"confirmRecovery\": true if a real failover is intended, or use mode: drill to rehearse",
        ));
    }
    let plan = resolved_plan(
        &state,
        plan,
        request.plan_file.as_deref(),
        "nothing was started",
    )
    .await?
    .plan;
    let id = match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(key) if !key.is_empty() => ripcord::trigger::execution_id_for(&format!("api:{key}")),
        _ => ExecutionId::new_random(),
    };
    let requested_by = request.requested_by.as_deref().unwrap_or("api");
    let envelope = Envelope::start_execution(
        id,
        plan,
        requested_by,
        request.confirm_recovery,
        state.clock.now(),
    );
    accept(&state, envelope).await
}

/// The plan a request carries, or a 422 naming each error's line and
/// column; `outcome` says what the refusal means ("nothing was started").
pub(super) fn plan_of_request(
    text: &str,
    file: Option<&str>,
    outcome: &str,
) -> Result<ripcord::plan::Plan, ApiError> {
    let file = file.unwrap_or("plan.yaml");
    ripcord::plan::parse_plan(text, file).map_err(|errors| invalid_plan(&errors, outcome))
}

/// `plan` with its selections resolved against this deployment's DRS
/// (`crate::select`): a selection DRS cannot satisfy is a 422 with its
/// line and column, DRS unreadable or absent a 503.
pub(super) async fn resolved_plan(
    state: &AppState,
    plan: ripcord::plan::Plan,
    file: Option<&str>,
    outcome: &str,
) -> Result<crate::select::Resolved, ApiError> {
    if !plan.needs_resolution() {
        return Ok(crate::select::Resolved {
            plan,
            selected: Vec::new(),
        });
    }
    let Some(ports) = &state.preflight else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_drs",
            format!(
                "the plan selects servers by tags or snapshots by time, which needs DRS, and this server has none; {outcome}: on the embedded backend run `ripcord serve --workers` (or start a worker on the same --db first); on AWS it reads DRS itself"
            ),
        ));
    };
    let file = file.unwrap_or("plan.yaml");
    crate::select::resolve(&*ports.drs, plan, file)
        .await
        .map_err(|e| match e {
            crate::select::SelectError::Plan(errors) => invalid_plan(&errors, outcome),
            drs @ crate::select::SelectError::Drs(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "drs_unreadable",
                format!("{drs}; {outcome}"),
            ),
        })
}

/// A 422 naming each of the plan's errors with its line and column.
fn invalid_plan(errors: &ripcord::plan::PlanErrors, outcome: &str) -> ApiError {
    ApiError {
        details: errors
            .0
            .iter()
            .map(|e| ErrorDetail {
                line: e.line,
                column: e.column,
                message: e.message.clone(),
            })
            .collect(),
        ..ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_plan",
            format!("the plan is invalid; {outcome}:\n{errors}"),
        )
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Why (recorded as the execution's reason).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub requested_by: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/cancel",
    tag = "executions",
    params(("id" = String, Path, description = "The execution id (a UUID)")),
    request_body(content = Option<CancelRequest>, description = "Optional: reason and who cancels"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued: no new wave starts; running launches are observed to their end", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 404, description = "No such execution", body = super::error::ErrorBody),
        (status = 409, description = "The execution has already ended", body = super::error::ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (id, request, execution) =
        write_request::<CancelRequest>(&state, &headers, &id, &body).await?;
    if execution.status.is_terminal() {
        return Err(ApiError::conflict(format!(
            "execution {id} has already ended ({}); there is nothing to cancel",
            execution.status.as_str()
        )));
    }
    let event = Event::CancelExecution {
        requested_by: request.requested_by.unwrap_or_else(|| "api".to_owned()),
        reason: request
            .reason
            .unwrap_or_else(|| "cancelled through the API".to_owned()),
    };
    accept(&state, Envelope::new(id, None, event, state.clock.now())).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApproveRequest {
    #[serde(default)]
    pub approved_by: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/waves/{wave}/approve",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution id (a UUID)"),
        ("wave" = u32, Path, description = "The wave's number, from 1"),
    ),
    request_body(content = Option<ApproveRequest>, description = "Optional: who approves"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued: the wave starts once its dependencies are done", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 404, description = "No such execution or wave", body = super::error::ErrorBody),
        (status = 409, description = "The wave has no approval gate, is approved already, has started, or the execution has ended", body = super::error::ErrorBody),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, wave)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (id, request, execution) =
        write_request::<ApproveRequest>(&state, &headers, &id, &body).await?;
    let number = wave_number(&execution, &wave)?;
    let summary = &execution.waves[number.index()];
    let refuse = |why: String| Err(ApiError::conflict(format!("wave {number} of {id}: {why}")));
    if !summary.wait_for_approval {
        return refuse("it has no approval gate (wait_for_approval)".to_owned());
    }
    if let Some(by) = &summary.approved_by {
        return refuse(format!("it was approved already, by {by}"));
    }
    if execution.status.is_terminal() {
        return refuse(format!(
            "the execution has ended ({})",
            execution.status.as_str()
        ));
    }
    if summary.status != WaveStatus::Pending {
        return refuse("it is no longer waiting to start".to_owned());
    }
    let event = Event::ApproveWave {
        approved_by: request.approved_by.unwrap_or_else(|| "api".to_owned()),
    };
    accept(
        &state,
        Envelope::new(id, Some(number), event, state.clock.now()),
    )
    .await
}

/// What a write to one execution starts with: the token checked, the id
/// parsed, the optional body read, and the execution loaded.
pub(super) async fn write_request<T: Default + DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
) -> Result<(ExecutionId, T, ExecutionRecord), ApiError> {
    state.auth.check_write(headers)?;
    let id = parse_id(id)?;
    let request: T = optional_body(body)?;
    Ok((id, request, load(state, id).await?))
}

/// The wave of `execution` that `text` (a path segment) names, or 404.
pub(super) fn wave_number(execution: &ExecutionRecord, text: &str) -> Result<WaveNumber, ApiError> {
    text.parse::<u32>()
        .ok()
        .and_then(|n| execution.waves.iter().find(|w| w.number == WaveNumber(n)))
        .map(|w| w.number)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "execution {} has no wave {}; its waves are numbered 1 to {}",
                execution.id,
                ripcord::reason::quoted(text),
                execution.waves.len()
            ))
        })
}

/// An optional JSON body: an empty one is the default request.
pub(super) fn optional_body<T: Default + DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!(
                "the request body is not the JSON this endpoint takes: {}; see /api/openapi.json",
                ripcord::reason::readable(&e.to_string(), super::error::MAX_QUOTED_TEXT)
            ),
        )
    })
}

async fn load(state: &AppState, id: ExecutionId) -> Result<ExecutionRecord, ApiError> {
    Ok(state
        .store
        .load_execution(id)
        .await?
        .ok_or_else(|| unknown_execution(id))?
        .record)
}

/// Queues `envelope` for the launch worker: 202 Accepted.
pub(super) async fn accept(
    state: &AppState,
    envelope: Envelope,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let accepted = Accepted {
        execution_id: envelope.execution_id,
        accepted: envelope.event.type_name().to_owned(),
    };
    state
        .queue
        .send(QueueName::Launch, vec![envelope.to_message(Duration::ZERO)])
        .await?;
    crate::queued::mark_submitted(&*state.submissions, &envelope).await;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
