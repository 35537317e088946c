use super::{etag_header, update_with_retry};
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, Id, IfMatch};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use sigma_types::{Page, Provider, ProviderCreate, ProviderListQuery, ProviderPatch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_providers, create_provider)).routes(routes!(
        get_provider,
        patch_provider,
        put_provider,
        delete_provider
    ))
}

/// List providers, by name, with their VPS counts.
#[utoipa::path(get, path = "/api/providers", tag = "providers", params(ProviderListQuery),
    responses((status = 200, description = "One page of providers", body = Page<Provider>)))]
async fn list_providers(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(query): AppQuery<ProviderListQuery>,
) -> ApiResult<Json<Page<Provider>>> {
    let (q, page) = query.validate().map_err(ApiError::validation)?;
    Ok(Json(state.store.list_providers(q.as_deref(), page).await?))
}

/// Create a provider. Names are unique, ignoring case.
#[utoipa::path(post, path = "/api/providers", tag = "providers", request_body = ProviderCreate,
    responses(
        (status = 201, description = "Created", body = Provider,
            headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The name is taken", body = sigma_types::ErrorBody)))]
async fn create_provider(
    State(state): State<AppState>,
    op: Operator,
    AppJson(body): AppJson<ProviderCreate>,
) -> ApiResult<impl IntoResponse> {
    let draft = body.validate().map_err(ApiError::validation)?;
    let p = state.store.create_provider(&draft, &op.audit).await?;
    let location = format!("/api/providers/{}", p.id);
    Ok((StatusCode::CREATED, etag_header(p.version), [(header::LOCATION, location)], Json(p)))
}

/// Get a provider.
#[utoipa::path(get, path = "/api/providers/{id}", tag = "providers", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The provider", body = Provider, headers(("ETag" = String))),
        (status = 404, description = "No such provider", body = sigma_types::ErrorBody)))]
async fn get_provider(State(state): State<AppState>, _: Reader, Id(id): Id) -> ApiResult<impl IntoResponse> {
    let p = state.store.get_provider(id).await.map_err(not_found)?;
    Ok((etag_header(p.version), Json(p)))
}

/// Change some fields of a provider; `null` clears a field.
#[utoipa::path(patch, path = "/api/providers/{id}", tag = "providers", request_body = ProviderPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    responses(
        (status = 200, description = "The changed provider", body = Provider, headers(("ETag" = String))),
        (status = 404, description = "No such provider", body = sigma_types::ErrorBody),
        (status = 409, description = "The name is taken", body = sigma_types::ErrorBody),
        (status = 412, description = "If-Match is stale", body = sigma_types::ErrorBody)))]
async fn patch_provider(
    State(state): State<AppState>,
    op: Operator,
    Id(id): Id,
    if_match: IfMatch,
    AppJson(patch): AppJson<ProviderPatch>,
) -> ApiResult<impl IntoResponse> {
    let store = &state.store;
    let p = update_with_retry(
        &if_match,
        || {
            let store = store.clone();
            async move { store.get_provider(id).await }
        },
        |p: &Provider| p.version,
        |p| patch.clone().apply(ProviderCreate::from(p)).validate().map_err(ApiError::validation),
        |draft, version| {
            let store = store.clone();
            let by = op.audit.clone();
            async move { store.update_provider(id, &draft, version, &by).await }
        },
    )
    .await
    .map_err(not_found)?;
    Ok((etag_header(p.version), Json(p)))
}

/// Same as PATCH, kept for older clients.
#[utoipa::path(put, path = "/api/providers/{id}", tag = "providers", request_body = ProviderPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    responses(
        (status = 200, description = "The changed provider", body = Provider, headers(("ETag" = String))),
        (status = 404, description = "No such provider", body = sigma_types::ErrorBody),
        (status = 409, description = "The name is taken", body = sigma_types::ErrorBody),
        (status = 412, description = "If-Match is stale", body = sigma_types::ErrorBody)))]
async fn put_provider(
    state: State<AppState>,
    operator: Operator,
    id: Id,
    if_match: IfMatch,
    patch: AppJson<ProviderPatch>,
) -> ApiResult<impl IntoResponse> {
    patch_provider(state, operator, id, if_match, patch).await
}

/// Delete a provider; refused while any VPS (live, retired or trashed) refers to it.
#[utoipa::path(delete, path = "/api/providers/{id}", tag = "providers", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such provider", body = sigma_types::ErrorBody),
        (status = 409, description = "VPS still refer to it", body = sigma_types::ErrorBody)))]
async fn delete_provider(State(state): State<AppState>, op: Operator, Id(id): Id) -> ApiResult<StatusCode> {
    state.store.delete_provider(id, &op.audit).await.map_err(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

fn not_found(e: impl Into<ApiError>) -> ApiError {
    let e = e.into();
    if e.status == StatusCode::NOT_FOUND { ApiError::not_found("provider") } else { e }
}
