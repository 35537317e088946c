use crate::{BillingCycle, FieldErrors, IpLabel, Patch, Purpose, Source, VpsStatus, validate};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One address of a VPS with the network it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IpEntry {
    #[schema(value_type = String, example = "103.1.2.3")]
    pub ip: IpAddr,
    pub label: Option<IpLabel>,
}

/// An address as given in a request; checked by `validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IpEntryInput {
    #[schema(example = "103.1.2.3")]
    pub ip: String,
    #[serde(default)]
    pub label: Option<IpLabel>,
}

/// Whether a VPS's agent is reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Pending,
    Online,
    Offline,
}

/// The agent running on a VPS, as last heard from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VpsAgent {
    pub agent_id: Uuid,
    pub status: AgentStatus,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// The latest metrics the agent sent.
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<serde_json::Value>,
}

/// A VPS as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Vps {
    pub id: Uuid,
    pub hostname: String,
    pub alias: Option<String>,
    pub provider_id: Uuid,
    pub provider_name: String,
    pub country: String,
    pub city: Option<String>,
    pub dc_name: Option<String>,
    pub ip_addresses: Vec<IpEntry>,
    pub ssh_port: i32,
    pub ssh_user: Option<String>,
    pub status: VpsStatus,
    pub purpose: Purpose,
    pub vpn_protocol: Option<String>,
    pub tags: Vec<String>,
    pub cpu_cores: Option<i32>,
    pub ram_mb: Option<i32>,
    pub disk_gb: Option<i32>,
    #[schema(value_type = Option<String>, example = "1.5")]
    pub bandwidth_tb: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "4.99")]
    pub price: Option<Decimal>,
    pub currency: String,
    pub billing_cycle: BillingCycle,
    /// `price` spread over the months of `billing_cycle`.
    #[schema(value_type = String, example = "4.99")]
    pub monthly_cost: Decimal,
    pub purchase_date: Option<NaiveDate>,
    pub expire_date: Option<NaiveDate>,
    pub auto_renew: bool,
    pub monitoring_enabled: bool,
    pub node_exporter_port: i32,
    #[schema(value_type = Object)]
    pub extra: serde_json::Value,
    pub notes: Option<String>,
    pub source: Source,
    pub agent: Option<VpsAgent>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version, sent as the `ETag`.
    #[serde(skip)]
    pub version: i64,
}

impl Vps {
    /// Neither retired nor in the trash.
    pub fn is_live(&self) -> bool {
        self.status != VpsStatus::Retired && self.deleted_at.is_none()
    }
}

/// Body of `POST /api/vps`. `hostname`, `provider_id`, `country` and
/// `purpose` are required; the rest have defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct VpsCreate {
    #[schema(example = "tokyo-1")]
    pub hostname: Option<String>,
    pub alias: Option<String>,
    pub provider_id: Option<Uuid>,
    #[schema(example = "JP")]
    pub country: Option<String>,
    pub city: Option<String>,
    pub dc_name: Option<String>,
    pub ip_addresses: Option<Vec<IpEntryInput>>,
    /// Default 22.
    pub ssh_port: Option<i32>,
    pub ssh_user: Option<String>,
    /// Default `provisioning`.
    pub status: Option<VpsStatus>,
    pub purpose: Option<Purpose>,
    pub vpn_protocol: Option<String>,
    pub tags: Option<Vec<String>>,
    pub cpu_cores: Option<i32>,
    pub ram_mb: Option<i32>,
    pub disk_gb: Option<i32>,
    #[schema(value_type = Option<String>, example = "1.5")]
    pub bandwidth_tb: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "4.99")]
    pub price: Option<Decimal>,
    /// Default `USD`.
    pub currency: Option<String>,
    /// Default `monthly`.
    pub billing_cycle: Option<BillingCycle>,
    pub purchase_date: Option<NaiveDate>,
    pub expire_date: Option<NaiveDate>,
    /// Default false.
    pub auto_renew: Option<bool>,
    /// Default true.
    pub monitoring_enabled: Option<bool>,
    /// Default 9100.
    pub node_exporter_port: Option<i32>,
    /// Any JSON object; default `{}`.
    #[schema(value_type = Option<Object>)]
    pub extra: Option<serde_json::Value>,
    pub notes: Option<String>,
}

