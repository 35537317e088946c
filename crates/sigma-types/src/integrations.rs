//! What Sigma hands to the tools the operator already runs: Prometheus
//! service discovery, Ansible dynamic inventory, and bulk import/export.

use crate::list::VpsListQuery;
use crate::{FieldErrors, IpLabel, Purpose, VpsFilter, VpsStatus};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The VPS list filters without pagination or sorting, as accepted by
/// targets, inventory and export.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VpsFilterQuery {
    /// Repeatable; a VPS matches any of the given statuses.
    #[serde(default)]
    #[param(explode = true)]
    pub status: Vec<VpsStatus>,
    /// ISO 3166-1 alpha-2 code.
    pub country: Option<String>,
    pub provider_id: Option<Uuid>,
    pub purpose: Option<Purpose>,
    /// Repeatable; a VPS must carry every given tag.
    #[serde(default)]
    #[param(explode = true)]
    pub tag: Vec<String>,
    /// Case-insensitive search in host name, alias, IP addresses and notes.
    pub q: Option<String>,
    /// An address, or a network in CIDR notation such as `103.1.0.0/16`.
    pub ip: Option<String>,
    /// Live VPS whose `expire_date` is at most this many days away, overdue ones included.
    pub expiring_within_days: Option<u32>,
    pub monitoring_enabled: Option<bool>,
}

impl VpsFilterQuery {
    /// Checks the filters; `today` anchors `expiring_within_days`.
    pub fn validate(&self, today: NaiveDate) -> Result<VpsFilter, FieldErrors> {
        let list = VpsListQuery {
            status: self.status.clone(),
            country: self.country.clone(),
            provider_id: self.provider_id,
            purpose: self.purpose,
            tag: self.tag.clone(),
            q: self.q.clone(),
            ip: self.ip.clone(),
            expiring_within_days: self.expiring_within_days,
            monitoring_enabled: self.monitoring_enabled,
            ..Default::default()
        };
        list.validate_filter(today)
    }
}

/// Which endpoints Prometheus should scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetJob {
    /// node_exporter on each VPS (`node_exporter_port`).
    #[default]
    Node,
    /// The Sigma agents' own `/metrics`.
    Agent,
}

/// Query of `GET /api/prometheus/targets` beyond the VPS filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetsQuery {
    /// Scrape the first address with this label instead of the first address.
    pub label: Option<IpLabel>,
    /// `node` (default) or `agent`.
    pub job: Option<TargetJob>,
}

/// One entry of Prometheus' `file_sd` / `http_sd` format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"targets": ["103.1.2.3:9100"], "labels": {"instance_name": "tokyo-1", "provider": "DMIT",
    "country": "JP", "status": "active", "purpose": "vpn-exit", "tags": ",cn-optimized,iplc,"}}))]
pub struct TargetGroup {
    /// `host:port`, IPv6 hosts in brackets.
    pub targets: Vec<String>,
    /// Label name to value; names match `[a-zA-Z_][a-zA-Z0-9_]*`, empty values are left out.
    pub labels: BTreeMap<String, String>,
}

/// Query of `GET /api/ansible/inventory` beyond the VPS filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// `ansible_host` is the first address with this label instead of the
    /// first address not labelled `internal`.
    pub label: Option<IpLabel>,
}

/// A group of the Ansible inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InventoryGroup {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

/// `_meta` of the Ansible inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InventoryMeta {
    /// Host name → its variables.
    #[schema(value_type = Object)]
    pub hostvars: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// Ansible's dynamic-inventory JSON: `_meta.hostvars` and the groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Inventory {
    #[serde(rename = "_meta")]
    pub meta: InventoryMeta,
    /// Group name → group; always includes `all`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub groups: BTreeMap<String, InventoryGroup>,
}

/// File format of an import or export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransferFormat {
    #[default]
    Json,
    Csv,
}

/// Query of the export endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<TransferFormat>,
}

/// Query of the import endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<TransferFormat>,
    /// Check every row and report what would happen, storing nothing.
    pub dry_run: Option<bool>,
    /// Create providers named in rows that do not exist yet (VPS import only).
    pub create_providers: Option<bool>,
}

/// What an import did (or, in a dry run, would do) with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportResult {
    Created,
    Updated,
    /// The row matched a record that already has exactly these values.
    Unchanged,
    Failed,
}

/// One row of an import report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportRow {
    /// 1 for the first record (the first line after a CSV header, the first array element).
    pub row: u64,
    /// Line of a CSV file where the record starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Host name (VPS) or name (provider) the row is about, when readable.
    pub key: Option<String>,
    pub result: ImportResult,
    /// The record created or updated (absent in a dry run for new records).
    pub id: Option<Uuid>,
    /// Field → what is wrong with it, for failed rows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
}

/// The answer of a successful import or dry run. When any row fails the
/// import answers 400 `import_failed` instead, with the failed rows in
/// `details.rows`, and stores nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub total: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// Providers created on the fly (`create_providers=true`).
    pub providers_created: Vec<String>,
    pub rows: Vec<ImportRow>,
}

impl ImportReport {
    /// Adds a row, counting its result.
    pub fn push(&mut self, row: ImportRow) {
        self.total += 1;
        match row.result {
            ImportResult::Created => self.created += 1,
            ImportResult::Updated => self.updated += 1,
            ImportResult::Unchanged => self.unchanged += 1,
            ImportResult::Failed => self.failed += 1,
        }
        self.rows.push(row);
    }
}
