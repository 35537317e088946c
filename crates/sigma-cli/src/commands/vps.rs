//! `sigma vps ...` and `sigma ip-history`.

use super::{Ctx, collect, provider, transfer};
use crate::cli::{SortField, VpsCommand, VpsFields, VpsFilterArgs};
use crate::error::{CliError, CliResult};
use crate::output::{Cell, Column, Tone, col, days_left, opt, today, wide};
use sigma_types::{
    IpEntry, IpEntryInput, IpHistoryEntry, IpLabel, Patch, TransferFormat, Vps, VpsCreate, VpsFilterQuery,
    VpsListQuery, VpsPatch, VpsStatus,
};
use uuid::Uuid;

pub fn status_cell(status: VpsStatus) -> Cell {
    let tone = match status {
        VpsStatus::Active => Tone::Good,
        VpsStatus::Provisioning => Tone::Info,
        VpsStatus::Retiring => Tone::Warn,
        VpsStatus::Suspended => Tone::Bad,
        VpsStatus::Retired => Tone::Dim,
    };
    Cell::new(status.as_str(), tone)
}

/// `103.1.2.3/china-telecom 2001:db8::1`, as in exported CSV.
fn addresses(ips: &[IpEntry]) -> String {
    let parts: Vec<String> = ips
        .iter()
        .map(|e| match e.label {
            Some(l) => format!("{}/{l}", e.ip),
            None => e.ip.to_string(),
        })
        .collect();
    parts.join(" ")
}

/// The first address, and how many more there are.
fn first_address(ips: &[IpEntry]) -> Cell {
    match ips {
        [] => Cell::from(""),
        [one] => one.ip.to_string().into(),
        [first, rest @ ..] => format!("{} +{}", first.ip, rest.len()).into(),
    }
}

fn money(v: &Vps) -> Cell {
    if v.price.is_none() { Cell::from("") } else { format!("{} {}", v.monthly_cost, v.currency).into() }
}

pub const COLUMNS: &[Column<Vps>] = &[
    wide("id", |v| v.id.to_string().into()),
    col("hostname", |v| v.hostname.as_str().into()),
    wide("alias", |v| opt(&v.alias)),
    col("provider", |v| v.provider_name.as_str().into()),
    wide("provider_id", |v| v.provider_id.to_string().into()),
    col("country", |v| v.country.as_str().into()),
    wide("city", |v| opt(&v.city)),
    wide("dc_name", |v| opt(&v.dc_name)),
    col("status", |v| status_cell(v.status)),
    col("purpose", |v| v.purpose.as_str().into()),
    col("ip", |v| first_address(&v.ip_addresses)),
    wide("ip_addresses", |v| addresses(&v.ip_addresses).into()),
    col("tags", |v| v.tags.join(",").into()),
    col("expires", |v| opt(&v.expire_date)),
    col("days", |v| days_left(v.expire_date, today())),
    col("monthly", money),
    wide("price", |v| opt(&v.price)),
    wide("currency", |v| v.currency.as_str().into()),
    wide("billing_cycle", |v| v.billing_cycle.as_str().into()),
    wide("monthly_cost", |v| v.monthly_cost.to_string().into()),
    wide("purchase_date", |v| opt(&v.purchase_date)),
    wide("auto_renew", |v| v.auto_renew.to_string().into()),
    wide("ssh_port", |v| v.ssh_port.to_string().into()),
    wide("ssh_user", |v| opt(&v.ssh_user)),
    wide("vpn_protocol", |v| opt(&v.vpn_protocol)),
    wide("cpu_cores", |v| opt(&v.cpu_cores)),
    wide("ram_mb", |v| opt(&v.ram_mb)),
    wide("disk_gb", |v| opt(&v.disk_gb)),
    wide("bandwidth_tb", |v| opt(&v.bandwidth_tb)),
    wide("monitoring_enabled", |v| v.monitoring_enabled.to_string().into()),
    wide("node_exporter_port", |v| v.node_exporter_port.to_string().into()),
    wide("agent", |v| v.agent.as_ref().map(|a| format!("{:?}", a.status).to_lowercase()).unwrap_or_default().into()),
    wide("extra", |v| {
        if v.extra.as_object().is_some_and(|o| o.is_empty()) { "".into() } else { v.extra.to_string().into() }
    }),
    wide("notes", |v| opt(&v.notes)),
    wide("source", |v| v.source.as_str().into()),
    wide("created_at", |v| v.created_at.to_rfc3339().into()),
    wide("updated_at", |v| v.updated_at.to_rfc3339().into()),
    wide("retired_at", |v| opt(&v.retired_at.map(|t| t.to_rfc3339()))),
    wide("deleted_at", |v| opt(&v.deleted_at.map(|t| t.to_rfc3339()))),
];

