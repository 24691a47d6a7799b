//! `GET /api/capacity`: the deployment's DRS capacity ledger
//! (docs/capacity.md): servers and jobs in use against the quotas, the
//! launches that hold them, and the waves waiting in line, in order.

use super::AppState;
use super::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use ripcord::capacity::CapacityView;

#[utoipa::path(
    get,
    path = "/api/capacity",
    tag = "operations",
    responses(
        (status = 200, description = "The DRS capacity in use, who holds it and who waits", body = CapacityView),
        (status = 503, description = "The store cannot be read", body = super::error::ErrorBody),
    )
)]
pub async fn capacity(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<CapacityView>, ApiError> {
    state.auth.check_read(&headers)?;
    let ledger = state.capacity.load_ledger().await?;
    Ok(Json(ledger.record.view(state.clock.now())))
}
