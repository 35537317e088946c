//! Agents: enrolment (register, claim, enrolment tokens), heartbeats and
//! the operator's view of them.

use crate::{AgentStatus, FieldErrors, Purpose, validate};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

impl AgentStatus {
    pub const ALL: &'static [AgentStatus] = &[AgentStatus::Pending, AgentStatus::Online, AgentStatus::Offline];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Pending => "pending",
            AgentStatus::Online => "online",
            AgentStatus::Offline => "offline",
        }
    }
}

impl std::fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AgentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AgentStatus::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| "must be one of: pending, online, offline".to_owned())
    }
}

/// Body of `POST /api/agent/register`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentRegister {
    pub agent_id: Uuid,
    /// Lower-case hex SHA-256 of the claim token the agent generated.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub claim_token_hash: String,
    #[schema(example = "tokyo-1")]
    pub hostname: String,
    #[schema(example = "0.1.0")]
    pub agent_version: String,
    #[schema(example = "Debian GNU/Linux 13 (trixie)")]
    pub os: String,
    #[schema(example = "x86_64")]
    pub arch: String,
    /// The addresses the agent sees on its interfaces (loopback left out).
    #[serde(default)]
    #[schema(example = json!(["103.1.2.3"]))]
    pub ip_addresses: Vec<String>,
    /// An enrolment token: the agent is claimed at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_token: Option<String>,
}

/// A registration that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRegistration {
    pub agent_id: Uuid,
    pub claim_token_hash: String,
    pub hostname: String,
    pub agent_version: String,
    pub os: String,
    pub arch: String,
    pub ip_addresses: Vec<IpAddr>,
}

/// Whether `s` is a lower-case hex SHA-256.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn short(e: &mut FieldErrors, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.chars().count() > max {
        e.add(field, format!("must be at most {max} characters"));
    } else if v.contains('\0') {
        e.add(field, "must not contain NUL characters");
    }
    v.to_owned()
}

impl AgentRegister {
    pub fn validate(self) -> Result<(AgentRegistration, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.agent_id.get_version_num() != 7 {
            e.add("agent_id", "must be a UUIDv7");
        }
        if !is_sha256_hex(&self.claim_token_hash) {
            e.add("claim_token_hash", "must be the lower-case hex SHA-256 of the claim token (64 characters)");
        }
        let hostname = short(&mut e, "hostname", &self.hostname, 253);
        if hostname.is_empty() {
            e.add("hostname", "is required");
        }
        let agent_version = short(&mut e, "agent_version", &self.agent_version, 64);
        let os = short(&mut e, "os", &self.os, 255);
        let arch = short(&mut e, "arch", &self.arch, 64);
        let mut ips = Vec::new();
        if self.ip_addresses.len() > 64 {
            e.add("ip_addresses", "at most 64 addresses");
        }
        for (i, raw) in self.ip_addresses.iter().take(64).enumerate() {
            match validate::ip(raw) {
                Ok(ip) if !ips.contains(&ip) => ips.push(ip),
                Ok(_) => {}
                Err(m) => e.add(format!("ip_addresses[{i}]"), m),
            }
        }
        let token = self.enrollment_token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if token.as_ref().is_some_and(|t| t.len() > 200) {
            e.add("enrollment_token", "is not a valid enrolment token");
        }
        e.into_result()?;
        Ok((
            AgentRegistration {
                agent_id: self.agent_id,
                claim_token_hash: self.claim_token_hash,
                hostname,
                agent_version,
                os,
                arch,
                ip_addresses: ips,
            },
            token,
        ))
    }
}

/// Answer of `POST /api/agent/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgentRegistered {
    /// `pending_claim`, or `claimed` when an enrolment token was used.
    #[schema(example = "pending_claim")]
    pub status: String,
    /// Where the agent polls for its key.
    #[schema(example = "/api/agent/0193a0c4-7b1e-7cc0-9d1c-3f1e2d3c4b5a/claim-status")]
    pub poll_url: String,
}

/// Answer of `GET /api/agent/{id}/claim-status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClaimStatus {
    /// `pending` until claimed; `claimed` exactly once, with the key.
    #[schema(example = "pending")]
    pub status: String,
    /// The agent's key, given once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

