//! Bulk reads and imports.

use crate::audit::record_summary;
use crate::rows::{self, FLEET_SELECT, PROVIDER_SELECT, VPS_SELECT};
use crate::vps::{self, DraftArrays, LIVE, push_filter};
use crate::{PostgresStore, now};
use async_trait::async_trait;
use futures::TryStreamExt;
use sigma_store::transfer::{self as plan, VpsImportContext};
use sigma_store::{
    AuditContext, FleetVps, ImportOptions, ProviderImportRow, Result, StoreError, TransferStore, VpsImportRow,
};
use sigma_types::{ImportReport, Provider, ProviderDraft, Source, Vps, VpsDraft, VpsFilter};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use std::collections::HashMap;
use std::net::IpAddr;
use uuid::Uuid;

/// Rows per insert statement: each column is one array, so the limit is
/// the memory an array takes, not the number of parameters.
const VPS_BATCH: usize = 10_000;
/// Imports of this many rows or more defer their GIN index work.
const BULK_ROWS: usize = 1000;

#[async_trait]
impl TransferStore for PostgresStore {
    async fn all_vps(&self, filter: &VpsFilter) -> Result<Vec<Vps>> {
        let mut q = QueryBuilder::<Postgres>::new(VPS_SELECT);
        push_filter(&mut q, filter);
        q.push(" ORDER BY v.hostname, v.id");
        let mut out = Vec::new();
        let mut rows = q.build().fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            out.push(rows::vps(&row)?);
        }
        Ok(out)
    }

    async fn fleet(&self, filter: &VpsFilter) -> Result<Vec<FleetVps>> {
        let mut q = QueryBuilder::<Postgres>::new(FLEET_SELECT);
        push_filter(&mut q, filter);
        q.push(" ORDER BY v.hostname, v.id");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(rows::fleet).collect()
    }

    async fn fleet_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT n FROM fleet_version WHERE id = 1").fetch_one(&self.pool).await?)
    }

    async fn all_providers(&self) -> Result<Vec<Provider>> {
        let rows = sqlx::query(&format!("{PROVIDER_SELECT} ORDER BY p.name_key")).fetch_all(&self.pool).await?;
        rows.iter().map(rows::provider).collect()
    }

    async fn import_vps(
        &self,
        rows: Vec<VpsImportRow>,
        options: ImportOptions,
        by: &AuditContext,
    ) -> Result<ImportReport> {
        let mentioned = plan::mentioned(&rows);
        self.in_tx(async |tx| {
            let ctx = load_context(tx, &mentioned).await?;
            let plan = plan::plan_vps(rows, ctx, options);
            if !plan.should_write(options) {
                return Ok(plan.report);
            }
            if plan.creates.len() + plan.updates.len() >= BULK_ROWS {
                // New entries of the GIN indexes (search text, tags) go to
                // their pending lists, merged in bulk by autovacuum after
                // the import, rather than merged by this transaction every
                // 4 MB (the default).
                sqlx::query("SET LOCAL gin_pending_list_limit = '256MB'").execute(&mut *tx).await?;
            }
            for (id, p) in &plan.new_providers {
                insert_provider(tx, *id, p).await?;
            }
            insert_many(tx, &plan.creates, Source::Import).await?;
            vps::update_many(tx, &plan.updates, VPS_BATCH).await?;
            record_summary(tx, by, "import", "vps", plan::import_summary(&plan.report)).await?;
            Ok(plan.report)
        })
        .await
    }

    async fn import_providers(
        &self,
        rows: Vec<ProviderImportRow>,
        options: ImportOptions,
        by: &AuditContext,
    ) -> Result<ImportReport> {
        self.in_tx(async |tx| {
            // One import of providers at a time: names are matched, then written.
            sqlx::query("LOCK TABLE providers IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
            let stored = sqlx::query(&format!("{PROVIDER_SELECT} ORDER BY p.name_key")).fetch_all(&mut *tx).await?;
            let stored = stored.iter().map(rows::provider).collect::<Result<Vec<_>>>()?;
            let plan = plan::plan_providers(rows, stored, options);
            if plan.report.failed > 0 || options.dry_run {
                return Ok(plan.report);
            }
            for (id, p) in &plan.creates {
                insert_provider(tx, *id, p).await?;
            }
            for (old, p) in &plan.updates {
                sqlx::query(
                    "UPDATE providers SET name = $1, name_key = $2, country = $3, website = $4, panel_url = $5,
                     api_supported = $6, notes = $7, rating = $8, updated_at = $9, version = version + 1
                     WHERE id = $10",
                )
                .bind(&p.name)
                .bind(p.name.to_lowercase())
                .bind(&p.country)
                .bind(&p.website)
                .bind(&p.panel_url)
                .bind(p.api_supported)
                .bind(&p.notes)
                .bind(p.rating)
                .bind(now())
                .bind(old.id)
                .execute(&mut *tx)
                .await?;
            }
            record_summary(tx, by, "import", "provider", plan::import_summary(&plan.report)).await?;
            Ok(plan.report)
        })
        .await
    }
}

