//! Answers that list the whole fleet — Prometheus targets and the Ansible
//! inventory — are asked for again and again (every Prometheus refreshes
//! every minute, every Ansible run starts with one) while the fleet changes
//! a few times a day. Each answer is kept serialised under the request that
//! asked for it and the fleet's version (a number the database moves on
//! with every committed change of a VPS or a provider, whichever replica
//! made it), and served again until the version moves.
//!
//! A VPS list filtered by tags, text or network is kept the same way, as
//! the ids of all its matches in order: its total and every page are read
//! off them until the fleet changes, and only the page's own rows are read
//! (fresh, as agents report between changes). Finding and sorting thousands
//! of matches through other tables is what such a list costs; a page of
//! rows by id is cheap. A list filtered by columns only (country, provider,
//! ...) reads its page straight off an index, and only its total is kept.
//!
//! The version is read before the fleet, so what a cached answer holds is
//! never older than the version it is kept under. The cache holds at most
//! `budget` bytes of answers; past that, the least recently used go.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sigma_types::{Page, PageRequest, SortOrder, Vps, VpsFilter, VpsSort};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

pub struct FleetCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    bytes: usize,
    clock: u64,
}

struct Entry {
    version: i64,
    body: Bytes,
    used: u64,
}

impl FleetCache {
    /// A cache of at most `budget` bytes of answers (0 turns it off).
    pub fn new(budget: usize) -> Self {
        FleetCache { budget, inner: Mutex::new(Inner::default()) }
    }

    /// The answer kept for `key` at `version`, if any.
    pub fn get(&self, key: &str, version: i64) -> Option<Bytes> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.entries.get_mut(key).filter(|e| e.version == version)?;
        entry.used = clock;
        Some(entry.body.clone())
    }

    /// Keeps `body` for `key` at `version`, replacing an older answer.
    pub fn put(&self, key: String, version: i64, body: Bytes) {
        if body.len() > self.budget {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.clock += 1;
        let used = inner.clock;
        let size = body.len();
        if let Some(old) = inner.entries.insert(key, Entry { version, body, used }) {
            inner.bytes -= old.body.len();
        }
        inner.bytes += size;
        // Answers of older versions will never be served again: drop them
        // first, then the least recently used until the budget holds.
        if inner.bytes > self.budget {
            inner.entries.retain(|_, e| e.version >= version);
            inner.bytes = inner.entries.values().map(|e| e.body.len()).sum();
        }
        while inner.bytes > self.budget {
            let Some(oldest) = inner.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.body.len();
            }
        }
    }

    /// How many answers and bytes are kept.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (inner.entries.len(), inner.bytes)
    }
}

/// The JSON answer for `key`: from the cache when the fleet has not changed
/// since it was made, else made by `build`, kept and returned. `key` must
/// name everything the answer depends on besides the fleet.
pub async fn json<T, F, Fut>(state: &AppState, key: String, build: F) -> ApiResult<Response>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    json_bytes(state, key, async || serde_json::to_vec(&build().await?).map_err(ApiError::internal)).await
}

/// As [`json`], for a `build` that gives the answer serialised already
/// (one that borrows from what it reads, say).
pub async fn json_bytes<F, Fut>(state: &AppState, key: String, build: F) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Vec<u8>>>,
{
    let body = kept(state, key, async || Ok(Bytes::from(build().await?))).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}

/// What is kept for `key` at the fleet's current version, else what `build`
/// makes, kept and returned; every lookup is counted in `/metrics`.
async fn kept<F, Fut>(state: &AppState, key: String, build: F) -> ApiResult<Bytes>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Bytes>>,
{
    let version = state.store.fleet_version().await?;
    if let Some(bytes) = state.fleet_cache.get(&key, version) {
        state.metrics.fleet_cache(true);
        return Ok(bytes);
    }
    state.metrics.fleet_cache(false);
    let bytes = build().await?;
    state.fleet_cache.put(key, version, bytes.clone());
    Ok(bytes)
}

/// A page of the VPS list `filter` selects, sorted by `sort` and `order`,
/// with its total kept under the fleet's version (8 bytes); the page is
/// read beside the count.
pub async fn vps_page_counted(
    state: &AppState,
    filter: &VpsFilter,
    page: PageRequest,
    sort: VpsSort,
    order: SortOrder,
) -> ApiResult<Page<Vps>> {
    let count = kept(state, format!("vps-count {filter:?}"), async || {
        Ok(Bytes::copy_from_slice(&state.store.count_vps(filter).await?.to_le_bytes()))
    });
    let (total, data) =
        tokio::try_join!(count, async { Ok(state.store.list_vps_page(filter, page, sort, order).await?) })?;
    let total = i64::from_le_bytes(total.as_ref().try_into().map_err(ApiError::internal)?);
    Ok(Page { data, total, page: page.page, per_page: page.per_page })
}

/// A page of the VPS list `filter` selects, sorted by `sort` and `order`,
/// with the ids of all its matches kept under the fleet's version (16 bytes
/// each).
pub async fn vps_page(
    state: &AppState,
    filter: &VpsFilter,
    page: PageRequest,
    sort: VpsSort,
    order: SortOrder,
) -> ApiResult<Page<Vps>> {
    let ids = kept(state, format!("vps-ids {filter:?} {sort:?} {order:?}"), async || {
        let ids = state.store.list_vps_ids(filter, sort, order).await?;
        Ok(Bytes::from(ids.iter().flat_map(|id| *id.as_bytes()).collect::<Vec<u8>>()))
    })
    .await?;
    let total = ids.len() / 16;
    let start = usize::try_from(page.offset()).unwrap_or(usize::MAX).min(total);
    let end = start.saturating_add(usize::try_from(page.limit()).unwrap_or(0)).min(total);
    let wanted: Vec<Uuid> = ids[start * 16..end * 16]
        .chunks_exact(16)
        .map(|c| Uuid::from_bytes(c.try_into().expect("chunks of 16 bytes")))
        .collect();
    let data = state.store.get_vps_many(&wanted).await?;
    Ok(Page { data, total: total as i64, page: page.page, per_page: page.per_page })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    #[test]
    fn serves_only_the_current_version() {
        let c = FleetCache::new(1000);
        c.put("a".into(), 1, body(10));
        assert_eq!(c.get("a", 1).map(|b| b.len()), Some(10));
        assert!(c.get("a", 2).is_none(), "a newer fleet misses");
        assert!(c.get("b", 1).is_none(), "another request misses");
        c.put("a".into(), 2, body(20));
        assert_eq!(c.size(), (1, 20), "the new answer replaces the old");
    }

    #[test]
    fn keeps_within_its_budget() {
        let c = FleetCache::new(100);
        c.put("a".into(), 1, body(40));
        c.put("b".into(), 1, body(40));
        assert!(c.get("a", 1).is_some());
        c.put("c".into(), 1, body(40));
        assert_eq!(c.size(), (2, 80));
        assert!(c.get("b", 1).is_none(), "the least recently used went");
        assert!(c.get("a", 1).is_some() && c.get("c", 1).is_some());
        c.put("d".into(), 2, body(40));
        assert_eq!(c.size(), (1, 40), "older versions go first");
        c.put("e".into(), 2, body(101));
        assert!(c.get("e", 2).is_none(), "an answer above the budget is not kept");
        assert_eq!(FleetCache::new(0).size(), (0, 0));
    }
}
