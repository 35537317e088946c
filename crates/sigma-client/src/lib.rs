//! Typed HTTP client for the Sigma API, over the shared `sigma-types`.
//! Used by the CLI, the agent, the probe and the tests.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sigma_types::{
    Agent, AgentClaim, AgentListQuery, ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyListQuery, AuditEntry, AuditQuery,
    EnrollmentToken, EnrollmentTokenCreate, EnrollmentTokenCreated, ErrorBody, ImportQuery, ImportReport, Inventory,
    InventoryQuery, IpHistoryEntry, LoginRequest, LoginResponse, Me, Page, Provider, ProviderCreate, ProviderListQuery,
    ProviderPatch, RecoveryCodes, Stats, TargetGroup, TargetsQuery, TotpCode, TotpSetup, TransferFormat, User,
    UserCreate, UserListQuery, UserPatch, Vps, VpsCreate, VpsFilterQuery, VpsListQuery, VpsPatch,
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

/// The error of a failed answer: the API's error shape, else the raw text.
fn error_of(status: StatusCode, bytes: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => ClientError::Api { status, body },
        Err(_) => ClientError::Decode { status, message: String::from_utf8_lossy(bytes).into_owned() },
    }
}

/// A query struct that can be encoded on its own (object-safe `Serialize`).
trait ErasedQuery {
    fn encode(&self) -> Option<String>;
}

impl<T: Serialize> ErasedQuery for T {
    fn encode(&self) -> Option<String> {
        serde_html_form::to_string(self).ok()
    }
}

