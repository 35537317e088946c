use crate::auth::Auth;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use sigma_store::{DynStore, LockPolicy};
use std::sync::Arc;

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
}
