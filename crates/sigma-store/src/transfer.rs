//! Bulk reads and imports. The decisions of an import (create or update,
//! which provider, which addresses collide) are made here, once, on data
//! each backend loads inside its transaction; the backends only read the
//! context and write the plan.

use crate::{AuditContext, Result};
use async_trait::async_trait;
use chrono::NaiveDate;
use sigma_types::{
    FieldErrors, ImportReport, ImportResult, ImportRow, IpEntry, Patch, Provider, ProviderCreate, ProviderDraft,
    ProviderPatch, Purpose, Vps, VpsCreate, VpsDraft, VpsFilter, VpsPatch, VpsStatus, validate,
};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use uuid::Uuid;

/// One VPS record of an import file, parsed but not yet checked.
#[derive(Debug, Clone, Default)]
pub struct VpsImportRow {
    /// 1 for the first record.
    pub row: u64,
    /// Line of a CSV file where the record starts.
    pub line: Option<u64>,
    /// The VPS's id when the file gives one (an export does): a stored VPS
    /// with this id is the one the row updates, and a new VPS keeps it.
    pub id: Option<Uuid>,
    /// The provider by name; wins over `patch.provider_id`.
    pub provider_name: Option<String>,
    /// The fields the record gives: absent ones keep the current value of
    /// an updated VPS (or take the default of a new one), `null` clears.
    pub patch: VpsPatch,
    /// Problems found while reading the record (bad numbers, unknown enums).
    pub errors: FieldErrors,
}

/// One provider record of an import file.
#[derive(Debug, Clone, Default)]
pub struct ProviderImportRow {
    pub row: u64,
    pub line: Option<u64>,
    /// The provider's id when the file gives one, as for VPS.
    pub id: Option<Uuid>,
    pub patch: ProviderPatch,
    pub errors: FieldErrors,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Check and report, store nothing.
    pub dry_run: bool,
    /// Create providers that rows name but that do not exist.
    pub create_providers: bool,
}

/// What Prometheus targets and the Ansible inventory say of a VPS: the
/// fields they show, read without the rest of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetVps {
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
    pub expire_date: Option<NaiveDate>,
    pub monitoring_enabled: bool,
    pub node_exporter_port: i32,
}

impl From<&Vps> for FleetVps {
    fn from(v: &Vps) -> Self {
        FleetVps {
            id: v.id,
            hostname: v.hostname.clone(),
            alias: v.alias.clone(),
            provider_id: v.provider_id,
            provider_name: v.provider_name.clone(),
            country: v.country.clone(),
            city: v.city.clone(),
            dc_name: v.dc_name.clone(),
            ip_addresses: v.ip_addresses.clone(),
            ssh_port: v.ssh_port,
            ssh_user: v.ssh_user.clone(),
            status: v.status,
            purpose: v.purpose,
            vpn_protocol: v.vpn_protocol.clone(),
            tags: v.tags.clone(),
            expire_date: v.expire_date,
            monitoring_enabled: v.monitoring_enabled,
            node_exporter_port: v.node_exporter_port,
        }
    }
}

/// Reads many records at once, and imports files in one transaction.
#[async_trait]
pub trait TransferStore: Send + Sync {
    /// Every VPS matching the filter, by host name (then id), in one query.
    async fn all_vps(&self, filter: &VpsFilter) -> Result<Vec<Vps>>;
    /// The same VPS as `all_vps`, in the same order, with only the fields
    /// of [`FleetVps`]: one query reading just those columns.
    async fn fleet(&self, filter: &VpsFilter) -> Result<Vec<FleetVps>>;
    /// A number that moves on with every committed change of any VPS or
    /// provider, whichever replica made it. Read it before reading the
    /// fleet: what is read then is at least as new as the number, so an
    /// answer kept under it is never older than the number says.
    async fn fleet_version(&self) -> Result<i64>;
    /// Every provider, by name.
    async fn all_providers(&self) -> Result<Vec<Provider>>;
    /// Creates or updates (by host name among live VPS) every row, in one
    /// transaction. When any row fails, or in a dry run, nothing is stored;
    /// the report says what happened to each row either way.
    /// A stored import is audited as one `import` action with a summary.
    async fn import_vps(
        &self,
        rows: Vec<VpsImportRow>,
        options: ImportOptions,
        by: &AuditContext,
    ) -> Result<ImportReport>;
    /// Creates or updates (by name, ignoring case) every row, in one
    /// transaction, with the same all-or-nothing rule.
    async fn import_providers(
        &self,
        rows: Vec<ProviderImportRow>,
        options: ImportOptions,
        by: &AuditContext,
    ) -> Result<ImportReport>;
}

