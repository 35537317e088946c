//! Configuration, loaded once in layers: defaults, then the optional TOML
//! file, then the environment, then flags.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/sigma.db";

/// Environment variables Sigma reads; any other `SIGMA_*` earns a warning.
const KNOWN_ENV: &[&str] = &[
    "SIGMA_CONFIG",
    "SIGMA_LISTEN",
    "SIGMA_API_KEY",
    "SIGMA_LOG",
    "SIGMA_LOG_FORMAT",
    "SIGMA_REQUEST_TIMEOUT",
    "SIGMA_BODY_LIMIT",
    "SIGMA_IMPORT_BODY_LIMIT",
    "SIGMA_SHUTDOWN_TIMEOUT",
    "SIGMA_JWT_SECRET",
    "SIGMA_DEV",
    "SIGMA_TOKEN_TTL",
    "SIGMA_ADMIN_EMAIL",
    "SIGMA_ADMIN_PASSWORD",
    "SIGMA_TRUSTED_PROXIES",
    "SIGMA_RATE_LIMIT",
    "SIGMA_LOGIN_RATE_LIMIT",
    "SIGMA_LOGIN_MAX_FAILURES",
    "SIGMA_LOGIN_LOCK",
    "SIGMA_AGENT_HEARTBEAT_INTERVAL",
    "SIGMA_AGENT_SWEEP_INTERVAL",
    "SIGMA_AGENT_REGISTER_LIMIT",
];

/// Variables of the `sigma` CLI, often set in the same shell: not typos.
const CLI_ENV: &[&str] = &["SIGMA_URL", "SIGMA_PROFILE", "SIGMA_OUTPUT", "SIGMA_CLI_CONFIG"];

/// Shortest accepted `SIGMA_JWT_SECRET`.
pub const MIN_JWT_SECRET_LEN: usize = 32;

#[derive(Debug, Parser)]
#[command(name = "sigma-api", version, about = "Sigma fleet manager: the API server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load and check the configuration, print it with secrets hidden, and exit.
    CheckConfig,
    /// Manage users directly in the database.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum UserCommand {
    /// Create a user. The password is asked for on a terminal, or read
    /// from the first line of standard input.
    Create {
        #[arg(long)]
        email: String,
        /// admin, operator or readonly.
        #[arg(long)]
        role: sigma_types::Role,
    },
}

