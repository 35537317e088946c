//! Agents: enrolment, keys, heartbeats and status transitions.

use crate::{AuditContext, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sigma_types::{
    Agent, AgentCounts, AgentFilter, AgentRegistration, AgentStatus, EnrollmentToken, EnrollmentTokenDraft, IpEntry,
    NewVpsDefaults, Page, PageRequest, VpsDraft, VpsStatus,
};
use uuid::Uuid;

/// Where a claimed agent goes: a named VPS, else the live VPS holding one
/// of its addresses, else a new `provisioning` VPS made from `new_vps`,
/// else nowhere (the agent is claimed without a VPS).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimTarget {
    pub vps_id: Option<Uuid>,
    pub new_vps: Option<NewVpsDefaults>,
    /// Refuse (`Invalid`) rather than claim without a VPS.
    pub require_vps: bool,
}

/// What `register_agent` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// A new agent.
    Created,
    /// The same agent registering again with the same claim hash.
    Again,
}

/// Why an enrolment token was refused. Deliberately one answer for the
/// caller: which of these it was is only logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Expired,
    Revoked,
    UsedUp,
}

/// How far an agent's enrolment went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimState {
    pub claim_hash: String,
    pub claimed: bool,
    pub key_pending: bool,
}

/// The agent a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentKeyOwner {
    pub agent_id: Uuid,
    pub vps_id: Option<Uuid>,
}

/// The latest heartbeat of one agent, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatWrite {
    pub agent_id: Uuid,
    /// The hash of the key it came with: a key revoked meanwhile stores nothing.
    pub key_hash: String,
    pub at: DateTime<Utc>,
    /// When the agent counts as offline without another heartbeat.
    pub offline_after: DateTime<Utc>,
    pub hostname: String,
    pub agent_version: String,
    /// The heartbeat as JSON text, serialized once by the server.
    pub data: String,
}

/// What storing a heartbeat did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatOutcome {
    pub agent_id: Uuid,
    /// False when the agent or its key is gone.
    pub stored: bool,
    /// The agent was pending or offline and is online now.
    pub came_online: bool,
    pub vps_id: Option<Uuid>,
}

/// A recorded change of an agent's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentTransition {
    pub agent_id: Uuid,
    pub vps_id: Option<Uuid>,
    pub hostname: String,
    pub status: AgentStatus,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Stores a new, unclaimed agent. The same id with the same claim hash
    /// is `Again` and changes nothing; with another hash it is `Conflict`.
    async fn register_agent(&self, r: &AgentRegistration, by: &AuditContext) -> Result<(Agent, Registered)>;
    /// Registers and claims an agent with an enrolment token, using one of
    /// its uses, in one transaction. Registering again with the same hash
    /// uses none. `Ok(Err(_))` when the token is refused (nothing changed).
    async fn enroll_agent(
        &self,
        r: &AgentRegistration,
        token_hash: &str,
        by: &AuditContext,
    ) -> Result<std::result::Result<(Agent, Registered), TokenRefusal>>;
    /// Claims an agent whose claim hash is `claim_hash`, links it to a VPS
    /// as `target` says and makes a key ready for it. `NotFound` for an
    /// unknown agent, `Ok(None)` for a wrong hash (nothing changes),
    /// `Conflict` for an agent already claimed.
    async fn claim_agent(
        &self,
        id: Uuid,
        claim_hash: &str,
        target: &ClaimTarget,
        by: &AuditContext,
    ) -> Result<Option<Agent>>;
    /// Hands over the ready key: stores `key_hash` as the agent's key when
    /// a key is ready and `claim_hash` matches, at most once per claim or
    /// rotation, even under concurrent calls. True when this call did.
    async fn take_agent_key(&self, id: Uuid, claim_hash: &str, key_hash: &str) -> Result<bool>;
    /// The claim hash and claim state of an agent (`None`: unknown).
    async fn agent_claim_state(&self, id: Uuid) -> Result<Option<ClaimState>>;
    /// The agent a key hash belongs to.
    async fn agent_by_key(&self, key_hash: &str) -> Result<Option<AgentKeyOwner>>;
    /// Stores the latest heartbeat of each agent in one transaction.
    async fn record_heartbeats(&self, beats: &[HeartbeatWrite]) -> Result<Vec<HeartbeatOutcome>>;
    /// Marks online agents whose `offline_after` has passed as offline and
    /// records each transition once.
    async fn mark_offline_agents(&self, now: DateTime<Utc>) -> Result<Vec<AgentTransition>>;
    /// Status transitions of an agent, oldest first.
    async fn agent_transitions(&self, id: Uuid) -> Result<Vec<AgentTransition>>;

    async fn get_agent(&self, id: Uuid) -> Result<Agent>;
    async fn list_agents(&self, filter: AgentFilter, page: PageRequest) -> Result<Page<Agent>>;
    async fn agent_counts(&self) -> Result<AgentCounts>;
    /// Every claimed agent linked to a VPS, with its latest heartbeat.
    async fn linked_agents(&self) -> Result<Vec<Agent>>;
    /// Removes an agent: its key stops working at once.
    async fn delete_agent(&self, id: Uuid, by: &AuditContext) -> Result<()>;
    /// Revokes the agent's key and makes a new one ready for it, which the
    /// agent fetches with its claim token. `Conflict` when not claimed.
    async fn rotate_agent_key(&self, id: Uuid, by: &AuditContext) -> Result<Agent>;

    async fn create_enrollment_token(
        &self,
        draft: &EnrollmentTokenDraft,
        token_hash: &str,
        by: &AuditContext,
    ) -> Result<EnrollmentToken>;
    async fn list_enrollment_tokens(&self) -> Result<Vec<EnrollmentToken>>;
    /// Revokes a token; revoking a revoked token changes nothing.
    async fn revoke_enrollment_token(&self, id: Uuid, by: &AuditContext) -> Result<EnrollmentToken>;
}

