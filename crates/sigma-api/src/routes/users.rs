//! Users, managed by admins.

use crate::auth::{Actor, Admin, password};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, Id};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use sigma_store::{NewUser, UserUpdate};
use sigma_types::{Page, Role, User, UserCreate, UserListQuery, UserPatch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users, create_user)).routes(routes!(get_user, patch_user, delete_user))
}

/// List users, by e-mail address (admin).
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserListQuery),
    responses((status = 200, description = "One page of users", body = Page<User>)))]
async fn list_users(
    State(state): State<AppState>,
    _: Admin,
    AppQuery(query): AppQuery<UserListQuery>,
) -> ApiResult<Json<Page<User>>> {
    let page = query.validate().map_err(ApiError::validation)?;
    Ok(Json(state.store.list_users(page).await?))
}

/// Create a user (admin). On an open server the first user must be an
/// admin; once a user exists the API needs credentials.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = UserCreate,
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String))),
        (status = 409, description = "The e-mail address is taken", body = sigma_types::ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    admin: Admin,
    AppJson(body): AppJson<UserCreate>,
) -> ApiResult<impl IntoResponse> {
    let draft = body.validate().map_err(ApiError::validation)?;
    // On an open server, a first user below admin would lock everyone out of user management.
    if draft.role != Role::Admin && admin.actor == Actor::Open && state.store.count_users().await? == 0 {
        return Err(ApiError::field("role", "the first user must be an admin"));
    }
    let password_hash = password::hash(draft.password).await.map_err(ApiError::internal)?;
    let new = NewUser { email: draft.email, password_hash, role: draft.role };
    let user = state.store.create_user(&new, &admin.audit).await?;
    state.auth.close();
    let location = format!("/api/users/{}", user.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(user)))
}

/// Get a user (admin).
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "No such user", body = sigma_types::ErrorBody)))]
async fn get_user(State(state): State<AppState>, _: Admin, Id(id): Id) -> ApiResult<Json<User>> {
    Ok(Json(state.store.get_user(id).await.map_err(not_found)?))
}

/// Change a user (admin): e-mail, role, disabled, password, or turn its
/// TOTP off. Disabling or a new password ends the user's sessions. The
/// last enabled admin cannot be disabled or demoted.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The changed user", body = User),
        (status = 404, description = "No such user", body = sigma_types::ErrorBody),
        (status = 409, description = "E-mail taken, or the last admin", body = sigma_types::ErrorBody)))]
async fn patch_user(
    State(state): State<AppState>,
    admin: Admin,
    Id(id): Id,
    AppJson(body): AppJson<UserPatch>,
) -> ApiResult<Json<User>> {
    let change = body.validate().map_err(ApiError::validation)?;
    let password_hash = match change.password {
        Some(p) => Some(password::hash(p).await.map_err(ApiError::internal)?),
        None => None,
    };
    let update = UserUpdate {
        email: change.email,
        role: change.role,
        disabled: change.disabled,
        password_hash,
        disable_totp: change.disable_totp,
    };
    Ok(Json(state.store.update_user(id, &update, &admin.audit).await.map_err(not_found)?))
}

/// Delete a user and its API keys (admin); the last enabled admin stays.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such user", body = sigma_types::ErrorBody),
        (status = 409, description = "The last admin", body = sigma_types::ErrorBody)))]
async fn delete_user(State(state): State<AppState>, admin: Admin, Id(id): Id) -> ApiResult<StatusCode> {
    state.store.delete_user(id, &admin.audit).await.map_err(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

fn not_found(e: impl Into<ApiError>) -> ApiError {
    let e = e.into();
    if e.status == StatusCode::NOT_FOUND { ApiError::not_found("user") } else { e }
}
