use crate::auth::Reader;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use sigma_types::Stats;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

/// Dashboard totals: VPS by status, country, provider and purpose, expiry
/// windows, monthly cost per currency and agent counts.
#[utoipa::path(get, path = "/api/stats", tag = "stats",
    responses((status = 200, description = "Fleet totals", body = Stats)))]
async fn stats(State(state): State<AppState>, _: Reader) -> ApiResult<Json<Stats>> {
    Ok(Json(state.store.stats(Utc::now().date_naive()).await?))
}
