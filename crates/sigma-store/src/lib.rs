//! The storage interface of Sigma: one trait, two backends (SQLite and
//! PostgreSQL), one error type, and the test stories both backends pass.

pub mod agent_stories;
pub mod agents;
pub mod auth;
mod error;
pub mod ip;
pub mod stories;
pub mod transfer;

pub use agents::AgentStore;
pub use auth::{ApiKeyGrant, AuthStore, LockPolicy, NewApiKey, NewUser, UserSecrets, UserUpdate};
pub use error::{BoxError, Conflict, StoreError, unknown_provider};
pub use transfer::{FleetVps, ImportOptions, ProviderImportRow, TransferStore, VpsImportRow};

use async_trait::async_trait;
use chrono::NaiveDate;
use sigma_types::{
    AuditActor, AuditEntry, AuditFilter, IpHistoryEntry, Page, PageRequest, Provider, ProviderDraft, SortOrder, Source,
    Stats, Vps, VpsDraft, VpsFilter, VpsSort, VpsStatus,
};
use std::net::IpAddr;
use std::sync::Arc;
use uuid::Uuid;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who is making a change and from where: every write records it in the
/// audit log, in the same transaction as the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub actor: AuditActor,
    pub ip: Option<IpAddr>,
    pub request_id: Option<String>,
}

impl AuditContext {
    /// Sigma itself, for background jobs and tests.
    pub fn system() -> Self {
        AuditContext {
            actor: AuditActor { kind: sigma_types::ActorKind::System, id: None, name: "sigma".into() },
            ip: None,
            request_id: None,
        }
    }
}

/// Connection pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most the pool will open.
    pub max: u32,
}

/// Everything Sigma keeps. Implementations must make each method one
/// transaction: on any error nothing is changed.
#[async_trait]
pub trait Store: TransferStore + AuthStore + AgentStore + Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<()>;
    fn pool_state(&self) -> PoolState;
    /// Closes every connection (on shutdown).
    async fn close(&self);

    async fn list_providers(&self, q: Option<&str>, page: PageRequest) -> Result<Page<Provider>>;
    async fn get_provider(&self, id: Uuid) -> Result<Provider>;
    /// `Conflict` when the name is taken (case-insensitively).
    async fn create_provider(&self, draft: &ProviderDraft, by: &AuditContext) -> Result<Provider>;
    /// `VersionMismatch` when the stored version is not `version`.
    async fn update_provider(
        &self,
        id: Uuid,
        draft: &ProviderDraft,
        version: i64,
        by: &AuditContext,
    ) -> Result<Provider>;
    /// `Conflict` while any VPS, even retired or trashed, refers to it.
    async fn delete_provider(&self, id: Uuid, by: &AuditContext) -> Result<()>;

    async fn list_vps(
        &self,
        filter: &VpsFilter,
        page: PageRequest,
        sort: VpsSort,
        order: SortOrder,
    ) -> Result<Page<Vps>>;
    /// `list_vps`'s total alone.
    async fn count_vps(&self, filter: &VpsFilter) -> Result<i64>;
    /// `list_vps`'s page alone, without counting.
    async fn list_vps_page(
        &self,
        filter: &VpsFilter,
        page: PageRequest,
        sort: VpsSort,
        order: SortOrder,
    ) -> Result<Vec<Vps>>;
    /// The id of every VPS `filter` matches, in the order `list_vps` gives
    /// them: what a list kept under the fleet's version pages through.
    async fn list_vps_ids(&self, filter: &VpsFilter, sort: VpsSort, order: SortOrder) -> Result<Vec<Uuid>>;
    /// The VPS with these ids, trash included, in the order of `ids`; an id
    /// of no VPS is left out.
    async fn get_vps_many(&self, ids: &[Uuid]) -> Result<Vec<Vps>>;
    /// Finds a VPS, including one in the trash.
    async fn get_vps(&self, id: Uuid) -> Result<Vps>;
    /// `Conflict` naming the other VPS when a live VPS holds the host name or
    /// one of the addresses; `Invalid` when the provider does not exist.
    async fn create_vps(&self, draft: &VpsDraft, source: Source, by: &AuditContext) -> Result<Vps>;
    /// Replaces the editable fields. `retired_at` follows the status.
    async fn update_vps(&self, id: Uuid, draft: &VpsDraft, version: i64, by: &AuditContext) -> Result<Vps>;
    /// Sets `status = retired`; does nothing to a retired VPS.
    async fn retire_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps>;
    /// Moves a VPS to the trash; does nothing to one already there.
    async fn trash_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps>;
    /// Brings a VPS back from the trash; `Conflict` when its host name or
    /// addresses were taken meanwhile.
    async fn restore_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps>;
    /// Removes a VPS and its history for good.
    async fn purge_vps(&self, id: Uuid, by: &AuditContext) -> Result<()>;
    /// The addresses a VPS has held, newest first.
    async fn vps_ip_history(&self, id: Uuid) -> Result<Vec<IpHistoryEntry>>;
    /// The VPS that held an address, newest first.
    async fn ip_history(&self, ip: IpAddr) -> Result<Vec<IpHistoryEntry>>;

    /// Dashboard totals; `today` anchors the expiry windows.
    async fn stats(&self, today: NaiveDate) -> Result<Stats>;
    /// VPS not in the trash, by status (for `/metrics`).
    async fn count_vps_by_status(&self) -> Result<Vec<(VpsStatus, i64)>>;

    /// The audit log, newest first.
    async fn list_audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>>;
}

