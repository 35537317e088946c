//! Users, their sessions and second factor, API keys and failed logins.
//! Hashing and checking secrets is the server's work; the store keeps
//! what it is given and answers with it.

use crate::{AuditContext, Result};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sigma_types::{ApiKey, Page, PageRequest, Role, User};
use uuid::Uuid;

/// A user with what checking a login or a token needs. Never sent out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSecrets {
    pub user: User,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Login tokens carry the generation they were issued in; ending the
    /// sessions of a user moves it on, so older tokens are refused.
    pub token_generation: i64,
    /// Base32 TOTP secret: set up, and in use when `user.totp_enabled`.
    pub totp_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

/// A change to a user; `None` keeps a field. A new password or disabling
/// the user ends its sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    /// Turns TOTP off and forgets the secret and the recovery codes.
    pub disable_totp: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    /// SHA-256 of the key, lower-case hex.
    pub key_hash: String,
    pub role: Role,
    pub owner_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API key found by its hash, with its owner as the owner is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyGrant {
    pub key: ApiKey,
    pub owner: Option<User>,
}

/// When repeated failed logins lock an e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    /// Failures within `window` that lock the address.
    pub max_failures: u32,
    pub window: TimeDelta,
    /// How long the lock lasts.
    pub lock_for: TimeDelta,
}

/// The lower-cased address under which users and failures are kept.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What is in the way of a change to users: the last admin.
pub fn last_admin_conflict() -> crate::StoreError {
    crate::StoreError::conflict("at least one enabled admin must remain")
}

#[async_trait]
pub trait AuthStore: Send + Sync {
    async fn count_users(&self) -> Result<i64>;
    /// Users by e-mail address.
    async fn list_users(&self, page: PageRequest) -> Result<Page<User>>;
    async fn get_user(&self, id: Uuid) -> Result<User>;
    async fn user_secrets(&self, id: Uuid) -> Result<UserSecrets>;
    /// Finds a user by e-mail address, ignoring case.
    async fn user_secrets_by_email(&self, email: &str) -> Result<Option<UserSecrets>>;
    /// `Conflict` (on `email`) when the address is taken, ignoring case.
    async fn create_user(&self, new: &NewUser, by: &AuditContext) -> Result<User>;
    /// `Conflict` when the change would leave no enabled admin.
    async fn update_user(&self, id: Uuid, change: &UserUpdate, by: &AuditContext) -> Result<User>;
    /// Removes a user and its API keys; `Conflict` for the last enabled admin.
    async fn delete_user(&self, id: Uuid, by: &AuditContext) -> Result<()>;

    /// A successful login: sets `last_login_at`, forgets the address's
    /// failures, and records `login`.
    async fn record_login(&self, id: Uuid, by: &AuditContext) -> Result<User>;
    /// A failed login for `email` (whether or not a user has it): counts
    /// it, locks the address when the policy says so, and records
    /// `login_failed` with the reason. Answers the end of the lock when the
    /// address is now locked.
    async fn record_login_failure(
        &self,
        email: &str,
        user_id: Option<Uuid>,
        reason: &str,
        policy: &LockPolicy,
        by: &AuditContext,
    ) -> Result<Option<DateTime<Utc>>>;
    /// The end of the lock on an address, when it is locked now.
    async fn login_locked_until(&self, email: &str) -> Result<Option<DateTime<Utc>>>;
    /// Ends every session of a user (refuses its outstanding login tokens)
    /// and records `action` (`logout`, ...).
    async fn end_sessions(&self, id: Uuid, action: &str, by: &AuditContext) -> Result<()>;

    /// Keeps a new TOTP secret for a user who has not enabled TOTP yet;
    /// `Conflict` when TOTP is enabled.
    async fn set_totp_secret(&self, id: Uuid, secret: &str) -> Result<()>;
    /// Turns TOTP on, remembering the time step that proved it and the
    /// hashes of the recovery codes; records `totp_enable`. `Conflict`
    /// without a secret set up, or when TOTP is on already.
    async fn enable_totp(&self, id: Uuid, step: i64, recovery_hashes: &[String], by: &AuditContext) -> Result<User>;
    /// Turns TOTP off, forgetting the secret and recovery codes; records `totp_disable`.
    async fn disable_totp(&self, id: Uuid, by: &AuditContext) -> Result<User>;
    /// Accepts a TOTP time step at most once: true when it is later than
    /// every step accepted before, so a code cannot be replayed.
    async fn use_totp_step(&self, id: Uuid, step: i64) -> Result<bool>;
    /// Consumes a recovery code: true when the user had it.
    async fn use_recovery_code(&self, id: Uuid, code_hash: &str) -> Result<bool>;

    /// Records `create` of the key (never the key itself).
    async fn create_api_key(&self, new: &NewApiKey, by: &AuditContext) -> Result<ApiKey>;
    /// Keys of one owner, or every key with `None`; newest first.
    async fn list_api_keys(&self, owner: Option<Uuid>, page: PageRequest) -> Result<Page<ApiKey>>;
    async fn get_api_key(&self, id: Uuid) -> Result<ApiKey>;
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyGrant>>;
    /// Sets `last_used_at`.
    async fn touch_api_key(&self, id: Uuid, at: DateTime<Utc>) -> Result<()>;
    /// Revokes (removes) a key; records `revoke`.
    async fn delete_api_key(&self, id: Uuid, by: &AuditContext) -> Result<()>;
}