/// Every setting as a flag with its environment variable. Unset ones fall
/// back to the TOML file, then to the defaults.
#[derive(Debug, Default, Args)]
pub struct Settings {
    /// TOML configuration file.
    #[arg(long = "config", env = "SIGMA_CONFIG", global = true, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long, env = "SIGMA_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// `sqlite://PATH` or `postgres://...` [default: sqlite://./data/sigma.db].
    #[arg(long, env = "DATABASE_URL", global = true, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Bootstrap admin API key (also read from API_KEY).
    #[arg(long, env = "SIGMA_API_KEY", global = true, value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Log filter in tracing syntax [default: info].
    #[arg(long, env = "SIGMA_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// Log format [default: text].
    #[arg(long, env = "SIGMA_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    /// Seconds a request may take before it is answered 408 [default: 30].
    #[arg(long, env = "SIGMA_REQUEST_TIMEOUT", global = true, value_name = "SECS")]
    pub request_timeout: Option<u64>,
    /// Largest accepted request body in bytes [default: 2097152].
    #[arg(long, env = "SIGMA_BODY_LIMIT", global = true, value_name = "BYTES")]
    pub body_limit: Option<usize>,
    /// Largest accepted import file (`POST /api/*/import`) in bytes [default: 67108864].
    #[arg(long, env = "SIGMA_IMPORT_BODY_LIMIT", global = true, value_name = "BYTES")]
    pub import_body_limit: Option<usize>,
    /// Seconds to let in-flight requests finish on shutdown [default: 30].
    #[arg(long, env = "SIGMA_SHUTDOWN_TIMEOUT", global = true, value_name = "SECS")]
    pub shutdown_timeout: Option<u64>,
    /// Secret that signs login tokens, at least 32 characters; required unless in development mode.
    #[arg(long, env = "SIGMA_JWT_SECRET", global = true, value_name = "SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Development mode: without SIGMA_JWT_SECRET, sign tokens with a random secret made at start-up.
    #[arg(long, env = "SIGMA_DEV", global = true, value_parser = clap::builder::BoolishValueParser::new(),
        num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub dev: Option<bool>,
    /// Seconds a login token stays valid [default: 43200].
    #[arg(long, env = "SIGMA_TOKEN_TTL", global = true, value_name = "SECS")]
    pub token_ttl: Option<u64>,
    /// E-mail address of the admin created at first start when no user exists.
    #[arg(long, env = "SIGMA_ADMIN_EMAIL", global = true, value_name = "EMAIL")]
    pub admin_email: Option<String>,
    /// Password of that first admin.
    #[arg(long, env = "SIGMA_ADMIN_PASSWORD", global = true, value_name = "PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Redis holding the rate-limit counters that several replicas share.
    #[arg(long, env = "REDIS_URL", global = true, value_name = "URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Comma-separated addresses or networks of proxies whose X-Forwarded-For is believed.
    #[arg(long, env = "SIGMA_TRUSTED_PROXIES", global = true, value_name = "CIDRS")]
    pub trusted_proxies: Option<String>,
    /// Requests per minute per client address, and per credential; 0 turns limiting off [default: 1200].
    #[arg(long, env = "SIGMA_RATE_LIMIT", global = true, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Login and agent registration attempts per minute per client address; 0 turns it off [default: 10].
    #[arg(long, env = "SIGMA_LOGIN_RATE_LIMIT", global = true, value_name = "N")]
    pub login_rate_limit: Option<u32>,
    /// Failed logins for one e-mail address within 15 minutes that lock it [default: 5].
    #[arg(long, env = "SIGMA_LOGIN_MAX_FAILURES", global = true, value_name = "N")]
    pub login_max_failures: Option<u32>,
    /// Seconds an e-mail address stays locked [default: 900].
    #[arg(long, env = "SIGMA_LOGIN_LOCK", global = true, value_name = "SECS")]
    pub login_lock: Option<u64>,
    /// Seconds between agent heartbeats that the server asks for [default: each agent's own setting].
    #[arg(long, env = "SIGMA_AGENT_HEARTBEAT_INTERVAL", global = true, value_name = "SECS")]
    pub agent_heartbeat_interval: Option<u64>,
    /// Seconds between checks for agents gone offline [default: 5].
    #[arg(long, env = "SIGMA_AGENT_SWEEP_INTERVAL", global = true, value_name = "SECS")]
    pub agent_sweep_interval: Option<u64>,
    /// Agent registrations accepted per source address and minute [default: 20].
    #[arg(long, env = "SIGMA_AGENT_REGISTER_LIMIT", global = true, value_name = "N")]
    pub agent_register_limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The TOML file: the same settings, named as the flags with underscores.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    database_url: Option<String>,
    api_key: Option<String>,
    log: Option<String>,
    log_format: Option<LogFormat>,
    request_timeout: Option<u64>,
    body_limit: Option<usize>,
    import_body_limit: Option<usize>,
    shutdown_timeout: Option<u64>,
    jwt_secret: Option<String>,
    dev: Option<bool>,
    token_ttl: Option<u64>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    redis_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    rate_limit: Option<u32>,
    login_rate_limit: Option<u32>,
    login_max_failures: Option<u32>,
    login_lock: Option<u64>,
    agent_heartbeat_interval: Option<u64>,
    agent_sweep_interval: Option<u64>,
    agent_register_limit: Option<u32>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: SecretString,
    pub api_key: Option<SecretString>,
    pub log: String,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    pub body_limit: usize,
    pub import_body_limit: usize,
    pub shutdown_timeout: Duration,
    /// Signs login tokens; `None` only in development mode (a random one is used).
    pub jwt_secret: Option<SecretString>,
    pub dev: bool,
    pub token_ttl: Duration,
    /// The first admin, created at start-up when no user exists.
    pub admin: Option<(String, SecretString)>,
    pub redis_url: Option<SecretString>,
    pub trusted_proxies: Vec<IpNet>,
    /// Requests per minute per client address and per credential; 0 is no limit.
    pub rate_limit: u32,
    /// Login and agent registration attempts per minute per client address; 0 is no limit.
    pub login_rate_limit: u32,
    pub login_max_failures: u32,
    pub login_lock: Duration,
    /// The heartbeat interval the server asks agents for; `None` leaves it to each agent.
    pub agent_heartbeat_interval: Option<Duration>,
    /// How often the offline check runs.
    pub agent_sweep_interval: Duration,
    /// Agent registrations accepted per source address and minute.
    pub agent_register_limit: u32,
}