const HISTORY_COLUMNS: &[Column<IpHistoryEntry>] = &[
    col("ip", |h| h.ip.to_string().into()),
    col("hostname", |h| h.hostname.as_str().into()),
    col("vps_id", |h| h.vps_id.to_string().into()),
    col("assigned_at", |h| h.assigned_at.to_rfc3339().into()),
    col("released_at", |h| match h.released_at {
        Some(t) => t.to_rfc3339().into(),
        None => Cell::new("(holds it)", Tone::Good),
    }),
];

pub async fn run(command: VpsCommand, ctx: &Ctx) -> CliResult<()> {
    let client = &ctx.client;
    match command {
        VpsCommand::List { filter, deleted, sort, desc, page } => {
            let base = list_query(ctx, &filter).await?;
            let list = collect(&page, |page, per_page| {
                let query = VpsListQuery {
                    deleted: deleted.then_some(true),
                    sort: sort.map(SortField::wire),
                    order: Some(SortField::order(desc)),
                    page: Some(page),
                    per_page: Some(per_page),
                    ..base.clone()
                };
                async move { client.list_vps(&query).await }
            })
            .await?;
            ctx.out.list(&list, COLUMNS)
        }
        VpsCommand::Show { vps } => {
            let v = match Uuid::parse_str(&vps) {
                Ok(id) => client.get_vps(id).await?,
                Err(_) => find(ctx, &vps, false).await?,
            };
            ctx.out.item(&v, COLUMNS)
        }
        VpsCommand::Create { hostname, fields } => {
            let body = create_body(ctx, hostname, fields).await?;
            let v = client.create_vps(&body).await?;
            ctx.out.item(&v, COLUMNS)
        }
        VpsCommand::Update { vps, hostname, fields, add_tag, remove_tag, clear } => {
            let mut patch = patch_body(ctx, hostname, fields, &clear).await?;
            let id = find_id(ctx, &vps, false).await?;
            if !add_tag.is_empty() || !remove_tag.is_empty() {
                let mut tags = client.get_vps(id).await?.tags;
                for t in add_tag {
                    if !tags.contains(&t) {
                        tags.push(t);
                    }
                }
                tags.retain(|t| !remove_tag.contains(t));
                patch.tags = Patch::Value(tags);
            }
            let v = client.update_vps(id, &patch).await?;
            ctx.out.item(&v, COLUMNS)
        }
        VpsCommand::Retire { vps } => {
            let id = find_id(ctx, &vps, false).await?;
            let v = client.retire_vps(id).await?;
            ctx.out.item(&v, COLUMNS)
        }
        VpsCommand::Delete { vps, purge, yes } => {
            if purge && !yes {
                return Err(CliError::usage(
                    "--purge removes the VPS for good, with its history; add --yes to confirm",
                ));
            }
            let id = match find_id(ctx, &vps, false).await {
                // A VPS in the trash can be purged too.
                Err(e) if purge && e.code == crate::error::NOT_FOUND => find_id(ctx, &vps, true).await?,
                other => other?,
            };
            if purge {
                client.purge_vps(id).await?;
                eprintln!("removed VPS {vps} for good");
            } else {
                client.delete_vps(id).await?;
                eprintln!("moved VPS {vps} to the trash (`sigma vps restore {id}` brings it back)");
            }
            Ok(())
        }
        VpsCommand::Restore { vps } => {
            let id = find_id(ctx, &vps, true).await?;
            let v = client.restore_vps(id).await?;
            ctx.out.item(&v, COLUMNS)
        }
        VpsCommand::IpHistory { vps } => {
            let id = find_id(ctx, &vps, false).await?;
            let history = client.vps_ip_history(id).await?;
            ctx.out.list(&history, HISTORY_COLUMNS)
        }
        VpsCommand::Import(args) => transfer::import(args, transfer::Kind::Vps, ctx).await,
        VpsCommand::Export { filter, file } => {
            let filter = filter_query(ctx, &filter).await?;
            transfer::export(file, "VPS", |format: TransferFormat, progress| async move {
                client.export_vps(&filter, format, progress).await
            })
            .await
        }
    }
}

