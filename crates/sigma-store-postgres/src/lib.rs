//! PostgreSQL backend: one pool, one transaction per write, and unique
//! indexes that keep host names and addresses with one live VPS even when
//! writers race.

mod agents;
mod audit;
mod auth;
mod rows;
pub mod testing;
mod transfer;
mod vps;

use async_trait::async_trait;
use audit::{Change, vps_change};
use chrono::{DateTime, NaiveDate, Utc};
use sigma_store::{AuditContext, Conflict, PoolState, Result, Store, StoreError, audit_json};
use sigma_types::{
    AuditEntry, AuditFilter, IpHistoryEntry, Page, PageRequest, Provider, ProviderDraft, SortOrder, Source, Stats, Vps,
    VpsDraft, VpsFilter, VpsSort, VpsStatus,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at a `postgres://` URL and applies migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::open(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn open(url: &str) -> Result<Self> {
        let mut options = PgConnectOptions::from_str(url).map_err(StoreError::other)?;
        if options.get_application_name().is_none() {
            options = options.application_name("sigma");
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(PostgresStore { pool })
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(StoreError::other)
    }

    /// Runs `write` in a transaction; on success commits it, otherwise
    /// rolls back everything it did.
    async fn in_tx<T>(&self, write: impl AsyncFnOnce(&mut PgConnection) -> Result<T>) -> Result<T> {
        let mut tx = self.pool.begin().await?;
        let result = write(&mut tx).await;
        finish(tx, result).await
    }

    /// Two transactions can both pass the checks before either commits; the
    /// unique index then stops the second, with a conflict that cannot say
    /// who won. The winner has committed by then, so asking the checks again
    /// gives the same answer as a write that lost no race.
    async fn name_the_winner(&self, e: StoreError, except: Option<Uuid>, hostname: &str, ips: &[IpAddr]) -> StoreError {
        if !raced_on_vps(&e) {
            return e;
        }
        let Ok(mut conn) = self.pool.acquire().await else { return e };
        match vps::check_free(&mut conn, except, hostname, ips).await {
            Err(named @ StoreError::Conflict(_)) => named,
            _ => e,
        }
    }

    async fn name_the_provider(&self, e: StoreError, name: &str, except: Option<Uuid>) -> StoreError {
        if !raced_on_provider(&e) {
            return e;
        }
        let Ok(mut conn) = self.pool.acquire().await else { return e };
        match provider_name_free(&mut conn, name, except).await {
            Err(named @ StoreError::Conflict(_)) => named,
            _ => e,
        }
    }
}

async fn finish<T>(tx: Transaction<'_, Postgres>, result: Result<T>) -> Result<T> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed; the connection is dropped");
            }
            Err(e)
        }
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    // Truncated to what is stored, so returned and re-read values agree.
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// A conflict that a unique index raised (see `From<sqlx::Error>`) rather
/// than the checks, which always name the VPS in the way.
fn raced_on_vps(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(c)
        if c.other_vps.is_none() && matches!(c.field.as_deref(), Some("hostname" | "ip_addresses")))
}

