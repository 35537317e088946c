//! Bulk export and import of VPS and providers, as JSON or CSV.

use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::AppQuery;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use futures::StreamExt;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use sigma_store::{ImportOptions, ProviderImportRow, VpsImportRow};
use sigma_types::{
    ExportQuery, FieldErrors, ImportQuery, ImportReport, ImportResult, IpEntryInput, IpLabel, Patch, Provider,
    ProviderListQuery, ProviderPatch, TransferFormat, Vps, VpsFilterQuery, VpsPatch,
};
use std::str::FromStr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_vps))
        .routes(routes!(import_vps))
        .routes(routes!(export_providers))
        .routes(routes!(import_providers))
}

// ---------------------------------------------------------------- columns

/// The columns of a VPS CSV file, in export order. Import reads them by
/// name, in any order; `READ_ONLY` ones are accepted and ignored.
pub const VPS_COLUMNS: &[&str] = &[
    "id",
    "hostname",
    "alias",
    "provider_name",
    "provider_id",
    "country",
    "city",
    "dc_name",
    "ip_addresses",
    "ssh_port",
    "ssh_user",
    "status",
    "purpose",
    "vpn_protocol",
    "tags",
    "cpu_cores",
    "ram_mb",
    "disk_gb",
    "bandwidth_tb",
    "price",
    "currency",
    "billing_cycle",
    "monthly_cost",
    "purchase_date",
    "expire_date",
    "auto_renew",
    "monitoring_enabled",
    "node_exporter_port",
    "extra",
    "notes",
    "source",
    "created_at",
    "updated_at",
    "retired_at",
];

const VPS_READ_ONLY: &[&str] = &["monthly_cost", "source", "created_at", "updated_at", "retired_at"];

pub const PROVIDER_COLUMNS: &[&str] = &[
    "id",
    "name",
    "country",
    "website",
    "panel_url",
    "api_supported",
    "notes",
    "rating",
    "vps_count",
    "active_vps_count",
    "created_at",
    "updated_at",
];

const PROVIDER_READ_ONLY: &[&str] = &["vps_count", "active_vps_count", "created_at", "updated_at"];

/// `103.1.2.3/china-telecom 2001:db8::1`: addresses with their label, space-separated.
fn ips_cell(v: &Vps) -> String {
    let parts: Vec<String> = v
        .ip_addresses
        .iter()
        .map(|e| match e.label {
            Some(l) => format!("{}/{}", e.ip, l),
            None => e.ip.to_string(),
        })
        .collect();
    parts.join(" ")
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn vps_record(v: &Vps) -> Vec<String> {
    vec![
        v.id.to_string(),
        v.hostname.clone(),
        opt(&v.alias),
        v.provider_name.clone(),
        v.provider_id.to_string(),
        v.country.clone(),
        opt(&v.city),
        opt(&v.dc_name),
        ips_cell(v),
        v.ssh_port.to_string(),
        opt(&v.ssh_user),
        v.status.to_string(),
        v.purpose.to_string(),
        opt(&v.vpn_protocol),
        v.tags.join(","),
        opt(&v.cpu_cores),
        opt(&v.ram_mb),
        opt(&v.disk_gb),
        opt(&v.bandwidth_tb),
        opt(&v.price),
        v.currency.clone(),
        v.billing_cycle.to_string(),
        v.monthly_cost.to_string(),
        opt(&v.purchase_date),
        opt(&v.expire_date),
        v.auto_renew.to_string(),
        v.monitoring_enabled.to_string(),
        v.node_exporter_port.to_string(),
        v.extra.to_string(),
        opt(&v.notes),
        v.source.to_string(),
        v.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        v.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        opt(&v.retired_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))),
    ]
}

fn provider_record(p: &Provider) -> Vec<String> {
    vec![
        p.id.to_string(),
        p.name.clone(),
        opt(&p.country),
        opt(&p.website),
        opt(&p.panel_url),
        p.api_supported.to_string(),
        opt(&p.notes),
        opt(&p.rating),
        p.vps_count.to_string(),
        p.active_vps_count.to_string(),
        p.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        p.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    ]
}