pub async fn ip_history(ip: &str, ctx: &Ctx) -> CliResult<()> {
    let history = ctx.client.ip_history(ip).await?;
    ctx.out.list(&history, HISTORY_COLUMNS)
}

/// The filters as the VPS list takes them, with the provider resolved.
async fn list_query(ctx: &Ctx, f: &VpsFilterArgs) -> CliResult<VpsListQuery> {
    let provider_id = match &f.provider {
        Some(p) => Some(provider::find_id(ctx, p).await?),
        None => None,
    };
    Ok(VpsListQuery {
        status: f.status.clone(),
        country: f.country.clone(),
        provider_id,
        purpose: f.purpose,
        tag: f.tag.clone(),
        q: f.q.clone(),
        ip: f.ip.clone(),
        expiring_within_days: f.expiring_within,
        monitoring_enabled: f.monitoring,
        ..Default::default()
    })
}

/// The filters as targets, inventory and export take them.
pub async fn filter_query(ctx: &Ctx, f: &VpsFilterArgs) -> CliResult<VpsFilterQuery> {
    let q = list_query(ctx, f).await?;
    Ok(VpsFilterQuery {
        status: q.status,
        country: q.country,
        provider_id: q.provider_id,
        purpose: q.purpose,
        tag: q.tag,
        q: q.q,
        ip: q.ip,
        expiring_within_days: q.expiring_within_days,
        monitoring_enabled: q.monitoring_enabled,
    })
}

/// A VPS by host name: the live one, else the only retired (or, with
/// `trash`, trashed) one of that name.
async fn find(ctx: &Ctx, hostname: &str, trash: bool) -> CliResult<Vps> {
    let name = hostname.trim().to_lowercase();
    let query = VpsListQuery {
        q: Some(name.clone()),
        deleted: trash.then_some(true),
        per_page: Some(500),
        ..Default::default()
    };
    let mut named: Vec<Vps> =
        ctx.client.list_vps(&query).await?.data.into_iter().filter(|v| v.hostname == name).collect();
    if let Some(i) = named.iter().position(Vps::is_live) {
        return Ok(named.swap_remove(i));
    }
    match named.len() {
        0 if trash => Err(CliError::not_found(format!("no VPS named {hostname:?} in the trash"))),
        0 => Err(CliError::not_found(format!("no VPS named {hostname:?}"))),
        1 => Ok(named.remove(0)),
        _ => {
            let ids: Vec<String> = named.iter().map(|v| v.id.to_string()).collect();
            Err(CliError::failure(format!(
                "{} VPS were named {hostname:?}; name one by id: {}",
                named.len(),
                ids.join(", ")
            )))
        }
    }
}

/// The id of a VPS named by id or host name; an id is taken as given.
pub async fn find_id(ctx: &Ctx, key: &str, trash: bool) -> CliResult<Uuid> {
    match Uuid::parse_str(key) {
        Ok(id) => Ok(id),
        Err(_) => Ok(find(ctx, key, trash).await?.id),
    }
}

/// `103.1.2.3` or `103.1.2.3/china-telecom`.
fn parse_ip(raw: &str) -> CliResult<IpEntryInput> {
    let (ip, label) = match raw.split_once('/') {
        Some((ip, label)) if label.parse::<u8>().is_err() => {
            let label = label.parse::<IpLabel>().map_err(|e| CliError::usage(format!("--ip {raw}: the label {e}")))?;
            (ip, Some(label))
        }
        _ => (raw, None),
    };
    Ok(IpEntryInput { ip: ip.trim().to_owned(), label })
}

fn parse_extra(raw: &str) -> CliResult<serde_json::Value> {
    serde_json::from_str(raw).map_err(|e| CliError::usage(format!("--extra is not JSON: {e}")))
}

