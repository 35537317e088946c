use crate::auth::Reader;
use crate::error::{ApiError, ApiResult};
use crate::extract::AppQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use sigma_types::{ErrorBody, IpHistoryEntry, IpHistoryQuery, validate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ip_history))
}

/// Which VPS held an address, and when; newest first.
#[utoipa::path(get, path = "/api/ip-history", tag = "vps", params(IpHistoryQuery),
    responses(
        (status = 200, description = "Address periods", body = Vec<IpHistoryEntry>),
        (status = 400, description = "Missing or invalid address", body = ErrorBody)))]
async fn ip_history(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(query): AppQuery<IpHistoryQuery>,
) -> ApiResult<Json<Vec<IpHistoryEntry>>> {
    let raw = query.ip.ok_or_else(|| ApiError::field("ip", "is required"))?;
    let ip = validate::ip(&raw).map_err(|m| ApiError::field("ip", m))?;
    Ok(Json(state.store.ip_history(ip).await?))
}