fn csv_bytes<T>(columns: &[&str], items: &[T], record: impl Fn(&T) -> Vec<String>) -> ApiResult<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(items.len() * 256 + 512));
    w.write_record(columns).map_err(ApiError::internal)?;
    for item in items {
        w.write_record(record(item)).map_err(ApiError::internal)?;
    }
    w.into_inner().map_err(|e| ApiError::internal(e.to_string()))
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type)), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

// ---------------------------------------------------------------- export

/// Export the VPS matching the filters (the trash excepted), by host name:
/// JSON as an array of VPS objects, CSV with one column per field.
#[utoipa::path(get, path = "/api/vps/export", tag = "vps", params(ExportQuery, VpsFilterQuery),
    responses((status = 200, description = "Every matching VPS",
        content((Vec<Vps> = "application/json"), (String = "text/csv")))))]
async fn export_vps(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(query): AppQuery<ExportQuery>,
    AppQuery(filter): AppQuery<VpsFilterQuery>,
) -> ApiResult<Response> {
    let filter = filter.validate(today()).map_err(ApiError::validation)?;
    let fleet = state.store.all_vps(&filter).await?;
    Ok(match query.format.unwrap_or_default() {
        TransferFormat::Json => Json(fleet).into_response(),
        TransferFormat::Csv => download(
            tokio::task::spawn_blocking(move || csv_bytes(VPS_COLUMNS, &fleet, vps_record))
                .await
                .map_err(ApiError::internal)??,
            "text/csv; charset=utf-8",
            "vps.csv",
        ),
    })
}

/// Export providers (`q`: part of the name), by name.
#[utoipa::path(get, path = "/api/providers/export", tag = "providers", params(ExportQuery, ProviderExportFilter),
    responses((status = 200, description = "Every matching provider",
        content((Vec<Provider> = "application/json"), (String = "text/csv")))))]
async fn export_providers(
    State(state): State<AppState>,
    _: Reader,
    AppQuery(query): AppQuery<ExportQuery>,
    AppQuery(filter): AppQuery<ProviderExportFilter>,
) -> ApiResult<Response> {
    let (q, _) = ProviderListQuery { q: filter.q, ..Default::default() }.validate().map_err(ApiError::validation)?;
    let q = q.map(|q| q.to_lowercase());
    let mut providers = state.store.all_providers().await?;
    if let Some(q) = q {
        providers.retain(|p| p.name.to_lowercase().contains(&q));
    }
    Ok(match query.format.unwrap_or_default() {
        TransferFormat::Json => Json(providers).into_response(),
        TransferFormat::Csv => download(
            csv_bytes(PROVIDER_COLUMNS, &providers, provider_record)?,
            "text/csv; charset=utf-8",
            "providers.csv",
        ),
    })
}

/// Filter of the provider export.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ProviderExportFilter {
    /// Case-insensitive part of the name.
    q: Option<String>,
}

// ---------------------------------------------------------------- import

/// Reads the body up to the import limit (413 beyond it) into one buffer
/// sized from `Content-Length`, releasing each received chunk as it is
/// copied: a large file is held once, not once in chunks and once joined.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> ApiResult<Vec<u8>> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the import file is larger than the import limit of {limit} bytes"),
        )
    };
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(announced.unwrap_or(64 * 1024));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
        if out.len() + chunk.len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The format: the query's, else CSV for a `text/csv` body, else JSON.
fn format_of(query: &ImportQuery, headers: &HeaderMap) -> TransferFormat {
    query.format.unwrap_or_else(|| {
        let csv = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
        if csv { TransferFormat::Csv } else { TransferFormat::Json }
    })
}

fn options(query: &ImportQuery) -> ImportOptions {
    ImportOptions { dry_run: query.dry_run.unwrap_or(false), create_providers: query.create_providers.unwrap_or(false) }
}

/// 200 with the report, or 400 naming every failed row.
fn answer(report: ImportReport) -> ApiResult<Json<ImportReport>> {
    if report.failed == 0 {
        return Ok(Json(report));
    }
    let failed: Vec<_> = report.rows.iter().filter(|r| r.result == ImportResult::Failed).collect();
    let first = failed.first().map(|r| r.row).unwrap_or_default();
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "import_failed",
        format!(
            "{} of {} rows are invalid (the first is row {first}); nothing was stored",
            report.failed, report.total
        ),
    )
    .with_details(json!({"total": report.total, "failed": report.failed, "rows": failed})))
}

