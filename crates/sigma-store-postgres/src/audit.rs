//! The audit log: written inside each change's transaction, read newest first.

use crate::now;
use sigma_store::{AuditContext, Result, StoreError};
use sigma_types::{ActorKind, AuditActor, AuditEntry, AuditFilter, Page, PageRequest, Vps};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use uuid::Uuid;

/// One change: `before` is absent for creations, `after` for deletions.
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub(crate) async fn record(tx: &mut PgConnection, by: &AuditContext, c: Change<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, resource_type, resource_id, before, after, ip, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(Uuid::now_v7())
    .bind(now())
    .bind(by.actor.kind.as_str())
    .bind(by.actor.id)
    .bind(&by.actor.name)
    .bind(c.action)
    .bind(c.resource_type)
    .bind(c.resource_id)
    .bind(c.before)
    .bind(c.after)
    .bind(by.ip.map(|ip| ip.to_string()))
    .bind(&by.request_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records one action on many resources (an import), with a summary
/// instead of a before and after of each.
pub(crate) async fn record_summary(
    tx: &mut PgConnection,
    by: &AuditContext,
    action: &str,
    resource_type: &str,
    summary: serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, resource_type, resource_id, before, after, ip, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(Uuid::now_v7())
    .bind(now())
    .bind(by.actor.kind.as_str())
    .bind(by.actor.id)
    .bind(&by.actor.name)
    .bind(action)
    .bind(resource_type)
    .bind(None::<Uuid>)
    .bind(None::<serde_json::Value>)
    .bind(summary)
    .bind(by.ip.map(|ip| ip.to_string()))
    .bind(&by.request_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records a VPS change, unless nothing changed (an idempotent call).
pub(crate) async fn vps_change(
    tx: &mut PgConnection,
    by: &AuditContext,
    action: &str,
    before: Option<&Vps>,
    after: Option<&Vps>,
) -> Result<()> {
    if let (Some(b), Some(a)) = (before, after)
        && b.version == a.version
    {
        return Ok(());
    }
    let resource_id = after.or(before).map(|v| v.id).unwrap_or_default();
    let change = Change {
        action,
        resource_type: "vps",
        resource_id,
        before: before.map(sigma_store::audit_json),
        after: after.map(sigma_store::audit_json),
    };
    record(tx, by, change).await
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, f: &AuditFilter) {
    q.push(" WHERE TRUE");
    if let Some(t) = &f.resource_type {
        q.push(" AND resource_type = ").push_bind(t.clone());
    }
    if let Some(id) = f.resource_id {
        q.push(" AND resource_id = ").push_bind(id);
    }
    if let Some(a) = &f.action {
        q.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(actor) = &f.actor {
        q.push(" AND (actor_name = ")
            .push_bind(actor.clone())
            .push(" OR actor_id::text = ")
            .push_bind(actor.clone())
            .push(")");
    }
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND at < ").push_bind(to);
    }
}

fn entry(r: &PgRow) -> Result<AuditEntry> {
    let kind: String = r.try_get("actor_kind")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: AuditActor {
            kind: ActorKind::parse(&kind).ok_or_else(|| StoreError::other(format!("unknown actor kind {kind}")))?,
            id: r.try_get("actor_id")?,
            name: r.try_get("actor_name")?,
        },
        action: r.try_get("action")?,
        resource_type: r.try_get("resource_type")?,
        resource_id: r.try_get("resource_id")?,
        before: r.try_get("before")?,
        after: r.try_get("after")?,
        ip: r.try_get("ip")?,
        request_id: r.try_get("request_id")?,
    })
}

pub(crate) async fn list(pool: &sqlx::PgPool, f: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM audit_log");
    push_filter(&mut count, f);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
    let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM audit_log");
    push_filter(&mut q, f);
    q.push(" ORDER BY id DESC LIMIT ").push_bind(page.limit()).push(" OFFSET ").push_bind(page.offset());
    let data = q.build().fetch_all(pool).await?.iter().map(entry).collect::<Result<_>>()?;
    Ok(Page { data, total, page: page.page, per_page: page.per_page })
}
