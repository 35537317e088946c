//! One module per resource; `run` dispatches a parsed command.

pub mod agent;
pub mod audit;
pub mod auth;
pub mod config;
pub mod integrations;
pub mod provider;
pub mod stats;
pub mod transfer;
pub mod user;
pub mod vps;

use crate::cli::{Command, PageArgs};
use crate::config::{Credential, Target};
use crate::error::{CliError, CliResult};
use crate::output::Output;
use sigma_client::Client;
use sigma_types::{Page, PageRequest, Patch};
use std::future::Future;

pub struct Ctx {
    pub client: Client,
    pub out: Output,
    /// The server and credentials in use, and where they came from.
    pub target: Target,
}

pub async fn run(command: Command, ctx: &Ctx) -> CliResult<()> {
    dispatch(command, ctx).await.map_err(|mut e| {
        if e.status == Some(401) {
            let hint = match ctx.target.credential {
                Credential::Session => " (the login was refused: run `sigma login` again)",
                Credential::None => " (no credentials: run `sigma login`, or set SIGMA_API_KEY)",
                Credential::Environment | Credential::ProfileKey => " (the API key was refused)",
            };
            e.message.push_str(hint);
        }
        e
    })
}

async fn dispatch(command: Command, ctx: &Ctx) -> CliResult<()> {
    match command {
        Command::Provider(c) => provider::run(c, ctx).await,
        Command::Vps(c) => vps::run(c, ctx).await,
        Command::Stats => stats::run(ctx).await,
        Command::Targets(a) => integrations::targets(a, ctx).await,
        Command::Inventory(a) => integrations::inventory(a, ctx).await,
        Command::Audit(a) => audit::run(a, ctx).await,
        Command::IpHistory { ip } => vps::ip_history(&ip, ctx).await,
        Command::Login(a) => auth::login(a, ctx).await,
        Command::Logout { everywhere } => auth::logout(everywhere, ctx).await,
        Command::Whoami => auth::whoami(ctx).await,
        Command::User(c) => user::run(c, ctx).await,
        Command::ApiKey(c) => user::api_key(c, ctx).await,
        Command::Agent(c) => agent::run(c, ctx).await,
        Command::Config(_) | Command::Completions { .. } | Command::Man { .. } => {
            unreachable!("answered without a server in main")
        }
    }
}

/// Every record of a paginated list, or the one page asked for.
pub async fn collect<T, F, Fut>(page: &PageArgs, mut fetch: F) -> CliResult<Vec<T>>
where
    F: FnMut(u32, u32) -> Fut,
    Fut: Future<Output = sigma_client::Result<Page<T>>>,
{
    if let Some(n) = page.page {
        let per_page = page.per_page.unwrap_or(PageRequest::DEFAULT_PER_PAGE);
        return Ok(fetch(n, per_page).await?.data);
    }
    let per_page = page.per_page.unwrap_or(PageRequest::MAX_PER_PAGE);
    let mut all = Vec::new();
    for n in 1.. {
        let got = fetch(n, per_page).await?;
        let done = got.data.len() < per_page as usize || all.len() + got.data.len() >= got.total as usize;
        all.extend(got.data);
        if done {
            break;
        }
    }
    Ok(all)
}

/// One field of an update: the value of `--FLAG`, `null` for `--clear FLAG`,
/// else left out. Both at once is a usage error.
pub fn field<T>(flag: &str, value: Option<T>, clear: &[String]) -> CliResult<Patch<T>> {
    match (value, clear.iter().any(|c| c == flag)) {
        (Some(_), true) => Err(CliError::usage(format!("--{flag} and --clear {flag} cannot be used together"))),
        (Some(v), false) => Ok(Patch::Value(v)),
        (None, true) => Ok(Patch::Null),
        (None, false) => Ok(Patch::Missing),
    }
}