/// What an import mentions, so that a backend can load just the VPS and
/// address owners the plan needs.
#[derive(Debug, Default)]
pub struct Mentioned {
    pub hostnames: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub ids: Vec<Uuid>,
}

/// The host names, addresses and ids an import mentions.
pub fn mentioned(rows: &[VpsImportRow]) -> Mentioned {
    let mut hostnames = Vec::with_capacity(rows.len());
    let mut ips = Vec::with_capacity(rows.len());
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    for r in rows {
        if let Patch::Value(h) = &r.patch.hostname
            && let Ok(h) = validate::hostname(h)
        {
            hostnames.push(h);
        }
        if let Patch::Value(list) = &r.patch.ip_addresses {
            ips.extend(list.iter().filter_map(|e| validate::ip(&e.ip).ok()));
        }
    }
    hostnames.sort_unstable();
    hostnames.dedup();
    ips.sort_unstable();
    ips.dedup();
    Mentioned { hostnames, ips, ids }
}

/// What the database holds that an import depends on.
#[derive(Debug, Default)]
pub struct VpsImportContext {
    /// Every provider: id and name.
    pub providers: Vec<(Uuid, String)>,
    /// Live VPS whose host names the import mentions.
    pub live: Vec<Vps>,
    /// Live VPS holding addresses the import mentions: address → (id, host name).
    pub owners: HashMap<IpAddr, (Uuid, String)>,
    /// VPS (live, retired or in the trash) whose ids the import mentions.
    pub by_id: Vec<Vps>,
}

/// The writes an import comes down to, and its report.
#[derive(Debug, Default)]
pub struct VpsImportPlan {
    pub new_providers: Vec<(Uuid, ProviderDraft)>,
    /// New VPS with the id to give them.
    pub creates: Vec<(Uuid, VpsDraft)>,
    /// Changed VPS: the stored record and its new fields.
    pub updates: Vec<(Vps, VpsDraft)>,
    pub report: ImportReport,
}

impl VpsImportPlan {
    /// Whether the plan may be written: no row failed and this is no dry run.
    pub fn should_write(&self, options: ImportOptions) -> bool {
        self.report.failed == 0 && !options.dry_run
    }
}

#[derive(Clone)]
enum Holder {
    Stored(Uuid, String),
    Row(u64, String),
}