/// Import VPS from JSON (an array of VPS objects, as exported) or CSV (as
/// exported; any subset of the columns, `hostname` required). A row
/// updates the VPS with its `id` when there is one (not in the trash),
/// else the live VPS with its host name, except that a retired row with an
/// `id` of its own is a past VPS and is created; columns or keys absent
/// from the file keep their value, empty cells and `null` clear. Anything
/// else is created, keeping the row's `id` when no VPS has it, so an
/// export imports into an empty Sigma as the same fleet. Providers are named by
/// `provider_name` (or `provider_id`). One transaction: when any row
/// fails, nothing is stored and the answer is 400 `import_failed` with
/// each failed row's number and field errors.
#[utoipa::path(post, path = "/api/vps/import", tag = "vps", params(ImportQuery),
    request_body(description = "The file", content((Vec<VpsPatch> = "application/json"), (String = "text/csv"))),
    responses(
        (status = 200, description = "Every row was stored (or, in a dry run, would be)", body = ImportReport),
        (status = 400, description = "A row is invalid (`import_failed`, nothing stored), or the file cannot be read",
            body = sigma_types::ErrorBody)))]
async fn import_vps(
    State(state): State<AppState>,
    op: Operator,
    AppQuery(query): AppQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    let format = format_of(&query, &headers);
    let bytes = read_body(body, &headers, state.import_body_limit).await?;
    let rows = tokio::task::spawn_blocking(move || match format {
        TransferFormat::Json => json_rows(&bytes, vps_json_row),
        TransferFormat::Csv => csv_rows(&bytes, VPS_COLUMNS, VPS_READ_ONLY, vps_csv_row),
    })
    .await
    .map_err(ApiError::internal)??;
    answer(state.store.import_vps(rows, options(&query), &op.audit).await?)
}

/// Import providers from JSON (an array of provider objects) or CSV, matched
/// by `id`, else by name ignoring case; same rules as the VPS import.
#[utoipa::path(post, path = "/api/providers/import", tag = "providers", params(ImportQuery),
    request_body(description = "The file", content((Vec<ProviderPatch> = "application/json"), (String = "text/csv"))),
    responses(
        (status = 200, description = "Every row was stored (or, in a dry run, would be)", body = ImportReport),
        (status = 400, description = "A row is invalid (`import_failed`, nothing stored), or the file cannot be read",
            body = sigma_types::ErrorBody)))]
async fn import_providers(
    State(state): State<AppState>,
    op: Operator,
    AppQuery(query): AppQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    let format = format_of(&query, &headers);
    let bytes = read_body(body, &headers, state.import_body_limit).await?;
    let rows = tokio::task::spawn_blocking(move || match format {
        TransferFormat::Json => json_rows(&bytes, provider_json_row),
        TransferFormat::Csv => csv_rows(&bytes, PROVIDER_COLUMNS, PROVIDER_READ_ONLY, provider_csv_row),
    })
    .await
    .map_err(ApiError::internal)??;
    answer(state.store.import_providers(rows, options(&query), &op.audit).await?)
}

// ---------------------------------------------------------------- JSON

/// Splits a JSON array into its elements without copying them, then reads
/// each on its own so that one bad element fails its row only.
fn json_rows<R>(bytes: &[u8], row: impl Fn(u64, &str) -> R) -> ApiResult<Vec<R>> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the import body must be a JSON array of objects (or CSV with format=csv)",
        ));
    }
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("the import body is not valid JSON: {e}"))
    })?;
    Ok(items.iter().enumerate().map(|(i, raw)| row(i as u64 + 1, raw.get())).collect())
}

/// Reads one element as `T`, naming the field that does not fit.
fn element<T: DeserializeOwned + Default>(text: &str, errors: &mut FieldErrors) -> T {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let message = message.split(" at line ").next().unwrap_or_default().to_owned();
            errors.add(if path.is_empty() || path == "." { "row".to_owned() } else { path }, message);
            T::default()
        }
    }
}

/// What a JSON record gives beyond the editable fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordRefs {
    id: Option<uuid::Uuid>,
    provider_name: Option<String>,
}

fn vps_json_row(row: u64, text: &str) -> VpsImportRow {
    let mut errors = FieldErrors::default();
    let patch: VpsPatch = element(text, &mut errors);
    let refs: RecordRefs = if errors.is_empty() { element(text, &mut errors) } else { RecordRefs::default() };
    VpsImportRow { row, line: None, id: refs.id, provider_name: refs.provider_name, patch, errors }
}