impl Config {
    /// Merges flags and environment (already in `settings`) with the file
    /// and the defaults. `env` looks up variables that clap does not own.
    pub fn load(settings: Settings, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let file = match &settings.config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
                toml::from_str::<FileSettings>(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let listen = settings.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen: SocketAddr = listen
            .parse()
            .with_context(|| format!("listen address {listen:?} must look like 127.0.0.1:3000 or [::]:3000"))?;
        let database_url = settings.database_url.or(file.database_url).unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("DATABASE_URL must start with sqlite://, postgres:// or postgresql://");
        }
        let api_key = settings.api_key.or_else(|| env("API_KEY")).or(file.api_key).filter(|k| !k.is_empty());
        if let Some(key) = &api_key
            && key.len() < 16
        {
            bail!("the API key must be at least 16 characters long");
        }
        let body_limit = settings.body_limit.or(file.body_limit).unwrap_or(2 * 1024 * 1024);
        if body_limit < 1024 {
            bail!("the body limit must be at least 1024 bytes");
        }
        let import_body_limit = settings.import_body_limit.or(file.import_body_limit).unwrap_or(64 * 1024 * 1024);
        if import_body_limit < 1024 {
            bail!("the import body limit must be at least 1024 bytes");
        }
        let jwt_secret = settings.jwt_secret.or(file.jwt_secret).filter(|s| !s.is_empty());
        if let Some(secret) = &jwt_secret
            && secret.len() < MIN_JWT_SECRET_LEN
        {
            bail!(
                "the JWT secret must be at least {MIN_JWT_SECRET_LEN} characters long (`openssl rand -hex 32` makes one)"
            );
        }
        let admin = match (settings.admin_email.or(file.admin_email), settings.admin_password.or(file.admin_password)) {
            (None, None) => None,
            (Some(email), Some(password)) => {
                let email =
                    sigma_types::validate::email(&email).map_err(|e| anyhow::anyhow!("SIGMA_ADMIN_EMAIL {e}"))?;
                sigma_types::validate::password(&password).map_err(|e| anyhow::anyhow!("SIGMA_ADMIN_PASSWORD {e}"))?;
                Some((email, password.into()))
            }
            _ => bail!("SIGMA_ADMIN_EMAIL and SIGMA_ADMIN_PASSWORD go together: set both or neither"),
        };
        let trusted_proxies = match settings.trusted_proxies {
            Some(list) => list.split(',').map(str::to_owned).collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies = trusted_proxies
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .with_context(|| format!("trusted proxy {s:?} must be an address or a network such as 10.0.0.0/8"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let redis_url = settings.redis_url.or(file.redis_url).filter(|u| !u.is_empty());
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://"))
        {
            bail!("REDIS_URL must start with redis://, rediss:// or unix://");
        }
        let login_max_failures = settings.login_max_failures.or(file.login_max_failures).unwrap_or(5);
        if login_max_failures == 0 {
            bail!("login_max_failures must be at least 1");
        }
        let agent_heartbeat_interval = settings.agent_heartbeat_interval.or(file.agent_heartbeat_interval);
        if agent_heartbeat_interval.is_some_and(|s| !(1..=86_400).contains(&s)) {
            bail!("the agent heartbeat interval must be between 1 and 86400 seconds");
        }
        let agent_sweep_interval = settings.agent_sweep_interval.or(file.agent_sweep_interval).unwrap_or(5);
        if !(1..=3600).contains(&agent_sweep_interval) {
            bail!("the agent sweep interval must be between 1 and 3600 seconds");
        }
        let agent_register_limit = settings.agent_register_limit.or(file.agent_register_limit).unwrap_or(20);
        if agent_register_limit == 0 {
            bail!("the agent registration limit must be at least 1 per minute");
        }
        Ok(Config {
            jwt_secret: jwt_secret.map(Into::into),
            dev: settings.dev.or(file.dev).unwrap_or(false),
            token_ttl: Duration::from_secs(settings.token_ttl.or(file.token_ttl).unwrap_or(12 * 3600).max(60)),
            admin,
            redis_url: redis_url.map(Into::into),
            trusted_proxies,
            rate_limit: settings.rate_limit.or(file.rate_limit).unwrap_or(1200),
            login_rate_limit: settings.login_rate_limit.or(file.login_rate_limit).unwrap_or(10),
            login_max_failures,
            login_lock: Duration::from_secs(settings.login_lock.or(file.login_lock).unwrap_or(900)),
            listen,
            database_url: database_url.into(),
            api_key: api_key.map(Into::into),
            log: settings.log.or(file.log).unwrap_or_else(|| "info".into()),
            log_format: settings.log_format.or(file.log_format).unwrap_or_default(),
            request_timeout: Duration::from_secs(settings.request_timeout.or(file.request_timeout).unwrap_or(30)),
            body_limit,
            import_body_limit,
            shutdown_timeout: Duration::from_secs(settings.shutdown_timeout.or(file.shutdown_timeout).unwrap_or(30)),
            agent_heartbeat_interval: agent_heartbeat_interval.map(Duration::from_secs),
            agent_sweep_interval: Duration::from_secs(agent_sweep_interval),
            agent_register_limit,
        })
    }

    /// A configuration for tests and embedding: defaults with the given
    /// database, in development mode (login tokens signed with a random secret).
    pub fn for_database(database_url: &str) -> Config {
        let settings = Settings { database_url: Some(database_url.into()), dev: Some(true), ..Default::default() };
        Config::load(settings, |_| None).expect("default configuration is valid")
    }

    /// What stops the server from starting with this configuration.
    pub fn check_serving(&self) -> anyhow::Result<()> {
        if self.jwt_secret.is_none() && !self.dev {
            bail!(
                "SIGMA_JWT_SECRET is not set: set it to a random string of at least {MIN_JWT_SECRET_LEN} characters \
                 (`openssl rand -hex 32`), or run in development mode with SIGMA_DEV=1"
            );
        }
        Ok(())
    }

    /// Human-readable summary with secrets hidden.
    pub fn describe(&self) -> String {
        format!(
            "listen = {}\ndatabase_url = {}\napi_key = {}\nlog = {}\nlog_format = {:?}\nrequest_timeout = {}s\nbody_limit = {} bytes\nimport_body_limit = {} bytes\nshutdown_timeout = {}s\n\
             jwt_secret = {}\ndev = {}\ntoken_ttl = {}s\nadmin_email = {}\nredis_url = {}\ntrusted_proxies = {}\n\
             rate_limit = {}/min\nlogin_rate_limit = {}/min\nlogin_max_failures = {}\nlogin_lock = {}s\n\
             agent_heartbeat_interval = {}\nagent_sweep_interval = {}s\nagent_register_limit = {}/min",
            self.listen,
            redact_url(self.database_url.expose_secret()),
            if self.api_key.is_some() { "(set)" } else { "(none: the API is open)" },
            self.log,
            self.log_format,
            self.request_timeout.as_secs(),
            self.body_limit,
            self.import_body_limit,
            self.shutdown_timeout.as_secs(),
            match (&self.jwt_secret, self.dev) {
                (Some(_), _) => "(set)",
                (None, true) => "(none: a random one per start, development mode)",
                (None, false) => "(none: required)",
            },
            self.dev,
            self.token_ttl.as_secs(),
            self.admin.as_ref().map_or("(none)", |(email, _)| email.as_str()),
            self.redis_url
                .as_ref()
                .map_or("(none: counters in this process)".to_owned(), |u| redact_url(u.expose_secret())),
            if self.trusted_proxies.is_empty() {
                "(none)".to_owned()
            } else {
                self.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
            },
            self.rate_limit,
            self.login_rate_limit,
            self.login_max_failures,
            self.login_lock.as_secs(),
            self.agent_heartbeat_interval.map_or("(each agent's own)".to_owned(), |d| format!("{}s", d.as_secs())),
            self.agent_sweep_interval.as_secs(),
            self.agent_register_limit,
        )
    }
}

/// `SIGMA_*` variables that Sigma does not know: likely typos.
pub fn unknown_env_vars(vars: impl Iterator<Item = String>) -> Vec<String> {
    vars.filter(|k| {
        k.starts_with("SIGMA_")
            && !k.starts_with("SIGMA_TEST_")
            && !KNOWN_ENV.contains(&k.as_str())
            && !CLI_ENV.contains(&k.as_str())
    })
    .collect()
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_flag_over_env_over_file_over_default() {
        let dir = std::env::temp_dir().join(format!("sigma-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sigma.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:4000\"\nlog = \"debug\"\nlog_format = \"json\"\n").unwrap();
        let settings = Settings { config_file: Some(file.clone()), log: Some("warn".into()), ..Default::default() };
        let c = Config::load(settings, |_| None).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:4000");
        assert_eq!(c.log, "warn");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.database_url.expose_secret(), DEFAULT_DATABASE_URL);

        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let err = Config::load(Settings { config_file: Some(file), ..Default::default() }, |_| None).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn api_key_alias_and_checks() {
        let c =
            Config::load(Settings::default(), |k| (k == "API_KEY").then(|| "a-long-enough-key-123".into())).unwrap();
        assert!(c.api_key.is_some());
        assert!(Config::load(Settings { api_key: Some("short".into()), ..Default::default() }, |_| None).is_err());
        assert!(Config::load(Settings { listen: Some("nope".into()), ..Default::default() }, |_| None).is_err());
        assert!(
            Config::load(Settings { database_url: Some("mysql://x".into()), ..Default::default() }, |_| None).is_err()
        );
    }

    #[test]
    fn secrets_are_hidden() {
        assert_eq!(redact_url("postgres://sigma:hunter2@db:5432/sigma"), "postgres://sigma:***@db:5432/sigma");
        let c = Config::for_database("postgres://u:pw@h/db");
        assert!(!c.describe().contains("pw@") && !format!("{c:?}").contains("pw@"));
        assert_eq!(
            unknown_env_vars(["SIGMA_LISTN".into(), "SIGMA_LOG".into(), "SIGMA_URL".into(), "PATH".into()].into_iter()),
            ["SIGMA_LISTN"]
        );
    }
}
