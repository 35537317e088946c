//! Ansible dynamic inventory.

use crate::auth::Reader;
use crate::error::{ApiError, ApiResult};
use crate::extract::AppQuery;
use crate::fleet_cache;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use serde::ser::{Serialize, SerializeMap, Serializer};
use sigma_store::FleetVps;
use sigma_types::{Inventory, InventoryQuery, IpEntry, IpLabel, VpsFilterQuery, VpsStatus};
use std::borrow::Cow;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

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
    fleet_cache::json_bytes(&state, key, || async {
        let fleet = state.store.fleet(&filter).await?;
        serde_json::to_vec(&build(&fleet, query.label)).map_err(ApiError::internal)
    })
    .await
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
fn ansible_host(v: &FleetVps, label: Option<IpLabel>) -> Option<&IpEntry> {
    match label {
        Some(l) => v.ip_addresses.iter().find(|e| e.label == Some(l)),
        None => v.ip_addresses.iter().find(|e| e.label != Some(IpLabel::Internal)),
    }
}

/// The variables of one host, written straight from the VPS: the keys in
/// sorted order (as a JSON object map keeps them), left out when null or
/// an empty string.
struct HostVars<'a> {
    v: &'a FleetVps,
    label: Option<IpLabel>,
}

impl Serialize for HostVars<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn text<M: SerializeMap>(map: &mut M, key: &str, value: Option<&str>) -> Result<(), M::Error> {
            match value {
                Some(value) if !value.is_empty() => map.serialize_entry(key, value),
                _ => Ok(()),
            }
        }
        let v = self.v;
        let mut map = serializer.serialize_map(None)?;
        if let Some(entry) = ansible_host(v, self.label) {
            map.serialize_entry("ansible_host", &entry.ip)?;
        }
        map.serialize_entry("ansible_port", &v.ssh_port)?;
        text(&mut map, "ansible_user", v.ssh_user.as_deref())?;
        text(&mut map, "sigma_alias", v.alias.as_deref())?;
        text(&mut map, "sigma_city", v.city.as_deref())?;
        text(&mut map, "sigma_country", Some(&v.country))?;
        text(&mut map, "sigma_dc", v.dc_name.as_deref())?;
        if let Some(d) = &v.expire_date {
            map.serialize_entry("sigma_expire_date", d)?;
        }
        text(&mut map, "sigma_hostname", Some(&v.hostname))?;
        map.serialize_entry("sigma_id", &v.id)?;
        map.serialize_entry("sigma_ip_addresses", &v.ip_addresses)?;
        map.serialize_entry("sigma_monitoring_enabled", &v.monitoring_enabled)?;
        map.serialize_entry("sigma_node_exporter_port", &v.node_exporter_port)?;
        text(&mut map, "sigma_provider", Some(&v.provider_name))?;
        map.serialize_entry("sigma_provider_id", &v.provider_id)?;
        map.serialize_entry("sigma_purpose", &v.purpose)?;
        map.serialize_entry("sigma_status", &v.status)?;
        map.serialize_entry("sigma_tags", &v.tags)?;
        text(&mut map, "sigma_vpn_protocol", v.vpn_protocol.as_deref())?;
        map.end()
    }
}

/// The inventory of a fleet, serialised as [`Inventory`] would be (the type
/// the API documents) without building maps of JSON values first.
pub struct InventoryDoc<'a> {
    fleet: &'a [FleetVps],
    label: Option<IpLabel>,
    /// The inventory name of each VPS of `fleet`.
    names: Vec<Cow<'a, str>>,
    /// Indexes into `fleet` by name; of VPS with the same name, the last.
    hosts: Vec<usize>,
    /// Group names, sorted, each with its members (indexes into `fleet`)
    /// sorted by name.
    groups: Vec<(String, Vec<usize>)>,
}

/// Groups are named once per distinct value (or provider), not once per VPS.
#[derive(Default)]
struct Groups<'a> {
    by_value: HashMap<(&'static str, &'a str), usize>,
    by_provider: HashMap<Uuid, usize>,
    by_name: HashMap<String, usize>,
    list: Vec<(String, Vec<usize>)>,
}

