//! `sigma user ...` and `sigma api-key ...`.

use super::{Ctx, collect};
use crate::cli::{ApiKeyCommand, PageArgs, UserCommand};
use crate::config::{self, ConfigFile};
use crate::error::{CliError, CliResult};
use crate::output::{Cell, Column, Format, Tone, col, emit, opt, wide};
use crate::prompt;
use chrono::Utc;
use sigma_types::{ApiKey, ApiKeyCreate, ApiKeyListQuery, User, UserCreate, UserListQuery, UserPatch};
use uuid::Uuid;

fn yes_no(on: bool) -> Cell {
    Cell::from(if on { "yes" } else { "no" })
}

pub const USER_COLUMNS: &[Column<User>] = &[
    wide("id", |u| u.id.to_string().into()),
    col("email", |u| u.email.as_str().into()),
    col("role", |u| u.role.as_str().into()),
    col("disabled", |u| if u.disabled { Cell::new("yes", Tone::Bad) } else { Cell::from("no") }),
    col("totp", |u| yes_no(u.totp_enabled)),
    col("last_login_at", |u| opt(&u.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()))),
    wide("created_at", |u| u.created_at.to_rfc3339().into()),
    wide("updated_at", |u| u.updated_at.to_rfc3339().into()),
];

pub const KEY_COLUMNS: &[Column<ApiKey>] = &[
    col("id", |k| k.id.to_string().into()),
    col("name", |k| k.name.as_str().into()),
    col("prefix", |k| k.prefix.as_str().into()),
    col("role", |k| k.role.as_str().into()),
    col("expires_at", |k| match k.expires_at {
        Some(t) if t <= Utc::now() => Cell::new(t.format("%Y-%m-%d %H:%M").to_string(), Tone::Bad),
        other => opt(&other.map(|t| t.format("%Y-%m-%d %H:%M").to_string())),
    }),
    col("last_used_at", |k| opt(&k.last_used_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()))),
    wide("owner_id", |k| opt(&k.owner_id)),
    wide("created_at", |k| k.created_at.to_rfc3339().into()),
];

pub async fn run(command: UserCommand, ctx: &Ctx) -> CliResult<()> {
    let client = &ctx.client;
    match command {
        UserCommand::List { page } => {
            let users = all_users(ctx, &page).await?;
            ctx.out.list(&users, USER_COLUMNS)
        }
        UserCommand::Show { user } => ctx.out.item(&find_user(ctx, &user).await?, USER_COLUMNS),
        UserCommand::Create { email, role, password_stdin } => {
            let password = prompt::secret("Password: ", password_stdin, "--password-stdin")?;
            let body = UserCreate { email: Some(email), password: Some(password), role: Some(role) };
            ctx.out.item(&client.create_user(&body).await?, USER_COLUMNS)
        }
        UserCommand::Update { user, email, role, disable, enable, password_stdin, reset_totp } => {
            let password =
                if password_stdin { Some(prompt::secret("Password: ", true, "--password-stdin")?) } else { None };
            let patch = UserPatch {
                email,
                role,
                disabled: (disable || enable).then_some(disable),
                password,
                totp_enabled: reset_totp.then_some(false),
            };
            let id = user_id(ctx, &user).await?;
            ctx.out.item(&client.update_user(id, &patch).await?, USER_COLUMNS)
        }
        UserCommand::Delete { user } => {
            let u = find_user(ctx, &user).await?;
            client.delete_user(u.id).await?;
            eprintln!("deleted user {}", u.email);
            Ok(())
        }
    }
}

async fn all_users(ctx: &Ctx, page: &PageArgs) -> CliResult<Vec<User>> {
    collect(page, |page, per_page| {
        let query = UserListQuery { page: Some(page), per_page: Some(per_page) };
        async move { ctx.client.list_users(&query).await }
    })
    .await
}

/// A user by id or e-mail address (ignoring case).
async fn find_user(ctx: &Ctx, key: &str) -> CliResult<User> {
    if let Ok(id) = Uuid::parse_str(key) {
        return Ok(ctx.client.get_user(id).await?);
    }
    all_users(ctx, &PageArgs { page: None, per_page: None })
        .await?
        .into_iter()
        .find(|u| u.email.eq_ignore_ascii_case(key.trim()))
        .ok_or_else(|| CliError::not_found(format!("no user with the address {key:?}")))
}

async fn user_id(ctx: &Ctx, key: &str) -> CliResult<Uuid> {
    match Uuid::parse_str(key) {
        Ok(id) => Ok(id),
        Err(_) => Ok(find_user(ctx, key).await?.id),
    }
}

pub async fn api_key(command: ApiKeyCommand, ctx: &Ctx) -> CliResult<()> {
    let client = &ctx.client;
    match command {
        ApiKeyCommand::List { all, page } => {
            let keys = all_keys(ctx, all, &page).await?;
            ctx.out.list(&keys, KEY_COLUMNS)
        }
        ApiKeyCommand::Create { name, role, expires_in, expires_at, save } => {
            let expires_at =
                expires_at.or_else(|| expires_in.map(|days| Utc::now() + chrono::Duration::days(i64::from(days))));
            let created = client.create_api_key(&ApiKeyCreate { name: Some(name), role, expires_at }).await?;
            let k = &created.api_key;
            if save {
                let path = config::path()?;
                let mut file = ConfigFile::load(&path)?;
                let profile = ctx.target.profile.clone();
                let entry = file.profiles.entry(profile.clone()).or_default();
                entry.url = Some(ctx.target.url.clone());
                entry.api_key = Some(created.key.clone());
                if file.current.is_none() {
                    file.current = Some(profile.clone());
                }
                file.save(&path)?;
                eprintln!("made API key {} ({}, {}); profile {profile} keeps it", k.name, k.prefix, k.role);
                return Ok(());
            }
            match ctx.out.format {
                Format::Table | Format::Csv => {
                    eprintln!("made API key {} ({}, {}): it is shown once, keep it now", k.name, k.prefix, k.role);
                    emit(&format!("{}\n", created.key))
                }
                _ => ctx.out.data(&created),
            }
        }
        ApiKeyCommand::Delete { key } => {
            let (id, name) = match Uuid::parse_str(&key) {
                Ok(id) => (id, key.clone()),
                Err(_) => {
                    let named: Vec<ApiKey> = all_keys(ctx, false, &PageArgs { page: None, per_page: None })
                        .await?
                        .into_iter()
                        .filter(|k| k.name == key)
                        .collect();
                    match named.as_slice() {
                        [] => return Err(CliError::not_found(format!("no API key named {key:?}"))),
                        [one] => (one.id, one.name.clone()),
                        many => {
                            let ids: Vec<String> = many.iter().map(|k| k.id.to_string()).collect();
                            return Err(CliError::failure(format!(
                                "{} keys are named {key:?}; name one by id: {}",
                                many.len(),
                                ids.join(", ")
                            )));
                        }
                    }
                }
            };
            client.delete_api_key(id).await?;
            eprintln!("deleted API key {name}");
            Ok(())
        }
    }
}

async fn all_keys(ctx: &Ctx, all: bool, page: &PageArgs) -> CliResult<Vec<ApiKey>> {
    collect(page, |page, per_page| {
        let query = ApiKeyListQuery { all: all.then_some(true), page: Some(page), per_page: Some(per_page) };
        async move { ctx.client.list_api_keys(&query).await }
    })
    .await
}
