//! Agents on SQLite: enrolment, keys, heartbeats and status transitions.

use crate::audit::{self, Change};
use crate::rows::{parse_enum, time, uuid};
use crate::{SqliteStore, now, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sigma_store::agents::{
    AgentKeyOwner, AgentStore, AgentTransition, ClaimState, ClaimTarget, HeartbeatOutcome, HeartbeatWrite, Registered,
    TokenRefusal, agent_vps_draft, same_secret, token_refusal,
};
use sigma_store::{AuditContext, Result, StoreError, audit_json};
use sigma_types::{
    Agent, AgentCounts, AgentFilter, AgentRegistration, AgentStatus, EnrollmentToken, EnrollmentTokenDraft,
    FieldErrors, NewVpsDefaults, Page, PageRequest, Source, Vps, VpsAgent,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::HashMap;
use uuid::Uuid;

const AGENT_SELECT: &str = "SELECT * FROM agents";

fn agent(r: &SqliteRow) -> Result<Agent> {
    let ips: Vec<String> = serde_json::from_str(r.try_get("ip_addresses")?).map_err(StoreError::other)?;
    let opt_time = |name: &str| -> Result<Option<DateTime<Utc>>> {
        r.try_get::<Option<String>, _>(name)?.as_deref().map(time).transpose()
    };
    let heartbeat: Option<String> = r.try_get("heartbeat")?;
    Ok(Agent {
        id: uuid(r.try_get("id")?)?,
        status: parse_enum(r.try_get("status")?)?,
        claimed: r.try_get::<Option<String>, _>("claimed_at")?.is_some(),
        vps_id: r.try_get::<Option<String>, _>("vps_id")?.as_deref().map(uuid).transpose()?,
        hostname: r.try_get("hostname")?,
        agent_version: r.try_get("agent_version")?,
        os: r.try_get("os")?,
        arch: r.try_get("arch")?,
        ip_addresses: ips.iter().filter_map(|s| s.parse().ok()).collect(),
        registered_at: time(r.try_get("registered_at")?)?,
        claimed_at: opt_time("claimed_at")?,
        enrolled_by: r.try_get("enrolled_by")?,
        key_pending: r.try_get("key_pending")?,
        last_heartbeat_at: opt_time("last_heartbeat_at")?,
        status_changed_at: time(r.try_get("status_changed_at")?)?,
        metrics: heartbeat.as_deref().map(serde_json::from_str).transpose().map_err(StoreError::other)?,
    })
}

async fn get_agent(e: &mut SqliteConnection, id: Uuid) -> Result<Agent> {
    let row = sqlx::query(&format!("{AGENT_SELECT} WHERE id = ?"))
        .bind(id.to_string())
        .fetch_optional(&mut *e)
        .await?
        .ok_or(StoreError::NotFound)?;
    agent(&row)
}

fn token(r: &SqliteRow) -> Result<EnrollmentToken> {
    let new_vps: Option<String> = r.try_get("new_vps")?;
    Ok(EnrollmentToken {
        id: uuid(r.try_get("id")?)?,
        name: r.try_get("name")?,
        created_at: time(r.try_get("created_at")?)?,
        expires_at: time(r.try_get("expires_at")?)?,
        max_uses: r.try_get("max_uses")?,
        uses: r.try_get("uses")?,
        revoked_at: r.try_get::<Option<String>, _>("revoked_at")?.as_deref().map(time).transpose()?,
        new_vps: new_vps.as_deref().map(serde_json::from_str).transpose().map_err(StoreError::other)?,
    })
}

async fn insert_agent(
    tx: &mut SqliteConnection,
    r: &AgentRegistration,
    claimed_by: Option<&str>,
    at: DateTime<Utc>,
) -> Result<()> {
    let ips: Vec<String> = r.ip_addresses.iter().map(|i| i.to_string()).collect();
    sqlx::query(
        "INSERT INTO agents (id, claim_hash, hostname, agent_version, os, arch, ip_addresses, registered_at,
         claimed_at, enrolled_by, key_pending, status, status_changed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
    )
    .bind(r.agent_id.to_string())
    .bind(&r.claim_token_hash)
    .bind(&r.hostname)
    .bind(&r.agent_version)
    .bind(&r.os)
    .bind(&r.arch)
    .bind(serde_json::to_string(&ips).map_err(StoreError::other)?)
    .bind(ts(at))
    .bind(claimed_by.map(|_| ts(at)))
    .bind(claimed_by)
    .bind(claimed_by.is_some())
    .bind(ts(at))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The claim hash of an existing agent, if any.
async fn existing_hash(tx: &mut SqliteConnection, id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT claim_hash FROM agents WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?)
}

fn other_claim() -> StoreError {
    StoreError::Conflict(
        sigma_store::Conflict::new("this agent id is registered with another claim token").on("claim_token_hash"),
    )
}

async fn record(
    tx: &mut SqliteConnection,
    by: &AuditContext,
    action: &str,
    id: Uuid,
    before: Option<&Agent>,
    after: Option<&Agent>,
) -> Result<()> {
    let change = Change {
        action,
        resource_type: "agent",
        resource_id: id,
        before: before.map(audit_json),
        after: after.map(audit_json),
    };
    audit::record(tx, by, change).await
}

/// Links a claimed agent to a VPS as `target` says.
async fn link(tx: &mut SqliteConnection, a: &Agent, target: &ClaimTarget, by: &AuditContext) -> Result<()> {
    let vps_id = if let Some(id) = target.vps_id {
        let v = crate::rows::get_vps(&mut *tx, id).await.map_err(|e| match e {
            StoreError::NotFound => StoreError::Invalid(FieldErrors::single("vps_id", "no VPS has this id")),
            e => e,
        })?;
        if !v.is_live() {
            return Err(StoreError::Invalid(FieldErrors::single("vps_id", "the VPS is retired or in the trash")));
        }
        Some(id)
    } else if let Some(id) = holder(tx, a).await? {
        Some(id)
    } else if let Some(defaults) = &target.new_vps {
        Some(new_vps(tx, a, defaults, by).await?)
    } else if target.require_vps {
        return Err(StoreError::Invalid(FieldErrors::single(
            "vps_id",
            "no live VPS holds the agent's addresses: give vps_id, or provider_id, country and purpose for a new VPS",
        )));
    } else {
        None
    };
    if let Some(vps_id) = vps_id {
        // One agent per VPS: a new agent replaces the earlier one.
        sqlx::query("UPDATE agents SET vps_id = NULL WHERE vps_id = ? AND id <> ?")
            .bind(vps_id.to_string())
            .bind(a.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE agents SET vps_id = ? WHERE id = ?")
            .bind(vps_id.to_string())
            .bind(a.id.to_string())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// The live VPS holding one of the agent's addresses.
async fn holder(tx: &mut SqliteConnection, a: &Agent) -> Result<Option<Uuid>> {
    if a.ip_addresses.is_empty() {
        return Ok(None);
    }
    let mut q = QueryBuilder::<Sqlite>::new("SELECT vps_id FROM vps_ip WHERE live = 1 AND ip IN (");
    let mut list = q.separated(", ");
    for ip in &a.ip_addresses {
        list.push_bind(ip.to_string());
    }
    q.push(") LIMIT 1");
    let found: Option<String> = q.build_query_scalar().fetch_optional(&mut *tx).await?;
    found.as_deref().map(uuid).transpose()
}

async fn new_vps(tx: &mut SqliteConnection, a: &Agent, defaults: &NewVpsDefaults, by: &AuditContext) -> Result<Uuid> {
    let draft = agent_vps_draft(a, defaults);
    let v = crate::vps::insert(tx, &draft, Source::Agent).await?;
    crate::vps_change(tx, by, "create", None, Some(&v)).await?;
    Ok(v.id)
}

/// Fills the `agent` field of VPS from their agents.
pub(crate) async fn attach(pool: &sqlx::SqlitePool, list: &mut [Vps]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT id, vps_id, status, last_heartbeat_at, heartbeat FROM agents WHERE vps_id IN (",
    );
    let mut ids = q.separated(", ");
    for v in list.iter() {
        ids.push_bind(v.id.to_string());
    }
    q.push(")");
    let rows = q.build().fetch_all(pool).await?;
    let mut by_vps = HashMap::new();
    for r in &rows {
        let heartbeat: Option<String> = r.try_get("heartbeat")?;
        let last: Option<String> = r.try_get("last_heartbeat_at")?;
        by_vps.insert(
            r.try_get::<String, _>("vps_id")?,
            VpsAgent {
                agent_id: uuid(r.try_get("id")?)?,
                status: parse_enum(r.try_get("status")?)?,
                last_heartbeat_at: last.as_deref().map(time).transpose()?,
                metrics: heartbeat.as_deref().map(serde_json::from_str).transpose().map_err(StoreError::other)?,
            },
        );
    }
    for v in list.iter_mut() {
        v.agent = by_vps.remove(&v.id.to_string());
    }
    Ok(())
}

async fn transitions(tx: &mut SqliteConnection, list: &[AgentTransition]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO agent_transitions (id, agent_id, status, at) ");
    q.push_values(list, |mut b, t| {
        b.push_bind(Uuid::now_v7().to_string())
            .push_bind(t.agent_id.to_string())
            .push_bind(t.status.as_str())
            .push_bind(ts(t.at));
    });
    q.build().execute(&mut *tx).await?;
    Ok(())
}

/// Agent id, VPS id, host name, whether it came online, heartbeat time.
type BeatRow = (String, Option<String>, String, bool, String);

/// Rows per statement of a heartbeat batch (7 parameters each, well under
/// SQLite's limit of 32766).
const BATCH: usize = 500;

#[async_trait]
impl AgentStore for SqliteStore {
    async fn register_agent(&self, r: &AgentRegistration, by: &AuditContext) -> Result<(Agent, Registered)> {
        let mut tx = self.write.begin().await?;
        if let Some(hash) = existing_hash(&mut tx, r.agent_id).await? {
            if hash != r.claim_token_hash {
                return Err(other_claim());
            }
            return Ok((get_agent(&mut tx, r.agent_id).await?, Registered::Again));
        }
        insert_agent(&mut tx, r, None, now()).await?;
        let a = get_agent(&mut tx, r.agent_id).await?;
        record(&mut tx, by, "register", a.id, None, Some(&a)).await?;
        tx.commit().await?;
        Ok((a, Registered::Created))
    }

    async fn enroll_agent(
        &self,
        r: &AgentRegistration,
        token_hash: &str,
        by: &AuditContext,
    ) -> Result<std::result::Result<(Agent, Registered), TokenRefusal>> {
        let mut tx = self.write.begin().await?;
        if let Some(hash) = existing_hash(&mut tx, r.agent_id).await? {
            if hash != r.claim_token_hash {
                return Err(other_claim());
            }
            return Ok(Ok((get_agent(&mut tx, r.agent_id).await?, Registered::Again)));
        }
        let Some(row) = sqlx::query("SELECT * FROM enrollment_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Err(TokenRefusal::Unknown));
        };
        let t = token(&row)?;
        let at = now();
        if let Some(refusal) = token_refusal(t.uses, t.max_uses, t.expires_at, t.revoked_at.is_some(), at) {
            return Ok(Err(refusal));
        }
        sqlx::query("UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = ?")
            .bind(t.id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_agent(&mut tx, r, Some("enrollment-token"), at).await?;
        let a = get_agent(&mut tx, r.agent_id).await?;
        let target = ClaimTarget { vps_id: None, new_vps: t.new_vps.clone(), require_vps: false };
        link(&mut tx, &a, &target, by).await?;
        let a = get_agent(&mut tx, r.agent_id).await?;
        record(&mut tx, by, "enroll", a.id, None, Some(&a)).await?;
        tx.commit().await?;
        Ok(Ok((a, Registered::Created)))
    }

    async fn claim_agent(
        &self,
        id: Uuid,
        claim_hash: &str,
        target: &ClaimTarget,
        by: &AuditContext,
    ) -> Result<Option<Agent>> {
        let mut tx = self.write.begin().await?;
        let before = get_agent(&mut tx, id).await?;
        let stored = existing_hash(&mut tx, id).await?.unwrap_or_default();
        if !same_secret(stored.as_bytes(), claim_hash.as_bytes()) {
            return Ok(None);
        }
        if before.claimed {
            return Err(StoreError::conflict("the agent is already claimed"));
        }
        sqlx::query("UPDATE agents SET claimed_at = ?, enrolled_by = 'claim', key_pending = 1 WHERE id = ?")
            .bind(ts(now()))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        link(&mut tx, &before, target, by).await?;
        let after = get_agent(&mut tx, id).await?;
        record(&mut tx, by, "claim", id, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(Some(after))
    }

    async fn take_agent_key(&self, id: Uuid, claim_hash: &str, key_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE agents SET key_hash = ?, key_pending = 0 WHERE id = ? AND claim_hash = ? AND key_pending = 1",
        )
        .bind(key_hash)
        .bind(id.to_string())
        .bind(claim_hash)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn agent_claim_state(&self, id: Uuid) -> Result<Option<ClaimState>> {
        let row: Option<(String, Option<String>, bool)> =
            sqlx::query_as("SELECT claim_hash, claimed_at, key_pending FROM agents WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(claim_hash, claimed_at, key_pending)| ClaimState {
            claim_hash,
            claimed: claimed_at.is_some(),
            key_pending,
        }))
    }

    async fn agent_by_key(&self, key_hash: &str) -> Result<Option<AgentKeyOwner>> {
        let row: Option<(String, Option<String>)> = sqlx::query_as("SELECT id, vps_id FROM agents WHERE key_hash = ?")
            .bind(key_hash)
            .fetch_optional(&self.read)
            .await?;
        row.map(|(id, vps)| Ok(AgentKeyOwner { agent_id: uuid(&id)?, vps_id: vps.as_deref().map(uuid).transpose()? }))
            .transpose()
    }

    async fn record_heartbeats(&self, beats: &[HeartbeatWrite]) -> Result<Vec<HeartbeatOutcome>> {
        // The latest of each agent's heartbeats in the batch wins.
        let mut latest: HashMap<Uuid, &HeartbeatWrite> = HashMap::new();
        for b in beats {
            latest.insert(b.agent_id, b);
        }
        let unique: Vec<&HeartbeatWrite> = latest.into_values().collect();
        let mut results: HashMap<Uuid, HeartbeatOutcome> = HashMap::new();
        let mut came_online = Vec::new();
        let mut tx = self.write.begin().await?;
        for chunk in unique.chunks(BATCH) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "UPDATE agents SET last_heartbeat_at = b.column3, offline_after = b.column4, hostname = b.column5,
                 agent_version = b.column6, heartbeat = b.column7,
                 status_changed_at = CASE WHEN agents.status <> 'online' THEN b.column3 ELSE agents.status_changed_at END,
                 status = 'online'
                 FROM (",
            );
            q.push_values(chunk, |mut row, b| {
                row.push_bind(b.agent_id.to_string())
                    .push_bind(b.key_hash.clone())
                    .push_bind(ts(b.at))
                    .push_bind(ts(b.offline_after))
                    .push_bind(b.hostname.clone())
                    .push_bind(b.agent_version.clone())
                    .push_bind(b.data.clone());
            });
            q.push(
                ") AS b WHERE agents.id = b.column1 AND agents.key_hash = b.column2
                 RETURNING agents.id, agents.vps_id, agents.hostname, agents.status_changed_at = agents.last_heartbeat_at, agents.last_heartbeat_at",
            );
            let rows: Vec<BeatRow> = q.build_query_as().fetch_all(&mut *tx).await?;
            for (id, vps, hostname, changed, at) in rows {
                let agent_id = uuid(&id)?;
                let vps_id = vps.as_deref().map(uuid).transpose()?;
                if changed {
                    came_online.push(AgentTransition {
                        agent_id,
                        vps_id,
                        hostname,
                        status: AgentStatus::Online,
                        at: time(&at)?,
                    });
                }
                results.insert(agent_id, HeartbeatOutcome { agent_id, stored: true, came_online: changed, vps_id });
            }
        }
        transitions(&mut tx, &came_online).await?;
        tx.commit().await?;
        Ok(beats
            .iter()
            .map(|b| {
                results.get(&b.agent_id).copied().unwrap_or(HeartbeatOutcome {
                    agent_id: b.agent_id,
                    stored: false,
                    came_online: false,
                    vps_id: None,
                })
            })
            .collect())
    }

    async fn mark_offline_agents(&self, at: DateTime<Utc>) -> Result<Vec<AgentTransition>> {
        let mut tx = self.write.begin().await?;
        let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
            "UPDATE agents SET status = 'offline', status_changed_at = ?1
             WHERE status = 'online' AND offline_after < ?1 RETURNING id, vps_id, hostname",
        )
        .bind(ts(at))
        .fetch_all(&mut *tx)
        .await?;
        let list = rows
            .into_iter()
            .map(|(id, vps, hostname)| {
                Ok(AgentTransition {
                    agent_id: uuid(&id)?,
                    vps_id: vps.as_deref().map(uuid).transpose()?,
                    hostname,
                    status: AgentStatus::Offline,
                    at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        transitions(&mut tx, &list).await?;
        tx.commit().await?;
        Ok(list)
    }

    async fn agent_transitions(&self, id: Uuid) -> Result<Vec<AgentTransition>> {
        let rows: Vec<(String, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT t.status, t.at, a.vps_id, a.hostname, a.id FROM agent_transitions t JOIN agents a ON a.id = t.agent_id
             WHERE t.agent_id = ? ORDER BY t.id",
        )
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(status, at, vps, hostname, id)| {
                Ok(AgentTransition {
                    agent_id: uuid(&id)?,
                    vps_id: vps.as_deref().map(uuid).transpose()?,
                    hostname,
                    status: parse_enum(&status)?,
                    at: time(&at)?,
                })
            })
            .collect()
    }

    async fn get_agent(&self, id: Uuid) -> Result<Agent> {
        let mut conn = self.read.acquire().await?;
        get_agent(&mut conn, id).await
    }

    async fn list_agents(&self, filter: AgentFilter, page: PageRequest) -> Result<Page<Agent>> {
        let push = |q: &mut QueryBuilder<'_, Sqlite>| {
            q.push(" WHERE 1 = 1");
            if let Some(s) = filter.status {
                q.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(c) = filter.claimed {
                q.push(if c { " AND claimed_at IS NOT NULL" } else { " AND claimed_at IS NULL" });
            }
        };
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM agents");
        push(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(&self.read).await?;
        let mut q = QueryBuilder::<Sqlite>::new(AGENT_SELECT);
        push(&mut q);
        q.push(" ORDER BY id LIMIT ").push_bind(page.limit()).push(" OFFSET ").push_bind(page.offset());
        let rows = q.build().fetch_all(&self.read).await?;
        let data = rows.iter().map(agent).collect::<Result<_>>()?;
        Ok(Page { data, total, page: page.page, per_page: page.per_page })
    }

    async fn agent_counts(&self) -> Result<AgentCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM agents GROUP BY status").fetch_all(&self.read).await?;
        let mut c = AgentCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "online" => c.online = n,
                "offline" => c.offline = n,
                _ => c.pending += n,
            }
        }
        Ok(c)
    }

    async fn linked_agents(&self) -> Result<Vec<Agent>> {
        let rows =
            sqlx::query(&format!("{AGENT_SELECT} WHERE vps_id IS NOT NULL AND claimed_at IS NOT NULL ORDER BY id"))
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(agent).collect()
    }

    async fn delete_agent(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let before = get_agent(&mut tx, id).await?;
        sqlx::query("DELETE FROM agents WHERE id = ?").bind(id.to_string()).execute(&mut *tx).await?;
        record(&mut tx, by, "delete", id, Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_agent_key(&self, id: Uuid, by: &AuditContext) -> Result<Agent> {
        let mut tx = self.write.begin().await?;
        let before = get_agent(&mut tx, id).await?;
        if !before.claimed {
            return Err(StoreError::conflict("the agent is not claimed yet: it has no key"));
        }
        sqlx::query("UPDATE agents SET key_hash = NULL, key_pending = 1 WHERE id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let after = get_agent(&mut tx, id).await?;
        record(&mut tx, by, "rotate-key", id, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn create_enrollment_token(
        &self,
        d: &EnrollmentTokenDraft,
        token_hash: &str,
        by: &AuditContext,
    ) -> Result<EnrollmentToken> {
        let id = Uuid::now_v7();
        let mut tx = self.write.begin().await?;
        if let Some(defaults) = &d.new_vps {
            crate::vps::ensure_provider(&mut tx, defaults.provider_id).await?;
        }
        sqlx::query(
            "INSERT INTO enrollment_tokens (id, token_hash, name, created_at, expires_at, max_uses, new_vps)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(token_hash)
        .bind(&d.name)
        .bind(ts(now()))
        .bind(ts(d.expires_at))
        .bind(d.max_uses)
        .bind(d.new_vps.as_ref().map(|n| serde_json::to_string(n).unwrap_or_default()))
        .execute(&mut *tx)
        .await?;
        let t = get_token(&mut tx, id).await?;
        let change = Change {
            action: "create",
            resource_type: "enrollment_token",
            resource_id: id,
            before: None,
            after: Some(audit_json(&t)),
        };
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(t)
    }

    async fn list_enrollment_tokens(&self) -> Result<Vec<EnrollmentToken>> {
        let rows = sqlx::query("SELECT * FROM enrollment_tokens ORDER BY id DESC").fetch_all(&self.read).await?;
        rows.iter().map(token).collect()
    }

    async fn revoke_enrollment_token(&self, id: Uuid, by: &AuditContext) -> Result<EnrollmentToken> {
        let mut tx = self.write.begin().await?;
        let before = get_token(&mut tx, id).await?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        sqlx::query("UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ?")
            .bind(ts(now()))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let after = get_token(&mut tx, id).await?;
        let change = Change {
            action: "revoke",
            resource_type: "enrollment_token",
            resource_id: id,
            before: Some(audit_json(&before)),
            after: Some(audit_json(&after)),
        };
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(after)
    }
}

async fn get_token(tx: &mut SqliteConnection, id: Uuid) -> Result<EnrollmentToken> {
    let row = sqlx::query("SELECT * FROM enrollment_tokens WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    token(&row)
}
