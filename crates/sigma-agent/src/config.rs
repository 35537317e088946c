//! The agent's settings: flags, then environment, then an optional TOML
//! file, then defaults.

use clap::Parser;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Default, Parser)]
#[command(name = "sigma-agent", version, about = "Sigma agent: reports this machine to a Sigma server")]
pub struct Flags {
    /// TOML configuration file.
    #[arg(long = "config", env = "SIGMA_AGENT_CONFIG", value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// The Sigma server, such as https://sigma.example.com.
    #[arg(long, env = "SIGMA_AGENT_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Where the agent keeps its identity and key [default: /var/lib/sigma-agent].
    #[arg(long, env = "SIGMA_AGENT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Seconds between heartbeats [default: 30]; the server may ask for another.
    #[arg(long, env = "SIGMA_AGENT_INTERVAL", value_name = "SECS")]
    pub interval: Option<u64>,
    /// An enrolment token: the agent is claimed at once, without an operator.
    #[arg(long, env = "SIGMA_AGENT_ENROLLMENT_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub enrollment_token: Option<String>,
    /// Report listening TCP/UDP ports with their processes [default: true].
    #[arg(long, env = "SIGMA_AGENT_PORT_SCAN", value_name = "BOOL")]
    pub port_scan: Option<bool>,
    /// Address of the agent's own /metrics [default: 127.0.0.1:9101]; empty turns it off.
    #[arg(long, env = "SIGMA_AGENT_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Longest wait between retries, in seconds [default: 300].
    #[arg(long, env = "SIGMA_AGENT_RETRY_MAX", value_name = "SECS")]
    pub retry_max: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    server: Option<String>,
    state_dir: Option<PathBuf>,
    interval: Option<u64>,
    enrollment_token: Option<String>,
    port_scan: Option<bool>,
    metrics_listen: Option<String>,
    retry_max: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Without a trailing slash.
    pub server: String,
    pub state_dir: PathBuf,
    pub interval: Duration,
    pub enrollment_token: Option<String>,
    pub port_scan: bool,
    pub metrics_listen: Option<SocketAddr>,
    pub retry_max: Duration,
}

impl Config {
    pub fn load(flags: Flags) -> Result<Config, String> {
        let file = match &flags.config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<File>(&text)
                    .map_err(|e| format!("invalid configuration file {}: {e}", path.display()))?
            }
            None => File::default(),
        };
        let server =
            flags.server.or(file.server).ok_or("the server URL is required (--server or SIGMA_AGENT_SERVER)")?;
        let server = server.trim().trim_end_matches('/').to_owned();
        if !(server.starts_with("https://") || server.starts_with("http://")) {
            return Err(format!("the server URL {server:?} must start with https:// or http://"));
        }
        let interval = flags.interval.or(file.interval).unwrap_or(30);
        if !(1..=86_400).contains(&interval) {
            return Err("the interval must be between 1 and 86400 seconds".into());
        }
        let metrics_listen = match flags.metrics_listen.or(file.metrics_listen) {
            None => Some(SocketAddr::from(([127, 0, 0, 1], 9101))),
            Some(s) if s.trim().is_empty() => None,
            Some(s) => {
                Some(s.trim().parse().map_err(|_| format!("metrics address {s:?} must look like 127.0.0.1:9101"))?)
            }
        };
        let retry_max = flags.retry_max.or(file.retry_max).unwrap_or(300).clamp(1, 3600);
        Ok(Config {
            server,
            state_dir: flags.state_dir.or(file.state_dir).unwrap_or_else(|| PathBuf::from("/var/lib/sigma-agent")),
            interval: Duration::from_secs(interval),
            enrollment_token: flags.enrollment_token.or(file.enrollment_token).filter(|t| !t.trim().is_empty()),
            port_scan: flags.port_scan.or(file.port_scan).unwrap_or(true),
            metrics_listen,
            retry_max: Duration::from_secs(retry_max),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file() {
        let dir = std::env::temp_dir().join(format!("sigma-agent-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("agent.toml");
        std::fs::write(&file, "server = \"https://a.example/\"\ninterval = 60\nmetrics_listen = \"\"\n").unwrap();
        let c =
            Config::load(Flags { config_file: Some(file.clone()), interval: Some(5), ..Default::default() }).unwrap();
        assert_eq!((c.server.as_str(), c.interval.as_secs(), c.metrics_listen), ("https://a.example", 5, None));
        assert!(c.port_scan);
        std::fs::write(&file, "sever = \"x\"\n").unwrap();
        assert!(Config::load(Flags { config_file: Some(file), ..Default::default() }).unwrap_err().contains("sever"));
        assert!(Config::load(Flags::default()).is_err(), "the server is required");
        let bad = Flags { server: Some("ftp://x".into()), ..Default::default() };
        assert!(Config::load(bad).is_err());
    }
}
