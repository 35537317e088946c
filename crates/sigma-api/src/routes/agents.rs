//! The operator's side of agents, `/api/agents`: list and inspect them,
//! claim one, remove one (its key stops working), rotate its key, and
//! manage enrolment tokens.

use crate::agent_auth::{ENROLLMENT_TOKEN_PREFIX, new_secret, sha256_hex};
use crate::auth::{Admin, Operator, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, Id};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use serde::Serialize;
use sigma_store::agents::ClaimTarget;
use sigma_types::{
    Agent, AgentClaim, AgentListQuery, AgentStatus, EnrollmentToken, EnrollmentTokenCreate, EnrollmentTokenCreated,
    ErrorBody, FleetEvent, NewVpsDefaults, Page,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents))
        .routes(routes!(claim_agent))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(get_agent, delete_agent))
        .routes(routes!(rotate_key))
        .routes(routes!(status_history))
}

fn not_found(e: impl Into<ApiError>) -> ApiError {
    let e = e.into();
    if e.status == StatusCode::NOT_FOUND { ApiError::not_found("agent") } else { e }
}

fn changed(state: &AppState, agent: &Agent, action: &str) {
    state.events.publish(FleetEvent::AgentChanged {
        agent_id: agent.id,
        vps_id: agent.vps_id,
        action: action.to_owned(),
        at: Utc::now(),
    });
}

/// List agents, optionally by status or claim state.
#[utoipa::path(get, path = "/api/agents", tag = "agents", params(AgentListQuery),
    responses((status = 200, description = "One page of agents", body = Page<Agent>)))]
async fn list_agents(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(query): AppQuery<AgentListQuery>,
) -> ApiResult<Json<Page<Agent>>> {
    let (filter, page) = query.validate().map_err(ApiError::validation)?;
    Ok(Json(state.store.list_agents(filter, page).await?))
}

/// Get an agent with its latest heartbeat.
#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The agent", body = Agent),
        (status = 404, description = "No such agent", body = ErrorBody)))]
async fn get_agent(State(state): State<AppState>, _: Reader, Id(id): Id) -> ApiResult<Json<Agent>> {
    Ok(Json(state.store.get_agent(id).await.map_err(not_found)?))
}

/// Remove an agent. Its key stops working at once; the agent notices and
/// enrols again. The VPS it reported for stays.
#[utoipa::path(delete, path = "/api/agents/{id}", tag = "agents", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such agent", body = ErrorBody)))]
async fn delete_agent(State(state): State<AppState>, op: Operator, Id(id): Id) -> ApiResult<StatusCode> {
    let agent = state.store.get_agent(id).await.map_err(not_found)?;
    state.store.delete_agent(id, &op.audit).await.map_err(not_found)?;
    changed(&state, &agent, "deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate an agent's key: the current key stops working at once, and the
/// agent fetches a new one with its claim token (see claim-status).
#[utoipa::path(post, path = "/api/agents/{id}/rotate-key", tag = "agents", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The agent, with a new key waiting for it", body = Agent),
        (status = 404, description = "No such agent", body = ErrorBody),
        (status = 409, description = "The agent is not claimed yet", body = ErrorBody)))]
async fn rotate_key(State(state): State<AppState>, op: Operator, Id(id): Id) -> ApiResult<Json<Agent>> {
    let agent = state.store.rotate_agent_key(id, &op.audit).await.map_err(not_found)?;
    changed(&state, &agent, "key-rotated");
    Ok(Json(agent))
}

/// One recorded change of an agent's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    pub status: AgentStatus,
    pub at: chrono::DateTime<Utc>,
}

/// Every recorded change of an agent's status, oldest first.
#[utoipa::path(get, path = "/api/agents/{id}/status-history", tag = "agents", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "Transitions, oldest first", body = Vec<StatusChange>),
        (status = 404, description = "No such agent", body = ErrorBody)))]
