//! Reading rows into domain values.

use rust_decimal::Decimal;
use sigma_store::{FleetVps, Result, StoreError};
use sigma_types::{IpEntry, IpHistoryEntry, Provider, Vps};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Postgres, Row};
use std::str::FromStr;
use uuid::Uuid;

/// A provider with its live and active VPS counted in one pass.
pub(crate) const PROVIDER_SELECT: &str = "SELECT p.id, p.name, p.country, p.website, p.panel_url, p.api_supported,
    p.notes, p.rating, p.created_at, p.updated_at, p.version, c.vps_count, c.active_vps_count
    FROM providers p CROSS JOIN LATERAL (
        SELECT COUNT(*) FILTER (WHERE v.status <> 'retired') AS vps_count,
               COUNT(*) FILTER (WHERE v.status = 'active') AS active_vps_count
        FROM vps v WHERE v.provider_id = p.id AND v.deleted_at IS NULL) c";

/// Every column of `vps v` but `search`, which is only ever matched, and
/// the provider's name from `providers p`.
macro_rules! vps_columns {
    () => {
        "SELECT v.id, v.hostname, v.alias, v.provider_id, v.country, v.city, v.dc_name,
    v.ip_addresses, v.ssh_port, v.ssh_user, v.status, v.purpose, v.vpn_protocol, v.tags, v.cpu_cores, v.ram_mb,
    v.disk_gb, v.bandwidth_tb, v.price, v.currency, v.billing_cycle, v.monthly_cost, v.purchase_date,
    v.expire_date, v.auto_renew, v.monitoring_enabled, v.node_exporter_port, v.extra, v.notes, v.source,
    v.created_at, v.updated_at, v.retired_at, v.deleted_at, v.version, p.name AS provider_name"
    };
}

pub(crate) const VPS_COLUMNS: &str = vps_columns!();

pub(crate) const VPS_SELECT: &str = concat!(vps_columns!(), " FROM vps v JOIN providers p ON p.id = v.provider_id");

/// The columns of a [`FleetVps`], and nothing else.
pub(crate) const FLEET_SELECT: &str = "SELECT v.id, v.hostname, v.alias, v.provider_id, p.name AS provider_name,
    v.country, v.city, v.dc_name, v.ip_addresses, v.ssh_port, v.ssh_user, v.status, v.purpose, v.vpn_protocol,
    v.tags, v.expire_date, v.monitoring_enabled, v.node_exporter_port
    FROM vps v JOIN providers p ON p.id = v.provider_id";

pub(crate) const HISTORY_SELECT: &str =
    "SELECT host(ip) AS ip, vps_id, hostname, assigned_at, released_at FROM ip_history";

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::other(format!("stored {what} is unreadable: {e}"))
}

pub(crate) fn parse_enum<T: FromStr<Err = String>>(s: &str) -> Result<T> {
    T::from_str(s).map_err(|e| bad("enumeration", e))
}

pub(crate) fn provider(r: &PgRow) -> Result<Provider> {
    Ok(Provider {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        country: r.try_get("country")?,
        website: r.try_get("website")?,
        panel_url: r.try_get("panel_url")?,
        api_supported: r.try_get("api_supported")?,
        notes: r.try_get("notes")?,
        rating: r.try_get("rating")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        vps_count: r.try_get("vps_count")?,
        active_vps_count: r.try_get("active_vps_count")?,
        version: r.try_get("version")?,
    })
}

