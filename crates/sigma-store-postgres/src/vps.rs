//! VPS writes, list queries and stats.

use crate::now;
use crate::rows::{self, get_vps, lock_vps};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sigma_store::{Conflict, Result, StoreError, live_ips, search_text, unknown_provider};
use sigma_types::{CountBy, Page, PageRequest, SortOrder, Source, Stats, Vps, VpsDraft, VpsFilter, VpsSort, VpsStatus};
use sqlx::postgres::PgArguments;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use std::net::IpAddr;
use std::sync::LazyLock;
use uuid::Uuid;

pub(crate) const LIVE: &str = "v.status <> 'retired' AND v.deleted_at IS NULL";

/// The editable columns, in the order `bind_draft` binds them.
pub(crate) const DRAFT_COLUMNS: &[&str] = &[
    "hostname",
    "alias",
    "provider_id",
    "country",
    "city",
    "dc_name",
    "ip_addresses",
    "ssh_port",
    "ssh_user",
    "status",
    "purpose",
    "vpn_protocol",
    "tags",
    "cpu_cores",
    "ram_mb",
    "disk_gb",
    "bandwidth_tb",
    "price",
    "currency",
    "billing_cycle",
    "monthly_cost",
    "purchase_date",
    "expire_date",
    "auto_renew",
    "monitoring_enabled",
    "node_exporter_port",
    "extra",
    "notes",
    "search",
];

/// `$1, $2, ...` for `n` parameters, starting at `$from`.
fn params(from: usize, n: usize) -> Vec<String> {
    (from..from + n).map(|i| format!("${i}")).collect()
}

static INSERT: LazyLock<String> = LazyLock::new(|| {
    let n = DRAFT_COLUMNS.len();
    format!(
        "INSERT INTO vps ({}, id, source, created_at, updated_at, retired_at) VALUES ({})",
        DRAFT_COLUMNS.join(", "),
        params(1, n + 5).join(", ")
    )
});

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    let n = DRAFT_COLUMNS.len();
    let sets: Vec<String> = DRAFT_COLUMNS.iter().zip(params(1, n)).map(|(c, p)| format!("{c} = {p}")).collect();
    format!(
        "UPDATE vps SET {}, updated_at = ${}, retired_at = ${}, version = version + 1 WHERE id = ${}",
        sets.join(", "),
        n + 1,
        n + 2,
        n + 3
    )
});

pub(crate) type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bind_draft<'q>(q: Query<'q>, d: &'q VpsDraft) -> Query<'q> {
    q.bind(&d.hostname)
        .bind(&d.alias)
        .bind(d.provider_id)
        .bind(&d.country)
        .bind(&d.city)
        .bind(&d.dc_name)
        .bind(Json(&d.ip_addresses))
        .bind(d.ssh_port)
        .bind(&d.ssh_user)
        .bind(d.status.as_str())
        .bind(d.purpose.as_str())
        .bind(&d.vpn_protocol)
        .bind(&d.tags)
        .bind(d.cpu_cores)
        .bind(d.ram_mb)
        .bind(d.disk_gb)
        .bind(d.bandwidth_tb)
        .bind(d.price)
        .bind(&d.currency)
        .bind(d.billing_cycle.as_str())
        .bind(d.monthly_cost())
        .bind(d.purchase_date)
        .bind(d.expire_date)
        .bind(d.auto_renew)
        .bind(d.monitoring_enabled)
        .bind(d.node_exporter_port)
        .bind(&d.extra)
        .bind(&d.notes)
        .bind(search_text(d))
}

/// The element type of each of `DRAFT_COLUMNS` as `DraftArrays` sends it.
/// Tags go as the text of an array each, since arrays of arrays must be
/// rectangular.
const DRAFT_ARRAY_TYPES: &[&str] = &[
    "text", "text", "uuid", "text", "text", "text", "jsonb", "int4", "text", "text", "text", "text", "text", "int4",
    "int4", "int4", "numeric", "numeric", "text", "text", "numeric", "date", "date", "bool", "bool", "int4", "jsonb",
    "text", "text",
];