impl<'a> Groups<'a> {
    fn named(&mut self, name: String) -> usize {
        let list = &mut self.list;
        *self.by_name.entry(name).or_insert_with_key(|name| {
            list.push((name.clone(), Vec::new()));
            list.len() - 1
        })
    }

    fn join(&mut self, prefix: &'static str, value: &'a str, member: usize) {
        let g = match self.by_value.get(&(prefix, value)) {
            Some(g) => *g,
            None => {
                let g = self.named(group_name(prefix, value, "unknown"));
                self.by_value.insert((prefix, value), g);
                g
            }
        };
        self.list[g].1.push(member);
    }

    fn join_provider(&mut self, v: &FleetVps, member: usize) {
        let g = match self.by_provider.get(&v.provider_id) {
            Some(g) => *g,
            None => {
                let g = self.named(group_name("provider", &v.provider_name, &v.provider_id.simple().to_string()[..8]));
                self.by_provider.insert(v.provider_id, g);
                g
            }
        };
        self.list[g].1.push(member);
    }
}

/// The inventory of `fleet` (ordered by host name, as the store gives it).
/// A host name held by two VPS (possible only among retired ones) names
/// the later one `<hostname>_<first 8 of its id>`.
pub fn build(fleet: &[FleetVps], label: Option<IpLabel>) -> InventoryDoc<'_> {
    let mut names: Vec<Cow<'_, str>> = Vec::with_capacity(fleet.len());
    let mut groups = Groups::default();
    for (i, v) in fleet.iter().enumerate() {
        // Host names have no `_`, so only an earlier VPS of the same host
        // name (the one just before) can hold this one's name.
        let taken = i > 0 && fleet[i - 1].hostname == v.hostname;
        names.push(if taken {
            Cow::Owned(format!("{}_{}", v.hostname, &v.id.simple().to_string()[..8]))
        } else {
            Cow::Borrowed(v.hostname.as_str())
        });
        groups.join("status", v.status.as_str(), i);
        groups.join("purpose", v.purpose.as_str(), i);
        groups.join("country", &v.country, i);
        groups.join_provider(v, i);
        for t in &v.tags {
            groups.join("tag", t, i);
        }
    }
    let by_name = |a: &usize, b: &usize| names[*a].cmp(&names[*b]);
    let mut hosts: Vec<usize> = (0..fleet.len()).collect();
    hosts.sort_by(by_name);
    // Of equal names the last stays, as a map keeps the last value put.
    let mut kept: Vec<usize> = Vec::with_capacity(hosts.len());
    for i in hosts {
        match kept.last_mut() {
            Some(last) if names[*last] == names[i] => *last = i,
            _ => kept.push(i),
        }
    }
    let mut groups = groups.list;
    for (_, members) in &mut groups {
        members.sort_by(by_name);
        members.dedup_by(|a, b| names[*a] == names[*b]);
    }
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    InventoryDoc { fleet, label, names, hosts: kept, groups }
}

