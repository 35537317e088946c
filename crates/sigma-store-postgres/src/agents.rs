//! Agents on PostgreSQL: enrolment, keys, heartbeats and status transitions.

use crate::audit::{self, Change, vps_change};
use crate::rows::parse_enum;
use crate::{PostgresStore, now};
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
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;
use std::net::IpAddr;
use uuid::Uuid;

const AGENT_SELECT: &str = "SELECT * FROM agents";

fn agent(r: &PgRow) -> Result<Agent> {
    let ips: Json<Vec<String>> = r.try_get("ip_addresses")?;
    Ok(Agent {
        id: r.try_get("id")?,
        status: parse_enum(r.try_get("status")?)?,
        claimed: r.try_get::<Option<DateTime<Utc>>, _>("claimed_at")?.is_some(),
        vps_id: r.try_get("vps_id")?,
        hostname: r.try_get("hostname")?,
        agent_version: r.try_get("agent_version")?,
        os: r.try_get("os")?,
        arch: r.try_get("arch")?,
        ip_addresses: ips.0.iter().filter_map(|s| s.parse().ok()).collect(),
        registered_at: r.try_get("registered_at")?,
        claimed_at: r.try_get("claimed_at")?,
        enrolled_by: r.try_get("enrolled_by")?,
        key_pending: r.try_get("key_pending")?,
        last_heartbeat_at: r.try_get("last_heartbeat_at")?,
        status_changed_at: r.try_get("status_changed_at")?,
        metrics: r.try_get("heartbeat")?,
    })
}

