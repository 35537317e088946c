//! Prometheus metrics of the server itself: HTTP traffic by matched route,
//! the database pool, fleet and agent gauges, and heartbeats received.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use sigma_store::Store;
use sigma_types::{AgentStatus, VpsStatus};
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    db_up: Gauge,
    vps: Family<StatusLabels, Gauge>,
    agents: Family<StatusLabels, Gauge>,
    heartbeats: Family<ResultLabels, Counter>,
    fleet_cache: Family<ResultLabels, Counter>,
}

impl Metrics {
    pub fn new(backend: &str) -> Self {
        let mut registry = Registry::with_prefix("sigma");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by method, matched route and status", requests.clone());
        let duration: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register("http_request_duration_seconds", "HTTP request latency by matched route", duration.clone());
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register("db_pool_connections", "Database connections by state (idle, in_use)", pool.clone());
        let pool_max = Gauge::default();
        registry.register("db_pool_max_connections", "Most connections the pool opens", pool_max.clone());
        let db_up = Gauge::default();
        registry.register("db_up", "1 when the database answered the last scrape's query", db_up.clone());
        let vps = Family::<StatusLabels, Gauge>::default();
        registry.register("vps", "VPS not in the trash, by status", vps.clone());
        let fleet_cache = Family::<ResultLabels, Counter>::default();
        registry.register(
            "fleet_cache_lookups",
            "Lookups of answers kept under the fleet's version (targets, inventory, filtered VPS lists) by result: hit or miss",
            fleet_cache.clone(),
        );
        let agents = Family::<StatusLabels, Gauge>::default();
        registry.register("agents", "Agents by status (pending, online, offline)", agents.clone());
        let heartbeats = Family::<ResultLabels, Counter>::default();
        registry.register(
            "agent_heartbeats",
            "Agent heartbeats received: accepted (stored) or rejected (bad key or body, database error)",
            heartbeats.clone(),
        );
        // Both results appear from the start, so that rates work at once.
        for result in ["accepted", "rejected"] {
            let _ = heartbeats.get_or_create(&ResultLabels { result });
        }
        registry.register(
            "build",
            "Version and storage backend",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION").to_owned()), ("backend", backend.to_owned())]),
        );
        Metrics { registry, requests, duration, pool, pool_max, db_up, vps, agents, heartbeats, fleet_cache }
    }

    /// Counts one lookup of the answers kept under the fleet's version.
    pub fn fleet_cache(&self, hit: bool) {
        self.fleet_cache.get_or_create(&ResultLabels { result: if hit { "hit" } else { "miss" } }).inc();
    }

    /// Counts one heartbeat, stored or not.
    pub fn heartbeat(&self, accepted: bool) {
        let result = if accepted { "accepted" } else { "rejected" };
        self.heartbeats.get_or_create(&ResultLabels { result }).inc();
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
        self.duration.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    /// Refreshes the gauges from the store and renders the text format.
    pub async fn render(&self, store: &dyn Store) -> String {
        let pool = store.pool_state();
        self.pool.get_or_create(&PoolLabels { state: "idle".into() }).set(i64::from(pool.idle));
        self.pool
            .get_or_create(&PoolLabels { state: "in_use".into() })
            .set(i64::from(pool.size.saturating_sub(pool.idle)));
        self.pool_max.set(i64::from(pool.max));
        match tokio::try_join!(store.count_vps_by_status(), store.agent_counts()) {
            Ok((counts, agents)) => {
                self.db_up.set(1);
                for status in VpsStatus::ALL {
                    let n = counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
                    self.vps.get_or_create(&StatusLabels { status: status.to_string() }).set(n);
                }
                for (status, n) in [
                    (AgentStatus::Pending, agents.pending),
                    (AgentStatus::Online, agents.online),
                    (AgentStatus::Offline, agents.offline),
                ] {
                    self.agents.get_or_create(&StatusLabels { status: status.to_string() }).set(n);
                }
            }
            Err(_) => {
                self.db_up.set(0);
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Middleware counting requests by matched route (unmatched ones as
/// `unmatched`, so scanners cannot blow up the label set).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_owned();
    let response = next.run(request).await;
    state.metrics.observe(&method, &route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}
