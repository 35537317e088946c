//! Prometheus service discovery: the monitored fleet in the `file_sd` /
//! `http_sd` format.

use crate::auth::Reader;
use crate::error::{ApiError, ApiResult};
use crate::extract::AppQuery;
use crate::fleet_cache;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sigma_store::FleetVps;
use sigma_types::{Agent, IpLabel, TargetGroup, TargetJob, TargetsQuery, VpsFilterQuery, VpsStatus};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(targets))
}

/// Scrape targets for Prometheus `http_sd_configs` (or, written to a file,
/// `file_sd_configs`): one entry per VPS in `provisioning`, `active` or
/// `retiring` with monitoring enabled, at `node_exporter_port` of its first
/// address (or the first address with `label`). The VPS filters narrow the
/// list further, so that each regional Prometheus asks for its own region.
/// VPS without a suitable address are left out. With `job=agent`, the same
/// VPS list the agents' own `/metrics` instead (those whose agent serves it
/// beyond loopback).
#[utoipa::path(get, path = "/api/prometheus/targets", tag = "integrations", params(VpsFilterQuery, TargetsQuery),
    responses((status = 200, description = "Target groups, one per VPS", body = Vec<TargetGroup>)))]
async fn targets(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(filter): AppQuery<VpsFilterQuery>,
    AppQuery(query): AppQuery<TargetsQuery>,
) -> ApiResult<Response> {
    let mut filter = filter.validate(Utc::now().date_naive()).map_err(ApiError::validation)?;
    // Filters narrow the monitored set; they never widen it.
    filter.statuses = if filter.statuses.is_empty() {
        VpsStatus::MONITORED.to_vec()
    } else {
        filter.statuses.iter().copied().filter(|s| VpsStatus::MONITORED.contains(s)).collect()
    };
    if filter.statuses.is_empty() || filter.monitoring_enabled == Some(false) {
        return Ok(Json(Vec::<TargetGroup>::new()).into_response());
    }
    filter.monitoring_enabled = Some(true);
    if query.job.unwrap_or_default() == TargetJob::Agent {
        // Agents' ports change with their heartbeats, not with the fleet's
        // version: this list is made afresh each time.
        let fleet = state.store.fleet(&filter).await?;
        let agents = state.store.linked_agents().await?;
        return Ok(Json(agent_targets(&fleet, &agents, query.label)).into_response());
    }
    let key = format!("targets {filter:?} {:?}", query.label);
    fleet_cache::json(&state, key, || async {
        let fleet = state.store.fleet(&filter).await?;
        Ok(fleet.iter().filter_map(|v| target_group(v, query.label)).collect::<Vec<_>>())
    })
    .await
}

/// The agents' own `/metrics`: one entry per VPS of `fleet` whose agent
/// reported a `metrics_port` (an agent serving only on loopback reports
/// none), at the same address node_exporter would be scraped at, with the
/// VPS labels and `agent_id`.
fn agent_targets(fleet: &[FleetVps], agents: &[Agent], label: Option<IpLabel>) -> Vec<TargetGroup> {
    let ports: HashMap<Uuid, (Uuid, u16)> = agents
        .iter()
        .filter_map(|a| {
            let port = a.metrics.as_ref()?.get("metrics_port")?.as_u64()?;
            Some((a.vps_id?, (a.id, u16::try_from(port).ok().filter(|p| *p > 0)?)))
        })
        .collect();
    fleet
        .iter()
        .filter_map(|v| {
            let (agent_id, port) = ports.get(&v.id)?;
            let mut group = target_group(v, label)?;
            let host = group.targets[0].rsplit_once(':').map(|(h, _)| h.to_owned())?;
            group.targets = vec![format!("{host}:{port}")];
            group.labels.insert("agent_id".into(), agent_id.to_string());
            Some(group)
        })
        .collect()
}

/// `host:port` with an IPv6 host in brackets.
pub fn socket(ip: IpAddr, port: i32) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The target group of one VPS, or `None` when it has no suitable address.
pub fn target_group(v: &FleetVps, label: Option<IpLabel>) -> Option<TargetGroup> {
    let entry = match label {
        Some(l) => v.ip_addresses.iter().find(|e| e.label == Some(l)),
        None => v.ip_addresses.first(),
    }?;
    let mut labels = BTreeMap::new();
    let mut put = |name: &str, value: Option<&str>| {
        if let Some(value) = value.map(str::trim).filter(|s| !s.is_empty()) {
            labels.insert(name.to_owned(), value.to_owned());
        }
    };
    put("vps_id", Some(&v.id.to_string()));
    put("instance_name", Some(&v.hostname));
    put("alias", v.alias.as_deref());
    put("provider", Some(&v.provider_name));
    put("country", Some(&v.country));
    put("city", v.city.as_deref());
    put("dc", v.dc_name.as_deref());
    put("status", Some(v.status.as_str()));
    put("purpose", Some(v.purpose.as_str()));
    put("vpn_protocol", v.vpn_protocol.as_deref());
    let tags = (!v.tags.is_empty()).then(|| format!(",{},", v.tags.join(",")));
    put("tags", tags.as_deref());
    put("expire_date", v.expire_date.map(|d| d.to_string()).as_deref());
    Some(TargetGroup { targets: vec![socket(entry.ip, v.node_exporter_port)], labels })
}