async fn status_history(State(state): State<AppState>, _: Reader, Id(id): Id) -> ApiResult<Json<Vec<StatusChange>>> {
    state.store.get_agent(id).await.map_err(not_found)?;
    let list = state.store.agent_transitions(id).await?;
    Ok(Json(list.into_iter().map(|t| StatusChange { status: t.status, at: t.at }).collect()))
}

/// Claim an agent with the token it printed. The agent is linked to
/// `vps_id`, else to the live VPS holding one of its addresses, else to a
/// new `provisioning` VPS made from `provider_id`, `country` and `purpose`.
#[utoipa::path(post, path = "/api/agents/claim", tag = "agents", request_body = AgentClaim,
    responses(
        (status = 200, description = "Claimed; the agent fetches its key", body = Agent),
        (status = 400, description = "No VPS to link to, or bad VPS fields", body = ErrorBody),
        (status = 403, description = "The claim token does not match", body = ErrorBody),
        (status = 404, description = "No such agent", body = ErrorBody),
        (status = 409, description = "Already claimed, or the new VPS collides with a live one", body = ErrorBody)))]
async fn claim_agent(
    State(state): State<AppState>,
    op: Operator,
    AppJson(body): AppJson<AgentClaim>,
) -> ApiResult<Json<Agent>> {
    let new_vps =
        NewVpsDefaults::from_parts(body.provider_id, body.country, body.purpose).map_err(ApiError::validation)?;
    if body.claim_token.is_empty() || body.claim_token.len() > 200 {
        return Err(ApiError::field("claim_token", "is required"));
    }
    let target = ClaimTarget { vps_id: body.vps_id, new_vps, require_vps: true };
    let hash = sha256_hex(body.claim_token.trim());
    let claimed = state.store.claim_agent(body.agent_id, &hash, &target, &op.audit).await.map_err(not_found)?;
    let agent = claimed.ok_or_else(|| ApiError::forbidden("the claim token does not match"))?;
    changed(&state, &agent, "claimed");
    Ok(Json(agent))
}

/// Enrolment tokens, newest first (their secrets are never shown again).
#[utoipa::path(get, path = "/api/agents/enrollment-tokens", tag = "agents",
    responses((status = 200, description = "Every enrolment token", body = Vec<EnrollmentToken>)))]
async fn list_tokens(State(state): State<AppState>, _admin: Admin) -> ApiResult<Json<Vec<EnrollmentToken>>> {
    Ok(Json(state.store.list_enrollment_tokens().await?))
}

/// Make an enrolment token for unattended installs: an agent that registers
/// with it is claimed at once. The token is shown only in this answer.
#[utoipa::path(post, path = "/api/agents/enrollment-tokens", tag = "agents", request_body = EnrollmentTokenCreate,
    responses((status = 201, description = "The token, shown once", body = EnrollmentTokenCreated)))]
async fn create_token(
    State(state): State<AppState>,
    admin: Admin,
    AppJson(body): AppJson<EnrollmentTokenCreate>,
) -> ApiResult<impl IntoResponse> {
    let draft = body.validate(Utc::now()).map_err(ApiError::validation)?;
    let token = new_secret(ENROLLMENT_TOKEN_PREFIX);
    let info = state.store.create_enrollment_token(&draft, &sha256_hex(&token), &admin.audit).await?;
    Ok((StatusCode::CREATED, Json(EnrollmentTokenCreated { token, info })))
}

/// Revoke an enrolment token; agents already enrolled with it stay.
#[utoipa::path(delete, path = "/api/agents/enrollment-tokens/{id}", tag = "agents", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such token", body = ErrorBody)))]
async fn revoke_token(State(state): State<AppState>, admin: Admin, Id(id): Id) -> ApiResult<StatusCode> {
    state.store.revoke_enrollment_token(id, &admin.audit).await.map_err(|e| {
        let e = ApiError::from(e);
        if e.status == StatusCode::NOT_FOUND { ApiError::not_found("enrolment token") } else { e }
    })?;
    Ok(StatusCode::NO_CONTENT)
}
