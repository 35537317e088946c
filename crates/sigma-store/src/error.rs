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
