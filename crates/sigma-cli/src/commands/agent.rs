//! `sigma agent ...` and `sigma agent token ...`.

use super::{Ctx, collect, provider, vps};
use crate::cli::{AgentCommand, AgentStatusArg, NewVpsArgs, TokenCommand};
use crate::error::CliResult;
use crate::output::{Cell, Column, Format, Tone, col, emit, opt, wide};
use chrono::{DateTime, Utc};
use sigma_types::{Agent, AgentClaim, AgentListQuery, AgentStatus, EnrollmentToken, EnrollmentTokenCreate, Purpose};
use uuid::Uuid;

fn status_cell(status: AgentStatus) -> Cell {
    match status {
        AgentStatus::Online => Cell::new("online", Tone::Good),
        AgentStatus::Offline => Cell::new("offline", Tone::Bad),
        AgentStatus::Pending => Cell::new("pending", Tone::Info),
    }
}

/// How long ago, in the largest whole unit: `42s`, `5m`, `3h`, `2d`.
fn ago(at: Option<DateTime<Utc>>) -> Cell {
    let Some(at) = at else { return Cell::from("") };
    let secs = (Utc::now() - at).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86400),
    }
    .into()
}

/// A number of the latest heartbeat, such as `cpu_percent` or `memory.used_bytes`.
fn metric(a: &Agent, path: &str) -> Option<f64> {
    let mut v = a.metrics.as_ref()?;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    v.as_f64()
}

fn memory(a: &Agent) -> Cell {
    match (metric(a, "memory.used_bytes"), metric(a, "memory.total_bytes")) {
        (Some(used), Some(total)) if total > 0.0 => format!("{:.0}%", used * 100.0 / total).into(),
        _ => Cell::from(""),
    }
}