/// Inserts rows given column by column, one array per column: the
/// statement's size does not grow with the rows, and the server reads each
/// column in one piece.
pub(crate) static INSERT_MANY: LazyLock<String> = LazyLock::new(|| {
    let n = DRAFT_COLUMNS.len();
    let arrays: Vec<String> = DRAFT_ARRAY_TYPES.iter().enumerate().map(|(i, t)| format!("${}::{t}[]", i + 1)).collect();
    let values: Vec<String> = DRAFT_COLUMNS
        .iter()
        .map(|c| if *c == "tags" { "t.tags::text[]".to_owned() } else { format!("t.{c}") })
        .collect();
    format!(
        "INSERT INTO vps ({columns}, id, source, created_at, updated_at, retired_at)
         SELECT {values}, t.id, ${source}, ${now}, ${now}, t.retired_at
         FROM unnest({arrays}, ${ids}::uuid[], ${retired}::timestamptz[]) AS t ({columns}, id, retired_at)",
        columns = DRAFT_COLUMNS.join(", "),
        values = values.join(", "),
        arrays = arrays.join(", "),
        ids = n + 1,
        retired = n + 2,
        source = n + 3,
        now = n + 4,
    )
});

/// Updates rows given column by column, as `INSERT_MANY` inserts them; a
/// row is updated only while it is at the version given and not in the
/// trash, so the caller compares the rows updated with the rows given.
pub(crate) static UPDATE_MANY: LazyLock<String> = LazyLock::new(|| {
    let n = DRAFT_COLUMNS.len();
    let arrays: Vec<String> = DRAFT_ARRAY_TYPES.iter().enumerate().map(|(i, t)| format!("${}::{t}[]", i + 1)).collect();
    let sets: Vec<String> = DRAFT_COLUMNS
        .iter()
        .map(|c| if *c == "tags" { "tags = t.tags::text[]".to_owned() } else { format!("{c} = t.{c}") })
        .collect();
    format!(
        "UPDATE vps AS v SET {sets}, updated_at = ${now}, retired_at = t.retired_at, version = v.version + 1
         FROM unnest({arrays}, ${ids}::uuid[], ${retired}::timestamptz[], ${versions}::int8[])
             AS t ({columns}, id, retired_at, version)
         WHERE v.id = t.id AND v.version = t.version AND v.deleted_at IS NULL",
        sets = sets.join(", "),
        columns = DRAFT_COLUMNS.join(", "),
        arrays = arrays.join(", "),
        ids = n + 1,
        retired = n + 2,
        versions = n + 3,
        now = n + 4,
    )
});

/// Applies an import's updates: each `(current, draft)` pair replaces the
/// editable fields of a VPS the import read in this transaction. The plan
/// has checked host names and addresses; addresses and their history are
/// rewritten only for the VPS whose addresses (or liveness) change.
/// `VersionMismatch` when another writer changed one of them meanwhile.
pub(crate) async fn update_many(tx: &mut PgConnection, items: &[(Vps, VpsDraft)], batch: usize) -> Result<()> {
    let now = now();
    for chunk in items.chunks(batch) {
        let mut columns = DraftArrays::default();
        let (mut ids, mut retired, mut versions) = (Vec::new(), Vec::new(), Vec::new());
        for (cur, d) in chunk {
            columns.push(d);
            ids.push(cur.id);
            retired.push((d.status == VpsStatus::Retired).then(|| cur.retired_at.unwrap_or(now)));
            versions.push(cur.version);
        }
        let done = columns
            .bind(sqlx::query(&UPDATE_MANY))
            .bind(ids)
            .bind(retired)
            .bind(versions)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::VersionMismatch);
        }
    }
    for (cur, d) in items {
        let Some((added, removed)) = sigma_store::address_change(cur, d) else { continue };
        write_addresses(tx, cur.id, d, d.is_live()).await?;
        record_history(tx, cur.id, &d.hostname, &added, &removed, now).await?;
    }
    Ok(())
}

