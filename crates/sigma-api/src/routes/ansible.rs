//! Ansible dynamic inventory.

use crate::auth::Reader;
use crate::error::{ApiError, ApiResult};
use crate::extract::AppQuery;
use crate::fleet_cache;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value, json};
use sigma_types::{Inventory, InventoryGroup, InventoryQuery, IpLabel, Vps, VpsFilterQuery, VpsStatus};
use std::collections::{BTreeMap, BTreeSet};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inventory))
}

/// The fleet as an Ansible dynamic inventory: `_meta.hostvars` per host,
/// the group `all` with every other group as a child, and the groups
/// `status_*`, `purpose_*`, `country_*`, `provider_*` and `tag_*`. Retired
/// VPS are left out unless `status=retired` asks for them.
#[utoipa::path(get, path = "/api/ansible/inventory", tag = "integrations", params(VpsFilterQuery, InventoryQuery),
    responses((status = 200, description = "The inventory", body = Inventory,
        example = json!({"_meta": {"hostvars": {"tokyo-1": {"ansible_host": "103.1.2.3", "ansible_port": 22,
            "sigma_country": "JP"}}}, "all": {"children": ["country_jp", "status_active"]},
            "country_jp": {"hosts": ["tokyo-1"]}, "status_active": {"hosts": ["tokyo-1"]}}))))]
async fn inventory(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(filter): AppQuery<VpsFilterQuery>,
    AppQuery(query): AppQuery<InventoryQuery>,
) -> ApiResult<Response> {
    let mut filter = filter.validate(Utc::now().date_naive()).map_err(ApiError::validation)?;
    if filter.statuses.is_empty() {
        filter.statuses = VpsStatus::ALL.iter().copied().filter(|s| *s != VpsStatus::Retired).collect();
    }
    let key = format!("inventory {filter:?} {:?}", query.label);
    fleet_cache::json(&state, key, || async { Ok(build(&state.store.all_vps(&filter).await?, query.label)) }).await
}

/// A group name valid for Ansible: `prefix_` and the value lower-cased,
/// each run of characters other than `[a-z0-9]` turned into one `_`.
pub fn group_name(prefix: &str, value: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + value.len() + 1);
    let mut gap = false;
    for c in value.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    if out.is_empty() {
        out = fallback.to_owned();
    }
    format!("{prefix}_{out}")
}

/// The address Ansible connects to: the first with `label`, else the first
/// not labelled `internal`.
fn ansible_host(v: &Vps, label: Option<IpLabel>) -> Option<String> {
    let entry = match label {
        Some(l) => v.ip_addresses.iter().find(|e| e.label == Some(l)),
        None => v.ip_addresses.iter().find(|e| e.label != Some(IpLabel::Internal)),
    }?;
    Some(entry.ip.to_string())
}

fn vars_of(v: &Vps, label: Option<IpLabel>) -> Map<String, Value> {
    let mut vars = Map::new();
    let mut put = |name: &str, value: Value| {
        let empty = value.is_null() || value.as_str().is_some_and(str::is_empty);
        if !empty {
            vars.insert(name.to_owned(), value);
        }
    };
    put("ansible_host", json!(ansible_host(v, label)));
    put("ansible_port", json!(v.ssh_port));
    put("ansible_user", json!(v.ssh_user));
    put("sigma_id", json!(v.id));
    put("sigma_hostname", json!(v.hostname));
    put("sigma_alias", json!(v.alias));
    put("sigma_provider", json!(v.provider_name));
    put("sigma_provider_id", json!(v.provider_id));
    put("sigma_country", json!(v.country));
    put("sigma_city", json!(v.city));
    put("sigma_dc", json!(v.dc_name));
    put("sigma_status", json!(v.status));
    put("sigma_purpose", json!(v.purpose));
    put("sigma_vpn_protocol", json!(v.vpn_protocol));
    put("sigma_tags", json!(v.tags));
    put("sigma_ip_addresses", json!(v.ip_addresses));
    put("sigma_expire_date", json!(v.expire_date));
    put("sigma_monitoring_enabled", json!(v.monitoring_enabled));
    put("sigma_node_exporter_port", json!(v.node_exporter_port));
    vars
}

/// The inventory of `fleet`. A host name held by two VPS (possible only
/// among retired ones) names the later one `<hostname>_<first 8 of its id>`.
pub fn build(fleet: &[Vps], label: Option<IpLabel>) -> Inventory {
    let mut hostvars = BTreeMap::new();
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for v in fleet {
        let mut name = v.hostname.clone();
        if hostvars.contains_key(&name) {
            name = format!("{}_{}", v.hostname, &v.id.simple().to_string()[..8]);
        }
        let mut member = |group: String| {
            groups.entry(group).or_default().insert(name.clone());
        };
        member(group_name("status", v.status.as_str(), "unknown"));
        member(group_name("purpose", v.purpose.as_str(), "unknown"));
        member(group_name("country", &v.country, "unknown"));
        member(group_name("provider", &v.provider_name, &v.provider_id.simple().to_string()[..8]));
        for t in &v.tags {
            member(group_name("tag", t, "unknown"));
        }
        hostvars.insert(name, vars_of(v, label));
    }
    let mut out = Inventory::default();
    out.meta.hostvars = hostvars;
    let children: Vec<String> = groups.keys().cloned().collect();
    for (name, hosts) in groups {
        out.groups.insert(name, InventoryGroup { hosts: hosts.into_iter().collect(), children: Vec::new() });
    }
    out.groups.insert("all".into(), InventoryGroup { hosts: Vec::new(), children });
    out
}

#[cfg(test)]
mod tests {
    use super::group_name;

    #[test]
    fn group_names_are_valid() {
        assert_eq!(group_name("purpose", "vpn-exit", "x"), "purpose_vpn_exit");
        assert_eq!(group_name("provider", "RackNerd (LA) ", "x"), "provider_racknerd_la");
        assert_eq!(group_name("provider", "数据", "0192abcd"), "provider_0192abcd");
        assert_eq!(group_name("tag", "cn-optimized.v2", "x"), "tag_cn_optimized_v2");
        assert_eq!(group_name("country", "JP", "x"), "country_jp");
    }
}