impl Serialize for InventoryDoc<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct HostMap<'d>(&'d InventoryDoc<'d>);
        impl Serialize for HostMap<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let doc = self.0;
                let mut map = serializer.serialize_map(Some(doc.hosts.len()))?;
                for &i in &doc.hosts {
                    map.serialize_entry(&*doc.names[i], &HostVars { v: &doc.fleet[i], label: doc.label })?;
                }
                map.end()
            }
        }
        struct Meta<'d>(&'d InventoryDoc<'d>);
        impl Serialize for Meta<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("hostvars", &HostMap(self.0))?;
                map.end()
            }
        }
        /// `{"hosts": [...]}` or, for `all`, `{"children": [...]}`; empty lists left out.
        struct Group<'d>(&'static str, Vec<&'d str>);
        impl Serialize for Group<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(None)?;
                if !self.1.is_empty() {
                    map.serialize_entry(self.0, &self.1)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("_meta", &Meta(self))?;
        // Every other group name has a prefix (`country_`, `provider_`, ...)
        // that sorts after `all`.
        let children = self.groups.iter().map(|(name, _)| name.as_str()).collect();
        map.serialize_entry("all", &Group("children", children))?;
        for (name, members) in &self.groups {
            let hosts = members.iter().map(|i| &*self.names[*i]).collect();
            map.serialize_entry(name, &Group("hosts", hosts))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::{build, group_name};
    use sigma_store::FleetVps;
    use sigma_types::{Inventory, IpEntry, IpLabel, Purpose, VpsStatus};
    use uuid::Uuid;

    fn vps(hostname: &str, provider: &str, tags: &[&str]) -> FleetVps {
        FleetVps {
            id: Uuid::now_v7(),
            hostname: hostname.into(),
            alias: Some(String::new()),
            provider_id: Uuid::now_v7(),
            provider_name: provider.into(),
            country: "JP".into(),
            city: Some("Tokyo".into()),
            dc_name: None,
            ip_addresses: vec![
                IpEntry { ip: "10.0.0.1".parse().unwrap(), label: Some(IpLabel::Internal) },
                IpEntry { ip: "2001:db8::1".parse().unwrap(), label: None },
            ],
            ssh_port: 22,
            ssh_user: None,
            status: VpsStatus::Retired,
            purpose: Purpose::VpnExit,
            vpn_protocol: Some("vless".into()),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            expire_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 31),
            monitoring_enabled: true,
            node_exporter_port: 9100,
        }
    }

    /// The document reads back as the documented `Inventory`, and writing
    /// that again gives the same bytes: same keys, same order.
    #[test]
    fn serialises_as_the_inventory_type() {
        let mut fleet = vec![
            vps("a-1", "数据", &["cn-optimized", "cn_optimized"]),
            vps("old", "DMIT", &[]),
            vps("old", "DMIT", &["x"]),
            vps("z", "DMIT", &[]),
        ];
        fleet[2].id = Uuid::parse_str("0192abcd-0000-7000-8000-000000000000").unwrap();
        let bytes = serde_json::to_vec(&build(&fleet, None)).unwrap();
        let parsed: Inventory = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(String::from_utf8(serde_json::to_vec(&parsed).unwrap()).unwrap(), String::from_utf8(bytes).unwrap());
        let names: Vec<&str> = parsed.meta.hostvars.keys().map(String::as_str).collect();
        assert_eq!(names, ["a-1", "old", "old_0192abcd", "z"]);
        assert_eq!(parsed.groups["tag_cn_optimized"].hosts, ["a-1"]);
        assert_eq!(parsed.groups["tag_x"].hosts, ["old_0192abcd"]);
        assert_eq!(parsed.groups["status_retired"].hosts, names);
        assert_eq!(parsed.groups["provider_dmit"].hosts, ["old", "old_0192abcd", "z"]);
        let a = &parsed.meta.hostvars["a-1"];
        assert_eq!(a["ansible_host"], "2001:db8::1");
        assert!(a.get("sigma_alias").is_none() && a.get("ansible_user").is_none() && a.get("sigma_dc").is_none());
        let provider = format!("provider_{}", &fleet[0].provider_id.simple().to_string()[..8]);
        assert_eq!(parsed.groups[&provider].hosts, ["a-1"]);
        let empty = serde_json::to_value(build(&[], None)).unwrap();
        assert_eq!(empty, serde_json::json!({"_meta": {"hostvars": {}}, "all": {}}));
    }

    #[test]
    fn group_names_are_valid() {
        assert_eq!(group_name("purpose", "vpn-exit", "x"), "purpose_vpn_exit");
        assert_eq!(group_name("provider", "RackNerd (LA) ", "x"), "provider_racknerd_la");
        assert_eq!(group_name("provider", "数据", "0192abcd"), "provider_0192abcd");
        assert_eq!(group_name("tag", "cn-optimized.v2", "x"), "tag_cn_optimized_v2");
        assert_eq!(group_name("country", "JP", "x"), "country_jp");
    }
}