pub type DynStore = Arc<dyn Store>;

/// What the audit log keeps of a resource: its JSON form.
/// Dashboard figures from the running tallies both backends keep, given as
/// `(dimension, key, count, summed monthly cost)` rows of the dimensions
/// `status`, `country`, `purpose` and `currency`. Every status is present,
/// with zero counts; providers, expiry and provider totals are the caller's.
pub fn stats_from_tallies(rows: impl IntoIterator<Item = (String, String, i64, rust_decimal::Decimal)>) -> Stats {
    let mut s = Stats::default();
    for st in VpsStatus::ALL {
        s.by_status.insert(st.as_str().to_owned(), 0);
    }
    for (dim, key, n, cost) in rows {
        match dim.as_str() {
            "status" => {
                s.by_status.insert(key, n);
            }
            "country" => {
                s.by_country.insert(key, n);
            }
            "purpose" => {
                s.by_purpose.insert(key, n);
            }
            "currency" => s.monthly_cost.push(sigma_types::CurrencyAmount { currency: key, amount: cost.normalize() }),
            _ => {}
        }
    }
    s.monthly_cost.sort_by(|a, b| a.currency.cmp(&b.currency));
    s.retired_vps = s.by_status.get("retired").copied().unwrap_or(0);
    s.total_vps = s.by_status.values().sum::<i64>() - s.retired_vps;
    s
}

pub fn audit_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// The lower-cased text that `?q=` searches: host name, alias, addresses
/// and notes.
pub fn search_text(d: &VpsDraft) -> String {
    let ips: Vec<String> = d.ip_addresses.iter().map(|e| e.ip.to_string()).collect();
    [d.hostname.as_str(), d.alias.as_deref().unwrap_or(""), &ips.join(" "), d.notes.as_deref().unwrap_or("")]
        .join("\n")
        .to_lowercase()
}

/// Puts `found` in the order of `ids` (each VPS once, as a query by ids
/// returns them in no particular order).
pub fn order_like(found: &mut [Vps], ids: &[Uuid]) {
    let position: std::collections::HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    found.sort_by_key(|v| position.get(&v.id).copied().unwrap_or(usize::MAX));
}

/// Escapes `%`, `_` and `\\` so a search text matches literally in `LIKE ... ESCAPE '\\'`.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The live addresses of a VPS: all of them while it is live, none after.
pub fn live_ips(v: &Vps) -> Vec<IpAddr> {
    if v.is_live() { v.ip_addresses.iter().map(|e| e.ip).collect() } else { Vec::new() }
}

/// What replacing `cur` with `d` does to its address rows: `None` when they
/// stay as they are (same addresses, same liveness), else the addresses it
/// starts and stops holding while live, for the address history.
pub fn address_change(cur: &Vps, d: &VpsDraft) -> Option<(Vec<IpAddr>, Vec<IpAddr>)> {
    let old_live = live_ips(cur);
    let new_live: Vec<IpAddr> = if d.is_live() { d.ip_addresses.iter().map(|e| e.ip).collect() } else { Vec::new() };
    let same = d.ip_addresses.iter().map(|e| e.ip).eq(cur.ip_addresses.iter().map(|e| e.ip));
    (!same || new_live != old_live).then(|| ip::diff(&old_live, &new_live))
}
