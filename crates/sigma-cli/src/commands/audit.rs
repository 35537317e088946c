//! `sigma audit`

use super::Ctx;
use crate::cli::AuditArgs;
use crate::error::CliResult;
use crate::output::{Column, Format, col, opt, wide};
use sigma_types::{AuditEntry, AuditQuery};

fn json_cell(v: &Option<serde_json::Value>) -> crate::output::Cell {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default().into()
}

const COLUMNS: &[Column<AuditEntry>] = &[
    wide("id", |a| a.id.to_string().into()),
    col("at", |a| a.at.format("%Y-%m-%d %H:%M:%S").to_string().into()),
    col("actor", |a| a.actor.name.as_str().into()),
    wide("actor_kind", |a| a.actor.kind.as_str().into()),
    wide("actor_id", |a| opt(&a.actor.id)),
    col("action", |a| a.action.as_str().into()),
    col("resource_type", |a| a.resource_type.as_str().into()),
    col("resource_id", |a| opt(&a.resource_id)),
    col("ip", |a| opt(&a.ip)),
    wide("request_id", |a| opt(&a.request_id)),
    wide("before", |a| json_cell(&a.before)),
    wide("after", |a| json_cell(&a.after)),
];

pub async fn run(args: AuditArgs, ctx: &Ctx) -> CliResult<()> {
    let query = AuditQuery {
        resource_type: args.resource_type,
        resource_id: args.resource_id,
        action: args.action,
        actor: args.actor,
        from: args.from,
        to: args.to,
        page: Some(args.page),
        per_page: Some(args.per_page),
    };
    let page = ctx.client.audit_logs(&query).await?;
    ctx.out.list(&page.data, COLUMNS)?;
    let shown = u64::from(page.page.saturating_sub(1)) * u64::from(page.per_page) + page.data.len() as u64;
    if ctx.out.format == Format::Table && (shown as i64) < page.total {
        eprintln!("{shown} of {} entries; --page {} shows more", page.total, page.page + 1);
    }
    Ok(())
}
