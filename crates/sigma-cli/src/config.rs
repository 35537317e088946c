//! Named profiles (server URL and credentials) in the platform config
//! directory, `~/.config/sigma/cli.toml` on Linux, readable by the owner
//! only. `SIGMA_CLI_CONFIG` names another file.

use crate::error::{CliError, CliResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const DEFAULT_URL: &str = "http://127.0.0.1:3000";
pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used when none is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The login of `sigma login`: used instead of `api_key` until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
}

/// A login token kept by `sigma login`, with whom and until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub token: String,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

impl Profile {
    /// The login token while it is valid.
    pub fn live_session(&self, now: DateTime<Utc>) -> Option<&Session> {
        self.session.as_ref().filter(|s| s.expires_at > now)
    }
}

/// Where the profiles live.
pub fn path() -> CliResult<PathBuf> {
    if let Some(p) = std::env::var_os("SIGMA_CLI_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    dirs::config_dir()
        .map(|d| d.join("sigma").join("cli.toml"))
        .ok_or_else(|| CliError::failure("cannot tell where the configuration directory is; set SIGMA_CLI_CONFIG"))
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> CliResult<ConfigFile> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => return Err(CliError::failure(format!("cannot read {}: {e}", path.display()))),
        };
        warn_if_shared(path);
        toml::from_str(&text)
            .map_err(|e| CliError::failure(format!("{} is not valid: {}", path.display(), e.message())))
    }

    /// Writes the file atomically, readable and writable by the owner only.
    pub fn save(&self, path: &Path) -> CliResult<()> {
        let text = toml::to_string_pretty(self).map_err(|e| CliError::failure(e.to_string()))?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        write_atomically(path, text.as_bytes(), 0o600)
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))
    }

    /// The name of the profile in use: the one asked for, else the current one, else `default`.
    pub fn selected(&self, asked: Option<&str>) -> String {
        asked.or(self.current.as_deref()).unwrap_or(DEFAULT_PROFILE).to_owned()
    }
}

fn create_private_dir(dir: &Path) -> CliResult<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| CliError::failure(format!("cannot create {}: {e}", dir.display())))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`, so readers see the old or the new content, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!("warning: {} holds credentials and is readable by others; run chmod 600 on it", path.display());
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path) {}

/// The server and credentials a command talks to.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The profile's name (which need not exist yet).
    pub profile: String,
    pub url: String,
    /// An API key or a login token, sent as `Authorization: Bearer`.
    pub api_key: Option<String>,
    pub credential: Credential,
}

/// Where the credential of a command comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `SIGMA_API_KEY`.
    Environment,
    /// The login of `sigma login`.
    Session,
    /// The profile's API key.
    ProfileKey,
    None,
}

/// Resolves the target: `--url`/`SIGMA_URL` and `SIGMA_API_KEY` win over
/// the profile, the profile over the defaults; in a profile, a login that
/// has not expired wins over the API key. Naming a profile that does not
/// exist is a usage error.
pub fn resolve(file: &ConfigFile, asked: Option<&str>, url: Option<&str>, api_key: Option<&str>) -> CliResult<Target> {
    let name = file.selected(asked);
    let profile = match file.profiles.get(&name) {
        Some(p) => p.clone(),
        None if asked.is_some() => {
            return Err(CliError::usage(format!(
                "no profile named {name:?}; create it with `sigma --profile {name} config set url URL`"
            )));
        }
        None => Profile::default(),
    };
    let nonempty = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let session = profile.live_session(Utc::now()).map(|s| s.token.clone());
    let (api_key, credential) = match (nonempty(api_key), session, profile.api_key) {
        (Some(key), _, _) => (Some(key), Credential::Environment),
        (None, Some(token), _) => (Some(token), Credential::Session),
        (None, None, Some(key)) => (Some(key), Credential::ProfileKey),
        (None, None, None) => (None, Credential::None),
    };
    Ok(Target {
        profile: name,
        url: nonempty(url).or(profile.url).unwrap_or_else(|| DEFAULT_URL.to_owned()),
        api_key,
        credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ConfigFile {
        let mut f = ConfigFile { current: Some("prod".into()), ..Default::default() };
        f.profiles.insert(
            "prod".into(),
            Profile { url: Some("https://sigma.example".into()), api_key: Some("k1".into()), session: None },
        );
        f.profiles.insert("lab".into(), Profile { url: Some("http://lab:3000".into()), ..Default::default() });
        f
    }

    #[test]
    fn environment_wins_over_the_profile() {
        let f = file();
        let t = resolve(&f, None, None, None).unwrap();
        assert_eq!((t.url.as_str(), t.api_key.as_deref()), ("https://sigma.example", Some("k1")));
        let t = resolve(&f, Some("lab"), None, Some("k2")).unwrap();
        assert_eq!((t.url.as_str(), t.api_key.as_deref()), ("http://lab:3000", Some("k2")));
        let t = resolve(&f, None, Some("http://other"), Some(" ")).unwrap();
        assert_eq!((t.url.as_str(), t.api_key.as_deref()), ("http://other", Some("k1")));
        assert_eq!(resolve(&f, Some("nope"), None, None).unwrap_err().code, crate::error::USAGE);
        let t = resolve(&ConfigFile::default(), None, None, None).unwrap();
        assert_eq!((t.url.as_str(), t.api_key, t.credential), (DEFAULT_URL, None, Credential::None));
    }

    #[test]
    fn a_live_login_wins_over_the_profile_key_and_an_expired_one_does_not() {
        let mut f = file();
        let session = |minutes: i64| Session {
            token: "login-token".into(),
            email: "ops@example.com".into(),
            expires_at: Utc::now() + chrono::Duration::minutes(minutes),
        };
        f.profiles.get_mut("prod").unwrap().session = Some(session(30));
        let t = resolve(&f, None, None, None).unwrap();
        assert_eq!((t.api_key.as_deref(), t.credential), (Some("login-token"), Credential::Session));
        let t = resolve(&f, None, None, Some("env-key")).unwrap();
        assert_eq!((t.api_key.as_deref(), t.credential), (Some("env-key"), Credential::Environment));
        f.profiles.get_mut("prod").unwrap().session = Some(session(-1));
        let t = resolve(&f, None, None, None).unwrap();
        assert_eq!((t.api_key.as_deref(), t.credential), (Some("k1"), Credential::ProfileKey));
    }

    #[test]
    fn saved_files_are_private_and_round_trip() {
        let dir = std::env::temp_dir().join(format!("sigma-cli-config-{}", uuid::Uuid::now_v7()));
        let path = dir.join("nested").join("cli.toml");
        file().save(&path).unwrap();
        assert_eq!(ConfigFile::load(&path).unwrap(), file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