/// Body of `PATCH|PUT /api/vps/{id}`: only the fields present change;
/// `null` clears a field (or restores its default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct VpsPatch {
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub hostname: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub alias: Patch<String>,
    #[schema(value_type = Option<Uuid>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub provider_id: Patch<Uuid>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub country: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub city: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub dc_name: Patch<String>,
    #[schema(value_type = Option<Vec<IpEntryInput>>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub ip_addresses: Patch<Vec<IpEntryInput>>,
    #[schema(value_type = Option<i32>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub ssh_port: Patch<i32>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub ssh_user: Patch<String>,
    #[schema(value_type = Option<VpsStatus>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub status: Patch<VpsStatus>,
    #[schema(value_type = Option<Purpose>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub purpose: Patch<Purpose>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub vpn_protocol: Patch<String>,
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub tags: Patch<Vec<String>>,
    #[schema(value_type = Option<i32>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub cpu_cores: Patch<i32>,
    #[schema(value_type = Option<i32>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub ram_mb: Patch<i32>,
    #[schema(value_type = Option<i32>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub disk_gb: Patch<i32>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub bandwidth_tb: Patch<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub price: Patch<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub currency: Patch<String>,
    #[schema(value_type = Option<BillingCycle>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub billing_cycle: Patch<BillingCycle>,
    #[schema(value_type = Option<NaiveDate>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub purchase_date: Patch<NaiveDate>,
    #[schema(value_type = Option<NaiveDate>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub expire_date: Patch<NaiveDate>,
    #[schema(value_type = Option<bool>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub auto_renew: Patch<bool>,
    #[schema(value_type = Option<bool>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub monitoring_enabled: Patch<bool>,
    #[schema(value_type = Option<i32>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub node_exporter_port: Patch<i32>,
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub extra: Patch<serde_json::Value>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub notes: Patch<String>,
}

/// A VPS that passed validation, in normal form, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct VpsDraft {
    pub hostname: String,
    pub alias: Option<String>,
    pub provider_id: Uuid,
    pub country: String,
    pub city: Option<String>,
    pub dc_name: Option<String>,
    pub ip_addresses: Vec<IpEntry>,
    pub ssh_port: i32,
    pub ssh_user: Option<String>,
    pub status: VpsStatus,
    pub purpose: Purpose,
    pub vpn_protocol: Option<String>,
    pub tags: Vec<String>,
    pub cpu_cores: Option<i32>,
    pub ram_mb: Option<i32>,
    pub disk_gb: Option<i32>,
    pub bandwidth_tb: Option<Decimal>,
    pub price: Option<Decimal>,
    pub currency: String,
    pub billing_cycle: BillingCycle,
    pub purchase_date: Option<NaiveDate>,
    pub expire_date: Option<NaiveDate>,
    pub auto_renew: bool,
    pub monitoring_enabled: bool,
    pub node_exporter_port: i32,
    pub extra: serde_json::Value,
    pub notes: Option<String>,
}

impl VpsDraft {
    pub fn monthly_cost(&self) -> Decimal {
        self.billing_cycle.monthly_cost(self.price)
    }

    /// Neither retired nor in the trash (a draft is never in the trash).
    pub fn is_live(&self) -> bool {
        self.status != VpsStatus::Retired
    }
}

fn required<T>(e: &mut FieldErrors, field: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        e.add(field, "is required");
    }
    value
}

fn small_text(e: &mut FieldErrors, field: &str, value: Option<String>) -> Option<String> {
    e.check(field, validate::text(value, 255)).flatten()
}

fn decimal(e: &mut FieldErrors, field: &str, value: Option<Decimal>) -> Option<Decimal> {
    match value {
        Some(v) if v.is_sign_negative() && !v.is_zero() => {
            e.add(field, "must not be negative");
            None
        }
        Some(v) if v > Decimal::from(1_000_000_000u32) => {
            e.add(field, "is too large");
            None
        }
        v => v.map(|d| d.normalize()),
    }
}

impl VpsCreate {
    /// Checks every field, reporting all problems at once.
    pub fn validate(self) -> Result<VpsDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let hostname =
            required(&mut e, "hostname", self.hostname).and_then(|h| e.check("hostname", validate::hostname(&h)));
        let provider_id = required(&mut e, "provider_id", self.provider_id);
        let country = required(&mut e, "country", self.country).and_then(|c| e.check("country", validate::country(&c)));
        let purpose = required(&mut e, "purpose", self.purpose);