fn provider_json_row(row: u64, text: &str) -> ProviderImportRow {
    let mut errors = FieldErrors::default();
    let patch: ProviderPatch = element(text, &mut errors);
    let refs: RecordRefs = if errors.is_empty() { element(text, &mut errors) } else { RecordRefs::default() };
    ProviderImportRow { row, line: None, id: refs.id, patch, errors }
}

// ---------------------------------------------------------------- CSV

fn csv_error(e: &csv::Error) -> ApiError {
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => format!(
            "line {}: field {} is not valid UTF-8; the file must be encoded as UTF-8",
            pos.as_ref().map_or(0, |p| p.line()),
            err.field() + 1
        ),
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => format!(
            "line {}: the record has {len} fields but the header has {expected_len} (check the quoting: a field \
             with a comma, quote or line break must be in double quotes, with quotes doubled inside)",
            pos.as_ref().map_or(0, |p| p.line()),
        ),
        _ => format!("the CSV file cannot be read: {e}"),
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_csv", message)
}

/// Reads a CSV file with a header row: checks the header against the known
/// columns, then turns each record into a row with `row`.
fn csv_rows<R>(
    bytes: &[u8],
    columns: &[&str],
    read_only: &[&str],
    row: impl Fn(u64, u64, &[(&str, &str)]) -> R,
) -> ApiResult<Vec<R>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") || bytes.iter().take(4096).any(|b| *b == 0) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_csv",
            "the file is not UTF-8 text (it looks like UTF-16); save it as UTF-8",
        ));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let header = reader.headers().map_err(|e| csv_error(&e))?.clone();
    if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_csv", "the CSV file has no header row"));
    }
    let names: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let unknown: Vec<&str> = names.iter().map(String::as_str).filter(|n| !columns.contains(n)).collect();
    if !unknown.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_csv",
            format!("unknown column(s) {}; the columns are: {}", unknown.join(", "), columns.join(", ")),
        ));
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_csv", format!("column {n} appears twice")));
        }
    }
    let key = columns[1];
    if !names.iter().any(|n| n == key) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_csv",
            format!("the header has no {key} column; rows are matched by {key}"),
        ));
    }
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut n = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e)),
        }
        n += 1;
        let line = record.position().map_or(0, |p| p.line());
        let cells: Vec<(&str, &str)> = names
            .iter()
            .zip(record.iter())
            .filter(|(name, _)| !read_only.contains(&name.as_str()))
            .map(|(name, value)| (name.as_str(), value))
            .collect();
        out.push(row(n, line, &cells));
    }
    Ok(out)
}

/// An empty cell clears the field; anything else must parse.
fn cell<T>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Patch<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Patch::Null;
    }
    match parse(raw) {
        Ok(v) => Patch::Value(v),
        Err(message) => {
            errors.add(field, message);
            Patch::Missing
        }
    }
}

/// The value of a cell, or `None` when it is empty or unreadable.
fn value<T>(p: Patch<T>) -> Option<T> {
    match p {
        Patch::Value(v) => Some(v),
        _ => None,
    }
}

fn text(raw: &str) -> Result<String, String> {
    Ok(raw.to_owned())
}

fn number(raw: &str) -> Result<i32, String> {
    raw.parse().map_err(|_| format!("{raw:?} is not a whole number"))
}

fn decimal(raw: &str) -> Result<Decimal, String> {
    Decimal::from_str(raw).map_err(|_| format!("{raw:?} is not a decimal number"))
}

fn date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::from_str(raw).map_err(|_| format!("{raw:?} is not a date (YYYY-MM-DD)"))
}

fn boolean(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(format!("{raw:?} is not true or false")),
    }
}

fn enumeration<T: FromStr<Err = String>>(raw: &str) -> Result<T, String> {
    T::from_str(raw)
}

/// `ip/label` pairs separated by spaces; the label is optional.
fn addresses(raw: &str) -> Result<Vec<IpEntryInput>, String> {
    Ok(raw
        .split_whitespace()
        .map(|token| match token.rsplit_once('/') {
            Some((ip, label)) => match IpLabel::from_str(label) {
                Ok(l) => IpEntryInput { ip: ip.to_owned(), label: Some(l) },
                // Not a label: a prefix such as /32, which the address check judges.
                Err(_) => IpEntryInput { ip: token.to_owned(), label: None },
            },
            None => IpEntryInput { ip: token.to_owned(), label: None },
        })
        .collect())
}

