//! Reading rows into domain values.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sigma_store::{FleetVps, Result, StoreError};
use sigma_types::{IpEntry, IpHistoryEntry, Provider, Vps};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use std::str::FromStr;
use uuid::Uuid;

pub(crate) const PROVIDER_SELECT: &str = "SELECT p.*,
    (SELECT COUNT(*) FROM vps v WHERE v.provider_id = p.id AND v.status <> 'retired' AND v.deleted_at IS NULL) AS vps_count,
    (SELECT COUNT(*) FROM vps v WHERE v.provider_id = p.id AND v.status = 'active' AND v.deleted_at IS NULL) AS active_vps_count
    FROM providers p";

/// A VPS row `v` with its provider's name from `providers p`.
pub(crate) const VPS_COLUMNS: &str = "SELECT v.*, p.name AS provider_name";

pub(crate) const VPS_SELECT: &str =
    "SELECT v.*, p.name AS provider_name FROM vps v JOIN providers p ON p.id = v.provider_id";

/// The columns of a [`FleetVps`], and nothing else.
pub(crate) const FLEET_SELECT: &str = "SELECT v.id, v.hostname, v.alias, v.provider_id, p.name AS provider_name,
    v.country, v.city, v.dc_name, v.ip_addresses, v.ssh_port, v.ssh_user, v.status, v.purpose, v.vpn_protocol,
    v.tags, v.expire_date, v.monitoring_enabled, v.node_exporter_port
    FROM vps v JOIN providers p ON p.id = v.provider_id";

pub(crate) const HISTORY_SELECT: &str = "SELECT ip, vps_id, hostname, assigned_at, released_at FROM ip_history";

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::other(format!("stored {what} is unreadable: {e}"))
}

pub(crate) fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| bad("id", e))
}

pub(crate) fn time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|e| bad("timestamp", e))
}

pub(crate) fn opt_time(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(time).transpose()
}

fn opt_date(s: Option<&str>) -> Result<Option<NaiveDate>> {
    s.map(|d| NaiveDate::from_str(d).map_err(|e| bad("date", e))).transpose()
}

fn opt_decimal(s: Option<String>) -> Result<Option<Decimal>> {
    s.as_deref().map(|d| Decimal::from_str(d).map_err(|e| bad("decimal", e))).transpose()
}

pub(crate) fn parse_enum<T: FromStr<Err = String>>(s: &str) -> Result<T> {
    T::from_str(s).map_err(|e| bad("enumeration", e))
}

fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| bad("JSON", e))
}

pub(crate) fn provider(r: &SqliteRow) -> Result<Provider> {
    Ok(Provider {
        id: uuid(r.try_get("id")?)?,
        name: r.try_get("name")?,
        country: r.try_get("country")?,
        website: r.try_get("website")?,
        panel_url: r.try_get("panel_url")?,
        api_supported: r.try_get("api_supported")?,
        notes: r.try_get("notes")?,
        rating: r.try_get("rating")?,
        created_at: time(r.try_get("created_at")?)?,
        updated_at: time(r.try_get("updated_at")?)?,
        vps_count: r.try_get("vps_count")?,
        active_vps_count: r.try_get("active_vps_count")?,
        version: r.try_get("version")?,
    })
}

