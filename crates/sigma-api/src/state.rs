use crate::auth::Auth;
use crate::metrics::Metrics;
use sigma_store::DynStore;
use std::sync::Arc;

/// What every handler may reach.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub auth: Arc<Auth>,
    pub metrics: Arc<Metrics>,
    /// Largest accepted import file, in bytes.
    pub import_body_limit: usize,
}
