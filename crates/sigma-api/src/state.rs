use crate::auth::Auth;
use crate::events::Events;
use crate::fleet_cache::FleetCache;
use crate::jobs::JobGuard;
use crate::jobs::heartbeats::HeartbeatWriter;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use sigma_store::{DynStore, LockPolicy};
use std::sync::Arc;
use std::time::Duration;

/// What every handler may reach.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub auth: Arc<Auth>,
    pub metrics: Arc<Metrics>,
    pub limiter: Arc<RateLimiter>,
    /// When failed logins lock an e-mail address.
    pub lock_policy: LockPolicy,
    /// Largest accepted import file, in bytes.
    pub import_body_limit: usize,
    /// Live events for `/api/events`.
    pub events: Events,
    /// Whole-fleet answers (targets, inventory) under the fleet's version.
    pub fleet_cache: Arc<FleetCache>,
    /// The coalescing heartbeat writer.
    pub heartbeats: HeartbeatWriter,
    pub agents: Arc<AgentSettings>,
    /// Background jobs, stopped when the last clone of the state is dropped.
    pub jobs: Arc<Vec<JobGuard>>,
}

/// How the server treats agents.
pub struct AgentSettings {
    /// The heartbeat interval asked of agents; `None`: each agent's own.
    pub heartbeat_interval: Option<Duration>,
    /// Registrations accepted per client address and minute, counted by
    /// the shared rate limiter.
    pub register_limit: u32,
    /// Heartbeat keys recently checked.
    pub keys: crate::agent_auth::KeyCache,
}
