use super::{etag_header, update_with_retry};
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, Id, IfMatch};
use crate::fleet_cache;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::Utc;
use serde::Deserialize;
use sigma_types::{ErrorBody, IpHistoryEntry, Page, Role, Source, Vps, VpsCreate, VpsListQuery, VpsPatch};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_vps, create_vps))
        .routes(routes!(get_vps, patch_vps, put_vps, delete_vps))
        .routes(routes!(retire_vps))
        .routes(routes!(restore_vps))
        .routes(routes!(vps_ip_history))
}

/// List VPS with filters, sorting and pagination.
#[utoipa::path(get, path = "/api/vps", tag = "vps", params(VpsListQuery),
    responses((status = 200, description = "One page of VPS", body = Page<Vps>)))]
async fn list_vps(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(query): AppQuery<VpsListQuery>,
) -> ApiResult<Json<Page<Vps>>> {
    let (filter, page, sort, order) = query.validate(Utc::now().date_naive()).map_err(ApiError::validation)?;
    if filter.by_status_only() {
        // The whole fleet or some statuses: the store counts these from its
        // tallies and reads the page straight off an index.
        return Ok(Json(state.store.list_vps(&filter, page, sort, order).await?));
    }
    if filter.matches_elsewhere() {
        return Ok(Json(fleet_cache::vps_page(&state, &filter, page, sort, order).await?));
    }
    Ok(Json(fleet_cache::vps_page_counted(&state, &filter, page, sort, order).await?))
}

/// Create a VPS.
#[utoipa::path(post, path = "/api/vps", tag = "vps", request_body = VpsCreate,
    responses(
        (status = 201, description = "Created", body = Vps, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "A live VPS holds the host name or an address", body = ErrorBody)))]
async fn create_vps(
    State(state): State<AppState>,
    op: Operator,
    AppJson(body): AppJson<VpsCreate>,
) -> ApiResult<impl IntoResponse> {
    let draft = body.validate().map_err(ApiError::validation)?;
    let v = state.store.create_vps(&draft, Source::Manual, &op.audit).await?;
    state.events.vps_changed(&v, "created");
    let location = format!("/api/vps/{}", v.id);
    Ok((StatusCode::CREATED, etag_header(v.version), [(header::LOCATION, location)], Json(v)))
}

/// Get a VPS, including one in the trash.
#[utoipa::path(get, path = "/api/vps/{id}", tag = "vps", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The VPS", body = Vps, headers(("ETag" = String))),
        (status = 404, description = "No such VPS", body = ErrorBody)))]
async fn get_vps(State(state): State<AppState>, _: Reader, Id(id): Id) -> ApiResult<impl IntoResponse> {
    let v = state.store.get_vps(id).await.map_err(not_found)?;
    Ok((etag_header(v.version), Json(v)))
}

/// Change some fields of a VPS; `null` clears a field.
#[utoipa::path(patch, path = "/api/vps/{id}", tag = "vps", request_body = VpsPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    responses(
        (status = 200, description = "The changed VPS", body = Vps, headers(("ETag" = String))),
        (status = 404, description = "No such VPS", body = ErrorBody),
        (status = 409, description = "A live VPS holds the host name or an address, or the VPS is in the trash", body = ErrorBody),
        (status = 412, description = "If-Match is stale", body = ErrorBody)))]
async fn patch_vps(
    State(state): State<AppState>,
    op: Operator,
    Id(id): Id,
    if_match: IfMatch,
    AppJson(patch): AppJson<VpsPatch>,
) -> ApiResult<impl IntoResponse> {
    let store = &state.store;
    let v = update_with_retry(
        &if_match,
        || {
            let store = store.clone();
            async move { store.get_vps(id).await }
        },
        |v: &Vps| v.version,
        |v| patch.clone().apply(VpsCreate::from(v)).validate().map_err(ApiError::validation),
        |draft, version| {
            let store = store.clone();
            let by = op.audit.clone();
            async move { store.update_vps(id, &draft, version, &by).await }
        },
    )
    .await
    .map_err(not_found)?;
    state.events.vps_changed(&v, "updated");
    Ok((etag_header(v.version), Json(v)))
}

