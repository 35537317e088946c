//! The Sigma API server as a library, so tests and benchmarks run the real
//! thing: [`router`] builds the application, [`serve`] runs it.

pub mod agent_auth;
pub mod auth;
pub mod client_ip;
pub mod config;
pub mod error;
pub mod events;
pub mod extract;
pub mod fleet_cache;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod ui;

use crate::auth::Auth;
use crate::config::Config;
use crate::events::Events;
use crate::fleet_cache::FleetCache;
use crate::jobs::heartbeats::HeartbeatWriter;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::state::{AgentSettings, AppState};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use secrecy::ExposeSecret;
use sigma_store::{DynStore, StoreError};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

/// Most bytes of whole-fleet answers kept (an answer for 10,000 VPS is a
/// few megabytes).
const FLEET_CACHE_BYTES: usize = 64 << 20;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Opens the store a database URL names, applying migrations.
pub async fn open_store(database_url: &str) -> Result<DynStore, StoreError> {
    Ok(if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Arc::new(sigma_store_postgres::PostgresStore::connect(database_url).await?)
    } else {
        Arc::new(sigma_store_sqlite::SqliteStore::connect(database_url).await?)
    })
}

/// The state the server runs with. Without a JWT secret (development
/// mode) login tokens are signed with a random one, valid until a restart.
/// Starts the background jobs (heartbeat writer, offline check) on the
/// current Tokio runtime; they stop when the state is dropped.
pub fn state(store: DynStore, config: &Config) -> AppState {
    let metrics = Arc::new(Metrics::new(store.backend()));
    let secret = match &config.jwt_secret {
        Some(secret) => secret.expose_secret().as_bytes().to_vec(),
        None => rand::random::<[u8; 32]>().to_vec(),
    };
    let limits = ratelimit::Limits {
        per_client: config.rate_limit,
        per_credential: config.rate_limit,
        strict_per_client: config.login_rate_limit,
    };
    let limiter = match &config.redis_url {
        Some(url) => {
            RateLimiter::redis(limits, url.expose_secret()).expect("REDIS_URL was checked with the configuration")
        }
        None => RateLimiter::in_memory(limits),
    };
    let lock_for = chrono::TimeDelta::from_std(config.login_lock).unwrap_or(chrono::TimeDelta::minutes(15));
    let events = Events::default();
    let (heartbeats, writer) = HeartbeatWriter::start(store.clone(), events.clone());
    let sweep = jobs::offline::start(store.clone(), events.clone(), config.agent_sweep_interval);
    AppState {
        store,
        auth: Arc::new(Auth::new(config.api_key.clone(), &secret, config.token_ttl)),
        metrics,
        limiter: Arc::new(limiter),
        lock_policy: sigma_store::LockPolicy {
            max_failures: config.login_max_failures,
            window: chrono::TimeDelta::minutes(15),
            lock_for,
        },
        import_body_limit: config.import_body_limit,
        events,
        fleet_cache: Arc::new(FleetCache::new(FLEET_CACHE_BYTES)),
        heartbeats,
        agents: Arc::new(AgentSettings {
            heartbeat_interval: config.agent_heartbeat_interval,
            register_limit: config.agent_register_limit,
            keys: Default::default(),
        }),
        jobs: Arc::new(vec![writer, sweep]),
    }
}

/// Creates the first admin from `SIGMA_ADMIN_EMAIL`/`SIGMA_ADMIN_PASSWORD`
/// when no user exists yet; does nothing otherwise.
pub async fn bootstrap_admin(state: &AppState, config: &Config) -> anyhow::Result<()> {
    let Some((email, password)) = &config.admin else { return Ok(()) };
    if state.store.count_users().await? > 0 {
        tracing::debug!("users exist: SIGMA_ADMIN_EMAIL is not used");
        return Ok(());
    }
    let password_hash = auth::password::hash(password.expose_secret().to_owned()).await?;
    let new = sigma_store::NewUser { email: email.clone(), password_hash, role: sigma_types::Role::Admin };
    match state.store.create_user(&new, &sigma_store::AuditContext::system()).await {
        // Another replica made it first.
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    state.auth.close();
    tracing::info!(email = %email, "created the first admin");
    Ok(())
}

/// The `/api` routes for users, the `/api/agent/*` routes for agents and
/// the service routes, with the OpenAPI document that describes them all.
pub fn routes() -> (Router<AppState>, Router<AppState>, Router<AppState>, OpenApi) {
    let api = OpenApiRouter::with_openapi(openapi::base())
        .merge(routes::providers::router())
        .merge(routes::vps::router())
        .merge(routes::ip_history::router())
        .merge(routes::stats::router())
        .merge(routes::audit::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::api_keys::router())
        .merge(routes::prometheus::router())
        .merge(routes::ansible::router())
        .merge(routes::transfer::router())
        .merge(routes::agents::router())
        .merge(routes::events::router());
    let (api, mut doc) = api.split_for_parts();
    let (agent, agent_doc) = routes::agent::router().split_for_parts();
    doc.merge(agent_doc);
    let (service, service_doc) = routes::service::router().split_for_parts();
    doc.merge(service_doc);
    (api, agent, service, openapi::finish(doc))
}

/// The whole application, with the web UI when this binary carries it.
pub fn router(state: AppState, config: &Config) -> Router {
    router_with_ui(state, config, ui::Ui::embedded())
}

/// The whole application, serving `ui` (or the page saying how to build
/// it) for the paths no route matches.
pub fn router_with_ui(state: AppState, config: &Config, ui: Option<Arc<ui::Ui>>) -> Router {
    let (api, agent, service, doc) = routes();
    Router::new()
        .merge(
            api.layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
                .layer(middleware::from_fn_with_state(state.clone(), ratelimit::limit)),
        )
        // Agents authenticate with their own keys, per route (agent_auth.rs).
        .merge(agent)
        .merge(service)
        .merge(SwaggerUi::new("/swagger-ui").url("/api-docs/openapi.json", doc))
        .fallback(move |request: Request| ui::fallback(ui.clone(), request))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn_with_state(
            Arc::new(client_ip::TrustedProxies(config.trusted_proxies.clone())),
            client_ip::resolve,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str());
            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %request.method(), route, request_id = id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let app = app.layer(axum::Extension(routes::events::Closing(closing_rx)));
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live event streams never end by themselves: end them now.
            let _ = closing.send(true);
        })
        .await
}

/// Logs what an operator must know about the configuration at start-up.
pub fn warn_about(config: &Config, open: bool) {
    if config.jwt_secret.is_none() {
        tracing::warn!("development mode: login tokens are signed with a random secret and end at restart");
    }
    if open {
        if config.listen.ip().is_loopback() {
            tracing::warn!(
                "no SIGMA_API_KEY is set and no user exists: the API is open to anyone on this machine; create an admin with `sigma-api user create`"
            );
        } else {
            tracing::warn!(listen = %config.listen, "no SIGMA_API_KEY is set, no user exists and the server listens beyond loopback: the API is open to anyone who can reach it");
        }
    }
    if config.database_url.expose_secret().starts_with("sqlite:") {
        tracing::info!("storage: SQLite");
    } else {
        tracing::info!("storage: PostgreSQL");
    }
}
