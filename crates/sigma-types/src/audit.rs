use crate::{FieldErrors, PageRequest};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What kind of caller made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiKey,
    Agent,
    /// Sigma itself (background jobs).
    System,
    /// A request to a server running without credentials.
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ActorKind::User, ActorKind::ApiKey, ActorKind::Agent, ActorKind::System, ActorKind::Anonymous]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditActor {
    pub kind: ActorKind,
    /// The user's, key's or agent's id.
    pub id: Option<Uuid>,
    /// A name people recognise: an e-mail address, a key's name.
    pub name: String,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// `create`, `update`, `delete`, `retire`, `restore`, `purge`, `import`, `login`, ...
    pub action: String,
    /// `provider`, `vps`, `user`, `api_key`, `agent`, ...
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    /// The resource before the change (absent for creations).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The resource after the change (absent for deletions).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The address the request came from.
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

/// Query of `GET /api/audit-logs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub action: Option<String>,
    /// The actor's name or id.
    pub actor: Option<String>,
    /// Changes at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Changes before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

/// A checked audit query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditQuery {
    pub fn validate(self) -> Result<(AuditFilter, PageRequest), FieldErrors> {
        let mut e = FieldErrors::default();
        let page = PageRequest::parse(self.page, self.per_page, &mut e);
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to < from
        {
            e.add("to", "must not be before from");
        }
        e.into_result()?;
        let clean = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok((
            AuditFilter {
                resource_type: clean(self.resource_type),
                resource_id: self.resource_id,
                action: clean(self.action),
                actor: clean(self.actor),
                from: self.from,
                to: self.to,
            },
            page,
        ))
    }
}
