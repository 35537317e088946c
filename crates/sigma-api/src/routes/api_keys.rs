//! Named API keys for scripts and tools. Anyone may make keys for
//! themselves, never above their own role; admins see and revoke everyone's.

use crate::auth::{Actor, Reader, key_hash};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, Id};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::Utc;
use sigma_store::{NewApiKey, StoreError};
use sigma_types::{ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyListQuery, Page, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Every key starts so, which makes leaked keys easy to find.
const KEY_PREFIX: &str = "sigma_";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_keys, create_key)).routes(routes!(delete_key))
}

/// The user whose keys the caller manages: itself, or the owner of the
/// key it uses. `None` for the bootstrap key and an open server.
fn owner_of(actor: &Actor) -> Option<Uuid> {
    actor.user().map(|u| u.id)
}

fn is_admin(actor: &Actor) -> bool {
    actor.role() == Some(Role::Admin)
}

/// List the caller's keys; admins may ask for everyone's with `all=true`.
#[utoipa::path(get, path = "/api/api-keys", tag = "api-keys", params(ApiKeyListQuery),
    responses((status = 200, description = "One page of keys, newest first", body = Page<ApiKey>)))]
async fn list_keys(
    State(state): State<AppState>,
    reader: Reader,
    AppQuery(query): AppQuery<ApiKeyListQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let (all, page) = query.validate().map_err(ApiError::validation)?;
    let owner = owner_of(&reader.actor);
    if all && !is_admin(&reader.actor) {
        return Err(ApiError::forbidden("listing everyone's keys needs the admin role"));
    }
    let owner = if all || owner.is_none() { None } else { owner };
    Ok(Json(state.store.list_api_keys(owner, page).await?))
}

/// Create a key. The answer holds the key itself, shown this once: keep it.
#[utoipa::path(post, path = "/api/api-keys", tag = "api-keys", request_body = ApiKeyCreate,
    responses(
        (status = 201, description = "Created", body = ApiKeyCreated, headers(("Location" = String))),
        (status = 403, description = "The role asked for is above the caller's", body = sigma_types::ErrorBody)))]
async fn create_key(
    State(state): State<AppState>,
    reader: Reader,
    AppJson(body): AppJson<ApiKeyCreate>,
) -> ApiResult<impl IntoResponse> {
    let request = body.validate(Utc::now()).map_err(ApiError::validation)?;
    let caller_role = reader.actor.role().unwrap_or(Role::Readonly);
    let role = request.role.unwrap_or(caller_role);
    if role > caller_role {
        return Err(ApiError::forbidden(format!("a key cannot do more than its maker: at most {caller_role}")));
    }
    let key = format!("{KEY_PREFIX}{}", crate::auth::totp::hex(&rand::random::<[u8; 24]>()));
    let new = NewApiKey {
        name: request.name,
        prefix: key[..KEY_PREFIX.len() + 6].to_owned(),
        key_hash: key_hash(&key),
        role,
        owner_id: owner_of(&reader.actor),
        expires_at: request.expires_at,
    };
    let api_key = state.store.create_api_key(&new, &reader.audit).await?;
    let location = format!("/api/api-keys/{}", api_key.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(ApiKeyCreated { key, api_key })))
}

/// Revoke a key: the caller's own, or anyone's for an admin.
#[utoipa::path(delete, path = "/api/api-keys/{id}", tag = "api-keys", params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such key of the caller", body = sigma_types::ErrorBody)))]
async fn delete_key(State(state): State<AppState>, reader: Reader, Id(id): Id) -> ApiResult<StatusCode> {
    let not_found = |e: StoreError| match e {
        StoreError::NotFound => ApiError::not_found("API key"),
        other => other.into(),
    };
    let key = state.store.get_api_key(id).await.map_err(not_found)?;
    if !is_admin(&reader.actor) && key.owner_id != owner_of(&reader.actor) {
        // Others' keys are not even said to exist.
        return Err(not_found(StoreError::NotFound));
    }
    state.store.delete_api_key(id, &reader.audit).await.map_err(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}