async fn load_context(tx: &mut PgConnection, mentioned: &plan::Mentioned) -> Result<VpsImportContext> {
    let (hostnames, ips) = (&mentioned.hostnames, &mentioned.ips);
    // Providers are locked against deletion while VPS are attached to them.
    let providers: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM providers FOR KEY SHARE").fetch_all(&mut *tx).await?;
    let sql = format!("{VPS_SELECT} WHERE {LIVE} AND v.hostname = ANY ($1) FOR NO KEY UPDATE OF v");
    let live = read_vps(tx, sqlx::query(&sql).bind(hostnames)).await?;
    let texts: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    let held: Vec<(String, Uuid, String)> = sqlx::query_as(
        "SELECT host(i.ip), v.id, v.hostname FROM vps_ip i JOIN vps v ON v.id = i.vps_id
         WHERE i.live AND i.ip = ANY ($1::text[]::inet[])",
    )
    .bind(&texts)
    .fetch_all(&mut *tx)
    .await?;
    let mut owners = HashMap::with_capacity(held.len());
    for (ip, id, host) in held {
        let ip: IpAddr = ip.parse().map_err(StoreError::other)?;
        owners.insert(ip, (id, host));
    }
    let sql = format!("{VPS_SELECT} WHERE v.id = ANY ($1) FOR NO KEY UPDATE OF v");
    let by_id = read_vps(tx, sqlx::query(&sql).bind(&mentioned.ids)).await?;
    Ok(VpsImportContext { providers, live, owners, by_id })
}

/// The VPS a query returns, read one row at a time: an import may read tens
/// of thousands, and holding every raw row beside its parsed VPS would
/// double what it takes.
async fn read_vps(tx: &mut PgConnection, q: vps::Query<'_>) -> Result<Vec<Vps>> {
    let mut out = Vec::new();
    let mut stream = q.fetch(&mut *tx);
    while let Some(row) = stream.try_next().await? {
        out.push(rows::vps(&row)?);
    }
    Ok(out)
}

async fn insert_provider(tx: &mut PgConnection, id: Uuid, d: &ProviderDraft) -> Result<()> {
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
    .bind(now())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts new VPS in multi-row statements, and their addresses and
/// address history each in one statement over arrays. The plan has
/// checked names and addresses; the unique indexes still guard races.
async fn insert_many(tx: &mut PgConnection, items: &[(Uuid, VpsDraft)], source: Source) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let now = now();
    for chunk in items.chunks(VPS_BATCH) {
        let mut columns = DraftArrays::default();
        let mut ids = Vec::with_capacity(chunk.len());
        let mut retired = Vec::with_capacity(chunk.len());
        for (id, d) in chunk {
            columns.push(d);
            ids.push(*id);
            retired.push((!d.is_live()).then_some(now));
        }
        columns
            .bind(sqlx::query(&vps::INSERT_MANY))
            .bind(ids)
            .bind(retired)
            .bind(source.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    // Addresses in key order, so that concurrent writers wait rather than deadlock.
    let mut addresses: Vec<([u8; 16], Uuid, IpAddr, bool)> = items
        .iter()
        .flat_map(|(id, d)| d.ip_addresses.iter().map(move |e| (sigma_store::ip::key(e.ip), *id, e.ip, d.is_live())))
        .collect();
    addresses.sort_unstable();
    let mut keys = Vec::with_capacity(addresses.len());
    let mut ids = Vec::with_capacity(addresses.len());
    let mut ips = Vec::with_capacity(addresses.len());
    let mut lives = Vec::with_capacity(addresses.len());
    for (key, id, ip, live) in &addresses {
        keys.push(key.to_vec());
        ids.push(*id);
        ips.push(ip.to_string());
        lives.push(*live);
    }
    sqlx::query(
        "INSERT INTO vps_ip (vps_id, ip, ip_key, live)
         SELECT t.id, t.ip::inet, t.key, t.live FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bool[]) AS t (id, ip, key, live)",
    )
    .bind(&ids)
    .bind(&ips)
    .bind(&keys)
    .bind(&lives)
    .execute(&mut *tx)
    .await?;

    let (mut h_ids, mut h_ips, mut h_vps, mut h_hosts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, d) in items.iter().filter(|(_, d)| d.is_live()) {
        for e in &d.ip_addresses {
            h_ids.push(Uuid::now_v7());
            h_ips.push(e.ip.to_string());
            h_vps.push(*id);
            h_hosts.push(d.hostname.clone());
        }
    }
    sqlx::query(
        "INSERT INTO ip_history (id, ip, vps_id, hostname, assigned_at)
         SELECT t.id, t.ip::inet, t.vps, t.host, $5 FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[]) AS t (id, ip, vps, host)",
    )
    .bind(&h_ids)
    .bind(&h_ips)
    .bind(&h_vps)
    .bind(&h_hosts)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