fn content_type(format: TransferFormat) -> &'static str {
    match format {
        TransferFormat::Json => "application/json",
        TransferFormat::Csv => "text/csv",
    }
}

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
            Err(error_of(status, &bytes))
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::GET, path)).await
    }

    async fn json<T: DeserializeOwned>(&self, method: Method, path: &str, body: &impl Serialize) -> Result<T> {
        self.send(self.request(method, path).json(body)).await
    }

    fn query(path: &str, query: &impl Serialize) -> String {
        Self::queries(path, &[&query])
    }

    /// `path` with the query strings of several query structs joined.
    fn queries(path: &str, queries: &[&dyn ErasedQuery]) -> String {
        let parts: Vec<String> = queries.iter().filter_map(|q| q.encode()).filter(|q| !q.is_empty()).collect();
        if parts.is_empty() { path.to_owned() } else { format!("{path}?{}", parts.join("&")) }
    }

    /// Sends a request whose success body is a file, reporting progress as
    /// `(bytes received, bytes expected if known)` after every chunk.
    async fn download(&self, rb: RequestBuilder, mut progress: impl FnMut(u64, Option<u64>)) -> Result<Vec<u8>> {
        let mut response = rb.send().await?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.bytes().await?;
            return Err(error_of(status, &bytes));
        }
        let expected = response.content_length();
        let mut body = Vec::with_capacity(expected.unwrap_or(0).min(64 << 20) as usize);
        progress(0, expected);
        while let Some(chunk) = response.chunk().await? {
            body.extend_from_slice(&chunk);
            progress(body.len() as u64, expected);
        }
        Ok(body)
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

    /// Every VPS matching the filters, as a JSON or CSV file (`GET /api/vps/export`).
    pub async fn export_vps(
        &self,
        filter: &VpsFilterQuery,
        format: TransferFormat,
        progress: impl FnMut(u64, Option<u64>),
    ) -> Result<Vec<u8>> {
        let format = sigma_types::ExportQuery { format: Some(format) };
        let path = Self::queries("/api/vps/export", &[&format, filter]);
        self.download(self.request(Method::GET, &path), progress).await
    }

    /// Providers whose name contains `q` (all without it), as a JSON or CSV file.
    pub async fn export_providers(
        &self,
        q: Option<&str>,
        format: TransferFormat,
        progress: impl FnMut(u64, Option<u64>),
    ) -> Result<Vec<u8>> {
        let format = sigma_types::ExportQuery { format: Some(format) };
        let filter = ProviderListQuery { q: q.map(str::to_owned), ..Default::default() };
        let path = Self::queries("/api/providers/export", &[&format, &filter]);
        self.download(self.request(Method::GET, &path), progress).await
    }

    /// Imports a JSON or CSV file of VPS (`query.format` says which; JSON when absent).
    pub async fn import_vps(&self, file: Vec<u8>, query: &ImportQuery) -> Result<ImportReport> {
        let format = query.format.unwrap_or_default();
        let rb = self.request(Method::POST, &Self::query("/api/vps/import", query));
        self.send(rb.header(reqwest::header::CONTENT_TYPE, content_type(format)).body(file)).await
    }

    /// Imports a JSON or CSV file of providers.
    pub async fn import_providers(&self, file: Vec<u8>, query: &ImportQuery) -> Result<ImportReport> {
        let format = query.format.unwrap_or_default();
        let rb = self.request(Method::POST, &Self::query("/api/providers/import", query));
        self.send(rb.header(reqwest::header::CONTENT_TYPE, content_type(format)).body(file)).await
    }

    /// Prometheus service-discovery groups (`GET /api/prometheus/targets`).
    pub async fn targets(&self, filter: &VpsFilterQuery, query: &TargetsQuery) -> Result<Vec<TargetGroup>> {
        self.get(&Self::queries("/api/prometheus/targets", &[filter, query])).await
    }

    /// The Ansible dynamic inventory (`GET /api/ansible/inventory`).
    pub async fn inventory(&self, filter: &VpsFilterQuery, query: &InventoryQuery) -> Result<Inventory> {
        self.get(&Self::queries("/api/ansible/inventory", &[filter, query])).await
    }

    /// One page of the audit log, newest first (admin).
    pub async fn audit_logs(&self, query: &AuditQuery) -> Result<Page<AuditEntry>> {
        self.get(&Self::query("/api/audit-logs", query)).await
    }

    /// Logs in with e-mail address and password (and TOTP code); the token
    /// in the answer is sent as `Authorization: Bearer`.
    pub async fn login(&self, body: &LoginRequest) -> Result<LoginResponse> {
        self.json(Method::POST, "/api/auth/login", body).await
    }

    /// Ends every session of the logged-in user.
    pub async fn logout(&self) -> Result<()> {
        self.send(self.request(Method::POST, "/api/auth/logout")).await
    }

    /// Who the credentials belong to (`GET /api/auth/me`).
    pub async fn me(&self) -> Result<Me> {
        self.get("/api/auth/me").await
    }

    /// A new TOTP secret for the logged-in user (`POST /api/auth/totp/setup`).
    pub async fn totp_setup(&self) -> Result<TotpSetup> {
        self.send(self.request(Method::POST, "/api/auth/totp/setup")).await
    }

    /// Turns TOTP on with a current code; answers the recovery codes.
    pub async fn totp_enable(&self, code: &str) -> Result<RecoveryCodes> {
        self.json(Method::POST, "/api/auth/totp/enable", &TotpCode { code: Some(code.to_owned()) }).await
    }

    pub async fn list_users(&self, query: &UserListQuery) -> Result<Page<User>> {
        self.get(&Self::query("/api/users", query)).await
    }

    pub async fn create_user(&self, body: &UserCreate) -> Result<User> {
        self.json(Method::POST, "/api/users", body).await
    }

    pub async fn get_user(&self, id: Uuid) -> Result<User> {
        self.get(&format!("/api/users/{id}")).await
    }

    pub async fn update_user(&self, id: Uuid, patch: &UserPatch) -> Result<User> {
        self.json(Method::PATCH, &format!("/api/users/{id}"), patch).await
    }

    pub async fn delete_user(&self, id: Uuid) -> Result<()> {
        self.send(self.request(Method::DELETE, &format!("/api/users/{id}"))).await
    }

    pub async fn list_api_keys(&self, query: &ApiKeyListQuery) -> Result<Page<ApiKey>> {
        self.get(&Self::query("/api/api-keys", query)).await
    }

    /// Makes a key; the answer holds the key itself, shown this once.
    pub async fn create_api_key(&self, body: &ApiKeyCreate) -> Result<ApiKeyCreated> {
        self.json(Method::POST, "/api/api-keys", body).await
    }

    pub async fn delete_api_key(&self, id: Uuid) -> Result<()> {
        self.send(self.request(Method::DELETE, &format!("/api/api-keys/{id}"))).await
    }

    pub async fn list_agents(&self, query: &AgentListQuery) -> Result<Page<Agent>> {
        self.get(&Self::query("/api/agents", query)).await
    }

    pub async fn get_agent(&self, id: Uuid) -> Result<Agent> {
        self.get(&format!("/api/agents/{id}")).await
    }

    /// Claims a registered agent with the token it printed.
    pub async fn claim_agent(&self, body: &AgentClaim) -> Result<Agent> {
        self.json(Method::POST, "/api/agents/claim", body).await
    }

    pub async fn delete_agent(&self, id: Uuid) -> Result<()> {
        self.send(self.request(Method::DELETE, &format!("/api/agents/{id}"))).await
    }

    pub async fn rotate_agent_key(&self, id: Uuid) -> Result<Agent> {
        self.send(self.request(Method::POST, &format!("/api/agents/{id}/rotate-key"))).await
    }

    pub async fn list_enrollment_tokens(&self) -> Result<Vec<EnrollmentToken>> {
        self.get("/api/agents/enrollment-tokens").await
    }

    /// Makes an enrolment token; the answer holds the secret, shown this once.
    pub async fn create_enrollment_token(&self, body: &EnrollmentTokenCreate) -> Result<EnrollmentTokenCreated> {
        self.json(Method::POST, "/api/agents/enrollment-tokens", body).await
    }

    pub async fn revoke_enrollment_token(&self, id: Uuid) -> Result<()> {
        self.send(self.request(Method::DELETE, &format!("/api/agents/enrollment-tokens/{id}"))).await
    }
}
