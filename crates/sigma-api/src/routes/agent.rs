//! The agent's side of the API, `/api/agent/*`: registration and claim
//! status (no credentials), heartbeat and configuration (the agent's own
//! key). User credentials do not work here, and agent keys work nowhere else.

use crate::agent_auth::{AGENT_KEY_PREFIX, AgentKey, HeartbeatKey, agent_unauthorized, new_secret, sha256_hex};
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, Id};
use crate::jobs::heartbeats::{Summary, WriteError};
use crate::ratelimit;
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::{StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sigma_store::AuditContext;
use sigma_store::agents::{HeartbeatWrite, Registered, same_secret};
use sigma_types::{
    ActorKind, AgentConfig, AgentRegister, AgentRegistered, AuditActor, ClaimStatus, ErrorBody, FleetEvent, Heartbeat,
};
use std::net::IpAddr;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(claim_status))
        .routes(routes!(heartbeat))
        .routes(routes!(config))
}

/// Where a request came from: address and request id.
pub(crate) struct Origin {
    pub ip: Option<IpAddr>,
    pub request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Origin {
            ip: parts.extensions.get::<ClientIp>().and_then(|c| c.0),
            request_id: parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
        })
    }
}

impl Origin {
    fn audit(&self, agent_id: uuid::Uuid, hostname: &str) -> AuditContext {
        AuditContext {
            actor: AuditActor { kind: ActorKind::Agent, id: Some(agent_id), name: hostname.to_owned() },
            ip: self.ip,
            request_id: self.request_id.clone(),
        }
    }
}

/// Register an agent. Answers `201` for a new agent and `200` when the same
/// agent registers again with the same claim hash (nothing changes); `409`
/// when the id is registered with another claim hash. With an enrolment
/// token the agent is claimed at once (`status: claimed`). Rate limited per
/// client address (`429` with `Retry-After` beyond the budget).
#[utoipa::path(post, path = "/api/agent/register", tag = "agent", request_body = AgentRegister, security(()),
    responses(
        (status = 201, description = "Registered; poll `poll_url` for the key", body = AgentRegistered),
        (status = 200, description = "Already registered with this claim hash", body = AgentRegistered),
        (status = 401, description = "The enrolment token is unknown, expired, revoked or used up", body = ErrorBody),
        (status = 409, description = "The agent id is registered with another claim hash", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = ErrorBody)))]
async fn register(State(state): State<AppState>, origin: Origin, AppJson(body): AppJson<AgentRegister>) -> Response {
    let count = state.limiter.check_registration(origin.ip, state.agents.register_limit).await;
    if !count.allowed() {
        return ratelimit::too_many(&count, "too many agent registrations from this address; try again later");
    }
    let mut response = match do_register(&state, &origin, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    ratelimit::set_headers(response.headers_mut(), &count);
    response
}

async fn do_register(state: &AppState, origin: &Origin, body: AgentRegister) -> ApiResult<Response> {
    let (reg, token) = body.validate().map_err(ApiError::validation)?;
    let by = origin.audit(reg.agent_id, &reg.hostname);
    let (agent, created) = match token {
        Some(token) => match state.store.enroll_agent(&reg, &sha256_hex(&token), &by).await? {
            Ok((agent, r)) => (agent, r == Registered::Created),
            Err(refusal) => {
                tracing::warn!(agent_id = %reg.agent_id, ?refusal, "enrolment token refused");
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_enrollment_token",
                    "the enrolment token is unknown, expired, revoked or used up",
                ));
            }
        },
        None => {
            let (agent, r) = state.store.register_agent(&reg, &by).await?;
            (agent, r == Registered::Created)
        }
    };
    if created {
        state.events.publish(FleetEvent::AgentChanged {
            agent_id: agent.id,
            vps_id: agent.vps_id,
            action: if agent.claimed { "enrolled".into() } else { "registered".into() },
            at: Utc::now(),
        });
    }
    let body = AgentRegistered {
        status: if agent.claimed { "claimed".into() } else { "pending_claim".into() },
        poll_url: format!("/api/agent/{}/claim-status", agent.id),
    };
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(body)).into_response())
}

/// The agent's claim status. `pending` until an operator (or an enrolment
/// token) claimed the agent; then, exactly once, `claimed` with the agent's
/// key, and `pending` again afterwards. The agent proves it is the one that
/// registered by sending its claim token in `X-Claim-Token`; without it the
/// key is never handed out, with a wrong one the answer is `403`.
#[utoipa::path(get, path = "/api/agent/{id}/claim-status", tag = "agent", security(()),
    params(("id" = uuid::Uuid, Path), ("X-Claim-Token" = Option<String>, Header, description = "The claim token the agent generated")),
    responses(
        (status = 200, description = "Pending, or claimed with the key (once)", body = ClaimStatus),
        (status = 403, description = "The claim token does not match", body = ErrorBody),
        (status = 404, description = "No such agent (removed, or never registered): register again", body = ErrorBody)))]
