//! `sigma vps|provider import|export`: files in the server's JSON and CSV
//! formats, with progress on a terminal.

use super::Ctx;
use crate::cli::{ExportArgs, FileFormat, ImportArgs};
use crate::config::write_atomically;
use crate::error::{CliError, CliResult};
use crate::output::{Cell, Column, Format, Tone, col, emit, emit_bytes, opt};
use crate::progress;
use sigma_types::{ImportQuery, ImportReport, ImportResult, ImportRow, TransferFormat};
use std::future::Future;
use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Vps,
    Providers,
}

const ROW_COLUMNS: &[Column<ImportRow>] = &[
    col("row", |r| r.row.to_string().into()),
    col("line", |r| opt(&r.line)),
    col("key", |r| opt(&r.key)),
    col("result", |r| {
        let (text, tone) = match r.result {
            ImportResult::Created => ("created", Tone::Good),
            ImportResult::Updated => ("updated", Tone::Info),
            ImportResult::Unchanged => ("unchanged", Tone::Dim),
            ImportResult::Failed => ("failed", Tone::Bad),
        };
        Cell::new(text, tone)
    }),
    col("id", |r| opt(&r.id)),
];

fn read_file(path: &std::path::Path) -> CliResult<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(path).map_err(|e| CliError::failure(format!("cannot read {}: {e}", path.display())))?;
    }
    Ok(bytes)
}

/// Records in a file, roughly: CSV lines after the header, or JSON objects.
fn rough_count(bytes: &[u8], format: FileFormat) -> usize {
    match format {
        FileFormat::Csv => bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count().saturating_sub(1),
        FileFormat::Json => serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(bytes).map_or(0, |v| v.len()),
    }
}

pub async fn import(args: ImportArgs, kind: Kind, ctx: &Ctx) -> CliResult<()> {
    let from_stdin = args.file.as_os_str() == "-";
    let format = FileFormat::pick(args.format, (!from_stdin).then_some(args.file.as_path()));
    if kind == Kind::Providers && args.create_providers {
        return Err(CliError::usage("--create-providers is for VPS imports"));
    }
    let bytes = read_file(&args.file)?;
    let rows = rough_count(&bytes, format);
    let what = if kind == Kind::Vps { "VPS" } else { "providers" };
    let verb = if args.dry_run { "Checking" } else { "Importing" };
    let bar = progress::spinner(format!("{verb} {rows} {what} ({} KiB)", bytes.len().div_ceil(1024)));
    let query = ImportQuery {
        format: Some(format.wire()),
        dry_run: Some(args.dry_run),
        create_providers: args.create_providers.then_some(true),
    };
    let result = match kind {
        Kind::Vps => ctx.client.import_vps(bytes, &query).await,
        Kind::Providers => ctx.client.import_providers(bytes, &query).await,
    };
    bar.finish_and_clear();
    let report = result?;
    match ctx.out.format {
        Format::Json | Format::Yaml => ctx.out.data(&report),
        Format::Csv => ctx.out.list(&report.rows, ROW_COLUMNS),
        Format::Table => emit(&summary(&report, what)),
    }
}

fn summary(r: &ImportReport, what: &str) -> String {
    let mut line = format!(
        "{} {what} in the file: {} created, {} updated, {} unchanged",
        r.total, r.created, r.updated, r.unchanged
    );
    if !r.providers_created.is_empty() {
        line.push_str(&format!("; providers created: {}", r.providers_created.join(", ")));
    }
    if r.dry_run {
        line.push_str(" (dry run: nothing was stored)");
    }
    line.push('\n');
    line
}

/// Downloads an export and writes it to `--file` (atomically) or standard output.
pub async fn export<F, Fut>(args: ExportArgs, what: &str, fetch: F) -> CliResult<()>
where
    F: FnOnce(TransferFormat, Box<dyn FnMut(u64, Option<u64>) + Send>) -> Fut,
    Fut: Future<Output = sigma_client::Result<Vec<u8>>>,
{
    let format = FileFormat::pick(args.format, args.file.as_deref());
    let bar = progress::download(format!("Exporting {what}"));
    let report = bar.clone();
    let body = fetch(format.wire(), Box::new(move |got, expected| progress::advance(&report, got, expected))).await;
    bar.finish_and_clear();
    let body = body?;
    match args.file {
        Some(path) => {
            write_atomically(&path, &body, 0o644)
                .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {} bytes to {}", body.len(), path.display());
            Ok(())
        }
        None => emit_bytes(&body),
    }
}