pub(crate) fn vps(r: &PgRow) -> Result<Vps> {
    Ok(Vps {
        id: r.try_get("id")?,
        hostname: r.try_get("hostname")?,
        alias: r.try_get("alias")?,
        provider_id: r.try_get("provider_id")?,
        provider_name: r.try_get("provider_name")?,
        country: r.try_get("country")?,
        city: r.try_get("city")?,
        dc_name: r.try_get("dc_name")?,
        ip_addresses: r.try_get::<Json<Vec<IpEntry>>, _>("ip_addresses")?.0,
        ssh_port: r.try_get("ssh_port")?,
        ssh_user: r.try_get("ssh_user")?,
        status: parse_enum(r.try_get("status")?)?,
        purpose: parse_enum(r.try_get("purpose")?)?,
        vpn_protocol: r.try_get("vpn_protocol")?,
        tags: r.try_get("tags")?,
        cpu_cores: r.try_get("cpu_cores")?,
        ram_mb: r.try_get("ram_mb")?,
        disk_gb: r.try_get("disk_gb")?,
        bandwidth_tb: r.try_get("bandwidth_tb")?,
        price: r.try_get("price")?,
        currency: r.try_get("currency")?,
        billing_cycle: parse_enum(r.try_get("billing_cycle")?)?,
        monthly_cost: r.try_get::<Decimal, _>("monthly_cost")?.normalize(),
        purchase_date: r.try_get("purchase_date")?,
        expire_date: r.try_get("expire_date")?,
        auto_renew: r.try_get("auto_renew")?,
        monitoring_enabled: r.try_get("monitoring_enabled")?,
        node_exporter_port: r.try_get("node_exporter_port")?,
        extra: r.try_get("extra")?,
        notes: r.try_get("notes")?,
        source: parse_enum(r.try_get("source")?)?,
        agent: None,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        retired_at: r.try_get("retired_at")?,
        deleted_at: r.try_get("deleted_at")?,
        version: r.try_get("version")?,
    })
}

/// A row of `FLEET_SELECT`, read by position in its order.
pub(crate) fn fleet(r: &PgRow) -> Result<FleetVps> {
    Ok(FleetVps {
        id: r.try_get(0)?,
        hostname: r.try_get(1)?,
        alias: r.try_get(2)?,
        provider_id: r.try_get(3)?,
        provider_name: r.try_get(4)?,
        country: r.try_get(5)?,
        city: r.try_get(6)?,
        dc_name: r.try_get(7)?,
        ip_addresses: r.try_get::<Json<Vec<IpEntry>>, _>(8)?.0,
        ssh_port: r.try_get(9)?,
        ssh_user: r.try_get(10)?,
        status: parse_enum(r.try_get(11)?)?,
        purpose: parse_enum(r.try_get(12)?)?,
        vpn_protocol: r.try_get(13)?,
        tags: r.try_get(14)?,
        expire_date: r.try_get(15)?,
        monitoring_enabled: r.try_get(16)?,
        node_exporter_port: r.try_get(17)?,
    })
}

pub(crate) fn history(r: &PgRow) -> Result<IpHistoryEntry> {
    Ok(IpHistoryEntry {
        ip: r.try_get::<&str, _>("ip")?.parse().map_err(|e| bad("address", e))?,
        vps_id: r.try_get("vps_id")?,
        hostname: r.try_get("hostname")?,
        assigned_at: r.try_get("assigned_at")?,
        released_at: r.try_get("released_at")?,
    })
}

pub(crate) async fn get_provider<'e, E: sqlx::Executor<'e, Database = Postgres>>(e: E, id: Uuid) -> Result<Provider> {
    let row = sqlx::query(&format!("{PROVIDER_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?
        .ok_or(StoreError::NotFound)?;
    provider(&row)
}

pub(crate) async fn get_vps<'e, E: sqlx::Executor<'e, Database = Postgres>>(e: E, id: Uuid) -> Result<Vps> {
    fetch_vps(e, id, "").await
}

/// Reads a VPS and locks its row until the transaction ends, so that
/// concurrent writes to one VPS take turns (and see each other's version).
pub(crate) async fn lock_vps<'e, E: sqlx::Executor<'e, Database = Postgres>>(e: E, id: Uuid) -> Result<Vps> {
    fetch_vps(e, id, " FOR NO KEY UPDATE OF v").await
}

async fn fetch_vps<'e, E: sqlx::Executor<'e, Database = Postgres>>(e: E, id: Uuid, lock: &str) -> Result<Vps> {
    let row = sqlx::query(&format!("{VPS_SELECT} WHERE v.id = $1{lock}"))
        .bind(id)
        .fetch_optional(e)
        .await?
        .ok_or(StoreError::NotFound)?;
    vps(&row)
}