pub(crate) fn vps(r: &SqliteRow) -> Result<Vps> {
    Ok(Vps {
        id: uuid(r.try_get("id")?)?,
        hostname: r.try_get("hostname")?,
        alias: r.try_get("alias")?,
        provider_id: uuid(r.try_get("provider_id")?)?,
        provider_name: r.try_get("provider_name")?,
        country: r.try_get("country")?,
        city: r.try_get("city")?,
        dc_name: r.try_get("dc_name")?,
        ip_addresses: json::<Vec<IpEntry>>(r.try_get("ip_addresses")?)?,
        ssh_port: r.try_get("ssh_port")?,
        ssh_user: r.try_get("ssh_user")?,
        status: parse_enum(r.try_get("status")?)?,
        purpose: parse_enum(r.try_get("purpose")?)?,
        vpn_protocol: r.try_get("vpn_protocol")?,
        tags: json(r.try_get("tags")?)?,
        cpu_cores: r.try_get("cpu_cores")?,
        ram_mb: r.try_get("ram_mb")?,
        disk_gb: r.try_get("disk_gb")?,
        bandwidth_tb: opt_decimal(r.try_get("bandwidth_tb")?)?,
        price: opt_decimal(r.try_get("price")?)?,
        currency: r.try_get("currency")?,
        billing_cycle: parse_enum(r.try_get("billing_cycle")?)?,
        monthly_cost: Decimal::new(r.try_get("monthly_cost_e4")?, 4).normalize(),
        purchase_date: opt_date(r.try_get("purchase_date")?)?,
        expire_date: opt_date(r.try_get("expire_date")?)?,
        auto_renew: r.try_get("auto_renew")?,
        monitoring_enabled: r.try_get("monitoring_enabled")?,
        node_exporter_port: r.try_get("node_exporter_port")?,
        extra: json(r.try_get("extra")?)?,
        notes: r.try_get("notes")?,
        source: parse_enum(r.try_get("source")?)?,
        agent: None,
        created_at: time(r.try_get("created_at")?)?,
        updated_at: time(r.try_get("updated_at")?)?,
        retired_at: opt_time(r.try_get("retired_at")?)?,
        deleted_at: opt_time(r.try_get("deleted_at")?)?,
        version: r.try_get("version")?,
    })
}

/// A row of `FLEET_SELECT`, read by position in its order.
pub(crate) fn fleet(r: &SqliteRow) -> Result<FleetVps> {
    Ok(FleetVps {
        id: uuid(r.try_get(0)?)?,
        hostname: r.try_get(1)?,
        alias: r.try_get(2)?,
        provider_id: uuid(r.try_get(3)?)?,
        provider_name: r.try_get(4)?,
        country: r.try_get(5)?,
        city: r.try_get(6)?,
        dc_name: r.try_get(7)?,
        ip_addresses: json::<Vec<IpEntry>>(r.try_get(8)?)?,
        ssh_port: r.try_get(9)?,
        ssh_user: r.try_get(10)?,
        status: parse_enum(r.try_get(11)?)?,
        purpose: parse_enum(r.try_get(12)?)?,
        vpn_protocol: r.try_get(13)?,
        tags: json(r.try_get(14)?)?,
        expire_date: opt_date(r.try_get(15)?)?,
        monitoring_enabled: r.try_get(16)?,
        node_exporter_port: r.try_get(17)?,
    })
}

pub(crate) fn history(r: &SqliteRow) -> Result<IpHistoryEntry> {
    Ok(IpHistoryEntry {
        ip: r.try_get::<&str, _>("ip")?.parse().map_err(|e| bad("address", e))?,
        vps_id: uuid(r.try_get("vps_id")?)?,
        hostname: r.try_get("hostname")?,
        assigned_at: time(r.try_get("assigned_at")?)?,
        released_at: opt_time(r.try_get("released_at")?)?,
    })
}

pub(crate) async fn get_provider<'e, E: sqlx::Executor<'e, Database = Sqlite>>(e: E, id: Uuid) -> Result<Provider> {
    let row = sqlx::query(&format!("{PROVIDER_SELECT} WHERE p.id = ?"))
        .bind(id.to_string())
        .fetch_optional(e)
        .await?
        .ok_or(StoreError::NotFound)?;
    provider(&row)
}

pub(crate) async fn get_vps<'e, E: sqlx::Executor<'e, Database = Sqlite>>(e: E, id: Uuid) -> Result<Vps> {
    let row = sqlx::query(&format!("{VPS_SELECT} WHERE v.id = ?"))
        .bind(id.to_string())
        .fetch_optional(e)
        .await?
        .ok_or(StoreError::NotFound)?;
    vps(&row)
}
