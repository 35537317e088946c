//! Who is asking, decided in one place. For now the only credential is the
//! bootstrap admin key (`SIGMA_API_KEY`); without it the API is open.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::ConnectInfo;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use sigma_store::AuditContext;
use sigma_types::{ActorKind, AuditActor, Role};
use std::net::SocketAddr;

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No credentials are configured: everyone may do everything.
    Open,
    /// The bootstrap admin key.
    BootstrapKey,
}

impl Actor {
    /// How the audit log names this caller.
    pub fn audit_actor(&self) -> AuditActor {
        match self {
            Actor::Open => AuditActor { kind: ActorKind::Anonymous, id: None, name: "anonymous".into() },
            Actor::BootstrapKey => AuditActor { kind: ActorKind::ApiKey, id: None, name: "bootstrap API key".into() },
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Actor::Open | Actor::BootstrapKey => Role::Admin,
        }
    }

    /// Refuses with 403 unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role() >= role { Ok(()) } else { Err(ApiError::forbidden(format!("this needs the {role} role"))) }
    }
}

pub struct Auth {
    api_key: Option<SecretString>,
}

impl Auth {
    pub fn new(api_key: Option<SecretString>) -> Self {
        Auth { api_key }
    }

    pub fn is_open(&self) -> bool {
        self.api_key.is_none()
    }

    /// Reads `X-Api-Key` or `Authorization: Bearer`.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Actor, ApiError> {
        let Some(expected) = &self.api_key else {
            return Ok(Actor::Open);
        };
        let presented = presented_credential(headers).ok_or_else(ApiError::unauthorized)?;
        if constant_time_eq(presented.as_bytes(), expected.expose_secret().as_bytes()) {
            Ok(Actor::BootstrapKey)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

fn presented_credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware on `/api`: authenticates every request and hands the
/// `Actor` to handlers.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let actor = state.auth.authenticate(request.headers())?;
    request.extensions_mut().insert(actor);
    Ok(next.run(request).await)
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Actor>().cloned().ok_or_else(ApiError::unauthorized)
    }
}

/// The audit context of a request: who, from which address, which request.
fn audit_context(actor: &Actor, parts: &Parts) -> AuditContext {
    AuditContext {
        actor: actor.audit_actor(),
        ip: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical()),
        request_id: parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}

/// A caller allowed to change fleet data (operator or admin), with the
/// audit context its changes are recorded under.
pub struct Operator {
    pub actor: Actor,
    pub audit: AuditContext,
}

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let actor = Actor::from_request_parts(parts, state).await?;
        actor.require(Role::Operator)?;
        Ok(Operator { audit: audit_context(&actor, parts), actor })
    }
}

/// A caller with the admin role.
pub struct Admin {
    pub actor: Actor,
    pub audit: AuditContext,
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let actor = Actor::from_request_parts(parts, state).await?;
        actor.require(Role::Admin)?;
        Ok(Admin { audit: audit_context(&actor, parts), actor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn both_headers_are_accepted() {
        let auth = Auth::new(Some("k".repeat(20).into()));
        let mut h = HeaderMap::new();
        assert!(auth.authenticate(&h).is_err());
        h.insert("x-api-key", HeaderValue::from_str(&"k".repeat(20)).unwrap());
        assert_eq!(auth.authenticate(&h).unwrap(), Actor::BootstrapKey);
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("bearer {}", "k".repeat(20))).unwrap());
        assert!(auth.authenticate(&h).is_ok());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer wrong"));
        assert!(auth.authenticate(&h).is_err());
        assert_eq!(Auth::new(None).authenticate(&HeaderMap::new()).unwrap(), Actor::Open);
    }
}
