//! Who is asking, decided in one place.
//!
//! A request may carry a login token (`Authorization: Bearer`), an API key
//! (`X-Api-Key` or `Authorization: Bearer`) or the bootstrap admin key
//! (`SIGMA_API_KEY`). The [`authenticate`] middleware turns them into an
//! [`Actor`] or refuses them with 401; the role extractors ([`Reader`],
//! [`Operator`], [`Admin`], [`Session`]) that every handler takes decide
//! what that actor may do. With neither a bootstrap key nor any user, the
//! server is open and every caller acts as an admin.

pub mod jwt;
pub mod password;
pub mod totp;

use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sigma_store::{AuditContext, DynStore, StoreError};
use sigma_types::{ActorKind, ApiKey, AuditActor, Role, User};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Paths whose credentials are not Sigma's to check: agents bring their
/// own per-agent keys, which only the agent routes accept.
pub const AGENT_PREFIX: &str = "/api/agent/";

/// How often `last_used_at` of an API key is written, at most.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No credentials are configured: everyone may do everything.
    Open,
    /// No credentials were presented to a server that needs them.
    Anonymous,
    /// The bootstrap admin key.
    BootstrapKey,
    /// A user, through a login token.
    User(User),
    /// A named API key, with its owner as the owner is now.
    ApiKey { key: ApiKey, owner: Option<User> },
}

impl Actor {
    /// How the audit log names this caller.
    pub fn audit_actor(&self) -> AuditActor {
        match self {
            Actor::Open | Actor::Anonymous => {
                AuditActor { kind: ActorKind::Anonymous, id: None, name: "anonymous".into() }
            }
            Actor::BootstrapKey => AuditActor { kind: ActorKind::ApiKey, id: None, name: "bootstrap API key".into() },
            Actor::User(u) => AuditActor { kind: ActorKind::User, id: Some(u.id), name: u.email.clone() },
            Actor::ApiKey { key, .. } => {
                AuditActor { kind: ActorKind::ApiKey, id: Some(key.id), name: key.name.clone() }
            }
        }
    }

    /// What the caller may do; `None` without credentials. A key never
    /// does more than its owner may do now.
    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::Open | Actor::BootstrapKey => Some(Role::Admin),
            Actor::Anonymous => None,
            Actor::User(u) => Some(u.role),
            Actor::ApiKey { key, owner } => Some(owner.as_ref().map_or(key.role, |o| key.role.min(o.role))),
        }
    }

    /// The user acting, or owning the key that acts.
    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::User(u) => Some(u),
            Actor::ApiKey { owner, .. } => owner.as_ref(),
            _ => None,
        }
    }

    /// Refuses with 401 without credentials, with 403 when the role is too low.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        match self.role() {
            None => Err(ApiError::unauthorized()),
            Some(have) if have >= role => Ok(()),
            Some(_) => Err(ApiError::forbidden(format!("this needs the {role} role"))),
        }
    }
}

/// Checks credentials against the bootstrap key, login tokens and API keys.
pub struct Auth {
    api_key: Option<SecretString>,
    signer: jwt::Signer,
    token_ttl: Duration,
    /// Set once a user exists: from then on credentials are required.
    closed: AtomicBool,
    /// A hash to check passwords against when no user has the address,
    /// so that a login takes as long either way.
    dummy_hash: OnceCell<String>,
}

impl Auth {
    pub fn new(api_key: Option<SecretString>, jwt_secret: &[u8], token_ttl: Duration) -> Self {
        Auth {
            api_key,
            signer: jwt::Signer::new(jwt_secret),
            token_ttl,
            closed: AtomicBool::new(false),
            dummy_hash: OnceCell::new(),
        }
    }

    pub fn token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// Whether requests without credentials act as admin: no bootstrap key
    /// and no user. Once a user exists the answer stays no.
    pub async fn is_open(&self, store: &DynStore) -> Result<bool, StoreError> {
        if self.api_key.is_some() || self.closed.load(Ordering::Relaxed) {
            return Ok(false);
        }
        if store.count_users().await? > 0 {
            self.closed.store(true, Ordering::Relaxed);
            return Ok(false);
        }
        Ok(true)
    }