/// Body of `POST /api/agents/claim`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentClaim {
    pub agent_id: Uuid,
    /// The token the agent printed.
    pub claim_token: String,
    /// The VPS to link the agent to; without it, the live VPS holding one of
    /// the agent's addresses, else a new `provisioning` VPS made from
    /// `provider_id`, `country` and `purpose`.
    #[serde(default)]
    pub vps_id: Option<Uuid>,
    #[serde(default)]
    pub provider_id: Option<Uuid>,
    #[serde(default)]
    #[schema(example = "JP")]
    pub country: Option<String>,
    #[serde(default)]
    pub purpose: Option<Purpose>,
}

/// Defaults of the VPS made for an agent that no VPS matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewVpsDefaults {
    pub provider_id: Uuid,
    pub country: String,
    pub purpose: Purpose,
}

impl NewVpsDefaults {
    /// All three given, or none (`Ok(None)`); a country must be valid.
    pub fn from_parts(
        provider_id: Option<Uuid>,
        country: Option<String>,
        purpose: Option<Purpose>,
    ) -> Result<Option<NewVpsDefaults>, FieldErrors> {
        let mut e = FieldErrors::default();
        let country = country.and_then(|c| e.check("country", validate::country(&c)));
        e.into_result()?;
        match (provider_id, country, purpose) {
            (None, None, None) => Ok(None),
            (Some(provider_id), Some(country), Some(purpose)) => {
                Ok(Some(NewVpsDefaults { provider_id, country, purpose }))
            }
            (p, c, u) => {
                let mut e = FieldErrors::default();
                for (field, missing) in
                    [("provider_id", p.is_none()), ("country", c.is_none()), ("purpose", u.is_none())]
                {
                    if missing {
                        e.add(field, "is required with the other fields of a new VPS");
                    }
                }
                Err(e)
            }
        }
    }
}

/// An agent as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    pub id: Uuid,
    /// `pending` until the first heartbeat after it was claimed, then
    /// `online`, or `offline` when no heartbeat came for three intervals.
    pub status: AgentStatus,
    /// Whether an operator or an enrolment token has claimed it.
    pub claimed: bool,
    pub vps_id: Option<Uuid>,
    pub hostname: String,
    pub agent_version: String,
    pub os: String,
    pub arch: String,
    #[schema(value_type = Vec<String>)]
    pub ip_addresses: Vec<IpAddr>,
    pub registered_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    /// `claim` or `enrollment-token`.
    pub enrolled_by: Option<String>,
    /// Whether a key waits to be fetched by the agent.
    pub key_pending: bool,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    pub status_changed_at: DateTime<Utc>,
    /// The latest heartbeat.
    #[schema(value_type = Option<Heartbeat>)]
    pub metrics: Option<serde_json::Value>,
}

/// Query of `GET /api/agents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentListQuery {
    pub status: Option<AgentStatus>,
    /// Only claimed (`true`) or unclaimed (`false`) agents.
    pub claimed: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Which agents a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentFilter {
    pub status: Option<AgentStatus>,
    pub claimed: Option<bool>,
}

impl AgentListQuery {
    pub fn validate(self) -> Result<(AgentFilter, crate::PageRequest), FieldErrors> {
        let mut e = FieldErrors::default();
        let page = crate::PageRequest::parse(self.page, self.per_page, &mut e);
        e.into_result()?;
        Ok((AgentFilter { status: self.status, claimed: self.claimed }, page))
    }
}

/// Body of `POST /api/agents/enrollment-tokens`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct EnrollmentTokenCreate {
    #[schema(example = "hetzner batch 2026-11")]
    pub name: Option<String>,
    /// Hours until the token expires; default 24, at most 8760.
    pub expires_in_hours: Option<i64>,
    /// How many agents may enrol with it; default 1, at most 100000.
    pub max_uses: Option<i64>,
    /// With `country` and `purpose`: a VPS made for an agent that no VPS matches.
    pub provider_id: Option<Uuid>,
    pub country: Option<String>,
    pub purpose: Option<Purpose>,
}

/// A validated enrolment token request.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentTokenDraft {
    pub name: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i64,
    pub new_vps: Option<NewVpsDefaults>,
}

impl EnrollmentTokenCreate {
    pub fn validate(self, now: DateTime<Utc>) -> Result<EnrollmentTokenDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.check("name", validate::text(self.name, 255)).flatten();
        let hours = self.expires_in_hours.unwrap_or(24);
        if !(1..=8760).contains(&hours) {
            e.add("expires_in_hours", "must be between 1 and 8760");
        }
        let max_uses = self.max_uses.unwrap_or(1);
        if !(1..=100_000).contains(&max_uses) {
            e.add("max_uses", "must be between 1 and 100000");
        }
        let new_vps = match NewVpsDefaults::from_parts(self.provider_id, self.country, self.purpose) {
            Ok(d) => d,
            Err(errors) => {
                e.0.extend(errors.0);
                None
            }
        };
        e.into_result()?;
        Ok(EnrollmentTokenDraft { name, expires_at: now + chrono::Duration::hours(hours), max_uses, new_vps })
    }
}