/// `DRAFT_COLUMNS` of many drafts, one vector per column, borrowing from
/// the drafts where the column is text.
#[derive(Default)]
pub(crate) struct DraftArrays<'a> {
    hostname: Vec<&'a str>,
    alias: Vec<Option<&'a str>>,
    provider_id: Vec<Uuid>,
    country: Vec<&'a str>,
    city: Vec<Option<&'a str>>,
    dc_name: Vec<Option<&'a str>>,
    ip_addresses: Vec<Json<&'a [sigma_types::IpEntry]>>,
    ssh_port: Vec<i32>,
    ssh_user: Vec<Option<&'a str>>,
    status: Vec<&'static str>,
    purpose: Vec<&'static str>,
    vpn_protocol: Vec<Option<&'a str>>,
    tags: Vec<String>,
    cpu_cores: Vec<Option<i32>>,
    ram_mb: Vec<Option<i32>>,
    disk_gb: Vec<Option<i32>>,
    bandwidth_tb: Vec<Option<Decimal>>,
    price: Vec<Option<Decimal>>,
    currency: Vec<&'a str>,
    billing_cycle: Vec<&'static str>,
    monthly_cost: Vec<Decimal>,
    purchase_date: Vec<Option<NaiveDate>>,
    expire_date: Vec<Option<NaiveDate>>,
    auto_renew: Vec<bool>,
    monitoring_enabled: Vec<bool>,
    node_exporter_port: Vec<i32>,
    extra: Vec<&'a serde_json::Value>,
    notes: Vec<Option<&'a str>>,
    search: Vec<String>,
}

impl<'a> DraftArrays<'a> {
    pub(crate) fn push(&mut self, d: &'a VpsDraft) {
        self.hostname.push(&d.hostname);
        self.alias.push(d.alias.as_deref());
        self.provider_id.push(d.provider_id);
        self.country.push(&d.country);
        self.city.push(d.city.as_deref());
        self.dc_name.push(d.dc_name.as_deref());
        self.ip_addresses.push(Json(&d.ip_addresses));
        self.ssh_port.push(d.ssh_port);
        self.ssh_user.push(d.ssh_user.as_deref());
        self.status.push(d.status.as_str());
        self.purpose.push(d.purpose.as_str());
        self.vpn_protocol.push(d.vpn_protocol.as_deref());
        self.tags.push(array_text(&d.tags));
        self.cpu_cores.push(d.cpu_cores);
        self.ram_mb.push(d.ram_mb);
        self.disk_gb.push(d.disk_gb);
        self.bandwidth_tb.push(d.bandwidth_tb);
        self.price.push(d.price);
        self.currency.push(&d.currency);
        self.billing_cycle.push(d.billing_cycle.as_str());
        self.monthly_cost.push(d.monthly_cost());
        self.purchase_date.push(d.purchase_date);
        self.expire_date.push(d.expire_date);
        self.auto_renew.push(d.auto_renew);
        self.monitoring_enabled.push(d.monitoring_enabled);
        self.node_exporter_port.push(d.node_exporter_port);
        self.extra.push(&d.extra);
        self.notes.push(d.notes.as_deref());
        self.search.push(search_text(d));
    }

