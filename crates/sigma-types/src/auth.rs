//! Users, logins, second factors and API keys on the wire.

use crate::validate::{email, password};
use crate::{ActorKind, FieldErrors, PageRequest, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A person who logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    /// Stored as given; compared ignoring case.
    pub email: String,
    pub role: Role,
    /// A disabled user cannot log in, and its tokens and API keys stop working.
    pub disabled: bool,
    /// Whether login asks for a TOTP code.
    pub totp_enabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct UserCreate {
    #[schema(example = "ops@example.com")]
    pub email: Option<String>,
    /// At least 10 characters.
    pub password: Option<String>,
    pub role: Option<Role>,
}

/// A checked `UserCreate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDraft {
    pub email: String,
    pub password: String,
    pub role: Role,
}

impl UserCreate {
    pub fn validate(self) -> Result<UserDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let email = match self.email {
            Some(raw) => e.check("email", email(&raw)),
            None => {
                e.add("email", "is required");
                None
            }
        };
        let password = match self.password {
            Some(p) => e.check("password", password(&p)),
            None => {
                e.add("password", "is required");
                None
            }
        };
        if self.role.is_none() {
            e.add("role", format!("is required: one of {}", Role::expected()));
        }
        e.into_result()?;
        Ok(UserDraft {
            email: email.unwrap_or_default(),
            password: password.unwrap_or_default(),
            role: self.role.unwrap_or(Role::Readonly),
        })
    }
}

/// Body of `PATCH /api/users/{id}`: only the fields present change.
/// Disabling a user or changing its password ends its sessions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// A new password, at least 10 characters.
    pub password: Option<String>,
    /// `false` turns the user's second factor off (for a lost device).
    pub totp_enabled: Option<bool>,
}

/// A checked `UserPatch`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub email: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
    pub disable_totp: bool,
}

impl UserPatch {
    pub fn validate(self) -> Result<UserChange, FieldErrors> {
        let mut e = FieldErrors::default();
        let email = self.email.and_then(|raw| e.check("email", email(&raw)));
        let password = self.password.and_then(|p| e.check("password", password(&p)));
        if self.totp_enabled == Some(true) {
            e.add("totp_enabled", "only false is accepted here: users turn TOTP on themselves");
        }
        e.into_result()?;
        Ok(UserChange {
            email,
            role: self.role,
            disabled: self.disabled,
            password,
            disable_totp: self.totp_enabled == Some(false),
        })
    }
}

/// Query of `GET /api/users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

impl UserListQuery {
    pub fn validate(self) -> Result<PageRequest, FieldErrors> {
        let mut e = FieldErrors::default();
        let page = PageRequest::parse(self.page, self.per_page, &mut e);
        e.into_result()?;
        Ok(page)
    }
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub password: Option<String>,
    /// The current code of the authenticator app, or a recovery code;
    /// required when the user has TOTP enabled.
    pub totp_code: Option<String>,
}

/// Answer of a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the token stays valid.
    pub expires_in: u64,
    pub user: User,
}

/// Body of `POST /api/auth/password`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PasswordChange {
    pub current_password: Option<String>,
    /// At least 10 characters.
    pub new_password: Option<String>,
}

/// Who the credentials of a request belong to (`GET /api/auth/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// `user` for a login token, `api_key` for a key, `anonymous` when the
    /// server runs without credentials.
    pub kind: ActorKind,
    /// The e-mail address of a user, the name of a key.
    pub name: String,
    /// What the credentials may do.
    pub role: Role,
    /// The user logged in, or owning the API key.
    pub user: Option<User>,
    /// The API key used, when one was.
    pub api_key_id: Option<Uuid>,
}

/// Answer of `POST /api/auth/totp/setup`: add the secret to an
/// authenticator app, then prove it with `POST /api/auth/totp/enable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpSetup {
    /// Base32, as authenticator apps take it when typed in.
    pub secret: String,
    /// The same as a link (QR code contents): `otpauth://totp/...`.
    pub otpauth_uri: String,
}

/// A TOTP code (six digits) or a recovery code.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TotpCode {
    #[schema(example = "123456")]
    pub code: Option<String>,
}

/// One-time recovery codes, shown once when TOTP is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A named key for scripts and tools. The key itself is shown only once,
/// when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    /// What the key may do; never more than its owner.
    pub role: Role,
    /// The user the key belongs to; none for keys made with the bootstrap key.
    pub owner_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /api/api-keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiKeyCreate {
    #[schema(example = "prometheus")]
    pub name: Option<String>,
    /// Defaults to the caller's role; may not exceed it.
    pub role: Option<Role>,
    /// After this time the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A checked `ApiKeyCreate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRequest {
    pub name: String,
    pub role: Option<Role>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiKeyCreate {
    pub fn validate(self, now: DateTime<Utc>) -> Result<ApiKeyRequest, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.map(|n| n.trim().to_owned()).unwrap_or_default();
        if name.is_empty() {
            e.add("name", "is required");
        } else if name.chars().count() > 100 {
            e.add("name", "must be at most 100 characters");
        }
        if let Some(at) = self.expires_at
            && at <= now
        {
            e.add("expires_at", "must be in the future");
        }
        e.into_result()?;
        Ok(ApiKeyRequest { name, role: self.role, expires_at: self.expires_at })
    }
}

/// Answer of `POST /api/api-keys`: the key, shown this once, and its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyCreated {
    /// Send as `X-Api-Key: <key>` or `Authorization: Bearer <key>`.
    pub key: String,
    pub api_key: ApiKey,
}

/// Query of `GET /api/api-keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyListQuery {
    /// Admins only: every user's keys instead of their own.
    pub all: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

impl ApiKeyListQuery {
    pub fn validate(self) -> Result<(bool, PageRequest), FieldErrors> {
        let mut e = FieldErrors::default();
        let page = PageRequest::parse(self.page, self.per_page, &mut e);
        e.into_result()?;
        Ok((self.all.unwrap_or(false), page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_passwords() {
        assert_eq!(email(" Ops@Example.com ").unwrap(), "Ops@Example.com");
        for bad in ["", "ops", "ops@", "@example.com", "ops@example", "a b@example.com", "a@b@example.com"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(password("short").is_err());
        assert!(password("long enough pass").is_ok());
        let e = UserCreate::default().validate().unwrap_err();
        assert_eq!(e.0.len(), 3);
    }
}