fn tags(raw: &str) -> Result<Vec<String>, String> {
    Ok(raw.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
}

fn object(raw: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(raw).map_err(|e| format!("is not valid JSON: {e}"))
}

fn uuid(raw: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(raw).map_err(|_| format!("{raw:?} is not a UUID"))
}

fn vps_csv_row(row: u64, line: u64, cells: &[(&str, &str)]) -> VpsImportRow {
    let mut e = FieldErrors::default();
    let mut p = VpsPatch::default();
    let mut provider_name = None;
    let mut id = None;
    for &(name, raw) in cells {
        let e = &mut e;
        match name {
            "id" => id = value(cell(e, name, raw, uuid)),
            "hostname" => p.hostname = cell(e, name, raw, text),
            "alias" => p.alias = cell(e, name, raw, text),
            "provider_name" => provider_name = Some(raw.trim().to_owned()).filter(|s| !s.is_empty()),
            "provider_id" => p.provider_id = cell(e, name, raw, uuid),
            "country" => p.country = cell(e, name, raw, text),
            "city" => p.city = cell(e, name, raw, text),
            "dc_name" => p.dc_name = cell(e, name, raw, text),
            "ip_addresses" => p.ip_addresses = cell(e, name, raw, addresses),
            "ssh_port" => p.ssh_port = cell(e, name, raw, number),
            "ssh_user" => p.ssh_user = cell(e, name, raw, text),
            "status" => p.status = cell(e, name, raw, enumeration),
            "purpose" => p.purpose = cell(e, name, raw, enumeration),
            "vpn_protocol" => p.vpn_protocol = cell(e, name, raw, text),
            "tags" => p.tags = cell(e, name, raw, tags),
            "cpu_cores" => p.cpu_cores = cell(e, name, raw, number),
            "ram_mb" => p.ram_mb = cell(e, name, raw, number),
            "disk_gb" => p.disk_gb = cell(e, name, raw, number),
            "bandwidth_tb" => p.bandwidth_tb = cell(e, name, raw, decimal),
            "price" => p.price = cell(e, name, raw, decimal),
            "currency" => p.currency = cell(e, name, raw, text),
            "billing_cycle" => p.billing_cycle = cell(e, name, raw, enumeration),
            "purchase_date" => p.purchase_date = cell(e, name, raw, date),
            "expire_date" => p.expire_date = cell(e, name, raw, date),
            "auto_renew" => p.auto_renew = cell(e, name, raw, boolean),
            "monitoring_enabled" => p.monitoring_enabled = cell(e, name, raw, boolean),
            "node_exporter_port" => p.node_exporter_port = cell(e, name, raw, number),
            "extra" => p.extra = cell(e, name, raw, object),
            "notes" => p.notes = cell(e, name, raw, text),
            _ => {}
        }
    }
    // A cleared tag or address list is an empty list.
    if matches!(p.tags, Patch::Null) {
        p.tags = Patch::Value(Vec::new());
    }
    if matches!(p.ip_addresses, Patch::Null) {
        p.ip_addresses = Patch::Value(Vec::new());
    }
    VpsImportRow { row, line: Some(line), id, provider_name, patch: p, errors: e }
}

fn provider_csv_row(row: u64, line: u64, cells: &[(&str, &str)]) -> ProviderImportRow {
    let mut e = FieldErrors::default();
    let mut p = ProviderPatch::default();
    let mut id = None;
    for &(name, raw) in cells {
        let e = &mut e;
        match name {
            "id" => id = value(cell(e, name, raw, uuid)),
            "name" => p.name = cell(e, name, raw, text),
            "country" => p.country = cell(e, name, raw, text),
            "website" => p.website = cell(e, name, raw, text),
            "panel_url" => p.panel_url = cell(e, name, raw, text),
            "api_supported" => p.api_supported = cell(e, name, raw, boolean),
            "notes" => p.notes = cell(e, name, raw, text),
            "rating" => p.rating = cell(e, name, raw, number),
            _ => {}
        }
    }
    ProviderImportRow { row, line: Some(line), id, patch: p, errors: e }
}
