//! `sigma config ...`: profiles, without talking to a server.

use crate::cli::{ConfigCommand, ConfigKey};
use crate::config::{self, ConfigFile, DEFAULT_URL};
use crate::error::{CliError, CliResult};
use crate::output::{Cell, Format, Output, Tone, emit};
use chrono::Utc;
use serde::Serialize;
use std::io::IsTerminal;

pub fn run(command: ConfigCommand, asked: Option<&str>, out: &Output) -> CliResult<()> {
    let path = config::path()?;
    let mut file = ConfigFile::load(&path)?;
    match command {
        ConfigCommand::Path => emit(&format!("{}\n", path.display())),
        ConfigCommand::Set { key, value } => {
            let name = file.selected(asked);
            let value = match (key, value) {
                (_, Some(v)) => v,
                (ConfigKey::ApiKey, None) => read_secret()?,
                (ConfigKey::Url, None) => return Err(CliError::usage("config set url needs the URL")),
            };
            let value = value.trim().to_owned();
            if value.is_empty() {
                return Err(CliError::usage("the value is empty"));
            }
            if key == ConfigKey::Url && !(value.starts_with("http://") || value.starts_with("https://")) {
                return Err(CliError::usage(format!("{value:?} is not an http:// or https:// URL")));
            }
            let profile = file.profiles.entry(name.clone()).or_default();
            match key {
                ConfigKey::Url => profile.url = Some(value.trim_end_matches('/').to_owned()),
                ConfigKey::ApiKey => profile.api_key = Some(value),
            }
            if file.current.is_none() {
                file.current = Some(name.clone());
            }
            file.save(&path)?;
            eprintln!("profile {name}: {} set", key_name(key));
            Ok(())
        }
        ConfigCommand::Unset { key } => {
            let name = file.selected(asked);
            let profile = file
                .profiles
                .get_mut(&name)
                .ok_or_else(|| CliError::not_found(format!("no profile named {name:?}")))?;
            match key {
                ConfigKey::Url => profile.url = None,
                ConfigKey::ApiKey => profile.api_key = None,
            }
            file.save(&path)?;
            eprintln!("profile {name}: {} removed", key_name(key));
            Ok(())
        }
        ConfigCommand::Use { name } => {
            if !file.profiles.contains_key(&name) {
                return Err(CliError::not_found(format!("no profile named {name:?}")));
            }
            file.current = Some(name.clone());
            file.save(&path)?;
            eprintln!("now using profile {name}");
            Ok(())
        }
        ConfigCommand::Remove { name } => {
            if file.profiles.remove(&name).is_none() {
                return Err(CliError::not_found(format!("no profile named {name:?}")));
            }
            if file.current.as_deref() == Some(name.as_str()) {
                file.current = None;
            }
            file.save(&path)?;
            eprintln!("removed profile {name}");
            Ok(())
        }
        ConfigCommand::List => {
            let current = file.selected(None);
            let rows: Vec<ProfileRow> = file
                .profiles
                .iter()
                .map(|(name, p)| ProfileRow {
                    name: name.clone(),
                    current: *name == current,
                    url: p.url.clone(),
                    api_key: p.api_key.is_some(),
                    login: p.live_session(Utc::now()).map(|s| s.email.clone()),
                })
                .collect();
            match out.format {
                Format::Table => {
                    let table = rows
                        .iter()
                        .map(|r| {
                            vec![
                                if r.current { Cell::new("*", Tone::Good) } else { Cell::from("") },
                                r.name.as_str().into(),
                                r.url.as_deref().unwrap_or(DEFAULT_URL).into(),
                                Cell::from(if r.api_key { "set" } else { "-" }),
                                r.login.as_deref().unwrap_or("-").into(),
                            ]
                        })
                        .collect();
                    emit(&out.table(&["", "profile", "url", "api_key", "login"], table))
                }
                _ => out.data(&rows),
            }
        }
        ConfigCommand::Show => {
            let name = file.selected(asked);
            let profile = file.profiles.get(&name).cloned().unwrap_or_default();
            let url_env = std::env::var("SIGMA_URL").ok().filter(|v| !v.trim().is_empty());
            let key_env = std::env::var("SIGMA_API_KEY").ok().filter(|v| !v.trim().is_empty());
            let (url, url_from) = match (url_env, profile.url.clone()) {
                (Some(u), _) => (u, "SIGMA_URL".to_owned()),
                (None, Some(u)) => (u, format!("profile {name}")),
                (None, None) => (DEFAULT_URL.to_owned(), "default".to_owned()),
            };
            let session = profile.live_session(Utc::now());
            let key_from = match (key_env, session, profile.api_key.as_ref()) {
                (Some(_), _, _) => "SIGMA_API_KEY".to_owned(),
                (None, Some(s), _) => format!(
                    "login of {} (profile {name}, until {})",
                    s.email,
                    s.expires_at.format("%Y-%m-%d %H:%M UTC")
                ),
                (None, None, Some(_)) => format!("API key of profile {name}"),
                (None, None, None) => "none".to_owned(),
            };
            let shown =
                Shown { profile: name, file: path.display().to_string(), url, url_from, api_key_from: key_from };
            match out.format {
                Format::Table => emit(&out.table(
                    &[],
                    vec![
                        vec!["profile".into(), shown.profile.as_str().into()],
                        vec!["file".into(), shown.file.as_str().into()],
                        vec!["url".into(), format!("{} ({})", shown.url, shown.url_from).into()],
                        vec!["credentials".into(), shown.api_key_from.as_str().into()],
                    ],
                )),
                _ => out.data(&shown),
            }
        }
    }
}

#[derive(Serialize)]
struct ProfileRow {
    name: String,
    current: bool,
    url: Option<String>,
    /// Whether a key is stored; the key itself is never shown.
    api_key: bool,
    /// Who is logged in, while the login lasts.
    login: Option<String>,
}

#[derive(Serialize)]
struct Shown {
    profile: String,
    file: String,
    url: String,
    url_from: String,
    /// Where the credentials come from; they are never shown.
    api_key_from: String,
}

fn key_name(key: ConfigKey) -> &'static str {
    match key {
        ConfigKey::Url => "url",
        ConfigKey::ApiKey => "api-key",
    }
}

/// Asks without echo on a terminal; else reads the first line of standard input.
fn read_secret() -> CliResult<String> {
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password("API key: ")?.trim().to_owned());
    }
    Ok(crate::prompt::stdin_line()?.trim().to_owned())
}
