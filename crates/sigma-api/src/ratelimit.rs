//! Rate limiting per client address and per credential, with a stricter
//! budget on login, and a budget of its own for agent registrations
//! (`/api/agent/register`, counted by its handler: the agent routes do not
//! take user credentials and are outside the `/api` middleware).
//!
//! Counters are fixed one-minute windows: in this process by default, in
//! Redis with `REDIS_URL` so that several replicas share them (one Lua
//! script per hit: `INCR`, and `PEXPIRE` when the window opens, atomic in
//! Redis). When Redis cannot be reached the request is let through and a
//! warning logged: losing the limit for a moment beats refusing everyone.
//!
//! Answers carry `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset` (seconds) of the tightest budget; a refusal is `429`
//! with `Retry-After`.

use crate::auth::presented_credential;
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

pub const WINDOW: Duration = Duration::from_secs(60);

/// Paths with the stricter budget: guessing passwords is what an attacker
/// would try first.
const STRICT_PATHS: &[&str] = &["/api/auth/login"];

/// Budgets, in requests per [`WINDOW`]; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_client: u32,
    pub per_credential: u32,
    pub strict_per_client: u32,
}

/// One counter after a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub limit: u32,
    pub used: u64,
    /// Until the window ends.
    pub reset: Duration,
}

impl Count {
    pub fn allowed(&self) -> bool {
        self.used <= u64::from(self.limit)
    }

    fn remaining(&self) -> u64 {
        u64::from(self.limit).saturating_sub(self.used)
    }
}

enum Counters {
    Memory(Mutex<HashMap<String, (Instant, u64)>>),
    Redis { client: redis::Client, conn: OnceCell<redis::aio::ConnectionManager>, script: redis::Script },
}

pub struct RateLimiter {
    limits: Limits,
    counters: Counters,
}

const HIT_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
";

impl RateLimiter {
    /// Counters in this process.
    pub fn in_memory(limits: Limits) -> Self {
        RateLimiter { limits, counters: Counters::Memory(Mutex::new(HashMap::new())) }
    }

    /// Counters in the Redis at `url`, shared by every replica using it.
    /// The connection is made at the first request (or [`Self::connect`]).
    pub fn redis(limits: Limits, url: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let counters = Counters::Redis { client, conn: OnceCell::new(), script: redis::Script::new(HIT_SCRIPT) };
        Ok(RateLimiter { limits, counters })
    }