    /// Notes that a user exists now.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    /// A login token for a user.
    pub fn issue_token(&self, user_id: uuid::Uuid, generation: i64) -> String {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.token_ttl.as_secs()).unwrap_or(i64::MAX / 2);
        self.signer.sign(&jwt::Claims { sub: user_id, generation, iat: now, exp: now + ttl })
    }

    pub async fn dummy_hash(&self) -> String {
        self.dummy_hash
            .get_or_init(|| async { password::hash(format!("{:x}", rand::random::<u128>())).await.unwrap_or_default() })
            .await
            .clone()
    }

    /// The actor behind the credentials of `headers`.
    pub async fn authenticate(&self, store: &DynStore, headers: &HeaderMap) -> Result<Actor, ApiError> {
        let Some(presented) = presented_credential(headers) else {
            return Ok(if self.is_open(store).await? { Actor::Open } else { Actor::Anonymous });
        };
        if let Some(expected) = &self.api_key
            && totp::constant_time_eq(presented.as_bytes(), expected.expose_secret().as_bytes())
        {
            return Ok(Actor::BootstrapKey);
        }
        if jwt::looks_like_token(presented) {
            let claims = self.signer.verify(presented, Utc::now().timestamp()).ok_or_else(ApiError::unauthorized)?;
            let secrets = match store.user_secrets(claims.sub).await {
                Err(StoreError::NotFound) => return Err(ApiError::unauthorized()),
                other => other?,
            };
            if secrets.user.disabled || secrets.token_generation != claims.generation {
                return Err(ApiError::unauthorized());
            }
            return Ok(Actor::User(secrets.user));
        }
        let grant = store.api_key_by_hash(&key_hash(presented)).await?.ok_or_else(ApiError::unauthorized)?;
        let now = Utc::now();
        if grant.key.expires_at.is_some_and(|at| at <= now) || grant.owner.as_ref().is_some_and(|o| o.disabled) {
            return Err(ApiError::unauthorized());
        }
        if grant.key.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
            // Bookkeeping must not slow the request down or fail it.
            let (store, id) = (store.clone(), grant.key.id);
            tokio::spawn(async move {
                if let Err(e) = store.touch_api_key(id, now).await {
                    tracing::warn!(error = %e, "cannot record the use of an API key");
                }
            });
        }
        Ok(Actor::ApiKey { key: grant.key, owner: grant.owner })
    }
}

/// How an API key is kept: SHA-256, hex. Keys are long random strings, so
/// a fast hash is enough and lets every request be checked quickly.
pub fn key_hash(key: &str) -> String {
    totp::hex(&Sha256::digest(key.as_bytes()))
}

/// The credential of a request: `X-Api-Key`, else `Authorization: Bearer`.
pub fn presented_credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim()).filter(|k| !k.is_empty());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Middleware on `/api`: authenticates every request and hands the
/// `Actor` to the extractors. Bad credentials are refused here; missing
/// ones are left to the route's extractor.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let actor = if request.uri().path().starts_with(AGENT_PREFIX) {
        Actor::Anonymous
    } else {
        state.auth.authenticate(&state.store, request.headers()).await?
    };
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
        ip: parts.extensions.get::<ClientIp>().and_then(|c| c.0),
        request_id: parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}

/// Declares a role extractor: the caller must hold at least `$role`.
macro_rules! role_extractor {
    ($(#[$meta:meta])* $name:ident, $role:expr) => {
        $(#[$meta])*
        pub struct $name {
            pub actor: Actor,
            /// The context its changes are recorded under.
            pub audit: AuditContext,
        }

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                let actor = Actor::from_request_parts(parts, state).await?;
                actor.require($role)?;
                Ok($name { audit: audit_context(&actor, parts), actor })
            }
        }
    };
}

role_extractor!(
    /// A caller allowed to read (any role).
    Reader,
    Role::Readonly
);
role_extractor!(
    /// A caller allowed to change fleet data (operator or admin).
    Operator,
    Role::Operator
);
role_extractor!(
    /// A caller with the admin role.
    Admin,
    Role::Admin
);

/// A route anyone may call (login); carries the audit context all the same.
pub struct Public {
    pub audit: AuditContext,
}

impl<S: Send + Sync> FromRequestParts<S> for Public {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Public { audit: audit_context(&Actor::Anonymous, parts) })
    }
}

/// A user logged in with a token (logout, password, second factor): API
/// keys cannot stand in for their owner here.
pub struct Session {
    pub user: User,
    pub audit: AuditContext,
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let actor = Actor::from_request_parts(parts, state).await?;
        match &actor {
            Actor::User(user) => Ok(Session { user: user.clone(), audit: audit_context(&actor, parts) }),
            Actor::Anonymous => Err(ApiError::unauthorized()),
            _ => Err(ApiError::forbidden("this needs a user's login token, not an API key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn both_headers_are_accepted() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_credential(&h), None);
        h.insert("x-api-key", HeaderValue::from_static(" key-1 "));
        assert_eq!(presented_credential(&h), Some("key-1"));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer key-2"));
        assert_eq!(presented_credential(&h), Some("key-2"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic a2V5"));
        assert_eq!(presented_credential(&h), None);
    }

    #[test]
    fn a_key_does_no_more_than_its_owner() {
        let now = Utc::now();
        let user = User {
            id: uuid::Uuid::now_v7(),
            email: "a@example.com".into(),
            role: Role::Readonly,
            disabled: false,
            totp_enabled: false,
            last_login_at: None,
            created_at: now,
            updated_at: now,
        };
        let key = ApiKey {
            id: uuid::Uuid::now_v7(),
            name: "k".into(),
            prefix: "sigma_ab".into(),
            role: Role::Admin,
            owner_id: Some(user.id),
            expires_at: None,
            last_used_at: None,
            created_at: now,
        };
        let actor = Actor::ApiKey { key: key.clone(), owner: Some(user) };
        assert_eq!(actor.role(), Some(Role::Readonly));
        assert_eq!(actor.require(Role::Operator).unwrap_err().status, 403);
        assert_eq!(Actor::ApiKey { key, owner: None }.role(), Some(Role::Admin));
        assert_eq!(Actor::Anonymous.require(Role::Readonly).unwrap_err().status, 401);
    }
}