/// Decides, row by row in file order, what an import does. Rows see the
/// effect of the rows before them: a host name may appear once among the
/// rows that stay live, and an address freed by an earlier row may be taken
/// by a later one.
///
/// A row updates the stored VPS with the row's `id` (unless that one is in
/// the trash); failing that, the live VPS with the row's host name, except
/// for a retired row with an id of its own: that is a past VPS of the same
/// name, as an export lists them, and is created. A new VPS keeps the row's
/// id when no VPS has it, so that exporting and importing elsewhere keeps
/// identities and importing the same file again changes nothing.
pub fn plan_vps(rows: Vec<VpsImportRow>, ctx: VpsImportContext, options: ImportOptions) -> VpsImportPlan {
    let mut plan =
        VpsImportPlan { report: ImportReport { dry_run: options.dry_run, ..Default::default() }, ..Default::default() };
    let mut providers: HashMap<String, (Uuid, String)> =
        ctx.providers.iter().map(|(id, name)| (name.to_lowercase(), (*id, name.clone()))).collect();
    let provider_ids: HashSet<Uuid> = ctx.providers.iter().map(|(id, _)| *id).collect();
    let mut new_provider_ids: HashSet<Uuid> = Default::default();
    let live: HashMap<String, Vps> = ctx.live.into_iter().map(|v| (v.hostname.clone(), v)).collect();
    let by_id: HashMap<Uuid, Vps> = ctx.by_id.into_iter().map(|v| (v.id, v)).collect();
    let mut owners: HashMap<IpAddr, Holder> =
        ctx.owners.into_iter().map(|(ip, (id, host))| (ip, Holder::Stored(id, host))).collect();
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(rows.len());
    let mut seen_ids: HashMap<Uuid, u64> = HashMap::new();
    let mut matched: HashMap<Uuid, u64> = HashMap::new();

    for r in rows {
        let mut errors = r.errors;
        let hostname = match &r.patch.hostname {
            Patch::Value(h) => errors.check("hostname", validate::hostname(h)),
            _ => {
                errors.add("hostname", "is required: rows are matched by host name");
                None
            }
        };
        let mut report_row = ImportRow {
            row: r.row,
            line: r.line,
            key: hostname.clone(),
            result: ImportResult::Failed,
            id: None,
            errors: Default::default(),
        };
        if let Some(id) = r.id {
            if let Some(first) = seen_ids.get(&id) {
                errors.add("id", format!("{id} is also in row {first}; an id may appear once"));
            } else {
                seen_ids.insert(id, r.row);
            }
        }
        let past = r.id.is_some() && matches!(r.patch.status, Patch::Value(VpsStatus::Retired));
        let existing = match r.id.and_then(|id| by_id.get(&id)) {
            Some(v) if v.deleted_at.is_none() => Some(v),
            _ if past => None,
            _ => hostname.as_ref().and_then(|h| live.get(h)),
        };
        if let Some(v) = existing {
            match matched.get(&v.id) {
                Some(first) => errors.add("hostname", format!("row {first} already changes this VPS ({})", v.id)),
                None => {
                    matched.insert(v.id, r.row);
                }
            }
        }

        let mut patch = r.patch;
        match r.provider_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => match providers.get(&name.to_lowercase()) {
                Some((id, _)) => patch.provider_id = Patch::Value(*id),
                None if options.create_providers => {
                    match (ProviderCreate { name: Some(name.to_owned()), ..Default::default() }).validate() {
                        Ok(draft) => {
                            let id = Uuid::now_v7();
                            providers.insert(name.to_lowercase(), (id, draft.name.clone()));
                            new_provider_ids.insert(id);
                            plan.report.providers_created.push(draft.name.clone());
                            plan.new_providers.push((id, draft));
                            patch.provider_id = Patch::Value(id);
                        }
                        Err(e) => errors.add("provider_name", e.0.into_values().next().unwrap_or_default()),
                    }
                }
                None => errors.add(
                    "provider_name",
                    format!("no provider is named {name:?}; create it first or import with create_providers=true"),
                ),
            },
            None => {
                if let Patch::Value(id) = patch.provider_id
                    && !provider_ids.contains(&id)
                    && !new_provider_ids.contains(&id)
                {
                    errors.add("provider_id", "no provider has this id; give provider_name instead");
                }
            }
        }

        let base = existing.map(VpsCreate::from).unwrap_or_default();
        let draft = match patch.apply(base).validate() {
            Ok(d) => Some(d),
            Err(e) => {
                for (field, message) in e.0 {
                    errors.add(field, message);
                }
                None
            }
        };

        // Host names are unique among live VPS: in the file and against
        // the live VPS the row does not update.
        if let Some(h) = &hostname
            && draft.as_ref().is_none_or(VpsDraft::is_live)
        {
            if let Some(first) = seen.get(h) {
                errors.add("hostname", format!("{h:?} is also in row {first}; a host name may appear once"));
            } else {
                seen.insert(h.clone(), r.row);
            }
            if let Some(other) = live.get(h)
                && existing.is_none_or(|v| v.id != other.id)
            {
                errors.add("hostname", format!("{h:?} is already used by live VPS {}", other.id));
            }
        }

        if let (Some(d), Some(h)) = (&draft, &hostname)
            && d.is_live()
        {
            for (i, entry) in d.ip_addresses.iter().enumerate() {
                let taken_by = match owners.get(&entry.ip) {
                    Some(Holder::Stored(id, other)) if existing.is_none_or(|v| v.id != *id) => {
                        Some(format!("address {} is already used by live VPS {other} ({id})", entry.ip))
                    }
                    Some(Holder::Row(row, other)) if other != h => {
                        Some(format!("address {} is already taken by row {row} ({other})", entry.ip))
                    }
                    _ => None,
                };
                if let Some(message) = taken_by {
                    errors.add(format!("ip_addresses[{i}].ip"), message);
                }
            }
        }

        match (draft, hostname) {
            (Some(d), Some(h)) if errors.is_empty() => {
                if let Some(old) = existing {
                    for e in &old.ip_addresses {
                        if matches!(owners.get(&e.ip), Some(Holder::Stored(id, _)) if *id == old.id) {
                            owners.remove(&e.ip);
                        }
                    }
                }
                if d.is_live() {
                    for e in &d.ip_addresses {
                        owners.insert(e.ip, Holder::Row(r.row, h.clone()));
                    }
                }
                match existing {
                    Some(old) => {
                        report_row.id = Some(old.id);
                        let unchanged = VpsCreate::from(old).validate().is_ok_and(|current| current == d);
                        if unchanged {
                            report_row.result = ImportResult::Unchanged;
                        } else {
                            report_row.result = ImportResult::Updated;
                            plan.updates.push((old.clone(), d));
                        }
                    }
                    None => {
                        let id = r.id.filter(|id| !by_id.contains_key(id)).unwrap_or_else(Uuid::now_v7);
                        report_row.result = ImportResult::Created;
                        report_row.id = (!options.dry_run).then_some(id);
                        plan.creates.push((id, d));
                    }
                }
            }
            _ => {
                if errors.is_empty() {
                    errors.add("hostname", "is required");
                }
                report_row.errors = errors.0;
            }
        }
        plan.report.push(report_row);
    }
    plan
}

