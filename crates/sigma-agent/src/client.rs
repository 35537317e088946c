//! The agent's calls to `/api/agent/*`, blocking, over sigma-types.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sigma_types::{AgentConfig, AgentRegister, AgentRegistered, ClaimStatus, ErrorBody, Heartbeat};
use std::time::Duration;
use uuid::Uuid;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer: connection refused, timeout, TLS.
    Transport(String),
    /// An error answer, with the server's message and its Retry-After.
    Status { status: u16, message: String, retry_after: Option<u64> },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(e) => write!(f, "cannot reach the server: {e}"),
            Failure::Status { status, message, .. } => write!(f, "the server answered {status}: {message}"),
        }
    }
}

pub struct Client {
    http: ureq::Agent,
    base: String,
}

const USER_AGENT: &str = concat!("sigma-agent/", env!("CARGO_PKG_VERSION"));

impl Client {
    pub fn new(base: &str) -> Client {
        let http = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            .http_status_as_error(false)
            .build()
            .into();
        Client { http, base: base.to_owned() }
    }

    fn finish<T: DeserializeOwned>(
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, T), Failure> {
        let mut response = result.map_err(|e| Failure::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            let body = response.body_mut().read_json::<T>().map_err(|e| Failure::Status {
                status,
                message: format!("unreadable answer: {e}"),
                retry_after: None,
            })?;
            return Ok((status, body));
        }
        let retry_after =
            response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let message = response
            .body_mut()
            .read_json::<ErrorBody>()
            .map(|b| b.error.message)
            .unwrap_or_else(|_| "no explanation".into());
        Err(Failure::Status { status, message, retry_after })
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        key: Option<&str>,
        body: &B,
    ) -> Result<(u16, T), Failure> {
        let mut rb = self.http.post(format!("{}{path}", self.base)).header("user-agent", USER_AGENT);
        if let Some(key) = key {
            rb = rb.header("x-agent-key", key);
        }
        Self::finish(rb.send_json(body))
    }

    pub fn register(&self, body: &AgentRegister) -> Result<AgentRegistered, Failure> {
        self.post("/api/agent/register", None, body).map(|(_, b)| b)
    }

    pub fn claim_status(&self, id: Uuid, claim_token: &str) -> Result<ClaimStatus, Failure> {
        let rb = self
            .http
            .get(format!("{}/api/agent/{id}/claim-status", self.base))
            .header("user-agent", USER_AGENT)
            .header("x-claim-token", claim_token);
        Self::finish(rb.call()).map(|(_, b)| b)
    }

    pub fn heartbeat(&self, key: &str, beat: &Heartbeat) -> Result<AgentConfig, Failure> {
        self.post("/api/agent/heartbeat", Some(key), beat).map(|(_, b)| b)
    }

    pub fn config(&self, key: &str) -> Result<AgentConfig, Failure> {
        let rb = self
            .http
            .get(format!("{}/api/agent/config", self.base))
            .header("user-agent", USER_AGENT)
            .header("x-agent-key", key);
        Self::finish(rb.call()).map(|(_, b)| b)
    }
}