/// An enrolment token (its secret is shown only when it is made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentToken {
    pub id: Uuid,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i64,
    pub uses: i64,
    pub revoked_at: Option<DateTime<Utc>>,
    pub new_vps: Option<NewVpsDefaults>,
}

/// Answer of `POST /api/agents/enrollment-tokens`: the token, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentTokenCreated {
    /// Give it to agents as `--enrollment-token`; it is not shown again.
    pub token: String,
    #[serde(flatten)]
    pub info: EnrollmentToken,
}

/// Used and total size of memory, swap or a filesystem, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub total_bytes: u64,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FilesystemUsage {
    #[schema(example = "/")]
    pub mount: String,
    #[schema(example = "ext4")]
    pub fstype: String,
    pub total_bytes: u64,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoadAverages {
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
}

/// Bytes received and sent on every interface but loopback, since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NetworkBytes {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// A listening TCP socket or a bound UDP socket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct ListeningPort {
    /// `tcp` or `udp`.
    #[schema(example = "tcp")]
    pub protocol: String,
    #[schema(example = "0.0.0.0")]
    pub address: String,
    pub port: u16,
    /// The process holding the socket, when the agent may see it.
    #[schema(example = "sshd")]
    pub process: Option<String>,
    pub pid: Option<u32>,
}

/// Body of `POST /api/agent/heartbeat`: what the agent measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Heartbeat {
    pub agent_version: String,
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub arch: String,
    pub uptime_secs: u64,
    /// Busy share of all CPUs since the previous sample, 0-100.
    pub cpu_percent: f64,
    pub cpu_cores: u32,
    pub load: LoadAverages,
    pub memory: Usage,
    pub swap: Usage,
    pub filesystems: Vec<FilesystemUsage>,
    pub network: NetworkBytes,
    pub ports: Vec<ListeningPort>,
    /// Public addresses the agent sees on its interfaces.
    pub public_ips: Vec<String>,
    /// Seconds between heartbeats; the agent is offline after three.
    pub interval_secs: u32,
    /// Port of the agent's `/metrics`, when it serves one beyond loopback.
    pub metrics_port: Option<u16>,
}

impl Heartbeat {
    /// Bounds every field, so that a heartbeat costs what a heartbeat should.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        for (field, value, max) in [
            ("agent_version", &self.agent_version, 64),
            ("hostname", &self.hostname, 253),
            ("os", &self.os, 255),
            ("kernel", &self.kernel, 255),
            ("arch", &self.arch, 64),
        ] {
            short(&mut e, field, value, max);
        }
        if !(self.cpu_percent.is_finite() && (0.0..=100.0).contains(&self.cpu_percent)) {
            e.add("cpu_percent", "must be between 0 and 100");
        }
        for (field, v) in
            [("load.one", self.load.one), ("load.five", self.load.five), ("load.fifteen", self.load.fifteen)]
        {
            if !(v.is_finite() && v >= 0.0) {
                e.add(field, "must be a non-negative number");
            }
        }
        for (field, u) in [("memory", self.memory), ("swap", self.swap)] {
            if u.used_bytes > u.total_bytes {
                e.add(field, "used_bytes must not exceed total_bytes");
            }
        }
        if self.filesystems.len() > 256 {
            e.add("filesystems", "at most 256 filesystems");
        }
        for (i, f) in self.filesystems.iter().enumerate().take(256) {
            short(&mut e, &format!("filesystems[{i}].mount"), &f.mount, 4096);
            short(&mut e, &format!("filesystems[{i}].fstype"), &f.fstype, 64);
        }
        if self.ports.len() > 4096 {
            e.add("ports", "at most 4096 ports");
        }
        for (i, p) in self.ports.iter().enumerate().take(4096) {
            if p.protocol != "tcp" && p.protocol != "udp" {
                e.add(format!("ports[{i}].protocol"), "must be tcp or udp");
            }
            if p.address.parse::<IpAddr>().is_err() {
                e.add(format!("ports[{i}].address"), "must be an IP address");
            }
            if let Some(name) = &p.process {
                short(&mut e, &format!("ports[{i}].process"), name, 64);
            }
        }
        if self.public_ips.len() > 64 {
            e.add("public_ips", "at most 64 addresses");
        }
        for (i, ip) in self.public_ips.iter().enumerate().take(64) {
            if ip.parse::<IpAddr>().is_err() {
                e.add(format!("public_ips[{i}]"), "must be an IP address");
            }
        }
        if !(1..=86_400).contains(&self.interval_secs) {
            e.add("interval_secs", "must be between 1 and 86400");
        }
        if self.metrics_port == Some(0) {
            e.add("metrics_port", "must be a port number");
        }
        e.into_result()
    }
}

