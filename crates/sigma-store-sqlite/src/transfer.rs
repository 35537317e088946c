//! Bulk reads and imports.

use crate::audit::record_summary;
use crate::rows::{self, FLEET_SELECT, PROVIDER_SELECT, VPS_SELECT};
use crate::vps::{self, LIVE, push_draft, push_filter};
use crate::{SqliteStore, now, ts};
use async_trait::async_trait;
use futures::TryStreamExt;
use sigma_store::transfer::{self as plan, VpsImportContext};
use sigma_store::{AuditContext, FleetVps, ImportOptions, ProviderImportRow, Result, TransferStore, VpsImportRow};
use sigma_types::{ImportReport, Provider, ProviderDraft, Source, Vps, VpsDraft, VpsFilter};
use sqlx::sqlite::SqliteArguments;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::HashMap;
use std::net::IpAddr;
use uuid::Uuid;

/// SQLite allows 32,766 parameters per statement; rows per multi-row insert.
const VPS_BATCH: usize = 500;
const CHILD_BATCH: usize = 5000;

#[async_trait]
impl TransferStore for SqliteStore {
    async fn all_vps(&self, filter: &VpsFilter) -> Result<Vec<Vps>> {
        let mut q = QueryBuilder::<Sqlite>::new(VPS_SELECT);
        push_filter(&mut q, filter);
        q.push(" ORDER BY v.hostname, v.id");
        let rows = q.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::vps).collect()
    }

    async fn fleet(&self, filter: &VpsFilter) -> Result<Vec<FleetVps>> {
        let mut q = QueryBuilder::<Sqlite>::new(FLEET_SELECT);
        push_filter(&mut q, filter);
        q.push(" ORDER BY v.hostname, v.id");
        let rows = q.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::fleet).collect()
    }

    async fn fleet_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT n FROM fleet_version WHERE id = 1").fetch_one(&self.read).await?)
    }

    async fn all_providers(&self) -> Result<Vec<Provider>> {
        let rows = sqlx::query(&format!("{PROVIDER_SELECT} ORDER BY p.name_key")).fetch_all(&self.read).await?;
        rows.iter().map(rows::provider).collect()
    }

    async fn import_vps(
        &self,
        rows: Vec<VpsImportRow>,
        options: ImportOptions,
        by: &AuditContext,
    ) -> Result<ImportReport> {
        let mentioned = plan::mentioned(&rows);
        let mut tx = self.write.begin().await?;
        let ctx = load_context(&mut tx, &mentioned).await?;
        let plan = plan::plan_vps(rows, ctx, options);
        if !plan.should_write(options) {
            return Ok(plan.report);
        }
        for (id, p) in &plan.new_providers {
            insert_provider(&mut tx, *id, p).await?;
        }
        insert_many(&mut tx, &plan.creates, Source::Import).await?;
        vps::update_many(&mut tx, &plan.updates).await?;
        record_summary(&mut tx, by, "import", "vps", plan::import_summary(&plan.report)).await?;
        tx.commit().await?;
        Ok(plan.report)
    }

    async fn import_providers(
        &self,
        rows: Vec<ProviderImportRow>,
        options: ImportOptions,
        by: &AuditContext,
    ) -> Result<ImportReport> {
        let mut tx = self.write.begin().await?;
        let stored = sqlx::query(&format!("{PROVIDER_SELECT} ORDER BY p.name_key")).fetch_all(&mut *tx).await?;
        let stored = stored.iter().map(rows::provider).collect::<Result<Vec<_>>>()?;
        let plan = plan::plan_providers(rows, stored, options);
        if plan.report.failed > 0 || options.dry_run {
            return Ok(plan.report);
        }
        for (id, p) in &plan.creates {
            insert_provider(&mut tx, *id, p).await?;
        }
        for (old, p) in &plan.updates {
            sqlx::query(
                "UPDATE providers SET name = ?, name_key = ?, country = ?, website = ?, panel_url = ?, api_supported = ?,
                 notes = ?, rating = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            )
            .bind(&p.name)
            .bind(p.name.to_lowercase())
            .bind(&p.country)
            .bind(&p.website)
            .bind(&p.panel_url)
            .bind(p.api_supported)
            .bind(&p.notes)
            .bind(p.rating)
            .bind(ts(now()))
            .bind(old.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        record_summary(&mut tx, by, "import", "provider", plan::import_summary(&plan.report)).await?;
        tx.commit().await?;
        Ok(plan.report)
    }
}

fn json_list<T: ToString>(items: &[T]) -> String {
    serde_json::to_string(&items.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

async fn load_context(tx: &mut SqliteConnection, mentioned: &plan::Mentioned) -> Result<VpsImportContext> {
    let (hostnames, ips) = (&mentioned.hostnames, &mentioned.ips);
    let providers: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM providers").fetch_all(&mut *tx).await?;
    let providers = providers.into_iter().map(|(id, name)| Ok((rows::uuid(&id)?, name))).collect::<Result<_>>()?;
    let sql = format!("{VPS_SELECT} WHERE {LIVE} AND v.hostname IN (SELECT value FROM json_each(?))");
    let live = read_vps(tx, sqlx::query(&sql).bind(json_list(hostnames))).await?;
    let held: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT i.ip, v.id, v.hostname FROM vps_ip i JOIN vps v ON v.id = i.vps_id
         WHERE i.live = 1 AND i.ip IN (SELECT value FROM json_each(?))",
    )
    .bind(json_list(ips))
    .fetch_all(&mut *tx)
    .await?;
    let mut owners = HashMap::with_capacity(held.len());
    for (ip, id, host) in held {
        let ip: IpAddr = ip.parse().map_err(sigma_store::StoreError::other)?;
        owners.insert(ip, (rows::uuid(&id)?, host));
    }
    let sql = format!("{VPS_SELECT} WHERE v.id IN (SELECT value FROM json_each(?))");
    let by_id = read_vps(tx, sqlx::query(&sql).bind(json_list(&mentioned.ids))).await?;
    Ok(VpsImportContext { providers, live, owners, by_id })
}

/// The VPS a query returns, read one row at a time: an import may read tens
/// of thousands, and holding every raw row beside its parsed VPS would
/// double what it takes.
async fn read_vps<'q>(
    tx: &mut SqliteConnection,
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
) -> Result<Vec<Vps>> {
    let mut out = Vec::new();
    let mut stream = q.fetch(&mut *tx);
    while let Some(row) = stream.try_next().await? {
        out.push(rows::vps(&row)?);
    }
    Ok(out)
}

async fn insert_provider(tx: &mut SqliteConnection, id: Uuid, d: &ProviderDraft) -> Result<()> {
    let now = ts(now());
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
    Ok(())
}

/// Inserts new VPS with their addresses, tags and address history in
/// multi-row statements. The plan has checked names and addresses.
async fn insert_many(tx: &mut SqliteConnection, items: &[(Uuid, VpsDraft)], source: Source) -> Result<()> {
    let now = ts(now());
    for chunk in items.chunks(VPS_BATCH) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO vps ({}, id, source, created_at, updated_at, retired_at) ",
            vps::DRAFT_COLUMNS.join(", ")
        ));
        q.push_values(chunk, |mut b, (id, d)| {
            push_draft(&mut b, d);
            b.push_bind(id.to_string())
                .push_bind(source.as_str())
                .push_bind(now.clone())
                .push_bind(now.clone())
                .push_bind((!d.is_live()).then(|| now.clone()));
        });
        q.build().execute(&mut *tx).await?;
    }
    let ips: Vec<(&Uuid, IpAddr, bool)> =
        items.iter().flat_map(|(id, d)| d.ip_addresses.iter().map(move |e| (id, e.ip, d.is_live()))).collect();
    for chunk in ips.chunks(CHILD_BATCH) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO vps_ip (vps_id, ip, ip_key, live) ");
        q.push_values(chunk, |mut b, (id, ip, live)| {
            b.push_bind(id.to_string())
                .push_bind(ip.to_string())
                .push_bind(sigma_store::ip::key(*ip).to_vec())
                .push_bind(*live);
        });
        q.build().execute(&mut *tx).await?;
    }
    let tags: Vec<(&Uuid, &String)> = items.iter().flat_map(|(id, d)| d.tags.iter().map(move |t| (id, t))).collect();
    for chunk in tags.chunks(CHILD_BATCH) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO vps_tag (vps_id, tag) ");
        q.push_values(chunk, |mut b, (id, t)| {
            b.push_bind(id.to_string()).push_bind((*t).clone());
        });
        q.build().execute(&mut *tx).await?;
    }
    let history: Vec<(&Uuid, &String, IpAddr)> = items
        .iter()
        .filter(|(_, d)| d.is_live())
        .flat_map(|(id, d)| d.ip_addresses.iter().map(move |e| (id, &d.hostname, e.ip)))
        .collect();
    for chunk in history.chunks(CHILD_BATCH) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO ip_history (id, ip, vps_id, hostname, assigned_at) ");
        q.push_values(chunk, |mut b, (id, host, ip)| {
            b.push_bind(Uuid::now_v7().to_string())
                .push_bind(ip.to_string())
                .push_bind(id.to_string())
                .push_bind((*host).clone())
                .push_bind(now.clone());
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}
