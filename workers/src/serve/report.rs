//! `GET /api/executions/{id}/report?format=html|md|json|svg`: the drill
//! report (measured RTO against the plan's target) of one execution, built
//! from the store on each request, as `ripcord report` prints it. A report
//! of an execution that has not settled is marked provisional.

use super::AppState;
use super::error::ApiError;
use super::headers::REPORT_CSP;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ripcord::report;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One self-contained page, timeline inline.
    #[default]
    Html,
    /// Markdown (the timeline is the `svg` format).
    Md,
    /// The report's JSON format (`schemaVersion`).
    Json,
    /// The timeline picture alone.
    Svg,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// html (default), md, json or svg.
    #[param(inline)]
    pub format: Option<Format>,
}

#[utoipa::path(
    get,
    path = "/api/executions/{id}/report",
    tag = "executions",
    params(("id" = String, Path, description = "The execution id (a UUID)"), ReportParams),
    responses(
        (status = 200, description = "The drill report in the asked format", content(
            ("text/html"), ("text/markdown"), ("application/json"), ("image/svg+xml"))),
        (status = 400, description = "An unknown format", body = super::error::ErrorBody),
        (status = 404, description = "No such execution", body = super::error::ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    state.auth.check_read(&headers)?;
    let Query(params) = params?;
    let id = super::error::parse_id(&id)?;
    let (execution, waves) = crate::reports::load(state.store.as_ref(), id)
        .await?
        .ok_or_else(|| super::error::unknown_execution(id))?;
    let built = report::build(&execution, &waves);
    let format = params.format.unwrap_or_default();
    let (content_type, body) = match format {
        Format::Html => ("text/html; charset=utf-8", report::html::render(&built)),
        Format::Md => (
            "text/markdown; charset=utf-8",
            report::markdown::render(&built, Some("report?format=svg")),
        ),
        Format::Json => (
            "application/json",
            crate::reports::render(&built, crate::reports::ReportFormat::Json, None),
        ),
        Format::Svg => ("image/svg+xml", report::svg::timeline(&built)),
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Format::Html = format {
        // Its one <style> is inline; every other format keeps the API's policy.
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(REPORT_CSP),
        );
    }
    Ok(response)
}
