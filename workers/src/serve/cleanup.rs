//! `POST /api/executions/{id}/cleanup`: terminate the recovery instances a
//! settled drill launched. Judged first by the engine's own
//! `machine::cleanup_refusal`: 409 while the execution runs or once a
//! clean-up was requested, 422 for a recovery without `confirmRecovery`;
//! otherwise queued for the launch worker (202), like `ripcord cleanup`.

use super::AppState;
use super::error::ApiError;
use super::executions::{Accepted, accept, write_request};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use ripcord::event::{Envelope, Event};
use ripcord::machine::cleanup_refusal;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanupRequest {
    /// Why (recorded with the clean-up and in the report).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub requested_by: Option<String>,
    /// Must be true to clean up a `mode: recovery` execution: it
    /// terminates the recovered production instances.
    #[serde(default)]
    pub confirm_recovery: bool,
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/cleanup",
    tag = "executions",
    params(("id" = String, Path, description = "The execution id (a UUID)")),
    request_body(content = Option<CleanupRequest>, description = "Optional: reason, who asks, and the confirmation a recovery needs"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued: each wave terminates the recovery instances its own job launched", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = super::error::ErrorBody),
        (status = 403, description = "The server takes no writes (no RIPCORD_API_TOKEN)", body = super::error::ErrorBody),
        (status = 404, description = "No such execution", body = super::error::ErrorBody),
        (status = 409, description = "`execution_running`: cancel it first or wait for it to end; `cleanup_already_requested`", body = super::error::ErrorBody),
        (status = 422, description = "`recovery_not_confirmed`: a recovery's clean-up needs \"confirmRecovery\": true", body = super::error::ErrorBody),
    )
)]
pub async fn cleanup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (id, request, execution) =
        write_request::<CleanupRequest>(&state, &headers, &id, &body).await?;
    if let Err(refused) = cleanup_refusal(&execution, request.confirm_recovery) {
        let status = if refused.is_conflict() {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Err(ApiError::new(status, refused.code(), refused.to_string()));
    }
    let event = Event::CleanupExecution {
        requested_by: request.requested_by.unwrap_or_else(|| "api".to_owned()),
        reason: request
            .reason
            .unwrap_or_else(|| "cleaned up through the API".to_owned()),
        confirm_recovery: request.confirm_recovery,
    };
    accept(&state, Envelope::new(id, None, event, state.clock.now())).await
}
