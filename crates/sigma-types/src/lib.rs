//! The request and response types every Sigma program shares: the server,
//! the client, the CLI, the agent and the probe speak exactly these.
//!
//! Inputs arrive as plain data (`VpsCreate`, `ProviderCreate`, patches) and
//! become trusted values only through `validate`, which collects every field
//! error at once so a form can show them all.

mod audit;
mod auth;
mod codes;
mod enums;
mod error;
mod integrations;
mod list;
mod patch;
mod provider;
mod stats;
pub mod validate;
mod vps;

pub use audit::{ActorKind, AuditActor, AuditEntry, AuditFilter, AuditQuery};
pub use auth::{
    ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyListQuery, ApiKeyRequest, LoginRequest, LoginResponse, Me,
    PasswordChange, RecoveryCodes, TotpCode, TotpSetup, User, UserChange, UserCreate, UserDraft, UserListQuery,
    UserPatch,
};
pub use enums::{BillingCycle, IpLabel, Purpose, Role, Source, VpsStatus};
pub use error::{ErrorBody, ErrorDetail};
pub use integrations::{
    ExportQuery, ImportQuery, ImportReport, ImportResult, ImportRow, Inventory, InventoryGroup, InventoryMeta,
    InventoryQuery, TargetGroup, TargetJob, TargetsQuery, TransferFormat, VpsFilterQuery,
};
pub use list::{Page, PageRequest, ProviderListQuery, SortOrder, VpsFilter, VpsListQuery, VpsSort};
pub use patch::Patch;
pub use provider::{Provider, ProviderCreate, ProviderDraft, ProviderPatch};
pub use stats::{AgentCounts, CountBy, CurrencyAmount, Stats};
pub use validate::FieldErrors;
pub use vps::{
    AgentStatus, IpEntry, IpEntryInput, IpHistoryEntry, IpHistoryQuery, Vps, VpsAgent, VpsCreate, VpsDraft, VpsPatch,
};
