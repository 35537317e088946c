//! SQLite backend: one file, WAL mode, a single writer connection (SQLite
//! serialises writes anyway; one writer means no `SQLITE_BUSY`) and a pool
//! of readers.

mod agents;
mod audit;
mod auth;
mod rows;
mod transfer;
mod vps;

use async_trait::async_trait;
use audit::Change;
use chrono::{DateTime, NaiveDate, Utc};
use sigma_store::{AuditContext, Conflict, PoolState, Result, Store, StoreError, audit_json};
use sigma_types::{
    AuditEntry, AuditFilter, IpHistoryEntry, Page, PageRequest, Provider, ProviderDraft, SortOrder, Source, Stats, Vps,
    VpsDraft, VpsFilter, VpsSort, VpsStatus,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating file and folder when missing) the database at a
    /// `sqlite://PATH` or `sqlite::memory:` URL and applies migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::open(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without migrating it.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::other)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        let path = options.get_filename();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && path.as_os_str() != ":memory:"
        {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        // An in-memory database lives in its connection: share the writer.
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .min_connections(0)
                .idle_timeout(Duration::from_secs(300))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(SqliteStore { read, write })
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.write).await.map_err(StoreError::other)
    }
}

/// RFC 3339 with a fixed six-digit fraction, so stored text sorts by time.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(crate) fn now() -> DateTime<Utc> {
    // Truncated to what is stored, so returned and re-read values agree.
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    fn pool_state(&self) -> PoolState {
        let (r, w) = (&self.read, &self.write);
        PoolState {
            size: r.size() + w.size(),
            idle: (r.num_idle() + w.num_idle()) as u32,
            max: r.options().get_max_connections() + w.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn list_providers(&self, q: Option<&str>, page: PageRequest) -> Result<Page<Provider>> {
        let pattern = q.map(|q| sigma_store::like_pattern(&q.to_lowercase()));
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM providers WHERE ?1 IS NULL OR name_key LIKE ?1 ESCAPE '\\'")
                .bind(&pattern)
                .fetch_one(&self.read)
                .await?;
        let rows = sqlx::query(&format!(
            "{} WHERE ?1 IS NULL OR p.name_key LIKE ?1 ESCAPE '\\' ORDER BY p.name_key LIMIT ?2 OFFSET ?3",
            rows::PROVIDER_SELECT
        ))
        .bind(&pattern)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.read)
        .await?;
        let data = rows.iter().map(rows::provider).collect::<Result<_>>()?;
        Ok(Page { data, total, page: page.page, per_page: page.per_page })
    }

    async fn get_provider(&self, id: Uuid) -> Result<Provider> {
        rows::get_provider(&self.read, id).await
    }

    async fn create_provider(&self, d: &ProviderDraft, by: &AuditContext) -> Result<Provider> {
        let id = Uuid::now_v7();
        let now = ts(now());
        let mut tx = self.write.begin().await?;
        provider_name_free(&mut tx, &d.name, None).await?;
        sqlx::query(
            "INSERT INTO providers (id, name, name_key, country, website, panel_url, api_supported, notes, rating, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(&d.name)
        .bind(d.name.to_lowercase())
        .bind(&d.country)
        .bind(&d.website)
        .bind(&d.panel_url)
        .bind(d.api_supported)
        .bind(&d.notes)
        .bind(d.rating)
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let p = rows::get_provider(&mut *tx, id).await?;
        let change = Change {
            action: "create",
            resource_type: "provider",
            resource_id: id,
            before: None,
            after: Some(audit_json(&p)),
        };
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(p)
    }

    async fn update_provider(&self, id: Uuid, d: &ProviderDraft, version: i64, by: &AuditContext) -> Result<Provider> {
        let mut tx = self.write.begin().await?;
        let current = rows::get_provider(&mut *tx, id).await?;
        if current.version != version {
            return Err(StoreError::VersionMismatch);
        }
        provider_name_free(&mut tx, &d.name, Some(id)).await?;
        sqlx::query(
            "UPDATE providers SET name = ?, name_key = ?, country = ?, website = ?, panel_url = ?, api_supported = ?,
             notes = ?, rating = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        )
        .bind(&d.name)
        .bind(d.name.to_lowercase())
        .bind(&d.country)
        .bind(&d.website)
        .bind(&d.panel_url)
        .bind(d.api_supported)
        .bind(&d.notes)
        .bind(d.rating)
        .bind(ts(now()))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        let p = rows::get_provider(&mut *tx, id).await?;
        let change = Change {
            action: "update",
            resource_type: "provider",
            resource_id: id,
            before: Some(audit_json(&current)),
            after: Some(audit_json(&p)),
        };
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(p)
    }

    async fn delete_provider(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let current = rows::get_provider(&mut *tx, id).await?;
        let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vps WHERE provider_id = ?")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        if used > 0 {
            return Err(StoreError::Conflict(Conflict::provider_in_use(used)));
        }
        sqlx::query("DELETE FROM providers WHERE id = ?").bind(id.to_string()).execute(&mut *tx).await?;
        let change = Change {
            action: "delete",
            resource_type: "provider",
            resource_id: id,
            before: Some(audit_json(&current)),
            after: None,
        };
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_vps(
        &self,
        filter: &VpsFilter,
        page: PageRequest,
        sort: VpsSort,
        order: SortOrder,
    ) -> Result<Page<Vps>> {
        let mut page = vps::list(&self.read, filter, page, sort, order).await?;
        agents::attach(&self.read, &mut page.data).await?;
        Ok(page)
    }

    async fn count_vps(&self, filter: &VpsFilter) -> Result<i64> {
        vps::count(&self.read, filter).await
    }

    async fn list_vps_page(
        &self,
        filter: &VpsFilter,
        page: PageRequest,
        sort: VpsSort,
        order: SortOrder,
    ) -> Result<Vec<Vps>> {
        let mut list = vps::page(&self.read, filter, page, sort, order).await?;
        agents::attach(&self.read, &mut list).await?;
        Ok(list)
    }

    async fn list_vps_ids(&self, filter: &VpsFilter, sort: VpsSort, order: SortOrder) -> Result<Vec<Uuid>> {
        vps::list_ids(&self.read, filter, sort, order).await
    }

    async fn get_vps_many(&self, ids: &[Uuid]) -> Result<Vec<Vps>> {
        let mut list = vps::get_many(&self.read, ids).await?;
        agents::attach(&self.read, &mut list).await?;
        Ok(list)
    }

    async fn get_vps(&self, id: Uuid) -> Result<Vps> {
        let mut v = [rows::get_vps(&self.read, id).await?];
        agents::attach(&self.read, &mut v).await?;
        let [v] = v;
        Ok(v)
    }

    async fn create_vps(&self, draft: &VpsDraft, source: Source, by: &AuditContext) -> Result<Vps> {
        let mut tx = self.write.begin().await?;
        let v = vps::insert(&mut tx, draft, source).await?;
        vps_change(&mut tx, by, "create", None, Some(&v)).await?;
        tx.commit().await?;
        Ok(v)
    }

    async fn update_vps(&self, id: Uuid, draft: &VpsDraft, version: i64, by: &AuditContext) -> Result<Vps> {
        let mut tx = self.write.begin().await?;
        let before = rows::get_vps(&mut *tx, id).await?;
        let v = vps::update(&mut tx, id, draft, version).await?;
        vps_change(&mut tx, by, "update", Some(&before), Some(&v)).await?;
        tx.commit().await?;
        let mut v = [v];
        agents::attach(&self.read, &mut v).await?;
        let [v] = v;
        Ok(v)
    }

    async fn retire_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps> {
        let mut tx = self.write.begin().await?;
        let before = rows::get_vps(&mut *tx, id).await?;
        let v = vps::retire(&mut tx, id).await?;
        vps_change(&mut tx, by, "retire", Some(&before), Some(&v)).await?;
        tx.commit().await?;
        Ok(v)
    }

    async fn trash_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps> {
        let mut tx = self.write.begin().await?;
        let before = rows::get_vps(&mut *tx, id).await?;
        let v = vps::trash(&mut tx, id).await?;
        vps_change(&mut tx, by, "delete", Some(&before), Some(&v)).await?;
        tx.commit().await?;
        Ok(v)
    }

    async fn restore_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps> {
        let mut tx = self.write.begin().await?;
        let before = rows::get_vps(&mut *tx, id).await?;
        let v = vps::restore(&mut tx, id).await?;
        vps_change(&mut tx, by, "restore", Some(&before), Some(&v)).await?;
        tx.commit().await?;
        Ok(v)
    }

    async fn purge_vps(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let before = rows::get_vps(&mut *tx, id).await?;
        sqlx::query("DELETE FROM vps WHERE id = ?").bind(id.to_string()).execute(&mut *tx).await?;
        vps_change(&mut tx, by, "purge", Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn vps_ip_history(&self, id: Uuid) -> Result<Vec<IpHistoryEntry>> {
        rows::get_vps(&self.read, id).await?;
        let rows =
            sqlx::query(&format!("{} WHERE vps_id = ? ORDER BY assigned_at DESC, id DESC", rows::HISTORY_SELECT))
                .bind(id.to_string())
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(rows::history).collect()
    }

    async fn ip_history(&self, ip: IpAddr) -> Result<Vec<IpHistoryEntry>> {
        let rows = sqlx::query(&format!("{} WHERE ip = ? ORDER BY assigned_at DESC, id DESC", rows::HISTORY_SELECT))
            .bind(ip.to_string())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(rows::history).collect()
    }

    async fn stats(&self, today: NaiveDate) -> Result<Stats> {
        vps::stats(&self.read, today).await
    }

    async fn count_vps_by_status(&self) -> Result<Vec<(VpsStatus, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT key, n FROM vps_tally WHERE dim = 'status' AND n > 0").fetch_all(&self.read).await?;
        rows.into_iter().map(|(s, n)| Ok((rows::parse_enum(&s)?, n))).collect()
    }

    async fn list_audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        audit::list(&self.read, filter, page).await
    }
}

/// Records a VPS change, unless nothing changed (an idempotent call).
pub(crate) async fn vps_change(
    tx: &mut sqlx::SqliteConnection,
    by: &AuditContext,
    action: &str,
    before: Option<&Vps>,
    after: Option<&Vps>,
) -> Result<()> {
    if let (Some(b), Some(a)) = (before, after)
        && b.version == a.version
    {
        return Ok(());
    }
    let resource_id = after.or(before).map(|v| v.id).unwrap_or_default();
    let change = Change {
        action,
        resource_type: "vps",
        resource_id,
        before: before.map(audit_json),
        after: after.map(audit_json),
    };
    audit::record(tx, by, change).await
}

async fn provider_name_free(tx: &mut sqlx::SqliteConnection, name: &str, except: Option<Uuid>) -> Result<()> {
    let taken: Option<String> = sqlx::query_scalar("SELECT name FROM providers WHERE name_key = ? AND id <> ?")
        .bind(name.to_lowercase())
        .bind(except.map(|u| u.to_string()).unwrap_or_default())
        .fetch_optional(&mut *tx)
        .await?;
    match taken {
        Some(other) => Err(StoreError::Conflict(Conflict::provider_name_taken(&other))),
        None => Ok(()),
    }
}