        let mut ip_addresses: Vec<IpEntry> = Vec::new();
        let ips = self.ip_addresses.unwrap_or_default();
        if ips.len() > 64 {
            e.add("ip_addresses", "at most 64 addresses");
        }
        for (i, entry) in ips.into_iter().enumerate() {
            if let Some(ip) = e.check(&format!("ip_addresses[{i}].ip"), validate::ip(&entry.ip)) {
                if ip_addresses.iter().any(|x| x.ip == ip) {
                    e.add(format!("ip_addresses[{i}].ip"), format!("{ip} is listed twice"));
                } else {
                    ip_addresses.push(IpEntry { ip, label: entry.label });
                }
            }
        }

        let tags = e.check("tags", validate::tags(&self.tags.unwrap_or_default())).unwrap_or_default();
        let currency =
            e.check("currency", validate::currency(self.currency.as_deref().unwrap_or("USD"))).unwrap_or_default();
        let ssh_port = e.check("ssh_port", validate::port(self.ssh_port.unwrap_or(22)));
        let node_exporter_port = e.check("node_exporter_port", validate::port(self.node_exporter_port.unwrap_or(9100)));
        let cpu_cores = e.check("cpu_cores", validate::non_negative(self.cpu_cores.map(i64::from))).flatten();
        let ram_mb = e.check("ram_mb", validate::non_negative(self.ram_mb.map(i64::from))).flatten();
        let disk_gb = e.check("disk_gb", validate::non_negative(self.disk_gb.map(i64::from))).flatten();
        let bandwidth_tb = decimal(&mut e, "bandwidth_tb", self.bandwidth_tb);
        let price = decimal(&mut e, "price", self.price);
        let extra = match self.extra {
            None | Some(serde_json::Value::Null) => serde_json::json!({}),
            Some(v) => e.check("extra", validate::json_object(v)).unwrap_or_default(),
        };
        if let (Some(p), Some(x)) = (self.purchase_date, self.expire_date)
            && x < p
        {
            e.add("expire_date", "must not be before purchase_date");
        }
        let alias = small_text(&mut e, "alias", self.alias);
        let city = small_text(&mut e, "city", self.city);
        let dc_name = small_text(&mut e, "dc_name", self.dc_name);
        let ssh_user = small_text(&mut e, "ssh_user", self.ssh_user);
        let vpn_protocol = small_text(&mut e, "vpn_protocol", self.vpn_protocol);
        let notes = e.check("notes", validate::text(self.notes, 10_000)).flatten();
        e.into_result()?;

        // Every `None` below was reported as an error above.
        let (Some(hostname), Some(provider_id), Some(country), Some(purpose), Some(ssh_port), Some(node_exporter_port)) =
            (hostname, provider_id, country, purpose, ssh_port, node_exporter_port)
        else {
            unreachable!("validation errors are returned above")
        };
        Ok(VpsDraft {
            hostname,
            alias,
            provider_id,
            country,
            city,
            dc_name,
            ip_addresses,
            ssh_port: i32::from(ssh_port),
            ssh_user,
            status: self.status.unwrap_or_default(),
            purpose,
            vpn_protocol,
            tags,
            cpu_cores: cpu_cores.map(|v| v as i32),
            ram_mb: ram_mb.map(|v| v as i32),
            disk_gb: disk_gb.map(|v| v as i32),
            bandwidth_tb,
            price,
            currency,
            billing_cycle: self.billing_cycle.unwrap_or_default(),
            purchase_date: self.purchase_date,
            expire_date: self.expire_date,
            auto_renew: self.auto_renew.unwrap_or(false),
            monitoring_enabled: self.monitoring_enabled.unwrap_or(true),
            node_exporter_port: i32::from(node_exporter_port),
            extra,
            notes,
        })
    }
}

impl From<&Vps> for VpsCreate {
    fn from(v: &Vps) -> Self {
        VpsCreate {
            hostname: Some(v.hostname.clone()),
            alias: v.alias.clone(),
            provider_id: Some(v.provider_id),
            country: Some(v.country.clone()),
            city: v.city.clone(),
            dc_name: v.dc_name.clone(),
            ip_addresses: Some(
                v.ip_addresses.iter().map(|e| IpEntryInput { ip: e.ip.to_string(), label: e.label }).collect(),
            ),
            ssh_port: Some(v.ssh_port),
            ssh_user: v.ssh_user.clone(),
            status: Some(v.status),
            purpose: Some(v.purpose),
            vpn_protocol: v.vpn_protocol.clone(),
            tags: Some(v.tags.clone()),
            cpu_cores: v.cpu_cores,
            ram_mb: v.ram_mb,
            disk_gb: v.disk_gb,
            bandwidth_tb: v.bandwidth_tb,
            price: v.price,
            currency: Some(v.currency.clone()),
            billing_cycle: Some(v.billing_cycle),
            purchase_date: v.purchase_date,
            expire_date: v.expire_date,
            auto_renew: Some(v.auto_renew),
            monitoring_enabled: Some(v.monitoring_enabled),
            node_exporter_port: Some(v.node_exporter_port),
            extra: Some(v.extra.clone()),
            notes: v.notes.clone(),
        }
    }
}

