use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::extract::AppQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use sigma_types::{AuditEntry, AuditQuery, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Every recorded change, newest first (admin only).
#[utoipa::path(get, path = "/api/audit-logs", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "One page of audit entries", body = Page<AuditEntry>)))]
async fn list_audit(
    State(state): State<AppState>,
    _: Admin,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let (filter, page) = query.validate().map_err(ApiError::validation)?;
    Ok(Json(state.store.list_audit(&filter, page).await?))
}
