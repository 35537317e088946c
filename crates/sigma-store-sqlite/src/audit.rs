//! The audit log: written inside each change's transaction, read newest first.

use crate::rows::{time, uuid};
use crate::{now, ts};
use sigma_store::{AuditContext, Result, StoreError};
use sigma_types::{ActorKind, AuditActor, AuditEntry, AuditFilter, Page, PageRequest};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

/// One change: `before` is absent for creations, `after` for deletions.
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub(crate) async fn record(tx: &mut SqliteConnection, by: &AuditContext, c: Change<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, resource_type, resource_id, before, after, ip, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(ts(now()))
    .bind(by.actor.kind.as_str())
    .bind(by.actor.id.map(|u| u.to_string()))
    .bind(&by.actor.name)
    .bind(c.action)
    .bind(c.resource_type)
    .bind(c.resource_id.to_string())
    .bind(c.before.map(|v| v.to_string()))
    .bind(c.after.map(|v| v.to_string()))
    .bind(by.ip.map(|ip| ip.to_string()))
    .bind(&by.request_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records one action on many resources (an import), with a summary
/// instead of a before and after of each.
pub(crate) async fn record_summary(
    tx: &mut SqliteConnection,
    by: &AuditContext,
    action: &str,
    resource_type: &str,
    summary: serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, resource_type, resource_id, before, after, ip, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(ts(now()))
    .bind(by.actor.kind.as_str())
    .bind(by.actor.id.map(|u| u.to_string()))
    .bind(&by.actor.name)
    .bind(action)
    .bind(resource_type)
    .bind(None::<String>)
    .bind(None::<String>)
    .bind(summary.to_string())
    .bind(by.ip.map(|ip| ip.to_string()))
    .bind(&by.request_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &AuditFilter) {
    q.push(" WHERE 1 = 1");
    if let Some(t) = &f.resource_type {
        q.push(" AND resource_type = ").push_bind(t.clone());
    }
    if let Some(id) = f.resource_id {
        q.push(" AND resource_id = ").push_bind(id.to_string());
    }
    if let Some(a) = &f.action {
        q.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(actor) = &f.actor {
        q.push(" AND (actor_name = ")
            .push_bind(actor.clone())
            .push(" OR actor_id = ")
            .push_bind(actor.clone())
            .push(")");
    }
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(ts(from));
    }
    if let Some(to) = f.to {
        q.push(" AND at < ").push_bind(ts(to));
    }
}

fn json(s: Option<String>) -> Result<Option<serde_json::Value>> {
    s.map(|s| serde_json::from_str(&s).map_err(StoreError::other)).transpose()
}

fn entry(r: &SqliteRow) -> Result<AuditEntry> {
    let kind: String = r.try_get("actor_kind")?;
    Ok(AuditEntry {
        id: uuid(r.try_get("id")?)?,
        at: time(r.try_get("at")?)?,
        actor: AuditActor {
            kind: ActorKind::parse(&kind).ok_or_else(|| StoreError::other(format!("unknown actor kind {kind}")))?,
            id: r.try_get::<Option<String>, _>("actor_id")?.as_deref().map(uuid).transpose()?,
            name: r.try_get("actor_name")?,
        },
        action: r.try_get("action")?,
        resource_type: r.try_get("resource_type")?,
        resource_id: r.try_get::<Option<String>, _>("resource_id")?.as_deref().map(uuid).transpose()?,
        before: json(r.try_get("before")?)?,
        after: json(r.try_get("after")?)?,
        ip: r.try_get("ip")?,
        request_id: r.try_get("request_id")?,
    })
}

pub(crate) async fn list(pool: &sqlx::SqlitePool, f: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
    let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM audit_log");
    push_filter(&mut count, f);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
    let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM audit_log");
    push_filter(&mut q, f);
    q.push(" ORDER BY id DESC LIMIT ").push_bind(page.limit()).push(" OFFSET ").push_bind(page.offset());
    let data = q.build().fetch_all(pool).await?.iter().map(entry).collect::<Result<_>>()?;
    Ok(Page { data, total, page: page.page, per_page: page.per_page })
}