pub const COLUMNS: &[Column<Agent>] = &[
    col("id", |a| a.id.to_string().into()),
    col("status", |a| status_cell(a.status)),
    col("hostname", |a| a.hostname.as_str().into()),
    col("claimed", |a| if a.claimed { Cell::from("yes") } else { Cell::new("no", Tone::Warn) }),
    col("ip", |a| a.ip_addresses.first().map(ToString::to_string).unwrap_or_default().into()),
    col("cpu", |a| opt(&metric(a, "cpu_percent").map(|c| format!("{c:.0}%")))),
    col("memory", memory),
    col("heartbeat", |a| ago(a.last_heartbeat_at)),
    wide("vps_id", |a| opt(&a.vps_id)),
    wide("version", |a| a.agent_version.as_str().into()),
    wide("os", |a| a.os.as_str().into()),
    wide("arch", |a| a.arch.as_str().into()),
    wide("ip_addresses", |a| a.ip_addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ").into()),
    wide("registered_at", |a| a.registered_at.to_rfc3339().into()),
    wide("claimed_at", |a| opt(&a.claimed_at.map(|t| t.to_rfc3339()))),
    wide("enrolled_by", |a| opt(&a.enrolled_by)),
    wide("key_pending", |a| Cell::from(if a.key_pending { "yes" } else { "no" })),
    wide("last_heartbeat_at", |a| opt(&a.last_heartbeat_at.map(|t| t.to_rfc3339()))),
];

pub const TOKEN_COLUMNS: &[Column<EnrollmentToken>] = &[
    col("id", |t| t.id.to_string().into()),
    col("name", |t| opt(&t.name)),
    col("uses", |t| format!("{}/{}", t.uses, t.max_uses).into()),
    col("expires_at", |t| {
        let text = t.expires_at.format("%Y-%m-%d %H:%M").to_string();
        if t.expires_at <= Utc::now() { Cell::new(text, Tone::Dim) } else { text.into() }
    }),
    col("state", |t| match () {
        _ if t.revoked_at.is_some() => Cell::new("revoked", Tone::Dim),
        _ if t.expires_at <= Utc::now() => Cell::new("expired", Tone::Dim),
        _ if t.uses >= t.max_uses => Cell::new("used up", Tone::Dim),
        _ => Cell::new("usable", Tone::Good),
    }),
    col("new_vps", |t| opt(&t.new_vps.as_ref().map(|d| format!("{} {} {}", d.country, d.purpose, d.provider_id)))),
    wide("created_at", |t| t.created_at.to_rfc3339().into()),
    wide("revoked_at", |t| opt(&t.revoked_at.map(|r| r.to_rfc3339()))),
];

pub async fn run(command: AgentCommand, ctx: &Ctx) -> CliResult<()> {
    let client = &ctx.client;
    match command {
        AgentCommand::List { status, claimed, page } => {
            let status = status.map(|s| match s {
                AgentStatusArg::Pending => AgentStatus::Pending,
                AgentStatusArg::Online => AgentStatus::Online,
                AgentStatusArg::Offline => AgentStatus::Offline,
            });
            let agents = collect(&page, |page, per_page| {
                let query = AgentListQuery { status, claimed, page: Some(page), per_page: Some(per_page) };
                async move { client.list_agents(&query).await }
            })
            .await?;
            ctx.out.list(&agents, COLUMNS)
        }
        AgentCommand::Show { agent } => ctx.out.item(&client.get_agent(agent).await?, COLUMNS),
        AgentCommand::Claim { agent, token, vps, new_vps } => {
            let vps_id = match &vps {
                Some(v) => Some(vps::find_id(ctx, v, false).await?),
                None => None,
            };
            let (provider_id, country, purpose) = new_vps_parts(ctx, new_vps).await?;
            let body = AgentClaim { agent_id: agent, claim_token: token, vps_id, provider_id, country, purpose };
            let a = client.claim_agent(&body).await?;
            eprintln!(
                "claimed agent {} ({}); it fetches its key at its next poll{}",
                a.id,
                a.hostname,
                a.vps_id.map(|v| format!(", linked to VPS {v}")).unwrap_or_default()
            );
            ctx.out.item(&a, COLUMNS)
        }
        AgentCommand::Delete { agent } => {
            client.delete_agent(agent).await?;
            eprintln!("deleted agent {agent}");
            Ok(())
        }
        AgentCommand::RotateKey { agent } => {
            let a = client.rotate_agent_key(agent).await?;
            eprintln!("agent {agent}: its key stopped working; it fetches the new one with its claim token");
            ctx.out.item(&a, COLUMNS)
        }
        AgentCommand::Token(command) => token(command, ctx).await,
    }
}

/// The options of a new VPS, with the provider resolved to its id.
async fn new_vps_parts(ctx: &Ctx, a: NewVpsArgs) -> CliResult<(Option<Uuid>, Option<String>, Option<Purpose>)> {
    let provider_id = match &a.provider {
        Some(p) => Some(provider::find_id(ctx, p).await?),
        None => None,
    };
    Ok((provider_id, a.country, a.purpose))
}

async fn token(command: TokenCommand, ctx: &Ctx) -> CliResult<()> {
    let client = &ctx.client;
    match command {
        TokenCommand::Create { name, expires_in, max_uses, new_vps } => {
            let (provider_id, country, purpose) = new_vps_parts(ctx, new_vps).await?;
            let body =
                EnrollmentTokenCreate { name, expires_in_hours: expires_in, max_uses, provider_id, country, purpose };
            let created = client.create_enrollment_token(&body).await?;
            match ctx.out.format {
                Format::Table | Format::Csv => {
                    eprintln!(
                        "made enrolment token {} for {} agent(s) until {}: it is shown once, keep it now",
                        created.info.id,
                        created.info.max_uses,
                        created.info.expires_at.format("%Y-%m-%d %H:%M UTC"),
                    );
                    emit(&format!("{}\n", created.token))
                }
                _ => ctx.out.data(&created),
            }
        }
        TokenCommand::List => ctx.out.list(&client.list_enrollment_tokens().await?, TOKEN_COLUMNS),
        TokenCommand::Revoke { token } => {
            client.revoke_enrollment_token(token).await?;
            eprintln!("revoked enrolment token {token}; agents already enrolled with it stay");
            Ok(())
        }
    }
}
