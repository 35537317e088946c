use sigma_types::FieldErrors;
use uuid::Uuid;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a write collided with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// A sentence naming what is in the way.
    pub message: String,
    /// The request field that collided, if one did.
    pub field: Option<String>,
    /// The VPS holding the host name or address, when a VPS is in the way.
    pub other_vps: Option<(Uuid, String)>,
}

impl Conflict {
    pub fn new(message: impl Into<String>) -> Self {
        Conflict { message: message.into(), field: None, other_vps: None }
    }

    pub fn on(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_vps(mut self, id: Uuid, hostname: impl Into<String>) -> Self {
        self.other_vps = Some((id, hostname.into()));
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{}", .0.message)]
    Conflict(Conflict),
    /// The record changed since the version the caller read.
    #[error("the record was changed by someone else")]
    VersionMismatch,
    /// Input that is well-formed but refers to something that is not there.
    #[error("invalid reference")]
    Invalid(FieldErrors),
    /// The database cannot be reached.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    #[error("database error")]
    Other(#[source] BoxError),
}

impl StoreError {
    pub fn conflict(message: impl Into<String>) -> Self {
        StoreError::Conflict(Conflict::new(message))
    }

    pub fn other(e: impl Into<BoxError>) -> Self {
        StoreError::Other(e.into())
    }
}

/// The one translation of database errors into store errors. Unique
/// violations that slip past a backend's own checks (two writers racing)
/// become conflicts named after the index that caught them.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let what = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
                StoreError::Conflict(if what.contains("vps_ip") {
                    Conflict::new("an address is already used by a live VPS").on("ip_addresses")
                } else if what.contains("hostname") {
                    Conflict::new("the host name is already used by a live VPS").on("hostname")
                } else if what.contains("providers") {
                    Conflict::new("a provider with this name exists").on("name")
                } else {
                    Conflict::new("the record collides with an existing one")
                })
            }
            // Two transactions collided (deadlock, serialization failure)
            // or a referenced row vanished meanwhile: the caller may retry.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40P01" | "40001" | "23503")) => {
                StoreError::conflict("the change collided with a concurrent one; try again")
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(e)),
            other => StoreError::Other(Box::new(other)),
        }
    }
}

impl Conflict {
    pub fn hostname_taken(hostname: &str, other_id: Uuid, other_hostname: &str) -> Self {
        Conflict::new(format!("host name {hostname:?} is already used by live VPS {other_hostname} ({other_id})"))
            .on("hostname")
            .with_vps(other_id, other_hostname)
    }

    /// `index` is the position of the address in the request's list.
    pub fn address_taken(ip: &str, index: usize, other_id: Uuid, other_hostname: &str) -> Self {
        Conflict::new(format!("address {ip} is already used by live VPS {other_hostname} ({other_id})"))
            .on(format!("ip_addresses[{index}].ip"))
            .with_vps(other_id, other_hostname)
    }

    pub fn in_trash() -> Self {
        Conflict::new("the VPS is in the trash; restore it first")
    }

    pub fn provider_in_use(count: i64) -> Self {
        Conflict::new(format!("the provider is still referenced by {count} VPS (live, retired or in the trash)"))
    }

    pub fn provider_name_taken(other: &str) -> Self {
        Conflict::new(format!("a provider named {other:?} already exists")).on("name")
    }
}

/// The error for a `provider_id` that names no provider.
pub fn unknown_provider() -> StoreError {
    StoreError::Invalid(sigma_types::FieldErrors::single("provider_id", "no provider has this id"))
}
