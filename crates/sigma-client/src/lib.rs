//! Typed HTTP client for the Sigma API, over the shared `sigma-types`.
//! Used by the CLI, the agent, the probe and the tests.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sigma_types::{
    ErrorBody, IpHistoryEntry, Page, Provider, ProviderCreate, ProviderListQuery, ProviderPatch, Stats, Vps, VpsCreate,
    VpsListQuery, VpsPatch,
};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error.
    #[error("{status}: {}", body.error.message)]
    Api { status: StatusCode, body: ErrorBody },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered something that is not the expected JSON.
    #[error("unexpected answer ({status}): {message}")]
    Decode { status: StatusCode, message: String },
}

impl ClientError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Api { status, .. } | ClientError::Decode { status, .. } => Some(*status),
            ClientError::Transport(e) => e.status(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    api_key: Option<String>,
}

impl Client {
    /// `base` is the server's root URL, such as `http://127.0.0.1:3000`.
    pub fn new(base: impl Into<String>, api_key: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("sigma-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client");
        Client { http, base: base.into().trim_end_matches('/').to_owned(), api_key }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.api_key {
            rb = rb.bearer_auth(key);
        }
        rb
    }

    async fn send<T: DeserializeOwned>(&self, rb: RequestBuilder) -> Result<T> {
        let response = rb.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            let text: &[u8] = if status == StatusCode::NO_CONTENT || bytes.is_empty() { b"null" } else { &bytes };
            serde_json::from_slice(text).map_err(|e| ClientError::Decode { status, message: e.to_string() })
        } else {
            match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => Err(ClientError::Api { status, body }),
                Err(_) => Err(ClientError::Decode { status, message: String::from_utf8_lossy(&bytes).into_owned() }),
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::GET, path)).await
    }

    async fn json<T: DeserializeOwned>(&self, method: Method, path: &str, body: &impl Serialize) -> Result<T> {
        self.send(self.request(method, path).json(body)).await
    }

    fn query(path: &str, query: &impl Serialize) -> String {
        match serde_html_form::to_string(query) {
            Ok(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path.to_owned(),
        }
    }

    pub async fn list_providers(&self, query: &ProviderListQuery) -> Result<Page<Provider>> {
        self.get(&Self::query("/api/providers", query)).await
    }

    pub async fn create_provider(&self, body: &ProviderCreate) -> Result<Provider> {
        self.json(Method::POST, "/api/providers", body).await
    }

    pub async fn get_provider(&self, id: Uuid) -> Result<Provider> {
        self.get(&format!("/api/providers/{id}")).await
    }

    pub async fn update_provider(&self, id: Uuid, patch: &ProviderPatch) -> Result<Provider> {
        self.json(Method::PATCH, &format!("/api/providers/{id}"), patch).await
    }

    pub async fn delete_provider(&self, id: Uuid) -> Result<()> {
        self.send(self.request(Method::DELETE, &format!("/api/providers/{id}"))).await
    }

    pub async fn list_vps(&self, query: &VpsListQuery) -> Result<Page<Vps>> {
        self.get(&Self::query("/api/vps", query)).await
    }

    pub async fn create_vps(&self, body: &VpsCreate) -> Result<Vps> {
        self.json(Method::POST, "/api/vps", body).await
    }

    pub async fn get_vps(&self, id: Uuid) -> Result<Vps> {
        self.get(&format!("/api/vps/{id}")).await
    }

    pub async fn update_vps(&self, id: Uuid, patch: &VpsPatch) -> Result<Vps> {
        self.json(Method::PATCH, &format!("/api/vps/{id}"), patch).await
    }

    pub async fn retire_vps(&self, id: Uuid) -> Result<Vps> {
        self.send(self.request(Method::POST, &format!("/api/vps/{id}/retire"))).await
    }

    /// Moves a VPS to the trash.
    pub async fn delete_vps(&self, id: Uuid) -> Result<()> {
        self.send(self.request(Method::DELETE, &format!("/api/vps/{id}"))).await
    }

    /// Removes a VPS for good (admin).
    pub async fn purge_vps(&self, id: Uuid) -> Result<()> {
        self.send(self.request(Method::DELETE, &format!("/api/vps/{id}?purge=true"))).await
    }

    pub async fn restore_vps(&self, id: Uuid) -> Result<Vps> {
        self.send(self.request(Method::POST, &format!("/api/vps/{id}/restore"))).await
    }

    pub async fn vps_ip_history(&self, id: Uuid) -> Result<Vec<IpHistoryEntry>> {
        self.get(&format!("/api/vps/{id}/ip-history")).await
    }

    pub async fn ip_history(&self, ip: &str) -> Result<Vec<IpHistoryEntry>> {
        self.get(&Self::query("/api/ip-history", &[("ip", ip)])).await
    }

    pub async fn stats(&self) -> Result<Stats> {
        self.get("/api/stats").await
    }
}
