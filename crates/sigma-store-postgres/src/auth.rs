//! Users, sessions, second factors, API keys and failed logins.

use crate::audit::{self, Change};
use crate::rows::parse_enum;
use crate::{PostgresStore, now};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sigma_store::auth::{email_key, last_admin_conflict};
use sigma_store::{
    ApiKeyGrant, AuditContext, AuthStore, Conflict, LockPolicy, NewApiKey, NewUser, Result, StoreError, UserSecrets,
    UserUpdate, audit_json,
};
use sigma_types::{ApiKey, Page, PageRequest, User};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row};
use uuid::Uuid;

const USER_COLUMNS: &str = "id, email, role, disabled, totp_enabled, last_login_at, created_at, updated_at, \
     password_hash, token_generation, totp_secret";
/// Advisory lock serialising changes to users ("sigmausr").
const USERS_LOCK: i64 = 0x7369_676d_6175_7372;
const KEY_COLUMNS: &str = "id, name, prefix, role, owner_id, expires_at, last_used_at, created_at";

fn user(r: &PgRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        role: parse_enum(r.try_get("role")?)?,
        disabled: r.try_get("disabled")?,
        totp_enabled: r.try_get("totp_enabled")?,
        last_login_at: r.try_get("last_login_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn secrets(r: &PgRow) -> Result<UserSecrets> {
    Ok(UserSecrets {
        user: user(r)?,
        password_hash: r.try_get("password_hash")?,
        token_generation: r.try_get("token_generation")?,
        totp_secret: r.try_get("totp_secret")?,
    })
}

fn api_key(r: &PgRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        role: parse_enum(r.try_get("role")?)?,
        owner_id: r.try_get("owner_id")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn load_user<'e, E: sqlx::Executor<'e, Database = Postgres>>(e: E, id: Uuid) -> Result<UserSecrets> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?
        .ok_or(StoreError::NotFound)?;
    secrets(&row)
}

async fn email_free(tx: &mut PgConnection, email: &str, except: Option<Uuid>) -> Result<()> {
    let other: Option<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE email_key = $1 AND id IS DISTINCT FROM $2")
            .bind(email_key(email))
            .bind(except)
            .fetch_optional(&mut *tx)
            .await?;
    match other {
        Some(_) => Err(StoreError::Conflict(Conflict::new("a user with this e-mail address exists").on("email"))),
        None => Ok(()),
    }
}

/// Refuses a change that leaves no enabled admin while `before` was one.
async fn keep_an_admin(tx: &mut PgConnection, before: &User) -> Result<()> {
    if before.role != sigma_types::Role::Admin || before.disabled {
        return Ok(());
    }
    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled")
        .fetch_one(&mut *tx)
        .await?;
    if admins == 0 { Err(last_admin_conflict()) } else { Ok(()) }
}

fn user_change<'a>(action: &'a str, before: Option<&User>, after: Option<serde_json::Value>, id: Uuid) -> Change<'a> {
    Change { action, resource_type: "user", resource_id: id, before: before.map(audit_json), after }
}

