//! Agent credentials: per-agent keys (valid only on `/api/agent/*`),
//! the secrets Sigma makes for agents and enrolment tokens. Registrations
//! are rate limited by the shared limiter (ratelimit.rs).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header, request::Parts};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Prefix of agent keys, so that a leaked key is recognisable.
pub const AGENT_KEY_PREFIX: &str = "sga_";
/// Prefix of enrolment tokens.
pub const ENROLLMENT_TOKEN_PREFIX: &str = "sge_";

/// Lower-case hex SHA-256: how keys, claim tokens and enrolment tokens are
/// stored. Each is 256 random bits, so a plain hash cannot be reversed.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new secret: `prefix` and 32 random bytes in hex.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    format!("{prefix}{}", hex::encode(bytes))
}

/// The agent a request's key belongs to.
#[derive(Debug, Clone)]
pub struct AgentKey {
    pub agent_id: Uuid,
    pub vps_id: Option<Uuid>,
    /// The stored hash of the key, so that a write can check it still holds.
    pub key_hash: String,
}

fn presented_agent_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-agent-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The hash of the agent key a request presents, if it looks like one.
fn presented_key_hash(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = presented_agent_key(headers).ok_or_else(agent_unauthorized)?;
    if !key.starts_with(AGENT_KEY_PREFIX) || key.len() > 200 {
        return Err(agent_unauthorized());
    }
    Ok(sha256_hex(key))
}

impl FromRequestParts<AppState> for AgentKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key_hash = presented_key_hash(&parts.headers)?;
        let owner = state.store.agent_by_key(&key_hash).await?.ok_or_else(agent_unauthorized)?;
        Ok(AgentKey { agent_id: owner.agent_id, vps_id: owner.vps_id, key_hash })
    }
}

/// How long a heartbeat key's owner is remembered.
const KEY_TTL: Duration = Duration::from_secs(60);
/// Most keys remembered; beyond, the cache starts again empty.
const KEY_CACHE_MAX: usize = 200_000;

/// Heartbeat keys recently checked, by hash, so that a heartbeat does not
/// cost a database read for its key. Safe because the heartbeat write
/// checks the stored key hash again: a revoked or rotated key is still
/// refused at once (and forgotten here).
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, (Uuid, Instant)>>);

impl KeyCache {
    fn get(&self, key_hash: &str) -> Option<Uuid> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key_hash).filter(|(_, at)| at.elapsed() < KEY_TTL).map(|(id, _)| *id)
    }

    fn put(&self, key_hash: String, agent_id: Uuid) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= KEY_CACHE_MAX {
            map.clear();
        }
        map.insert(key_hash, (agent_id, Instant::now()));
    }

    /// Forgets a key the store refused.
    pub fn forget(&self, key_hash: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key_hash);
    }
}

/// The agent a heartbeat's key belongs to, from [`KeyCache`] when recently
/// checked. Only for writes that check the key hash again.
pub struct HeartbeatKey {
    pub agent_id: Uuid,
    pub key_hash: String,
}

impl FromRequestParts<AppState> for HeartbeatKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key_hash = presented_key_hash(&parts.headers)?;
        if let Some(agent_id) = state.agents.keys.get(&key_hash) {
            return Ok(HeartbeatKey { agent_id, key_hash });
        }
        let owner = state.store.agent_by_key(&key_hash).await?.ok_or_else(agent_unauthorized)?;
        state.agents.keys.put(key_hash.clone(), owner.agent_id);
        Ok(HeartbeatKey { agent_id: owner.agent_id, key_hash })
    }
}

/// The answer to a missing, unknown or revoked agent key.
pub fn agent_unauthorized() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing, unknown or revoked agent key; enrol again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_hashes() {
        let a = new_secret(AGENT_KEY_PREFIX);
        assert!(a.starts_with("sga_") && a.len() == 68);
        assert_ne!(a, new_secret(AGENT_KEY_PREFIX));
        assert_eq!(sha256_hex("test"), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    }
}
