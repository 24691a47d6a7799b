//! `POST /api/preflight`: the pre-flight checks of a plan against this
//! deployment's DRS and capacity ledger, as `ripcord preflight` runs them
//! (docs/preflight.md). It reads and changes nothing.

use super::AppState;
use super::error::ApiError;
use super::executions::plan_of_request;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use ripcord::preflight::PreflightReport;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreflightRequest {
    /// The plan file's text (YAML; JSON is YAML too).
    pub plan: String,
    /// The name errors give the plan (default `plan.yaml`).
    #[serde(default)]
    pub plan_file: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/preflight",
    tag = "executions",
    request_body = PreflightRequest,
    responses(
        (status = 200, description = "The findings, errors first (an error would block a drill)", body = PreflightReport),
        (status = 400, description = "The body is not JSON of this shape", body = super::error::ErrorBody),
        (status = 401, description = "No or a wrong token", body = super::error::ErrorBody),
        (status = 422, description = "The plan is invalid (details give line and column)", body = super::error::ErrorBody),
        (status = 503, description = "DRS could not be read, or this server has none to read (embedded, no workers)", body = super::error::ErrorBody),
    )
)]
pub async fn preflight(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<PreflightRequest>, JsonRejection>,
) -> Result<Json<PreflightReport>, ApiError> {
    state.auth.check_read(&headers)?;
    let Json(request) = body?;
    let plan = plan_of_request(
        &request.plan,
        request.plan_file.as_deref(),
        "nothing was checked",
    )?;
    let Some(ports) = &state.preflight else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_drs",
            "this server has no DRS to check against: on the embedded backend run `ripcord serve --workers` (or start a worker on the same --db first); on AWS it reads DRS itself",
        ));
    };
    let file = request.plan_file.as_deref().unwrap_or("plan.yaml");
    crate::preflight::preflight_submitted(ports, &plan, file)
        .await
        .map(Json)
        .map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "drs_unreadable",
                format!(
                    "pre-flight could not read DRS: {e}; check the server's credentials and region (it needs drs:Describe*), then try again"
                ),
            )
        })
}