/// The writes a provider import comes down to, and its report.
#[derive(Debug, Default)]
pub struct ProviderImportPlan {
    pub creates: Vec<(Uuid, ProviderDraft)>,
    /// Stored provider and its new fields.
    pub updates: Vec<(Provider, ProviderDraft)>,
    pub report: ImportReport,
}

/// Decides what a provider import does: a row updates the stored provider
/// with its `id`, else the one with its name (ignoring case); a name may
/// appear once; a new provider keeps the row's id when no provider has it.
pub fn plan_providers(
    rows: Vec<ProviderImportRow>,
    stored: Vec<Provider>,
    options: ImportOptions,
) -> ProviderImportPlan {
    let mut plan = ProviderImportPlan {
        report: ImportReport { dry_run: options.dry_run, ..Default::default() },
        ..Default::default()
    };
    let by_id: HashMap<Uuid, Provider> = stored.iter().map(|p| (p.id, p.clone())).collect();
    let stored: HashMap<String, Provider> = stored.into_iter().map(|p| (p.name.to_lowercase(), p)).collect();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut matched: HashMap<Uuid, u64> = HashMap::new();
    for r in rows {
        let mut errors = r.errors;
        let name = match &r.patch.name {
            Patch::Value(n) if !n.trim().is_empty() => Some(n.trim().to_owned()),
            _ => {
                errors.add("name", "is required: rows are matched by name");
                None
            }
        };
        let key = name.as_ref().map(|n| n.to_lowercase());
        if let Some(k) = &key {
            if let Some(first) = seen.get(k) {
                errors.add("name", format!("{k:?} is also in row {first}; a name may appear once"));
            } else {
                seen.insert(k.clone(), r.row);
            }
        }
        let by_name = key.as_ref().and_then(|k| stored.get(k));
        let existing = r.id.and_then(|id| by_id.get(&id)).or(by_name);
        if let Some(p) = existing {
            if let Some(other) = by_name.filter(|o| o.id != p.id) {
                errors.add("name", format!("{:?} is the name of another provider ({})", other.name, other.id));
            }
            match matched.get(&p.id) {
                Some(first) => errors.add("name", format!("row {first} already changes this provider ({})", p.id)),
                None => {
                    matched.insert(p.id, r.row);
                }
            }
        }
        let base = existing.map(ProviderCreate::from).unwrap_or_default();
        let draft = match r.patch.apply(base).validate() {
            Ok(d) => Some(d),
            Err(e) => {
                for (field, message) in e.0 {
                    errors.add(field, message);
                }
                None
            }
        };
        let mut row = ImportRow {
            row: r.row,
            line: r.line,
            key: name,
            result: ImportResult::Failed,
            id: None,
            errors: Default::default(),
        };
        match draft {
            Some(d) if errors.is_empty() => match existing {
                Some(p) => {
                    row.id = Some(p.id);
                    if ProviderCreate::from(p).validate().is_ok_and(|current| current == d) {
                        row.result = ImportResult::Unchanged;
                    } else {
                        row.result = ImportResult::Updated;
                        plan.updates.push((p.clone(), d));
                    }
                }
                None => {
                    let id =
                        r.id.filter(|id| !by_id.contains_key(id) && !plan.creates.iter().any(|(c, _)| c == id))
                            .unwrap_or_else(Uuid::now_v7);
                    row.result = ImportResult::Created;
                    row.id = (!options.dry_run).then_some(id);
                    plan.creates.push((id, d));
                }
            },
            _ => row.errors = errors.0,
        }
        plan.report.push(row);
    }
    plan
}

/// What the audit log keeps of a stored import.
pub fn import_summary(report: &ImportReport) -> serde_json::Value {
    serde_json::json!({
        "total": report.total,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "providers_created": report.providers_created,
    })
}