    /// Connects to Redis now, when counters live there; says why not.
    pub async fn connect(&self) -> Result<(), String> {
        match &self.counters {
            Counters::Memory(_) => Ok(()),
            Counters::Redis { client, conn, .. } => connection(client, conn).await.map(|_| ()),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Counts one request against `key`.
    pub async fn hit(&self, key: &str, limit: u32) -> Count {
        match &self.counters {
            Counters::Memory(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                if map.len() > 100_000 {
                    map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
                }
                let entry = map.entry(key.to_owned()).or_insert((now, 0));
                if now.duration_since(entry.0) >= WINDOW {
                    *entry = (now, 0);
                }
                entry.1 += 1;
                Count { limit, used: entry.1, reset: WINDOW.saturating_sub(now.duration_since(entry.0)) }
            }
            Counters::Redis { client, conn, script } => {
                let window = WINDOW.as_millis() as u64;
                let result = match connection(client, conn).await {
                    Ok(mut conn) => script
                        .key(format!("sigma:ratelimit:{key}"))
                        .arg(window)
                        .invoke_async::<(u64, i64)>(&mut conn)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match result {
                    Ok((used, ttl)) => {
                        Count { limit, used, reset: Duration::from_millis(ttl.clamp(0, window as i64) as u64) }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "rate-limit counters in Redis are unreachable; request let through");
                        Count { limit, used: 0, reset: WINDOW }
                    }
                }
            }
        }
    }

    /// Counts one agent registration from `client` against the budget of
    /// `limit` registrations per address and minute.
    pub async fn check_registration(&self, client: Option<IpAddr>, limit: u32) -> Count {
        let client = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        self.hit(&format!("register:{client}"), limit).await
    }

    /// Counts a request against every budget it falls under; answers the
    /// refusing count, or the tightest one.
    pub async fn check(&self, client: Option<&str>, credential: Option<&str>, strict: bool) -> Option<Count> {
        let client = client.unwrap_or("unknown");
        let mut budgets = Vec::with_capacity(3);
        if self.limits.per_client > 0 {
            budgets.push((format!("ip:{client}"), self.limits.per_client));
        }
        if strict && self.limits.strict_per_client > 0 {
            budgets.push((format!("strict:{client}"), self.limits.strict_per_client));
        }
        if let Some(credential) = credential
            && self.limits.per_credential > 0
        {
            let digest = Sha256::digest(credential.as_bytes());
            let id: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            budgets.push((format!("key:{id}"), self.limits.per_credential));
        }
        let mut tightest: Option<Count> = None;
        for (key, limit) in budgets {
            let count = self.hit(&key, limit).await;
            if !count.allowed() {
                return Some(count);
            }
            if tightest.is_none_or(|t| count.remaining() < t.remaining()) {
                tightest = Some(count);
            }
        }
        tightest
    }
}

/// The shared connection, made on first use; a failed attempt is retried
/// by the next request.
async fn connection(
    client: &redis::Client,
    cell: &OnceCell<redis::aio::ConnectionManager>,
) -> Result<redis::aio::ConnectionManager, String> {
    cell.get_or_try_init(|| async {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_connection_timeout(Duration::from_secs(1))
            .set_response_timeout(Duration::from_secs(1));
        let connect = redis::aio::ConnectionManager::new_with_config(client.clone(), config);
        match tokio::time::timeout(Duration::from_secs(2), connect).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 2 s".to_owned()),
        }
    })
    .await
    .cloned()
}

/// Puts the `RateLimit-*` headers of `count` on an answer.
pub fn set_headers(headers: &mut HeaderMap, count: &Count) {
    let secs = count.reset.as_secs_f64().ceil().max(1.0) as u64;
    for (name, value) in [
        ("ratelimit-limit", u64::from(count.limit)),
        ("ratelimit-remaining", count.remaining()),
        ("ratelimit-reset", secs),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

/// The `429` answer for a refused count.
pub fn too_many(count: &Count, message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).into_response();
    set_headers(response.headers_mut(), count);
    let secs = count.reset.as_secs_f64().ceil().max(1.0) as u64;
    response.headers_mut().insert("retry-after", HeaderValue::from(secs));
    response
}

/// Middleware on `/api`.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let strict = STRICT_PATHS.contains(&path);
    let client = request.extensions().get::<ClientIp>().and_then(|c| c.0).map(|ip| ip.to_string());
    // Agents' keys count like any other credential.
    let credential = presented_credential(request.headers()).map(str::to_owned);
    let Some(count) = state.limiter.check(client.as_deref(), credential.as_deref(), strict).await else {
        return next.run(request).await;
    };
    if !count.allowed() {
        return too_many(&count, "too many requests; slow down and retry after the time in Retry-After");
    }
    let mut response = next.run(request).await;
    set_headers(response.headers_mut(), &count);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn budgets_count_separately_and_refuse_beyond_the_limit() {
        let limiter = RateLimiter::in_memory(Limits { per_client: 3, per_credential: 2, strict_per_client: 1 });
        let a = limiter.check(Some("10.0.0.1"), None, false).await.unwrap();
        assert_eq!((a.limit, a.remaining(), a.allowed()), (3, 2, true));
        assert!(limiter.check(Some("10.0.0.1"), Some("k"), false).await.unwrap().allowed());
        let tight = limiter.check(Some("10.0.0.1"), Some("k"), false).await.unwrap();
        assert_eq!(tight.remaining(), 0, "the budget closest to running out is reported");
        let key_only = limiter.check(Some("10.0.0.9"), Some("k"), false).await.unwrap();
        assert_eq!((key_only.limit, key_only.allowed()), (2, false), "the key's budget is spent from any address");
        assert!(!limiter.check(Some("10.0.0.1"), None, false).await.unwrap().allowed());
        assert!(limiter.check(Some("10.0.0.2"), None, true).await.unwrap().allowed());
        assert!(!limiter.check(Some("10.0.0.2"), None, true).await.unwrap().allowed(), "strict budget");
        let ip: IpAddr = "10.0.0.3".parse().unwrap();
        assert!(limiter.check_registration(Some(ip), 1).await.allowed());
        assert!(!limiter.check_registration(Some(ip), 1).await.allowed(), "registration budget");
        assert!(limiter.check(Some("10.0.0.3"), None, true).await.unwrap().allowed(), "counted apart from the others");
        let off = RateLimiter::in_memory(Limits { per_client: 0, per_credential: 0, strict_per_client: 0 });
        assert_eq!(off.check(Some("10.0.0.1"), Some("k"), true).await, None);
    }
}