fn raced_on_provider(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(c) if c.field.as_deref() == Some("name"))
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_state(&self) -> PoolState {
        PoolState {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn list_providers(&self, q: Option<&str>, page: PageRequest) -> Result<Page<Provider>> {
        let pattern = q.map(|q| sigma_store::like_pattern(&q.to_lowercase()));
        let matches = "$1::text IS NULL OR p.name_key LIKE $1 ESCAPE '\\'";
        let count_sql = format!("SELECT COUNT(*) FROM providers p WHERE {matches}");
        let page_sql = format!("{} WHERE {matches} ORDER BY p.name_key LIMIT $2 OFFSET $3", rows::PROVIDER_SELECT);
        let (total, rows) = tokio::try_join!(
            sqlx::query_scalar::<_, i64>(&count_sql).bind(&pattern).fetch_one(&self.pool),
            sqlx::query(&page_sql).bind(&pattern).bind(page.limit()).bind(page.offset()).fetch_all(&self.pool),
        )?;
        let data = rows.iter().map(rows::provider).collect::<Result<_>>()?;
        Ok(Page { data, total, page: page.page, per_page: page.per_page })
    }

    async fn get_provider(&self, id: Uuid) -> Result<Provider> {
        rows::get_provider(&self.pool, id).await
    }

    async fn create_provider(&self, d: &ProviderDraft, by: &AuditContext) -> Result<Provider> {
        let id = Uuid::now_v7();
        let now = now();
        let result = self
            .in_tx(async |tx| {
                provider_name_free(tx, &d.name, None).await?;
                sqlx::query(
                    "INSERT INTO providers (id, name, name_key, country, website, panel_url, api_supported, notes,
                     rating, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(id)
                .bind(&d.name)
                .bind(d.name.to_lowercase())
                .bind(&d.country)
                .bind(&d.website)
                .bind(&d.panel_url)
                .bind(d.api_supported)
                .bind(&d.notes)
                .bind(d.rating)
                .bind(now)
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
                audit::record(tx, by, change).await?;
                Ok(p)
            })
            .await;
        match result {
            Err(e) => Err(self.name_the_provider(e, &d.name, None).await),
            ok => ok,
        }
    }

    async fn update_provider(&self, id: Uuid, d: &ProviderDraft, version: i64, by: &AuditContext) -> Result<Provider> {
        let result = self
            .in_tx(async |tx| {
                let current: i64 = sqlx::query_scalar("SELECT version FROM providers WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let before = rows::get_provider(&mut *tx, id).await?;
                if current != version {
                    return Err(StoreError::VersionMismatch);
                }
                provider_name_free(tx, &d.name, Some(id)).await?;
                sqlx::query(
                    "UPDATE providers SET name = $1, name_key = $2, country = $3, website = $4, panel_url = $5,
                     api_supported = $6, notes = $7, rating = $8, updated_at = $9, version = version + 1
                     WHERE id = $10",
                )
                .bind(&d.name)
                .bind(d.name.to_lowercase())
                .bind(&d.country)
                .bind(&d.website)
                .bind(&d.panel_url)
                .bind(d.api_supported)
                .bind(&d.notes)
                .bind(d.rating)
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let p = rows::get_provider(&mut *tx, id).await?;
                let change = Change {
                    action: "update",
                    resource_type: "provider",
                    resource_id: id,
                    before: Some(audit_json(&before)),
                    after: Some(audit_json(&p)),
                };
                audit::record(tx, by, change).await?;
                Ok(p)
            })
            .await;
        match result {
            Err(e) => Err(self.name_the_provider(e, &d.name, Some(id)).await),
            ok => ok,
        }
    }

    async fn delete_provider(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        self.in_tx(async |tx| {
            // Locked first: a VPS being created for this provider either
            // commits before the count below or finds the provider gone.
            let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM providers WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            found.ok_or(StoreError::NotFound)?;
            let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vps WHERE provider_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if used > 0 {
                return Err(StoreError::Conflict(Conflict::provider_in_use(used)));
            }
            let before = rows::get_provider(&mut *tx, id).await?;
            sqlx::query("DELETE FROM providers WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let change = Change {
                action: "delete",
                resource_type: "provider",
                resource_id: id,
                before: Some(audit_json(&before)),
                after: None,
            };
            audit::record(tx, by, change).await
        })
        .await
    }

    async fn list_vps(
        &self,
        filter: &VpsFilter,
        page: PageRequest,
        sort: VpsSort,
        order: SortOrder,
    ) -> Result<Page<Vps>> {
        let mut page = vps::list(&self.pool, filter, page, sort, order).await?;
        agents::attach(&self.pool, &mut page.data).await?;
        Ok(page)
    }

    async fn count_vps(&self, filter: &VpsFilter) -> Result<i64> {
        vps::count(&self.pool, filter).await
    }

    async fn list_vps_page(
        &self,
        filter: &VpsFilter,
        page: PageRequest,
        sort: VpsSort,
        order: SortOrder,
    ) -> Result<Vec<Vps>> {
        let mut list = vps::page(&self.pool, filter, page, sort, order).await?;
        agents::attach(&self.pool, &mut list).await?;
        Ok(list)
    }

    async fn list_vps_ids(&self, filter: &VpsFilter, sort: VpsSort, order: SortOrder) -> Result<Vec<Uuid>> {
        vps::list_ids(&self.pool, filter, sort, order).await
    }

    async fn get_vps_many(&self, ids: &[Uuid]) -> Result<Vec<Vps>> {
        let mut list = vps::get_many(&self.pool, ids).await?;
        agents::attach(&self.pool, &mut list).await?;
        Ok(list)
    }

    async fn get_vps(&self, id: Uuid) -> Result<Vps> {
        let mut v = [rows::get_vps(&self.pool, id).await?];
        agents::attach(&self.pool, &mut v).await?;
        let [v] = v;
        Ok(v)
    }

    async fn create_vps(&self, draft: &VpsDraft, source: Source, by: &AuditContext) -> Result<Vps> {
        let write = async |tx: &mut PgConnection| {
            let v = vps::insert(tx, draft, source).await?;
            vps_change(tx, by, "create", None, Some(&v)).await?;
            Ok(v)
        };
        match self.in_tx(write).await {
            Err(e) => Err(self.name_the_winner(e, None, &draft.hostname, &vps::draft_ips(draft)).await),
            ok => ok,
        }
    }

    async fn update_vps(&self, id: Uuid, draft: &VpsDraft, version: i64, by: &AuditContext) -> Result<Vps> {
        let write = async |tx: &mut PgConnection| {
            let before = rows::get_vps(&mut *tx, id).await?;
            let v = vps::update(tx, id, draft, version).await?;
            vps_change(tx, by, "update", Some(&before), Some(&v)).await?;
            Ok(v)
        };
        match self.in_tx(write).await {
            Err(e) => Err(self.name_the_winner(e, Some(id), &draft.hostname, &vps::draft_ips(draft)).await),
            Ok(v) => {
                let mut v = [v];
                agents::attach(&self.pool, &mut v).await?;
                let [v] = v;
                Ok(v)
            }
        }
    }

    async fn retire_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps> {
        self.in_tx(async |tx| {
            let before = rows::get_vps(&mut *tx, id).await?;
            let v = vps::retire(tx, id).await?;
            vps_change(tx, by, "retire", Some(&before), Some(&v)).await?;
            Ok(v)
        })
        .await
    }

    async fn trash_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps> {
        self.in_tx(async |tx| {
            let before = rows::get_vps(&mut *tx, id).await?;
            let v = vps::trash(tx, id).await?;
            vps_change(tx, by, "delete", Some(&before), Some(&v)).await?;
            Ok(v)
        })
        .await
    }

    async fn restore_vps(&self, id: Uuid, by: &AuditContext) -> Result<Vps> {
        let write = async |tx: &mut PgConnection| {
            let before = rows::get_vps(&mut *tx, id).await?;
            let v = vps::restore(tx, id).await?;
            vps_change(tx, by, "restore", Some(&before), Some(&v)).await?;
            Ok(v)
        };
        match self.in_tx(write).await {
            Err(e) if raced_on_vps(&e) => {
                let Ok(v) = rows::get_vps(&self.pool, id).await else { return Err(e) };
                Err(self.name_the_winner(e, Some(id), &v.hostname, &vps::addresses(&v)).await)
            }
            other => other,
        }
    }

    async fn purge_vps(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        self.in_tx(async |tx| {
            let before = rows::get_vps(&mut *tx, id).await?;
            sqlx::query("DELETE FROM vps WHERE id = $1").bind(id).execute(&mut *tx).await?;
            vps_change(tx, by, "purge", Some(&before), None).await
        })
        .await
    }

    async fn vps_ip_history(&self, id: Uuid) -> Result<Vec<IpHistoryEntry>> {
        rows::get_vps(&self.pool, id).await?;
        let rows =
            sqlx::query(&format!("{} WHERE vps_id = $1 ORDER BY assigned_at DESC, id DESC", rows::HISTORY_SELECT))
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(rows::history).collect()
    }

    async fn ip_history(&self, ip: IpAddr) -> Result<Vec<IpHistoryEntry>> {
        let rows =
            sqlx::query(&format!("{} WHERE ip = $1::inet ORDER BY assigned_at DESC, id DESC", rows::HISTORY_SELECT))
                .bind(ip.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(rows::history).collect()
    }

    async fn stats(&self, today: NaiveDate) -> Result<Stats> {
        vps::stats(&self.pool, today).await
    }

    async fn count_vps_by_status(&self) -> Result<Vec<(VpsStatus, i64)>> {
        vps::count_by_status(&self.pool).await
    }

    async fn list_audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        audit::list(&self.pool, filter, page).await
    }
}

async fn provider_name_free(conn: &mut PgConnection, name: &str, except: Option<Uuid>) -> Result<()> {
    let taken: Option<String> = sqlx::query_scalar("SELECT name FROM providers WHERE name_key = $1 AND id <> $2")
        .bind(name.to_lowercase())
        .bind(except.unwrap_or(Uuid::nil()))
        .fetch_optional(&mut *conn)
        .await?;
    match taken {
        Some(other) => Err(StoreError::Conflict(Conflict::provider_name_taken(&other))),
        None => Ok(()),
    }
}