impl VpsPatch {
    /// The VPS as it will be once this patch is applied to `base`.
    pub fn apply(self, mut base: VpsCreate) -> VpsCreate {
        crate::patch::apply!(self, base;
            hostname, alias, provider_id, country, city, dc_name, ip_addresses, ssh_port,
            ssh_user, status, purpose, vpn_protocol, tags, cpu_cores, ram_mb, disk_gb,
            bandwidth_tb, price, currency, billing_cycle, purchase_date, expire_date,
            auto_renew, monitoring_enabled, node_exporter_port, extra, notes);
        base
    }
}

/// One period during which a VPS held an address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IpHistoryEntry {
    #[schema(value_type = String)]
    pub ip: IpAddr,
    pub vps_id: Uuid,
    /// The VPS's host name when it held the address.
    pub hostname: String,
    pub assigned_at: DateTime<Utc>,
    /// When the VPS stopped holding it; `null` while it still does.
    pub released_at: Option<DateTime<Utc>>,
}

/// Query of `GET /api/ip-history`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IpHistoryQuery {
    /// The address to look up.
    #[param(required = true, min_length = 2)]
    pub ip: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> serde_json::Value {
        json!({"hostname": "Tokyo-1", "provider_id": Uuid::nil(), "country": "jp", "purpose": "vpn-exit"})
    }

    #[test]
    fn defaults_and_normal_form() {
        let v: VpsCreate = serde_json::from_value(minimal()).unwrap();
        let d = v.validate().unwrap();
        assert_eq!(d.hostname, "tokyo-1");
        assert_eq!(d.country, "JP");
        assert_eq!((d.ssh_port, d.node_exporter_port), (22, 9100));
        assert_eq!(d.status, VpsStatus::Provisioning);
        assert_eq!(d.currency, "USD");
        assert!(d.monitoring_enabled && !d.auto_renew);
        assert_eq!(d.extra, json!({}));
    }

    #[test]
    fn every_error_is_reported() {
        let v: VpsCreate = serde_json::from_value(json!({
            "hostname": "bad_host", "country": "XX",
            "ip_addresses": [{"ip": "1.2.3.4"}, {"ip": "1.2.3.4"}, {"ip": "nope"}],
            "tags": ["Bad Tag"], "ssh_port": 0, "price": "-1", "currency": "ZZZ", "extra": [1]
        }))
        .unwrap();
        let e = v.validate().unwrap_err().0;
        for field in [
            "hostname",
            "country",
            "provider_id",
            "purpose",
            "ip_addresses[1].ip",
            "ip_addresses[2].ip",
            "tags",
            "ssh_port",
            "price",
            "currency",
            "extra",
        ] {
            assert!(e.contains_key(field), "{field} missing from {e:?}");
        }
    }

    #[test]
    fn a_patch_sends_only_what_it_changes() {
        let patch = VpsPatch { alias: Patch::Null, city: Patch::Value("Osaka".into()), ..Default::default() };
        assert_eq!(serde_json::to_value(&patch).unwrap(), json!({"alias": null, "city": "Osaka"}));
        assert_eq!(serde_json::to_value(VpsPatch::default()).unwrap(), json!({}));
    }

    #[test]
    fn patch_keeps_clears_and_sets() {
        let base: VpsCreate = serde_json::from_value(json!({
            "hostname": "a", "provider_id": Uuid::nil(), "country": "JP", "purpose": "monitor",
            "alias": "A", "city": "Tokyo"
        }))
        .unwrap();
        let patch: VpsPatch = serde_json::from_value(json!({"alias": null, "city": "Osaka"})).unwrap();
        let merged = patch.apply(base).validate().unwrap();
        assert_eq!(merged.alias, None);
        assert_eq!(merged.city.as_deref(), Some("Osaka"));
        assert_eq!(merged.hostname, "a");
        let patch: VpsPatch = serde_json::from_value(json!({"hostname": null})).unwrap();
        assert!(patch.apply(VpsCreate::default()).validate().unwrap_err().0.contains_key("hostname"));
    }
}