/// The refusal of a token row: `uses`, `max_uses`, `expires_at`, `revoked`.
pub fn token_refusal(
    uses: i64,
    max_uses: i64,
    expires_at: DateTime<Utc>,
    revoked: bool,
    now: DateTime<Utc>,
) -> Option<TokenRefusal> {
    if revoked {
        Some(TokenRefusal::Revoked)
    } else if expires_at <= now {
        Some(TokenRefusal::Expired)
    } else if uses >= max_uses {
        Some(TokenRefusal::UsedUp)
    } else {
        None
    }
}

/// The host name a VPS made for an agent gets: the agent's own when it is
/// a valid host name, else `agent-<first 8 of its id>`.
pub fn agent_vps_hostname(hostname: &str, id: Uuid) -> String {
    sigma_types::validate::hostname(hostname).unwrap_or_else(|_| format!("agent-{}", &id.simple().to_string()[..8]))
}

/// Addresses worth recording on a VPS: neither loopback, private,
/// link-local nor otherwise local.
pub fn is_public(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        std::net::IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The `provisioning` VPS made for a claimed agent that no VPS matched.
pub fn agent_vps_draft(agent: &Agent, d: &NewVpsDefaults) -> VpsDraft {
    VpsDraft {
        hostname: agent_vps_hostname(&agent.hostname, agent.id),
        alias: None,
        provider_id: d.provider_id,
        country: d.country.clone(),
        city: None,
        dc_name: None,
        ip_addresses: agent
            .ip_addresses
            .iter()
            .filter(|ip| is_public(ip))
            .map(|ip| IpEntry { ip: *ip, label: None })
            .collect(),
        ssh_port: 22,
        ssh_user: None,
        status: VpsStatus::Provisioning,
        purpose: d.purpose,
        vpn_protocol: None,
        tags: vec![],
        cpu_cores: None,
        ram_mb: None,
        disk_gb: None,
        bandwidth_tb: None,
        price: None,
        currency: "USD".into(),
        billing_cycle: sigma_types::BillingCycle::Monthly,
        purchase_date: None,
        expire_date: None,
        auto_renew: false,
        monitoring_enabled: true,
        node_exporter_port: 9100,
        extra: serde_json::json!({}),
        notes: Some(format!("made when agent {} was claimed", agent.id)),
    }
}

/// Compares two secrets (or their hashes) in time that does not depend on
/// where they differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