#[async_trait]
impl AuthStore for PostgresStore {
    async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY email_key LIMIT $1 OFFSET $2"))
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let data = rows.iter().map(user).collect::<Result<_>>()?;
        Ok(Page { data, total, page: page.page, per_page: page.per_page })
    }

    async fn get_user(&self, id: Uuid) -> Result<User> {
        Ok(load_user(&self.pool, id).await?.user)
    }

    async fn user_secrets(&self, id: Uuid) -> Result<UserSecrets> {
        load_user(&self.pool, id).await
    }

    async fn user_secrets_by_email(&self, email: &str) -> Result<Option<UserSecrets>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = $1"))
            .bind(email_key(email))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(secrets).transpose()
    }

    async fn create_user(&self, new: &NewUser, by: &AuditContext) -> Result<User> {
        let id = Uuid::now_v7();
        let at = now();
        let mut tx = self.pool.begin().await?;
        email_free(&mut tx, &new.email, None).await?;
        sqlx::query(
            "INSERT INTO users (id, email, email_key, password_hash, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(&new.email)
        .bind(email_key(&new.email))
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(at)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let u = load_user(&mut *tx, id).await?.user;
        audit::record(&mut tx, by, user_change("create", None, Some(audit_json(&u)), id)).await?;
        tx.commit().await?;
        Ok(u)
    }

    async fn update_user(&self, id: Uuid, c: &UserUpdate, by: &AuditContext) -> Result<User> {
        let mut tx = self.pool.begin().await?;
        // Changes to users take turns, so two cannot each remove "another" last admin.
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(USERS_LOCK).execute(&mut *tx).await?;
        let before = load_user(&mut *tx, id).await?.user;
        if let Some(email) = &c.email {
            email_free(&mut tx, email, Some(id)).await?;
        }
        let ends_sessions = c.password_hash.is_some() || c.disabled == Some(true);
        sqlx::query(
            "UPDATE users SET email = COALESCE($1, email), email_key = COALESCE($2, email_key),
                role = COALESCE($3, role), disabled = COALESCE($4, disabled),
                password_hash = COALESCE($5, password_hash),
                token_generation = token_generation + $6,
                totp_enabled = CASE WHEN $7 THEN FALSE ELSE totp_enabled END,
                totp_secret = CASE WHEN $7 THEN NULL ELSE totp_secret END,
                updated_at = $8
             WHERE id = $9",
        )
        .bind(&c.email)
        .bind(c.email.as_deref().map(email_key))
        .bind(c.role.map(|r| r.as_str()))
        .bind(c.disabled)
        .bind(&c.password_hash)
        .bind(i64::from(ends_sessions))
        .bind(c.disable_totp)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if c.disable_totp {
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        keep_an_admin(&mut tx, &before).await?;
        let after = load_user(&mut *tx, id).await?.user;
        let mut after_json = audit_json(&after);
        if c.password_hash.is_some() {
            after_json["password_changed"] = true.into();
        }
        audit::record(&mut tx, by, user_change("update", Some(&before), Some(after_json), id)).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_user(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // Changes to users take turns, so two cannot each remove "another" last admin.
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(USERS_LOCK).execute(&mut *tx).await?;
        let before = load_user(&mut *tx, id).await?.user;
        sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
        keep_an_admin(&mut tx, &before).await?;
        audit::record(&mut tx, by, user_change("delete", Some(&before), None, id)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_login(&self, id: Uuid, by: &AuditContext) -> Result<User> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?;
        let u = load_user(&mut *tx, id).await?.user;
        sqlx::query("DELETE FROM login_failures WHERE email_key = $1")
            .bind(email_key(&u.email))
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, by, user_change("login", None, None, id)).await?;
        tx.commit().await?;
        Ok(u)
    }

    async fn record_login_failure(
        &self,
        email: &str,
        user_id: Option<Uuid>,
        reason: &str,
        policy: &LockPolicy,
        by: &AuditContext,
    ) -> Result<Option<DateTime<Utc>>> {
        let key = email_key(email);
        let at = now();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT failures, first_failed_at FROM login_failures WHERE email_key = $1")
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?;
        let (mut failures, mut first) = (0i32, at);
        if let Some(r) = row {
            let since: DateTime<Utc> = r.try_get("first_failed_at")?;
            if at - since <= policy.window {
                failures = r.try_get("failures")?;
                first = since;
            }
        }
        failures += 1;
        let locked_until = (i64::from(failures) >= i64::from(policy.max_failures)).then(|| at + policy.lock_for);
        if locked_until.is_some() {
            // The lock starts a fresh count.
            failures = 0;
            first = at;
        }
        sqlx::query(
            "INSERT INTO login_failures (email_key, failures, first_failed_at, locked_until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (email_key) DO UPDATE SET failures = $2, first_failed_at = $3,
                locked_until = COALESCE($4, login_failures.locked_until)",
        )
        .bind(&key)
        .bind(failures)
        .bind(first)
        .bind(locked_until)
        .execute(&mut *tx)
        .await?;
        // Forget counters nobody touched for a day.
        sqlx::query(
            "DELETE FROM login_failures WHERE first_failed_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        )
        .bind(at - chrono::TimeDelta::days(1))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let mut details = serde_json::json!({"email": email, "reason": reason});
        if let Some(until) = locked_until {
            details["locked_until"] = until.to_rfc3339().into();
        }
        match user_id {
            Some(id) => {
                let change = Change {
                    action: "login_failed",
                    resource_type: "user",
                    resource_id: id,
                    before: None,
                    after: Some(details),
                };
                audit::record(&mut tx, by, change).await?;
            }
            None => audit::record_summary(&mut tx, by, "login_failed", "user", details).await?,
        }
        tx.commit().await?;
        Ok(locked_until)
    }

    async fn login_locked_until(&self, email: &str) -> Result<Option<DateTime<Utc>>> {
        let until: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE email_key = $1")
                .bind(email_key(email))
                .fetch_optional(&self.pool)
                .await?;
        let until = until.flatten();
        Ok(until.filter(|u| *u > now()))
    }

    async fn end_sessions(&self, id: Uuid, action: &str, by: &AuditContext) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE users SET token_generation = token_generation + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, by, user_change(action, None, None, id)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_totp_secret(&self, id: Uuid, secret: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let u = load_user(&mut *tx, id).await?.user;
        if u.totp_enabled {
            return Err(StoreError::conflict("TOTP is already enabled; disable it first"));
        }
        sqlx::query("UPDATE users SET totp_secret = $1 WHERE id = $2").bind(secret).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enable_totp(&self, id: Uuid, step: i64, recovery_hashes: &[String], by: &AuditContext) -> Result<User> {
        let mut tx = self.pool.begin().await?;
        let before = load_user(&mut *tx, id).await?;
        if before.user.totp_enabled {
            return Err(StoreError::conflict("TOTP is already enabled"));
        }
        if before.totp_secret.is_none() {
            return Err(StoreError::conflict("set TOTP up first (POST /api/auth/totp/setup)"));
        }
        sqlx::query("UPDATE users SET totp_enabled = TRUE, totp_last_step = $1, updated_at = $2 WHERE id = $3")
            .bind(step)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        for hash in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        let after = load_user(&mut *tx, id).await?.user;
        let change = user_change("totp_enable", Some(&before.user), Some(audit_json(&after)), id);
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn disable_totp(&self, id: Uuid, by: &AuditContext) -> Result<User> {
        let mut tx = self.pool.begin().await?;
        let before = load_user(&mut *tx, id).await?.user;
        sqlx::query(
            "UPDATE users SET totp_enabled = FALSE, totp_secret = NULL, totp_last_step = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        let after = load_user(&mut *tx, id).await?.user;
        audit::record(&mut tx, by, user_change("totp_disable", Some(&before), Some(audit_json(&after)), id)).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn use_totp_step(&self, id: Uuid, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, id: Uuid, code_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2")
            .bind(id)
            .bind(code_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_api_key(&self, new: &NewApiKey, by: &AuditContext) -> Result<ApiKey> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, name, prefix, key_hash, role, owner_id, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(&new.name)
        .bind(&new.prefix)
        .bind(&new.key_hash)
        .bind(new.role.as_str())
        .bind(new.owner_id)
        .bind(new.expires_at)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let key = get_key(&mut *tx, id).await?;
        let change = Change {
            action: "create",
            resource_type: "api_key",
            resource_id: id,
            before: None,
            after: Some(audit_json(&key)),
        };
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(key)
    }

    async fn list_api_keys(&self, owner: Option<Uuid>, page: PageRequest) -> Result<Page<ApiKey>> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE $1::uuid IS NULL OR owner_id = $1")
            .bind(owner)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE $1::uuid IS NULL OR owner_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(owner)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        let data = rows.iter().map(api_key).collect::<Result<_>>()?;
        Ok(Page { data, total, page: page.page, per_page: page.per_page })
    }

    async fn get_api_key(&self, id: Uuid) -> Result<ApiKey> {
        get_key(&self.pool, id).await
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyGrant>> {
        let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"))
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let key = api_key(&row)?;
        let owner = match key.owner_id {
            Some(owner) => Some(load_user(&self.pool, owner).await?.user),
            None => None,
        };
        Ok(Some(ApiKeyGrant { key, owner }))
    }

    async fn touch_api_key(&self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_api_key(&self, id: Uuid, by: &AuditContext) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let before = get_key(&mut *tx, id).await?;
        sqlx::query("DELETE FROM api_keys WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let change = Change {
            action: "revoke",
            resource_type: "api_key",
            resource_id: id,
            before: Some(audit_json(&before)),
            after: None,
        };
        audit::record(&mut tx, by, change).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn get_key<'e, E: sqlx::Executor<'e, Database = Postgres>>(e: E, id: Uuid) -> Result<ApiKey> {
    let row = sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?
        .ok_or(StoreError::NotFound)?;
    api_key(&row)
}