async fn create_body(ctx: &Ctx, hostname: String, f: VpsFields) -> CliResult<VpsCreate> {
    let provider_id = match &f.provider {
        Some(p) => Some(provider::find_id(ctx, p).await?),
        None => None,
    };
    Ok(VpsCreate {
        hostname: Some(hostname),
        alias: f.alias,
        provider_id,
        country: f.country,
        city: f.city,
        dc_name: f.dc_name,
        ip_addresses: Some(f.ips.iter().map(|s| parse_ip(s)).collect::<CliResult<_>>()?),
        ssh_port: f.ssh_port,
        ssh_user: f.ssh_user,
        status: f.status,
        purpose: f.purpose,
        vpn_protocol: f.vpn_protocol,
        tags: Some(f.tag),
        cpu_cores: f.cpu_cores,
        ram_mb: f.ram_mb,
        disk_gb: f.disk_gb,
        bandwidth_tb: f.bandwidth_tb,
        price: f.price,
        currency: f.currency,
        billing_cycle: f.billing_cycle,
        purchase_date: f.purchase_date,
        expire_date: f.expire_date,
        auto_renew: f.auto_renew,
        monitoring_enabled: f.monitoring,
        node_exporter_port: f.node_exporter_port,
        extra: f.extra.as_deref().map(parse_extra).transpose()?,
        notes: f.notes,
    })
}

async fn patch_body(ctx: &Ctx, hostname: Option<String>, f: VpsFields, clear: &[String]) -> CliResult<VpsPatch> {
    use super::field as set;
    fn list<T>(flag: &str, values: Vec<T>, clear: &[String]) -> CliResult<Patch<Vec<T>>> {
        set(flag, (!values.is_empty()).then_some(values), clear).map(|p| match p {
            Patch::Null => Patch::Value(Vec::new()),
            other => other,
        })
    }
    let provider_id = match &f.provider {
        Some(p) => Patch::Value(provider::find_id(ctx, p).await?),
        None => Patch::Missing,
    };
    let ips = f.ips.iter().map(|s| parse_ip(s)).collect::<CliResult<Vec<_>>>()?;
    Ok(VpsPatch {
        hostname: hostname.map_or(Patch::Missing, Patch::Value),
        provider_id,
        country: f.country.map_or(Patch::Missing, Patch::Value),
        purpose: f.purpose.map_or(Patch::Missing, Patch::Value),
        status: set("status", f.status, clear)?,
        ip_addresses: list("ip", ips, clear)?,
        tags: list("tag", f.tag, clear)?,
        alias: set("alias", f.alias, clear)?,
        city: set("city", f.city, clear)?,
        dc_name: set("dc", f.dc_name, clear)?,
        ssh_port: set("ssh-port", f.ssh_port, clear)?,
        ssh_user: set("ssh-user", f.ssh_user, clear)?,
        vpn_protocol: set("vpn-protocol", f.vpn_protocol, clear)?,
        cpu_cores: set("cpu", f.cpu_cores, clear)?,
        ram_mb: set("ram-mb", f.ram_mb, clear)?,
        disk_gb: set("disk-gb", f.disk_gb, clear)?,
        bandwidth_tb: set("bandwidth-tb", f.bandwidth_tb, clear)?,
        price: set("price", f.price, clear)?,
        currency: set("currency", f.currency, clear)?,
        billing_cycle: set("billing-cycle", f.billing_cycle, clear)?,
        purchase_date: set("purchase-date", f.purchase_date, clear)?,
        expire_date: set("expire-date", f.expire_date, clear)?,
        auto_renew: set("auto-renew", f.auto_renew, clear)?,
        monitoring_enabled: set("monitoring", f.monitoring, clear)?,
        node_exporter_port: set("node-exporter-port", f.node_exporter_port, clear)?,
        extra: set("extra", f.extra.as_deref().map(parse_extra).transpose()?, clear)?,
        notes: set("notes", f.notes, clear)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_an_optional_label() {
        let e = parse_ip("103.1.2.3/china-telecom").unwrap();
        assert_eq!((e.ip.as_str(), e.label), ("103.1.2.3", Some(IpLabel::ChinaTelecom)));
        assert_eq!(parse_ip("2001:db8::1").unwrap().label, None);
        assert_eq!(parse_ip("1.2.3.4/nowhere").unwrap_err().code, crate::error::USAGE);
    }
}
