//! Logging in and out, who am I, password change, and the second factor.

use crate::auth::{Public, Reader, Session, password, totp};
use crate::error::{ApiError, ApiResult};
use crate::extract::AppJson;
use crate::ratelimit::{Count, too_many};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sigma_store::{AuditContext, UserSecrets, UserUpdate};
use sigma_types::{
    LoginRequest, LoginResponse, Me, PasswordChange, RecoveryCodes, TotpCode, TotpSetup, User, validate,
};
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Extra wait after a failed login, so guessing is slow even within the limits.
const FAILURE_DELAY: Duration = Duration::from_millis(250);
/// Issuer shown by authenticator apps.
const ISSUER: &str = "Sigma";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(totp_setup))
        .routes(routes!(totp_enable))
        .routes(routes!(totp_disable))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong e-mail address, password or code")
}

fn locked(until: chrono::DateTime<Utc>) -> Response {
    let left = (until - Utc::now()).to_std().unwrap_or_default();
    let count = Count { limit: 0, used: 1, reset: left };
    too_many(&count, "too many failed logins for this address; try again later")
}

/// Log in with e-mail address and password (and the TOTP code when the
/// user has enabled it). Repeated failures lock the address for a while,
/// whether or not a user has it.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong credentials, or `totp_required`: send `totp_code` too", body = sigma_types::ErrorBody),
        (status = 429, description = "Too many attempts or failures; see Retry-After", body = sigma_types::ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    client: Public,
    AppJson(body): AppJson<LoginRequest>,
) -> ApiResult<Response> {
    let mut missing = sigma_types::FieldErrors::default();
    let email = body.email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    if email.is_none() {
        missing.add("email", "is required");
    }
    if body.password.is_none() {
        missing.add("password", "is required");
    }
    missing.into_result().map_err(ApiError::validation)?;
    let (email, given) = (email.unwrap_or_default(), body.password.unwrap_or_default());
    let store = &state.store;
    if let Some(until) = store.login_locked_until(&email).await? {
        return Ok(locked(until));
    }
    let found = store.user_secrets_by_email(&email).await?;
    let hash = match &found {
        Some(s) => s.password_hash.clone(),
        None => state.auth.dummy_hash().await,
    };
    let password_ok = password::verify(given, hash).await;
    let failure = match &found {
        None => Some("unknown_email"),
        Some(_) if !password_ok => Some("bad_password"),
        Some(s) if s.user.disabled => Some("disabled"),
        Some(s) if s.user.totp_enabled => match body.totp_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "totp_required",
                    "this account needs a TOTP code: send totp_code",
                ));
            }
            Some(code) => (!second_factor_ok(&state, s, code).await?).then_some("bad_totp"),
        },
        Some(_) => None,
    };
    if let Some(reason) = failure {
        let user_id = found.as_ref().map(|s| s.user.id);
        let locked_until =
            store.record_login_failure(&email, user_id, reason, &state.lock_policy, &client.audit).await?;
        tokio::time::sleep(FAILURE_DELAY).await;
        return match locked_until {
            Some(until) => Ok(locked(until)),
            None => Err(invalid_credentials()),
        };
    }
    let secrets = found.expect("a login without failure has a user");
    let by = AuditContext { actor: crate::auth::Actor::User(secrets.user.clone()).audit_actor(), ..client.audit };
    let user = store.record_login(secrets.user.id, &by).await?;
    let access_token = state.auth.issue_token(user.id, secrets.token_generation);
    let expires_in = state.auth.token_ttl().as_secs();
    Ok(Json(LoginResponse { access_token, token_type: "Bearer".into(), expires_in, user }).into_response())
}

/// A TOTP code not used before, or an unused recovery code.
async fn second_factor_ok(state: &AppState, s: &UserSecrets, code: &str) -> ApiResult<bool> {
    let Some(secret) = &s.totp_secret else { return Ok(false) };
    if let Some(step) = totp::matching_step(secret, code, Utc::now().timestamp()) {
        return Ok(state.store.use_totp_step(s.user.id, step).await?);
    }
    if code.len() >= 8 {
        return Ok(state.store.use_recovery_code(s.user.id, &totp::recovery_hash(code)).await?);
    }
    Ok(false)
}

/// End every session of the user (all its login tokens stop working).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "Logged out")))]
async fn logout(State(state): State<AppState>, session: Session) -> ApiResult<StatusCode> {
    state.store.end_sessions(session.user.id, "logout", &session.audit).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the credentials of this request belong to, and what they may do.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses((status = 200, description = "The caller", body = Me)))]