async fn get_agent(e: &mut PgConnection, id: Uuid) -> Result<Agent> {
    let row = sqlx::query(&format!("{AGENT_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *e)
        .await?
        .ok_or(StoreError::NotFound)?;
    agent(&row)
}

fn token(r: &PgRow) -> Result<EnrollmentToken> {
    let new_vps: Option<Json<NewVpsDefaults>> = r.try_get("new_vps")?;
    Ok(EnrollmentToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        max_uses: r.try_get("max_uses")?,
        uses: r.try_get("uses")?,
        revoked_at: r.try_get("revoked_at")?,
        new_vps: new_vps.map(|j| j.0),
    })
}

async fn get_token(tx: &mut PgConnection, id: Uuid) -> Result<EnrollmentToken> {
    let row = sqlx::query("SELECT * FROM enrollment_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    token(&row)
}

async fn insert_agent(
    tx: &mut PgConnection,
    r: &AgentRegistration,
    claimed_by: Option<&str>,
    at: DateTime<Utc>,
) -> Result<()> {
    let ips: Vec<String> = r.ip_addresses.iter().map(|i| i.to_string()).collect();
    sqlx::query(
        "INSERT INTO agents (id, claim_hash, hostname, agent_version, os, arch, ip_addresses, registered_at,
         claimed_at, enrolled_by, key_pending, status, status_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $8)",
    )
    .bind(r.agent_id)
    .bind(&r.claim_token_hash)
    .bind(&r.hostname)
    .bind(&r.agent_version)
    .bind(&r.os)
    .bind(&r.arch)
    .bind(Json(ips))
    .bind(at)
    .bind(claimed_by.map(|_| at))
    .bind(claimed_by)
    .bind(claimed_by.is_some())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The claim hash of an existing agent, if any, locking its row.
async fn existing_hash(tx: &mut PgConnection, id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT claim_hash FROM agents WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?)
}

fn other_claim() -> StoreError {
    StoreError::Conflict(
        sigma_store::Conflict::new("this agent id is registered with another claim token").on("claim_token_hash"),
    )
}

async fn record(
    tx: &mut PgConnection,
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

async fn link(tx: &mut PgConnection, a: &Agent, target: &ClaimTarget, by: &AuditContext) -> Result<()> {
    let vps_id = if let Some(id) = target.vps_id {
        let v = crate::rows::get_vps(&mut *tx, id).await.map_err(|e| match e {
            StoreError::NotFound => StoreError::Invalid(FieldErrors::single("vps_id", "no VPS has this id")),
            e => e,
        })?;
        if !v.is_live() {
            return Err(StoreError::Invalid(FieldErrors::single("vps_id", "the VPS is retired or in the trash")));
        }
        Some(id)
    } else if let Some(id) = holder(tx, &a.ip_addresses).await? {
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
        sqlx::query("UPDATE agents SET vps_id = NULL WHERE vps_id = $1 AND id <> $2")
            .bind(vps_id)
            .bind(a.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE agents SET vps_id = $1 WHERE id = $2").bind(vps_id).bind(a.id).execute(&mut *tx).await?;
    }
    Ok(())
}

async fn holder(tx: &mut PgConnection, ips: &[IpAddr]) -> Result<Option<Uuid>> {
    if ips.is_empty() {
        return Ok(None);
    }
    let texts: Vec<String> = ips.iter().map(|i| i.to_string()).collect();
    Ok(sqlx::query_scalar("SELECT vps_id FROM vps_ip WHERE live AND ip = ANY($1::text[]::inet[]) LIMIT 1")
        .bind(texts)
        .fetch_optional(&mut *tx)
        .await?)
}

async fn new_vps(tx: &mut PgConnection, a: &Agent, defaults: &NewVpsDefaults, by: &AuditContext) -> Result<Uuid> {
    let draft = agent_vps_draft(a, defaults);
    let v = crate::vps::insert(tx, &draft, Source::Agent).await?;
    vps_change(tx, by, "create", None, Some(&v)).await?;
    Ok(v.id)
}

/// Agent id, VPS id, status, last heartbeat, latest metrics.
type VpsAgentRow = (Uuid, Uuid, String, Option<DateTime<Utc>>, Option<serde_json::Value>);
/// Agent id, VPS id, host name, whether it came online, heartbeat time.
type BeatRow = (Uuid, Option<Uuid>, String, bool, DateTime<Utc>);

/// Fills the `agent` field of VPS from their agents.
pub(crate) async fn attach(pool: &PgPool, list: &mut [Vps]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = list.iter().map(|v| v.id).collect();
    let rows: Vec<VpsAgentRow> =
        sqlx::query_as("SELECT id, vps_id, status, last_heartbeat_at, heartbeat FROM agents WHERE vps_id = ANY($1)")
            .bind(ids)
            .fetch_all(pool)
            .await?;
    let mut by_vps = HashMap::new();
    for (id, vps_id, status, last, metrics) in rows {
        by_vps
            .insert(vps_id, VpsAgent { agent_id: id, status: parse_enum(&status)?, last_heartbeat_at: last, metrics });
    }
    for v in list.iter_mut() {
        v.agent = by_vps.remove(&v.id);
    }
    Ok(())
}

async fn transitions(tx: &mut PgConnection, list: &[AgentTransition]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Postgres>::new("INSERT INTO agent_transitions (id, agent_id, status, at) ");
    q.push_values(list, |mut b, t| {
        b.push_bind(Uuid::now_v7()).push_bind(t.agent_id).push_bind(t.status.as_str()).push_bind(t.at);
    });
    q.build().execute(&mut *tx).await?;
    Ok(())
}

#[async_trait]
impl AgentStore for PostgresStore {
    async fn register_agent(&self, r: &AgentRegistration, by: &AuditContext) -> Result<(Agent, Registered)> {
        self.in_tx(async |tx| {
            if let Some(hash) = existing_hash(tx, r.agent_id).await? {
                if hash != r.claim_token_hash {
                    return Err(other_claim());
                }
                return Ok((get_agent(tx, r.agent_id).await?, Registered::Again));
            }
            insert_agent(tx, r, None, now()).await?;
            let a = get_agent(tx, r.agent_id).await?;
            record(tx, by, "register", a.id, None, Some(&a)).await?;
            Ok((a, Registered::Created))
        })
        .await
    }

    async fn enroll_agent(
        &self,
        r: &AgentRegistration,
        token_hash: &str,
        by: &AuditContext,
    ) -> Result<std::result::Result<(Agent, Registered), TokenRefusal>> {
        self.in_tx(async |tx| {
            if let Some(hash) = existing_hash(tx, r.agent_id).await? {
                if hash != r.claim_token_hash {
                    return Err(other_claim());
                }
                return Ok(Ok((get_agent(tx, r.agent_id).await?, Registered::Again)));
            }
            let Some(row) = sqlx::query("SELECT * FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE")
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
            sqlx::query("UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = $1")
                .bind(t.id)
                .execute(&mut *tx)
                .await?;
            insert_agent(tx, r, Some("enrollment-token"), at).await?;
            let a = get_agent(tx, r.agent_id).await?;
            let target = ClaimTarget { vps_id: None, new_vps: t.new_vps.clone(), require_vps: false };
            link(tx, &a, &target, by).await?;
            let a = get_agent(tx, r.agent_id).await?;
            record(tx, by, "enroll", a.id, None, Some(&a)).await?;
            Ok(Ok((a, Registered::Created)))
        })
        .await
    }

    async fn claim_agent(
        &self,
        id: Uuid,
        claim_hash: &str,
        target: &ClaimTarget,
        by: &AuditContext,
    ) -> Result<Option<Agent>> {
        self.in_tx(async |tx| {
            let stored = existing_hash(tx, id).await?.ok_or(StoreError::NotFound)?;
            if !same_secret(stored.as_bytes(), claim_hash.as_bytes()) {
                return Ok(None);
            }
            let before = get_agent(tx, id).await?;
            if before.claimed {
                return Err(StoreError::conflict("the agent is already claimed"));
            }
            sqlx::query("UPDATE agents SET claimed_at = $1, enrolled_by = 'claim', key_pending = true WHERE id = $2")
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            link(tx, &before, target, by).await?;
            let after = get_agent(tx, id).await?;
            record(tx, by, "claim", id, Some(&before), Some(&after)).await?;
            Ok(Some(after))
        })
        .await
    }

    async fn take_agent_key(&self, id: Uuid, claim_hash: &str, key_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE agents SET key_hash = $1, key_pending = false WHERE id = $2 AND claim_hash = $3 AND key_pending",
        )
        .bind(key_hash)
        .bind(id)
        .bind(claim_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn agent_claim_state(&self, id: Uuid) -> Result<Option<ClaimState>> {
        let row: Option<(String, Option<DateTime<Utc>>, bool)> =
            sqlx::query_as("SELECT claim_hash, claimed_at, key_pending FROM agents WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(claim_hash, claimed_at, key_pending)| ClaimState {
            claim_hash,
            claimed: claimed_at.is_some(),
            key_pending,
        }))
    }

    async fn agent_by_key(&self, key_hash: &str) -> Result<Option<AgentKeyOwner>> {
        let row: Option<(Uuid, Option<Uuid>)> = sqlx::query_as("SELECT id, vps_id FROM agents WHERE key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(agent_id, vps_id)| AgentKeyOwner { agent_id, vps_id }))
    }

    async fn record_heartbeats(&self, beats: &[HeartbeatWrite]) -> Result<Vec<HeartbeatOutcome>> {
        let mut latest: HashMap<Uuid, &HeartbeatWrite> = HashMap::new();
        for b in beats {
            latest.insert(b.agent_id, b);
        }
        // A fixed order, so that concurrent batches lock rows alike.
        let mut unique: Vec<&HeartbeatWrite> = latest.into_values().collect();
        unique.sort_by_key(|b| b.agent_id);
        let ids: Vec<Uuid> = unique.iter().map(|b| b.agent_id).collect();
        let keys: Vec<&str> = unique.iter().map(|b| b.key_hash.as_str()).collect();
        let ats: Vec<DateTime<Utc>> = unique.iter().map(|b| b.at).collect();
        let deadlines: Vec<DateTime<Utc>> = unique.iter().map(|b| b.offline_after).collect();
        let hostnames: Vec<&str> = unique.iter().map(|b| b.hostname.as_str()).collect();
        let versions: Vec<&str> = unique.iter().map(|b| b.agent_version.as_str()).collect();
        let data: Vec<&str> = unique.iter().map(|b| b.data.as_str()).collect();
        let (rows, came_online) = self
            .in_tx(async |tx| {
                let rows: Vec<BeatRow> = sqlx::query_as(
                    "UPDATE agents a SET last_heartbeat_at = b.at, offline_after = b.deadline, hostname = b.hostname,
                     agent_version = b.version, heartbeat = b.data::json,
                     status_changed_at = CASE WHEN a.status <> 'online' THEN b.at ELSE a.status_changed_at END,
                     status = 'online'
                     FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[], $7::text[])
                          AS b(id, key_hash, at, deadline, hostname, version, data)
                     WHERE a.id = b.id AND a.key_hash = b.key_hash
                     RETURNING a.id, a.vps_id, a.hostname, a.status_changed_at = a.last_heartbeat_at, a.last_heartbeat_at",
                )
                .bind(&ids)
                .bind(&keys)
                .bind(&ats)
                .bind(&deadlines)
                .bind(&hostnames)
                .bind(&versions)
                .bind(&data)
                .fetch_all(&mut *tx)
                .await?;
                let came_online: Vec<AgentTransition> = rows
                    .iter()
                    .filter(|r| r.3)
                    .map(|(agent_id, vps_id, hostname, _, at)| AgentTransition {
                        agent_id: *agent_id,
                        vps_id: *vps_id,
                        hostname: hostname.clone(),
                        status: AgentStatus::Online,
                        at: *at,
                    })
                    .collect();
                transitions(tx, &came_online).await?;
                Ok((rows, came_online))
            })
            .await?;
        drop(came_online);
        let results: HashMap<Uuid, HeartbeatOutcome> = rows
            .into_iter()
            .map(|(agent_id, vps_id, _, changed, _)| {
                (agent_id, HeartbeatOutcome { agent_id, stored: true, came_online: changed, vps_id })
            })
            .collect();
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
        self.in_tx(async |tx| {
            let rows: Vec<(Uuid, Option<Uuid>, String)> = sqlx::query_as(
                "UPDATE agents SET status = 'offline', status_changed_at = $1
                 WHERE status = 'online' AND offline_after < $1 RETURNING id, vps_id, hostname",
            )
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
            let list: Vec<AgentTransition> = rows
                .into_iter()
                .map(|(agent_id, vps_id, hostname)| AgentTransition {
                    agent_id,
                    vps_id,
                    hostname,
                    status: AgentStatus::Offline,
                    at,
                })
                .collect();
            transitions(tx, &list).await?;
            Ok(list)
        })
        .await
    }

    async fn agent_transitions(&self, id: Uuid) -> Result<Vec<AgentTransition>> {
        let rows: Vec<(String, DateTime<Utc>, Option<Uuid>, String)> = sqlx::query_as(
            "SELECT t.status, t.at, a.vps_id, a.hostname FROM agent_transitions t JOIN agents a ON a.id = t.agent_id
             WHERE t.agent_id = $1 ORDER BY t.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(status, at, vps_id, hostname)| {
                Ok(AgentTransition { agent_id: id, vps_id, hostname, status: parse_enum(&status)?, at })
            })
            .collect()
    }

    async fn get_agent(&self, id: Uuid) -> Result<Agent> {
        let mut conn = self.pool.acquire().await?;
        get_agent(&mut conn, id).await
    }

    async fn list_agents(&self, filter: AgentFilter, page: PageRequest) -> Result<Page<Agent>> {
        let push = |q: &mut QueryBuilder<'_, Postgres>| {
            q.push(" WHERE true");
            if let Some(s) = filter.status {
                q.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(c) = filter.claimed {
                q.push(if c { " AND claimed_at IS NOT NULL" } else { " AND claimed_at IS NULL" });
            }
        };
        let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM agents");
        push(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
        let mut q = QueryBuilder::<Postgres>::new(AGENT_SELECT);
        push(&mut q);
        q.push(" ORDER BY id LIMIT ").push_bind(page.limit()).push(" OFFSET ").push_bind(page.offset());
        let rows = q.build().fetch_all(&self.pool).await?;
        let data = rows.iter().map(agent).collect::<Result<_>>()?;
        Ok(Page { data, total, page: page.page, per_page: page.per_page })
    }

    async fn agent_counts(&self) -> Result<AgentCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM agents GROUP BY status").fetch_all(&self.pool).await?;
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
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(agent).collect()
    }

    async fn delete_agent(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        self.in_tx(async |tx| {
            let before = get_agent(tx, id).await?;
            sqlx::query("DELETE FROM agents WHERE id = $1").bind(id).execute(&mut *tx).await?;
            record(tx, by, "delete", id, Some(&before), None).await
        })
        .await
    }

    async fn rotate_agent_key(&self, id: Uuid, by: &AuditContext) -> Result<Agent> {
        self.in_tx(async |tx| {
            existing_hash(tx, id).await?.ok_or(StoreError::NotFound)?;
            let before = get_agent(tx, id).await?;
            if !before.claimed {
                return Err(StoreError::conflict("the agent is not claimed yet: it has no key"));
            }
            sqlx::query("UPDATE agents SET key_hash = NULL, key_pending = true WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let after = get_agent(tx, id).await?;
            record(tx, by, "rotate-key", id, Some(&before), Some(&after)).await?;
            Ok(after)
        })
        .await
    }

    async fn create_enrollment_token(
        &self,
        d: &EnrollmentTokenDraft,
        token_hash: &str,
        by: &AuditContext,
    ) -> Result<EnrollmentToken> {
        let id = Uuid::now_v7();
        self.in_tx(async |tx| {
            if let Some(defaults) = &d.new_vps {
                crate::vps::ensure_provider(tx, defaults.provider_id).await?;
            }
            sqlx::query(
                "INSERT INTO enrollment_tokens (id, token_hash, name, created_at, expires_at, max_uses, new_vps)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(token_hash)
            .bind(&d.name)
            .bind(now())
            .bind(d.expires_at)
            .bind(d.max_uses)
            .bind(d.new_vps.as_ref().map(Json))
            .execute(&mut *tx)
            .await?;
            let t = get_token(tx, id).await?;
            let change = Change {
                action: "create",
                resource_type: "enrollment_token",
                resource_id: id,
                before: None,
                after: Some(audit_json(&t)),
            };
            audit::record(tx, by, change).await?;
            Ok(t)
        })
        .await
    }

    async fn list_enrollment_tokens(&self) -> Result<Vec<EnrollmentToken>> {
        let rows = sqlx::query("SELECT * FROM enrollment_tokens ORDER BY id DESC").fetch_all(&self.pool).await?;
        rows.iter().map(token).collect()
    }

    async fn revoke_enrollment_token(&self, id: Uuid, by: &AuditContext) -> Result<EnrollmentToken> {
        self.in_tx(async |tx| {
            let before = get_token(tx, id).await?;
            if before.revoked_at.is_some() {
                return Ok(before);
            }
            sqlx::query("UPDATE enrollment_tokens SET revoked_at = $1 WHERE id = $2")
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let after = get_token(tx, id).await?;
            let change = Change {
                action: "revoke",
                resource_type: "enrollment_token",
                resource_id: id,
                before: Some(audit_json(&before)),
                after: Some(audit_json(&after)),
            };
            audit::record(tx, by, change).await?;
            Ok(after)
        })
        .await
    }
}
