//! `sigma login`, `sigma logout` and `sigma whoami`.

use super::Ctx;
use crate::cli::LoginArgs;
use crate::config::{self, ConfigFile, Credential, Session};
use crate::error::{CliError, CliResult};
use crate::output::{Cell, Format, emit};
use crate::prompt;
use chrono::Utc;
use sigma_client::{Client, ClientError};
use sigma_types::{LoginRequest, LoginResponse};

pub async fn login(args: LoginArgs, ctx: &Ctx) -> CliResult<()> {
    let email = match args.email {
        Some(e) => e,
        None => prompt::line("E-mail: ", "--email")?,
    };
    let password = prompt::secret("Password: ", args.password_stdin, "--password-stdin")?;
    // Credentials of the profile or environment have no say in a login.
    let client = Client::new(ctx.target.url.clone(), None);
    let mut request = LoginRequest { email: Some(email.clone()), password: Some(password), totp_code: args.totp };
    let answer = match client.login(&request).await {
        Err(ClientError::Api { body, .. }) if body.error.code == "totp_required" && request.totp_code.is_none() => {
            request.totp_code = Some(
                prompt::line("TOTP code: ", "--totp")
                    .map_err(|_| CliError::auth("this account needs a TOTP code: pass --totp CODE"))?,
            );
            client.login(&request).await?
        }
        other => other?,
    };
    save(ctx, &answer)?;
    eprintln!(
        "logged in to {} as {} ({}); profile {} keeps the login until {}",
        ctx.target.url,
        answer.user.email,
        answer.user.role,
        ctx.target.profile,
        expires_at(&answer).format("%Y-%m-%d %H:%M UTC"),
    );
    Ok(())
}

fn expires_at(answer: &LoginResponse) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(answer.expires_in.min(i64::MAX as u64) as i64)
}

/// Keeps the login (and the server it belongs to) in the profile.
fn save(ctx: &Ctx, answer: &LoginResponse) -> CliResult<()> {
    let path = config::path()?;
    let mut file = ConfigFile::load(&path)?;
    let name = ctx.target.profile.clone();
    let profile = file.profiles.entry(name.clone()).or_default();
    profile.url = Some(ctx.target.url.clone());
    profile.session = Some(Session {
        token: answer.access_token.clone(),
        email: answer.user.email.clone(),
        expires_at: expires_at(answer),
    });
    if file.current.is_none() {
        file.current = Some(name);
    }
    file.save(&path)
}

pub async fn logout(everywhere: bool, ctx: &Ctx) -> CliResult<()> {
    let path = config::path()?;
    let mut file = ConfigFile::load(&path)?;
    let name = ctx.target.profile.clone();
    let session = file.profiles.get_mut(&name).and_then(|p| p.session.take());
    if everywhere {
        let Some(session) = &session else {
            return Err(CliError::usage(format!("profile {name} has no login to end; run `sigma login` first")));
        };
        Client::new(ctx.target.url.clone(), Some(session.token.clone())).logout().await?;
    }
    match session {
        Some(s) => {
            file.save(&path)?;
            let scope = if everywhere { "; every session of this user has ended" } else { "" };
            eprintln!("logged out {} from profile {name}{scope}", s.email);
        }
        None => eprintln!("profile {name} has no login"),
    }
    Ok(())
}

pub async fn whoami(ctx: &Ctx) -> CliResult<()> {
    let me = ctx.client.me().await?;
    let source = match ctx.target.credential {
        Credential::Environment => "SIGMA_API_KEY".to_owned(),
        Credential::Session => format!("login of profile {}", ctx.target.profile),
        Credential::ProfileKey => format!("API key of profile {}", ctx.target.profile),
        Credential::None => "none".to_owned(),
    };
    if ctx.out.format != Format::Table {
        return ctx.out.data(&me);
    }
    let mut rows = vec![
        vec![Cell::from("name"), me.name.as_str().into()],
        vec![Cell::from("kind"), me.kind.as_str().into()],
        vec![Cell::from("role"), me.role.as_str().into()],
    ];
    if let Some(user) = &me.user {
        rows.push(vec![Cell::from("user"), format!("{} ({})", user.email, user.id).into()]);
    }
    if let Some(id) = me.api_key_id {
        rows.push(vec![Cell::from("api_key"), id.to_string().into()]);
    }
    rows.push(vec![Cell::from("server"), ctx.target.url.as_str().into()]);
    rows.push(vec![Cell::from("credentials"), source.into()]);
    emit(&ctx.out.table(&[], rows))
}