    /// Binds the arrays to `INSERT_MANY`, in the order of `DRAFT_COLUMNS`.
    pub(crate) fn bind(self, q: Query<'a>) -> Query<'a> {
        q.bind(self.hostname)
            .bind(self.alias)
            .bind(self.provider_id)
            .bind(self.country)
            .bind(self.city)
            .bind(self.dc_name)
            .bind(self.ip_addresses)
            .bind(self.ssh_port)
            .bind(self.ssh_user)
            .bind(self.status)
            .bind(self.purpose)
            .bind(self.vpn_protocol)
            .bind(self.tags)
            .bind(self.cpu_cores)
            .bind(self.ram_mb)
            .bind(self.disk_gb)
            .bind(self.bandwidth_tb)
            .bind(self.price)
            .bind(self.currency)
            .bind(self.billing_cycle)
            .bind(self.monthly_cost)
            .bind(self.purchase_date)
            .bind(self.expire_date)
            .bind(self.auto_renew)
            .bind(self.monitoring_enabled)
            .bind(self.node_exporter_port)
            .bind(self.extra)
            .bind(self.notes)
            .bind(self.search)
    }
}

/// The text form of a text array (`{"a","b\"c"}`), every element quoted.
fn array_text(items: &[String]) -> String {
    let mut out = String::with_capacity(2 + items.iter().map(|s| s.len() + 3).sum::<usize>());
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Fails unless the provider exists, and keeps it from being deleted until
/// the transaction ends.
pub(crate) async fn ensure_provider(tx: &mut PgConnection, id: Uuid) -> Result<()> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM providers WHERE id = $1 FOR KEY SHARE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    found.map(|_| ()).ok_or_else(unknown_provider)
}

/// Fails with a conflict naming the other VPS when a live VPS other than
/// `except` holds the host name or one of the addresses (the first one
/// taken, in the order given).
pub(crate) async fn check_free(
    conn: &mut PgConnection,
    except: Option<Uuid>,
    hostname: &str,
    ips: &[IpAddr],
) -> Result<()> {
    let except = except.unwrap_or(Uuid::nil());
    let other: Option<(Uuid, String)> = sqlx::query_as(&format!(
        "SELECT v.id, v.hostname FROM vps v WHERE v.hostname = $1 AND v.id <> $2 AND {LIVE} LIMIT 1"
    ))
    .bind(hostname)
    .bind(except)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((id, other)) = other {
        return Err(StoreError::Conflict(Conflict::hostname_taken(hostname, id, &other)));
    }
    if ips.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    let taken: Option<(i64, Uuid, String)> = sqlx::query_as(
        "SELECT r.n, v.id, v.hostname FROM unnest($1::text[]) WITH ORDINALITY AS r (ip, n)
         JOIN vps_ip i ON i.ip = r.ip::inet AND i.live
         JOIN vps v ON v.id = i.vps_id
         WHERE i.vps_id <> $2 ORDER BY r.n LIMIT 1",
    )
    .bind(&texts)
    .bind(except)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((n, id, other)) = taken {
        let index = usize::try_from(n - 1).unwrap_or(0);
        let ip = texts.get(index).map_or("", String::as_str);
        return Err(StoreError::Conflict(Conflict::address_taken(ip, index, id, &other)));
    }
    Ok(())
}

/// Replaces the address rows of a VPS. They are written in key order so
/// that two transactions claiming the same addresses wait for each other
/// instead of deadlocking.
async fn write_addresses(tx: &mut PgConnection, id: Uuid, d: &VpsDraft, live: bool) -> Result<()> {
    sqlx::query("DELETE FROM vps_ip WHERE vps_id = $1").bind(id).execute(&mut *tx).await?;
    if d.ip_addresses.is_empty() {
        return Ok(());
    }
    let mut keyed: Vec<([u8; 16], IpAddr)> =
        d.ip_addresses.iter().map(|e| (sigma_store::ip::key(e.ip), e.ip)).collect();
    keyed.sort();
    let (keys, ips): (Vec<Vec<u8>>, Vec<String>) =
        keyed.into_iter().map(|(k, ip)| (k.to_vec(), ip.to_string())).unzip();
    sqlx::query(
        "INSERT INTO vps_ip (vps_id, ip, ip_key, live)
         SELECT $1, t.ip::inet, t.key, $4 FROM unnest($2::text[], $3::bytea[]) AS t (ip, key)",
    )
    .bind(id)
    .bind(&ips)
    .bind(&keys)
    .bind(live)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn set_live(tx: &mut PgConnection, id: Uuid, live: bool) -> Result<()> {
    sqlx::query("UPDATE vps_ip SET live = $1 WHERE vps_id = $2").bind(live).bind(id).execute(&mut *tx).await?;
    Ok(())
}

/// Records that a VPS started (`added`) and stopped (`removed`) holding addresses.
async fn record_history(
    tx: &mut PgConnection,
    id: Uuid,
    hostname: &str,
    added: &[IpAddr],
    removed: &[IpAddr],
    at: DateTime<Utc>,
) -> Result<()> {
    if !removed.is_empty() {
        let removed: Vec<String> = removed.iter().map(IpAddr::to_string).collect();
        sqlx::query(
            "UPDATE ip_history SET released_at = $1
             WHERE vps_id = $2 AND ip = ANY ($3::text[]::inet[]) AND released_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .bind(&removed)
        .execute(&mut *tx)
        .await?;
    }
    if !added.is_empty() {
        let ids: Vec<Uuid> = added.iter().map(|_| Uuid::now_v7()).collect();
        let added: Vec<String> = added.iter().map(IpAddr::to_string).collect();
        sqlx::query(
            "INSERT INTO ip_history (id, ip, vps_id, hostname, assigned_at)
             SELECT t.id, t.ip::inet, $3, $4, $5 FROM unnest($1::uuid[], $2::text[]) AS t (id, ip)",
        )
        .bind(&ids)
        .bind(&added)
        .bind(id)
        .bind(hostname)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

pub(crate) fn draft_ips(d: &VpsDraft) -> Vec<IpAddr> {
    d.ip_addresses.iter().map(|e| e.ip).collect()
}

/// Every address of a VPS, whether it holds them now or not.
pub(crate) fn addresses(v: &Vps) -> Vec<IpAddr> {
    v.ip_addresses.iter().map(|e| e.ip).collect()
}

pub(crate) async fn insert(tx: &mut PgConnection, d: &VpsDraft, source: Source) -> Result<Vps> {
    ensure_provider(tx, d.provider_id).await?;
    let live = d.is_live();
    let ips = draft_ips(d);
    if live {
        check_free(tx, None, &d.hostname, &ips).await?;
    }
    let id = Uuid::now_v7();
    let now = now();
    bind_draft(sqlx::query(&INSERT), d)
        .bind(id)
        .bind(source.as_str())
        .bind(now)
        .bind(now)
        .bind((d.status == VpsStatus::Retired).then_some(now))
        .execute(&mut *tx)
        .await?;
    write_addresses(tx, id, d, live).await?;
    if live {
        record_history(tx, id, &d.hostname, &ips, &[], now).await?;
    }
    get_vps(&mut *tx, id).await
}

pub(crate) async fn update(tx: &mut PgConnection, id: Uuid, d: &VpsDraft, version: i64) -> Result<Vps> {
    let cur = lock_vps(&mut *tx, id).await?;
    if cur.deleted_at.is_some() {
        return Err(StoreError::Conflict(Conflict::in_trash()));
    }
    if cur.version != version {
        return Err(StoreError::VersionMismatch);
    }
    if d.provider_id != cur.provider_id {
        ensure_provider(tx, d.provider_id).await?;
    }
    let live = d.is_live();
    let ips = draft_ips(d);
    if live {
        check_free(tx, Some(id), &d.hostname, &ips).await?;
    }
    let now = now();
    let retired_at = match d.status {
        VpsStatus::Retired => Some(cur.retired_at.unwrap_or(now)),
        _ => None,
    };
    bind_draft(sqlx::query(&UPDATE), d).bind(now).bind(retired_at).bind(id).execute(&mut *tx).await?;
    write_addresses(tx, id, d, live).await?;
    let new_live = if live { ips } else { Vec::new() };
    let (added, removed) = sigma_store::ip::diff(&live_ips(&cur), &new_live);
    record_history(tx, id, &d.hostname, &added, &removed, now).await?;
    get_vps(&mut *tx, id).await
}

pub(crate) async fn retire(tx: &mut PgConnection, id: Uuid) -> Result<Vps> {
    let cur = lock_vps(&mut *tx, id).await?;
    if cur.deleted_at.is_some() {
        return Err(StoreError::Conflict(Conflict::in_trash()));
    }
    if cur.status == VpsStatus::Retired {
        return Ok(cur);
    }
    let now = now();
    sqlx::query(
        "UPDATE vps SET status = 'retired', retired_at = $1, updated_at = $1, version = version + 1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    set_live(tx, id, false).await?;
    record_history(tx, id, &cur.hostname, &[], &live_ips(&cur), now).await?;
    get_vps(&mut *tx, id).await
}

pub(crate) async fn trash(tx: &mut PgConnection, id: Uuid) -> Result<Vps> {
    let cur = lock_vps(&mut *tx, id).await?;
    if cur.deleted_at.is_some() {
        return Ok(cur);
    }
    let now = now();
    sqlx::query("UPDATE vps SET deleted_at = $1, updated_at = $1, version = version + 1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    set_live(tx, id, false).await?;
    record_history(tx, id, &cur.hostname, &[], &live_ips(&cur), now).await?;
    get_vps(&mut *tx, id).await
}

pub(crate) async fn restore(tx: &mut PgConnection, id: Uuid) -> Result<Vps> {
    let cur = lock_vps(&mut *tx, id).await?;
    if cur.deleted_at.is_none() {
        return Ok(cur);
    }
    // Checked before un-trashing, so a collision is reported by the check
    // (naming the other VPS) rather than by the unique index.
    let live = cur.status != VpsStatus::Retired;
    let ips: Vec<IpAddr> = if live { addresses(&cur) } else { Vec::new() };
    if live {
        check_free(tx, Some(id), &cur.hostname, &ips).await?;
    }
    let now = now();
    sqlx::query("UPDATE vps SET deleted_at = NULL, updated_at = $1, version = version + 1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if live {
        set_live(tx, id, true).await?;
        record_history(tx, id, &cur.hostname, &ips, &[], now).await?;
    }
    get_vps(&mut *tx, id).await
}

fn push_statuses(q: &mut QueryBuilder<'_, Postgres>, column: &str, statuses: &[VpsStatus]) {
    if !statuses.is_empty() {
        let statuses: Vec<String> = statuses.iter().map(|s| s.as_str().to_owned()).collect();
        q.push(format!(" AND {column} = ANY (")).push_bind(statuses).push(")");
    }
}

pub(crate) fn push_filter(q: &mut QueryBuilder<'_, Postgres>, f: &VpsFilter) {
    q.push(if f.deleted { " WHERE v.deleted_at IS NOT NULL" } else { " WHERE v.deleted_at IS NULL" });
    push_statuses(q, "v.status", &f.statuses);
    if let Some(c) = &f.country {
        q.push(" AND v.country = ").push_bind(c.clone());
    }
    if let Some(p) = f.provider_id {
        q.push(" AND v.provider_id = ").push_bind(p);
    }
    if let Some(p) = f.purpose {
        q.push(" AND v.purpose = ").push_bind(p.as_str());
    }
    if !f.tags.is_empty() {
        q.push(" AND v.tags @> ").push_bind(f.tags.clone()).push("::text[]");
    }
    if let Some(text) = &f.q {
        q.push(" AND v.search LIKE ").push_bind(sigma_store::like_pattern(&text.to_lowercase())).push(" ESCAPE '\\'");
    }
    if let Some(net) = f.ip {
        let (lo, hi) = sigma_store::ip::range(net);
        q.push(" AND v.id IN (SELECT vps_id FROM vps_ip WHERE ip_key BETWEEN ")
            .push_bind(lo.to_vec())
            .push(" AND ")
            .push_bind(hi.to_vec())
            .push(")");
    }
    if let Some(day) = f.expires_by {
        q.push(" AND v.expire_date <= ").push_bind(day).push(format!(" AND {LIVE}"));
    }
    if let Some(m) = f.monitoring_enabled {
        q.push(" AND v.monitoring_enabled = ").push_bind(m);
    }
}

/// The id of every VPS `f` matches, in list order.
pub(crate) async fn list_ids(pool: &PgPool, f: &VpsFilter, sort: VpsSort, order: SortOrder) -> Result<Vec<Uuid>> {
    let (column, nulls, dir) = sort_terms(sort, order);
    let mut q = QueryBuilder::<Postgres>::new("SELECT v.id FROM vps v");
    push_filter(&mut q, f);
    if column == "v.id" {
        q.push(format!(" ORDER BY v.id {dir}"));
    } else {
        q.push(format!(" ORDER BY {column} {dir}{nulls}, v.id {dir}"));
    }
    Ok(q.build_query_scalar().fetch_all(pool).await?)
}

/// The VPS with these ids, in the same order; ids of no VPS are left out.
pub(crate) async fn get_many(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Vps>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!("{} WHERE v.id = ANY($1)", rows::VPS_SELECT)).bind(ids).fetch_all(pool).await?;
    let mut found = rows.iter().map(rows::vps).collect::<Result<Vec<_>>>()?;
    sigma_store::order_like(&mut found, ids);
    Ok(found)
}

/// The sort column, `NULLS LAST` where it is needed, and the direction.
fn sort_terms(sort: VpsSort, order: SortOrder) -> (&'static str, &'static str, &'static str) {
    // Only expire_date can be null; the other columns need no NULLS LAST,
    // which would keep a descending sort from reading its index backwards.
    let (column, nulls) = match sort {
        VpsSort::Hostname => ("v.hostname", ""),
        VpsSort::Country => ("v.country", ""),
        VpsSort::Status => ("v.status", ""),
        VpsSort::ExpireDate => ("v.expire_date", " NULLS LAST"),
        VpsSort::CreatedAt => ("v.id", ""),
        VpsSort::MonthlyCost => ("v.monthly_cost", ""),
    };
    let dir = match order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    (column, nulls, dir)
}

pub(crate) async fn list(
    pool: &PgPool,
    f: &VpsFilter,
    page: PageRequest,
    sort: VpsSort,
    order: SortOrder,
) -> Result<Page<Vps>> {
    let (column, nulls, dir) = sort_terms(sort, order);
    if f.matches_elsewhere() {
        return list_matches(pool, f, page, column, nulls, dir).await;
    }

    // The count and the page side by side, each on its own connection.
    let (total, data) = tokio::try_join!(count(pool, f), self::page(pool, f, page, sort, order))?;
    Ok(Page { data, total, page: page.page, per_page: page.per_page })
}

/// How many VPS `f` matches.
pub(crate) async fn count(pool: &PgPool, f: &VpsFilter) -> Result<i64> {
    let mut count;
    if f.by_status_only() {
        // No filter but status (the UI's first page): the running tallies know the total.
        count = QueryBuilder::<Postgres>::new("SELECT COALESCE(SUM(n), 0)::BIGINT FROM vps_tally WHERE dim = 'status'");
        push_statuses(&mut count, "key", &f.statuses);
    } else {
        // Every filtered column is in an index with the sort keys (0008): counted from the index alone.
        count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM vps v");
        push_filter(&mut count, f);
    }
    Ok(count.build_query_scalar::<i64>().fetch_one(pool).await?)
}

/// One page of what `f` matches, without its total.
pub(crate) async fn page(
    pool: &PgPool,
    f: &VpsFilter,
    page: PageRequest,
    sort: VpsSort,
    order: SortOrder,
) -> Result<Vec<Vps>> {
    let (column, nulls, dir) = sort_terms(sort, order);
    // The page's ids first, from an index that holds the sort key and the
    // filtered columns, then those rows: skipped rows are never read.
    let order_by = if column == "v.id" {
        format!(" ORDER BY v.id {dir}")
    } else {
        format!(" ORDER BY {column} {dir}{nulls}, v.id {dir}")
    };
    let mut q = QueryBuilder::<Postgres>::new(rows::VPS_COLUMNS);
    q.push(" FROM (SELECT v.id FROM vps v");
    push_filter(&mut q, f);
    q.push(&order_by);
    q.push(" LIMIT ").push_bind(page.limit()).push(" OFFSET ").push_bind(page.offset());
    q.push(") k JOIN vps v ON v.id = k.id JOIN providers p ON p.id = v.provider_id");
    q.push(&order_by);
    q.build().fetch_all(pool).await?.iter().map(rows::vps).collect()
}

/// A list filtered by tags, text or addresses: the matching rows have to be
/// found (and, for tags and text, read) to be counted, so they are found
/// once, with their sort key, and counted and paged in the same statement.
/// The total comes on every row, and on one row of nulls when the page is
/// past the end.
async fn list_matches(
    pool: &PgPool,
    f: &VpsFilter,
    page: PageRequest,
    column: &str,
    nulls: &str,
    dir: &str,
) -> Result<Page<Vps>> {
    let mut q =
        QueryBuilder::<Postgres>::new(format!("WITH m AS MATERIALIZED (SELECT v.id, {column} AS sort_key FROM vps v"));
    push_filter(&mut q, f);
    q.push(format!("), k AS (SELECT id, sort_key FROM m ORDER BY sort_key {dir}{nulls}, id {dir} LIMIT "))
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset());
    q.push(format!(
        ") SELECT t.total, r.* FROM (SELECT COUNT(*) AS total FROM m) t LEFT JOIN (
            {} , k.sort_key FROM k JOIN vps v ON v.id = k.id JOIN providers p ON p.id = v.provider_id
        ) r ON true ORDER BY r.sort_key {dir}{nulls}, r.id {dir}",
        rows::VPS_COLUMNS
    ));
    let rows = q.build().fetch_all(pool).await?;
    let mut total = 0;
    let mut data = Vec::with_capacity(rows.len());
    for r in &rows {
        total = r.try_get("total")?;
        if r.try_get::<Option<Uuid>, _>("id")?.is_some() {
            data.push(rows::vps(r)?);
        }
    }
    Ok(Page { data, total, page: page.page, per_page: page.per_page })
}

/// Dashboard figures from the running tallies (migration 0003) and one range
/// of the live expiry index, each query on its own pooled connection.
pub(crate) async fn stats(pool: &PgPool, today: NaiveDate) -> Result<Stats> {
    let in_days = |n: u64| today + chrono::Days::new(n);
    // Everything due within 30 days, and how much of it within 7.
    let expiring_sql = format!(
        "SELECT COUNT(*) FILTER (WHERE v.expire_date <= $1), COUNT(*) FROM vps v WHERE {LIVE} AND v.expire_date <= $2"
    );
    let (tallies, by_provider, expiring, total_providers) = tokio::try_join!(
        sqlx::query_as::<_, (String, String, i64, Decimal)>(
            "SELECT dim, key, n, cost FROM vps_tally WHERE n > 0 AND dim <> 'provider' ORDER BY dim, key"
        )
        .fetch_all(pool),
        sqlx::query_as::<_, (Uuid, String, i64)>(
            "SELECT p.id, p.name, t.n FROM vps_tally t JOIN providers p ON p.id::TEXT = t.key
             WHERE t.dim = 'provider' AND t.n > 0 ORDER BY t.n DESC, p.name_key"
        )
        .fetch_all(pool),
        sqlx::query_as::<_, (i64, i64)>(&expiring_sql).bind(in_days(7)).bind(in_days(30)).fetch_one(pool),
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM providers").fetch_one(pool),
    )?;
    let mut s = sigma_store::stats_from_tallies(tallies);
    s.total_providers = total_providers;
    s.by_provider = by_provider
        .into_iter()
        .map(|(provider_id, provider_name, count)| CountBy { provider_id, provider_name, count })
        .collect();
    (s.expiring_7d, s.expiring_30d) = expiring;
    Ok(s)
}

pub(crate) async fn count_by_status(pool: &PgPool) -> Result<Vec<(VpsStatus, i64)>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT key, n FROM vps_tally WHERE dim = 'status' AND n > 0").fetch_all(pool).await?;
    rows.into_iter().map(|(s, n)| Ok((rows::parse_enum(&s)?, n))).collect()
}