/// Same as PATCH, kept for older clients.
#[utoipa::path(put, path = "/api/vps/{id}", tag = "vps", request_body = VpsPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    responses(
        (status = 200, description = "The changed VPS", body = Vps, headers(("ETag" = String))),
        (status = 404, description = "No such VPS", body = ErrorBody),
        (status = 409, description = "A live VPS holds the host name or an address, or the VPS is in the trash", body = ErrorBody),
        (status = 412, description = "If-Match is stale", body = ErrorBody)))]
async fn put_vps(
    state: State<AppState>,
    operator: Operator,
    id: Id,
    if_match: IfMatch,
    patch: AppJson<VpsPatch>,
) -> ApiResult<impl IntoResponse> {
    patch_vps(state, operator, id, if_match, patch).await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeleteQuery {
    /// Remove the VPS and its history for good (admin only) instead of moving it to the trash.
    purge: Option<bool>,
}

/// Move a VPS to the trash, or with `purge=true` remove it for good.
#[utoipa::path(delete, path = "/api/vps/{id}", tag = "vps", params(("id" = uuid::Uuid, Path), DeleteQuery),
    responses(
        (status = 204, description = "Moved to the trash, or purged"),
        (status = 403, description = "Purging needs the admin role", body = ErrorBody),
        (status = 404, description = "No such VPS", body = ErrorBody)))]
async fn delete_vps(
    State(state): State<AppState>,
    op: Operator,
    Id(id): Id,
    AppQuery(query): AppQuery<DeleteQuery>,
) -> ApiResult<StatusCode> {
    if query.purge.unwrap_or(false) {
        op.actor.require(Role::Admin)?;
        let v = state.store.get_vps(id).await.map_err(not_found)?;
        state.store.purge_vps(id, &op.audit).await.map_err(not_found)?;
        state.events.vps_changed(&v, "purged");
    } else {
        let v = state.store.trash_vps(id, &op.audit).await.map_err(not_found)?;
        state.events.vps_changed(&v, "trashed");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Retire a VPS: `status = retired`, `retired_at = now`; its host name and
/// addresses become free. Retiring a retired VPS changes nothing.
#[utoipa::path(post, path = "/api/vps/{id}/retire", tag = "vps", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The retired VPS", body = Vps, headers(("ETag" = String))),
        (status = 404, description = "No such VPS", body = ErrorBody),
        (status = 409, description = "The VPS is in the trash", body = ErrorBody)))]
async fn retire_vps(State(state): State<AppState>, op: Operator, Id(id): Id) -> ApiResult<impl IntoResponse> {
    let v = state.store.retire_vps(id, &op.audit).await.map_err(not_found)?;
    state.events.vps_changed(&v, "retired");
    Ok((etag_header(v.version), Json(v)))
}

/// Bring a VPS back from the trash.
#[utoipa::path(post, path = "/api/vps/{id}/restore", tag = "vps", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The restored VPS", body = Vps, headers(("ETag" = String))),
        (status = 404, description = "No such VPS", body = ErrorBody),
        (status = 409, description = "Its host name or an address was taken meanwhile", body = ErrorBody)))]
async fn restore_vps(State(state): State<AppState>, op: Operator, Id(id): Id) -> ApiResult<impl IntoResponse> {
    let v = state.store.restore_vps(id, &op.audit).await.map_err(not_found)?;
    state.events.vps_changed(&v, "restored");
    Ok((etag_header(v.version), Json(v)))
}

/// The addresses a VPS has held, newest first.
#[utoipa::path(get, path = "/api/vps/{id}/ip-history", tag = "vps", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "Address periods", body = Vec<IpHistoryEntry>),
        (status = 404, description = "No such VPS", body = ErrorBody)))]
async fn vps_ip_history(State(state): State<AppState>, _: Reader, Id(id): Id) -> ApiResult<Json<Vec<IpHistoryEntry>>> {
    Ok(Json(state.store.vps_ip_history(id).await.map_err(not_found)?))
}

fn not_found(e: impl Into<ApiError>) -> ApiError {
    let e = e.into();
    if e.status == StatusCode::NOT_FOUND { ApiError::not_found("VPS") } else { e }
}
