//! Health and metrics endpoints: no `/api` prefix, no credentials.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(live)).routes(routes!(ready)).routes(routes!(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: &'static str,
    pub version: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub database_reachable: bool,
}

async fn check(state: &AppState) -> (StatusCode, Json<Health>) {
    let reachable = matches!(tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await, Ok(Ok(())));
    let status = if reachable { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        Json(Health {
            status: if reachable { "ok" } else { "unavailable" },
            version: env!("CARGO_PKG_VERSION"),
            database: state.store.backend(),
            database_reachable: reachable,
        }),
    )
}

/// Overall health: the process and its database.
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "Healthy", body = Health), (status = 503, description = "The database is unreachable", body = Health)))]
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    check(&state).await
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz/live", tag = "service", security(()),
    responses((status = 200, description = "Alive", body = Object, example = json!({"status": "ok"}))))]
async fn live() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: 503 while the database is unreachable, 200 again once it answers.
#[utoipa::path(get, path = "/healthz/ready", tag = "service", security(()),
    responses((status = 200, description = "Ready", body = Health), (status = 503, description = "The database is unreachable", body = Health)))]
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    check(&state).await
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "service", security(()),
    responses((status = 200, description = "Metrics", content_type = "application/openmetrics-text", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics.render(state.store.as_ref()).await;
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body)
}
