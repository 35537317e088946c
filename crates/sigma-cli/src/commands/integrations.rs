//! `sigma targets` (Prometheus) and `sigma inventory` (Ansible).

use super::{Ctx, vps};
use crate::cli::{InventoryArgs, TargetsArgs};
use crate::config::write_atomically;
use crate::error::{CliError, CliResult};
use crate::output::{Cell, Column, Format, col, emit, json};
use sigma_types::{Inventory, InventoryQuery, TargetGroup, TargetsQuery};
use std::collections::BTreeMap;

fn label(t: &TargetGroup, name: &str) -> Cell {
    t.labels.get(name).map(String::as_str).unwrap_or_default().into()
}

const TARGET_COLUMNS: &[Column<TargetGroup>] = &[
    col("target", |t| t.targets.join(",").into()),
    col("instance_name", |t| label(t, "instance_name")),
    col("provider", |t| label(t, "provider")),
    col("country", |t| label(t, "country")),
    col("status", |t| match t.labels.get("status").and_then(|s| s.parse().ok()) {
        Some(s) => vps::status_cell(s),
        None => label(t, "status"),
    }),
    col("purpose", |t| label(t, "purpose")),
    col("tags", |t| label(t, "tags").text.trim_matches(',').into()),
];

pub async fn targets(args: TargetsArgs, ctx: &Ctx) -> CliResult<()> {
    let filter = vps::filter_query(ctx, &args.filter).await?;
    let query = TargetsQuery { label: args.label, job: args.job.map(|j| j.wire()) };
    let groups = ctx.client.targets(&filter, &query).await?;
    if let Some(path) = args.file {
        // Prometheus watches the file: it must never see half of it.
        write_atomically(&path, json(&groups)?.as_bytes(), 0o644)
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {} targets to {}", groups.len(), path.display());
        return Ok(());
    }
    ctx.out.list(&groups, TARGET_COLUMNS)
}

/// One host of the inventory, for the table.
struct Host {
    name: String,
    vars: serde_json::Map<String, serde_json::Value>,
    groups: Vec<String>,
}

fn var(h: &Host, name: &str) -> Cell {
    match h.vars.get(name) {
        Some(serde_json::Value::String(s)) => s.as_str().into(),
        Some(v) => v.to_string().into(),
        None => "".into(),
    }
}

const HOST_COLUMNS: &[Column<Host>] = &[
    col("host", |h| h.name.as_str().into()),
    col("ansible_host", |h| var(h, "ansible_host")),
    col("ansible_port", |h| var(h, "ansible_port")),
    col("ansible_user", |h| var(h, "ansible_user")),
    col("groups", |h| h.groups.join(",").into()),
];

impl serde::Serialize for Host {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.vars.serialize(s)
    }
}

/// Speaks Ansible's inventory-script protocol: `--list` prints the whole
/// inventory, `--host NAME` one host's variables (`{}` for an unknown
/// host), both as JSON whatever `--output` says. Without either, a table.
pub async fn inventory(args: InventoryArgs, ctx: &Ctx) -> CliResult<()> {
    let filter = vps::filter_query(ctx, &args.filter).await?;
    let inventory = ctx.client.inventory(&filter, &InventoryQuery { label: args.label }).await?;
    if args.list {
        return emit(&json(&inventory)?);
    }
    if let Some(host) = args.host {
        let vars = inventory.meta.hostvars.get(&host).cloned().unwrap_or_default();
        return emit(&json(&vars)?);
    }
    match ctx.out.format {
        Format::Json | Format::Yaml => ctx.out.data(&inventory),
        Format::Table | Format::Csv => ctx.out.list(&hosts(inventory), HOST_COLUMNS),
    }
}

fn hosts(inventory: Inventory) -> Vec<Host> {
    let mut groups_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (group, g) in inventory.groups {
        if group == "all" {
            continue;
        }
        for h in g.hosts {
            groups_of.entry(h).or_default().push(group.clone());
        }
    }
    inventory
        .meta
        .hostvars
        .into_iter()
        .map(|(name, vars)| {
            let groups = groups_of.remove(&name).unwrap_or_default();
            Host { name, vars, groups }
        })
        .collect()
}