/// What the server asks of an agent: `GET /api/agent/config`, and the
/// answer of every heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentConfig {
    pub agent_id: Uuid,
    /// Seconds between heartbeats the server asks for; absent: the agent's own setting.
    pub heartbeat_interval_secs: Option<u32>,
    /// Whether to report listening ports; absent: the agent's own setting.
    pub port_scan: Option<bool>,
}

/// One message of `GET /api/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FleetEvent {
    /// An agent's status changed (`online`, `offline`).
    AgentStatus { agent_id: Uuid, vps_id: Option<Uuid>, hostname: String, status: AgentStatus, at: DateTime<Utc> },
    /// A heartbeat arrived.
    AgentHeartbeat {
        agent_id: Uuid,
        vps_id: Option<Uuid>,
        at: DateTime<Utc>,
        cpu_percent: f64,
        memory: Usage,
        load: LoadAverages,
    },
    /// An agent registered, was claimed or was removed.
    AgentChanged { agent_id: Uuid, vps_id: Option<Uuid>, action: String, at: DateTime<Utc> },
    /// A VPS was created, changed, retired, trashed, restored or purged.
    VpsChanged { vps_id: Uuid, hostname: String, action: String, at: DateTime<Utc> },
}

impl FleetEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            FleetEvent::AgentStatus { .. } => "agent-status",
            FleetEvent::AgentHeartbeat { .. } => "agent-heartbeat",
            FleetEvent::AgentChanged { .. } => "agent-changed",
            FleetEvent::VpsChanged { .. } => "vps-changed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_is_checked() {
        let bad = AgentRegister {
            agent_id: Uuid::nil(),
            claim_token_hash: "ABC".into(),
            hostname: " ".into(),
            ip_addresses: vec!["300.1.1.1".into()],
            ..Default::default()
        };
        let e = bad.validate().unwrap_err();
        for f in ["agent_id", "claim_token_hash", "hostname", "ip_addresses[0]"] {
            assert!(e.0.contains_key(f), "{f} in {e:?}");
        }
        let good = AgentRegister {
            agent_id: Uuid::now_v7(),
            claim_token_hash: "a".repeat(64),
            hostname: "tokyo-1".into(),
            ip_addresses: vec!["103.1.2.3".into(), "103.1.2.3".into()],
            enrollment_token: Some("  ".into()),
            ..Default::default()
        };
        let (r, token) = good.validate().unwrap();
        assert_eq!(r.ip_addresses.len(), 1);
        assert_eq!(token, None);
    }

    #[test]
    fn heartbeat_bounds() {
        let mut h = Heartbeat { interval_secs: 30, cpu_percent: 12.5, ..Default::default() };
        assert!(h.validate().is_ok());
        h.cpu_percent = f64::NAN;
        h.memory = Usage { total_bytes: 1, used_bytes: 2 };
        h.ports.push(ListeningPort { protocol: "sctp".into(), address: "x".into(), port: 1, process: None, pid: None });
        let e = h.validate().unwrap_err();
        for f in ["cpu_percent", "memory", "ports[0].protocol", "ports[0].address"] {
            assert!(e.0.contains_key(f), "{f} in {e:?}");
        }
    }

    #[test]
    fn new_vps_needs_all_three_fields() {
        assert_eq!(NewVpsDefaults::from_parts(None, None, None).unwrap(), None);
        let e = NewVpsDefaults::from_parts(Some(Uuid::nil()), None, None).unwrap_err();
        assert!(e.0.contains_key("country") && e.0.contains_key("purpose"));
        let d = NewVpsDefaults::from_parts(Some(Uuid::nil()), Some("jp".into()), Some(Purpose::VpnExit)).unwrap();
        assert_eq!(d.unwrap().country, "JP");
    }
}