async fn me(reader: Reader) -> ApiResult<Json<Me>> {
    let actor = reader.actor;
    let audit = actor.audit_actor();
    let api_key_id = match &actor {
        crate::auth::Actor::ApiKey { key, .. } => Some(key.id),
        _ => None,
    };
    Ok(Json(Me {
        kind: audit.kind,
        name: audit.name,
        role: actor.role().unwrap_or(sigma_types::Role::Readonly),
        user: actor.user().cloned(),
        api_key_id,
    }))
}

/// Change one's own password; every session of the user ends, so log in again.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Invalid new password", body = sigma_types::ErrorBody),
        (status = 401, description = "Wrong current password", body = sigma_types::ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let mut e = sigma_types::FieldErrors::default();
    if body.current_password.is_none() {
        e.add("current_password", "is required");
    }
    let new = match body.new_password {
        Some(p) => e.check("new_password", validate::password(&p)),
        None => {
            e.add("new_password", "is required");
            None
        }
    };
    e.into_result().map_err(ApiError::validation)?;
    let secrets = state.store.user_secrets(session.user.id).await?;
    if !password::verify(body.current_password.unwrap_or_default(), secrets.password_hash).await {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "the current password is wrong"));
    }
    let password_hash = password::hash(new.unwrap_or_default()).await.map_err(ApiError::internal)?;
    let change = UserUpdate { password_hash: Some(password_hash), ..Default::default() };
    state.store.update_user(session.user.id, &change, &session.audit).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start setting up TOTP: a new secret to add to an authenticator app.
/// Nothing changes at login until `POST /api/auth/totp/enable` proves it.
#[utoipa::path(post, path = "/api/auth/totp/setup", tag = "auth",
    responses(
        (status = 200, description = "The secret, shown once", body = TotpSetup),
        (status = 409, description = "TOTP is already enabled", body = sigma_types::ErrorBody)))]
async fn totp_setup(State(state): State<AppState>, session: Session) -> ApiResult<Json<TotpSetup>> {
    let secret = totp::new_secret();
    state.store.set_totp_secret(session.user.id, &secret).await?;
    let otpauth_uri = totp::otpauth_uri(ISSUER, &session.user.email, &secret);
    Ok(Json(TotpSetup { secret, otpauth_uri }))
}

/// Turn TOTP on by proving a current code; answers the one-time recovery
/// codes, shown this once.
#[utoipa::path(post, path = "/api/auth/totp/enable", tag = "auth", request_body = TotpCode,
    responses(
        (status = 200, description = "Enabled", body = RecoveryCodes),
        (status = 400, description = "Wrong code", body = sigma_types::ErrorBody),
        (status = 409, description = "Not set up, or already enabled", body = sigma_types::ErrorBody)))]
async fn totp_enable(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<TotpCode>,
) -> ApiResult<Json<RecoveryCodes>> {
    let code = body.code.ok_or_else(|| ApiError::field("code", "is required"))?;
    let secrets = state.store.user_secrets(session.user.id).await?;
    if secrets.user.totp_enabled {
        return Err(ApiError::from(sigma_store::StoreError::conflict("TOTP is already enabled")));
    }
    let secret = secrets.totp_secret.ok_or_else(|| {
        ApiError::from(sigma_store::StoreError::conflict("set TOTP up first (POST /api/auth/totp/setup)"))
    })?;
    let step = totp::matching_step(&secret, &code, Utc::now().timestamp())
        .ok_or_else(|| ApiError::field("code", "is not the current code of this secret"))?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    state.store.enable_totp(session.user.id, step, &hashes, &session.audit).await?;
    Ok(Json(RecoveryCodes { recovery_codes: codes }))
}

/// Turn TOTP off, proving a current code or a recovery code.
#[utoipa::path(post, path = "/api/auth/totp/disable", tag = "auth", request_body = TotpCode,
    responses(
        (status = 200, description = "Disabled", body = User),
        (status = 400, description = "Wrong code", body = sigma_types::ErrorBody)))]
async fn totp_disable(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<TotpCode>,
) -> ApiResult<Json<User>> {
    let code = body.code.ok_or_else(|| ApiError::field("code", "is required"))?;
    let secrets = state.store.user_secrets(session.user.id).await?;
    if !secrets.user.totp_enabled {
        return Err(ApiError::from(sigma_store::StoreError::conflict("TOTP is not enabled")));
    }
    if !second_factor_ok(&state, &secrets, &code).await? {
        return Err(ApiError::field("code", "is neither the current code nor an unused recovery code"));
    }
    Ok(Json(state.store.disable_totp(session.user.id, &session.audit).await?))
}