async fn claim_status(
    State(state): State<AppState>,
    Id(id): Id,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<ClaimStatus>> {
    let claim = state.store.agent_claim_state(id).await?.ok_or_else(|| ApiError::not_found("agent"))?;
    let pending = Json(ClaimStatus { status: "pending".into(), api_key: None });
    let Some(token) = headers.get("x-claim-token").and_then(|v| v.to_str().ok()).map(str::trim) else {
        return Ok(pending);
    };
    let hash = sha256_hex(token);
    if !same_secret(hash.as_bytes(), claim.claim_hash.as_bytes()) {
        return Err(ApiError::forbidden("the claim token does not match"));
    }
    if !claim.key_pending {
        return Ok(pending);
    }
    let key = new_secret(AGENT_KEY_PREFIX);
    if state.store.take_agent_key(id, &hash, &sha256_hex(&key)).await? {
        tracing::info!(agent_id = %id, "agent key delivered");
        Ok(Json(ClaimStatus { status: "claimed".into(), api_key: Some(key) }))
    } else {
        Ok(pending)
    }
}

fn agent_config(state: &AppState, agent_id: uuid::Uuid) -> AgentConfig {
    AgentConfig {
        agent_id,
        heartbeat_interval_secs: state.agents.heartbeat_interval.map(|d| d.as_secs() as u32),
        port_scan: None,
    }
}

/// Now, to the microsecond that both backends store.
fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Report system metrics. The latest heartbeat of each agent is kept; the
/// agent is offline when none comes for three intervals. Answers the
/// agent's configuration.
#[utoipa::path(post, path = "/api/agent/heartbeat", tag = "agent", request_body = Heartbeat,
    security(("agent_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Stored; the configuration the server asks for", body = AgentConfig),
        (status = 401, description = "Missing, unknown or revoked agent key", body = ErrorBody)))]
async fn heartbeat(
    State(state): State<AppState>,
    key: Result<HeartbeatKey, ApiError>,
    beat: Result<AppJson<Heartbeat>, ApiError>,
) -> ApiResult<Json<AgentConfig>> {
    let result = match (key, beat) {
        (Ok(key), Ok(AppJson(beat))) => store_heartbeat(&state, key, beat).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    state.metrics.heartbeat(result.is_ok());
    result
}

async fn store_heartbeat(state: &AppState, key: HeartbeatKey, beat: Heartbeat) -> ApiResult<Json<AgentConfig>> {
    beat.validate().map_err(ApiError::validation)?;
    let interval = state.agents.heartbeat_interval.unwrap_or(Duration::from_secs(u64::from(beat.interval_secs)));
    let at = now();
    let offline_after = at + chrono::Duration::from_std(interval * 3).unwrap_or(chrono::Duration::hours(72));
    let summary = Summary { cpu_percent: beat.cpu_percent, memory: beat.memory, load: beat.load };
    let write = HeartbeatWrite {
        agent_id: key.agent_id,
        key_hash: key.key_hash.clone(),
        at,
        offline_after,
        hostname: beat.hostname.trim().to_owned(),
        agent_version: beat.agent_version.trim().to_owned(),
        data: serde_json::to_string(&beat).map_err(ApiError::internal)?,
    };
    match state.heartbeats.write(write, summary).await {
        Ok(outcome) if outcome.stored => Ok(Json(agent_config(state, key.agent_id))),
        Ok(_) => {
            state.agents.keys.forget(&key.key_hash);
            Err(agent_unauthorized())
        }
        Err(WriteError::Unavailable) => {
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database is unreachable"))
        }
        Err(e) => Err(ApiError::internal(format!("heartbeat not stored: {e:?}"))),
    }
}

/// The configuration the server asks of this agent.
#[utoipa::path(get, path = "/api/agent/config", tag = "agent", security(("agent_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Heartbeat interval and feature switches; absent ones are the agent's own", body = AgentConfig),
        (status = 401, description = "Missing, unknown or revoked agent key", body = ErrorBody)))]
async fn config(State(state): State<AppState>, key: AgentKey) -> Json<AgentConfig> {
    Json(agent_config(&state, key.agent_id))
}
