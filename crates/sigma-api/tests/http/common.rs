//! A real server on a free port over a fresh database, per test.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use sigma_api::config::Config;
use std::net::SocketAddr;
use tokio::sync::oneshot;

/// The password of users that tests make.
pub const PASSWORD: &str = "correct horse battery staple";

/// The bootstrap key of servers that tests close with one.
pub const BOOTSTRAP_KEY: &str = "test-bootstrap-key-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub client: sigma_client::Client,
    pub backend: Backend,
    pub database_url: String,
    api_key: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A database URL for a fresh, empty database of the backend.
pub async fn fresh_database(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("sigma-http-{}", uuid::Uuid::now_v7()));
            format!("sqlite://{}/sigma.db", dir.display())
        }
        Backend::Postgres => sigma_store_postgres::testing::scratch_database().await,
    }
}

fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("debug,sqlx=warn,hyper=info").with_test_writer().try_init();
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
        let url = fresh_database(backend).await;
        Self::spawn_on(backend, &url, configure).await
    }

    /// A server on an existing database URL.
    pub async fn spawn_on(backend: Backend, database_url: &str, configure: impl FnOnce(&mut Config)) -> TestApp {
        Self::start(backend, database_url, configure, sigma_api::ui::Ui::embedded()).await
    }

    /// A server on a fresh database serving `ui` as its web UI.
    pub async fn spawn_with_ui(backend: Backend, ui: Option<std::sync::Arc<sigma_api::ui::Ui>>) -> TestApp {
        let url = fresh_database(backend).await;
        Self::start(backend, &url, |_| {}, ui).await
    }

    async fn start(
        backend: Backend,
        database_url: &str,
        configure: impl FnOnce(&mut Config),
        ui: Option<std::sync::Arc<sigma_api::ui::Ui>>,
    ) -> TestApp {
        init_logging();
        let mut config = Config::for_database(database_url);
        configure(&mut config);
        let store = sigma_api::open_store(database_url).await.expect("open the test database");
        let state = sigma_api::state(store, &config);
        sigma_api::bootstrap_admin(&state, &config).await.expect("create the first admin");
        let app = sigma_api::router_with_ui(state, &config, ui);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(sigma_api::serve(listener, app, async move {
            let _ = rx.await;
        }));
        let base = format!("http://{addr}");
        let api_key = config.api_key.as_ref().map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned());
        TestApp {
            addr,
            client: sigma_client::Client::new(&base, api_key.clone()),
            base,
            http: reqwest::Client::new(),
            backend,
            database_url: database_url.to_owned(),
            api_key,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, self.url(path));
        match &self.api_key {
            Some(k) => rb.header("x-api-key", k),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path).json(body).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    /// Creates a provider and gives back its id.
    pub async fn provider(&self, name: &str) -> String {
        let r = self.post("/api/providers", &serde_json::json!({"name": name})).await;
        assert_eq!(r.status(), 201, "create provider {name}");
        r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// Creates a VPS from `fields` merged over a minimal valid body.
    pub async fn vps(&self, provider_id: &str, hostname: &str, fields: Value) -> Value {
        let mut body = serde_json::json!({"hostname": hostname, "provider_id": provider_id, "country": "JP", "purpose": "vpn-exit"});
        if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
            b.extend(f.clone());
        }
        let r = self.post("/api/vps", &body).await;
        let status = r.status();
        let json: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "create VPS {hostname}: {json}");
        json
    }

    /// A request with the given bearer credential (login token or API key).
    pub fn as_bearer(&self, method: Method, path: &str, credential: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(credential)
    }

    /// A request without credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Logs in and gives back the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self.anonymous(Method::POST, "/api/auth/login").json(&json!({"email": email, "password": password}));
        let body = expect(r.send().await.unwrap(), 200).await;
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a user with this app's own credentials and logs it in:
    /// its id and access token.
    pub async fn user(&self, email: &str, role: &str) -> (String, String) {
        let r = self.post("/api/users", &json!({"email": email, "password": PASSWORD, "role": role})).await;
        let user = expect(r, 201).await;
        (user["id"].as_str().unwrap().to_owned(), self.login(email, PASSWORD).await)
    }

    /// Creates an API key with the given credential: the key and its record.
    pub async fn api_key(&self, credential: &str, body: Value) -> (String, Value) {
        let r = self.as_bearer(Method::POST, "/api/api-keys", credential).json(&body).send().await.unwrap();
        let created = expect(r, 201).await;
        (created["key"].as_str().unwrap().to_owned(), created["api_key"].clone())
    }

    /// Stops the server, letting requests in flight finish.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

/// Reads a JSON body, asserting the status first.
pub async fn expect(r: Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    assert!(headers.contains_key("x-request-id"), "every response carries X-Request-Id");
    if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

/// Asserts the documented error shape and gives back the error object.
pub async fn expect_error(r: Response, status: u16, code: &str) -> Value {
    let content_type = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body = expect(r, status).await;
    assert_eq!(content_type.as_deref(), Some("application/json"), "error bodies are JSON: {body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "error code in {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "error message in {body}");
    error.clone()
}

/// Runs each named test once per backend: `name::sqlite` and `name::postgres`.
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::common::TestApp::spawn(crate::common::Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(crate::common::TestApp::spawn(crate::common::Backend::Postgres).await).await
                }
            }
        )+
    };
}
pub(crate) use both;

/// Like `both!`, for tests that take the backend and set up their own server.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::common::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(crate::common::Backend::Postgres).await
                }
            }
        )+
    };
}
pub(crate) use both_backends;
