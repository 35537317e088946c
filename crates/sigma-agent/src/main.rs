//! `sigma-agent`: enrols this machine with a Sigma server (claim workflow
//! or enrolment token), then reports a heartbeat with system metrics and
//! listening ports every interval. See docs/AGENT.md.

mod client;
mod config;
mod metrics;
mod ports;
mod state;
mod system;

use clap::Parser;
use client::{Client, Failure};
use config::{Config, Flags};
use sigma_types::{AgentRegister, Heartbeat};
use state::{State, StateFile};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn info(message: &str) {
    eprintln!("sigma-agent: {message}");
}

fn warn(message: &str) {
    eprintln!("sigma-agent: warning: {message}");
}

fn main() -> ExitCode {
    let config = match Config::load(Flags::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sigma-agent: {e}");
            return ExitCode::from(2);
        }
    };
    let shared = metrics::Shared::default();
    if let Some(addr) = config.metrics_listen {
        match metrics::serve(addr, shared.clone()) {
            Ok(bound) => info(&format!("serving /metrics on http://{bound}/metrics")),
            Err(e) => warn(&format!("cannot serve /metrics on {addr}: {e}")),
        }
    }
    let mut agent = Agent {
        client: Client::new(&config.server),
        file: StateFile::new(&config.state_dir),
        interval: config.interval,
        port_scan: config.port_scan,
        config,
        shared,
        cpu: None,
    };
    match agent.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sigma-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Agent {
    config: Config,
    client: Client,
    file: StateFile,
    shared: metrics::Shared,
    /// The interval in force (the server may ask for another).
    interval: Duration,
    port_scan: bool,
    cpu: Option<system::CpuTimes>,
}

/// Random in `[0, 1)`, for jitter.
fn unit_random() -> f64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Exponential backoff from one second, capped, with jitter: a random
/// wait between half and all of the step, so that a fleet that lost its
/// server does not come back in one wave.
fn backoff(attempt: u32, cap: Duration) -> Duration {
    let step = Duration::from_secs(1u64 << attempt.min(12)).min(cap);
    step.mul_f64(0.5 + unit_random() / 2.0)
}

fn wait_for(failure: &Failure, attempt: u32, cap: Duration) -> Duration {
    match failure {
        Failure::Status { retry_after: Some(s), .. } => Duration::from_secs(*s).min(cap.max(Duration::from_secs(1))),
        _ => backoff(attempt, cap),
    }
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Agent {
    fn run(&mut self) -> Result<(), String> {
        let mut state = match self.file.load()? {
            Some(s) => {
                info(&format!("agent {} (state in {})", s.agent_id, self.file.path().display()));
                s
            }
            None => self.new_identity()?,
        };
        loop {
            self.set_snapshot(|s| {
                s.agent_id = state.agent_id.to_string();
                s.enrolled = state.api_key.is_some();
            });
            if state.api_key.is_none() {
                state = self.enrol(state)?;
                continue;
            }
            self.report(&state);
            state = self.recover(state)?;
        }
    }

    fn set_snapshot(&self, f: impl FnOnce(&mut metrics::Snapshot)) {
        if let Ok(mut s) = self.shared.lock() {
            f(&mut s);
        }
    }

    /// A new id and claim token, saved before anything is sent.
    fn new_identity(&self) -> Result<State, String> {
        let state = State::fresh();
        self.file.save(&state)?;
        if self.config.enrollment_token.is_none() {
            self.print_claim(&state);
        }
        Ok(state)
    }

    /// The claim token, shown once, with what an operator runs to claim it.
    fn print_claim(&self, state: &State) {
        println!(
            "\nThis agent waits to be claimed by an operator of {server}.\n  agent id:    {id}\n  claim token: {token}\n\
             Claim it (operator role) with the sigma command line:\n  sigma agent claim {id} {token}\n\
             or over HTTP:\n  curl -X POST {server}/api/agents/claim -H \"Authorization: Bearer $SIGMA_API_KEY\" \\\n    \
             -H 'Content-Type: application/json' -d '{{\"agent_id\": \"{id}\", \"claim_token\": \"{token}\"}}'\n\
             The token is not shown again (it stays in {file}, readable only by this agent's user).\n",
            server = self.config.server,
            id = state.agent_id,
            token = state.claim_token,
            file = self.file.path().display(),
        );
    }

    /// Registers and waits for the key (claimed by an operator, or at once
    /// with an enrolment token).
    fn enrol(&mut self, mut state: State) -> Result<State, String> {
        let mut use_token = self.config.enrollment_token.is_some();
        'register: loop {
            let mut attempt = 0;
            loop {
                let ips = system::addresses();
                let body = AgentRegister {
                    agent_id: state.agent_id,
                    claim_token_hash: state.claim_token_hash(),
                    hostname: system::hostname(),
                    agent_version: env!("CARGO_PKG_VERSION").into(),
                    os: system::os_name(),
                    arch: std::env::consts::ARCH.into(),
                    ip_addresses: ips.iter().map(|i| i.to_string()).collect(),
                    enrollment_token: if use_token { self.config.enrollment_token.clone() } else { None },
                };
                match self.client.register(&body) {
                    Ok(r) => {
                        info(&format!("registered as {} ({})", state.agent_id, r.status));
                        break;
                    }
                    Err(Failure::Status { status: 401, message, .. }) if use_token => {
                        warn(&format!("the enrolment token was refused ({message}); waiting to be claimed instead"));
                        use_token = false;
                        self.print_claim(&state);
                    }
                    Err(Failure::Status { status: 409, .. }) => {
                        warn("the server knows this agent id with another claim token; making a new identity");
                        state = self.new_identity()?;
                    }
                    Err(e) => {
                        let wait = wait_for(&e, attempt, self.config.retry_max);
                        warn(&format!("registration failed: {e}; retrying in {:.1}s", wait.as_secs_f64()));
                        std::thread::sleep(wait);
                        attempt += 1;
                    }
                }
            }
            let mut attempt = 0;
            let poll_cap = self.config.retry_max.min(Duration::from_secs(30));
            loop {
                match self.client.claim_status(state.agent_id, &state.claim_token) {
                    Ok(s) if s.api_key.is_some() => {
                        state.api_key = s.api_key;
                        self.file.save(&state)?;
                        info("claimed: key received and saved");
                        return Ok(state);
                    }
                    Ok(_) => {
                        std::thread::sleep(backoff(attempt.min(5), poll_cap));
                        attempt += 1;
                    }
                    Err(Failure::Status { status: 404, .. }) => {
                        warn("the server does not know this agent (removed?); registering again");
                        continue 'register;
                    }
                    Err(Failure::Status { status: 403, .. }) => {
                        warn("the server refused this agent's claim token; making a new identity");
                        state = self.new_identity()?;
                        continue 'register;
                    }
                    Err(e) => {
                        let wait = wait_for(&e, attempt, poll_cap);
                        warn(&format!("claim status: {e}; retrying in {:.1}s", wait.as_secs_f64()));
                        std::thread::sleep(wait);
                        attempt += 1;
                    }
                }
            }
        }
    }

    /// After the server refused the key: fetch a rotated key with the claim
    /// token, or enrol again with a new identity when the agent was removed.
    fn recover(&mut self, mut state: State) -> Result<State, String> {
        let mut attempt = 0;
        loop {
            match self.client.claim_status(state.agent_id, &state.claim_token) {
                Ok(s) if s.api_key.is_some() => {
                    state.api_key = s.api_key;
                    self.file.save(&state)?;
                    info("the key was rotated: new key received and saved");
                    return Ok(state);
                }
                Ok(_) | Err(Failure::Status { status: 403 | 404, .. }) => {
                    warn("this agent was removed from the server or its key revoked; enrolling again");
                    return self.new_identity();
                }
                Err(e) => {
                    let wait = wait_for(&e, attempt, self.config.retry_max);
                    warn(&format!("claim status: {e}; retrying in {:.1}s", wait.as_secs_f64()));
                    std::thread::sleep(wait);
                    attempt += 1;
                }
            }
        }
    }

    /// Sends heartbeats until the server refuses the key.
    fn report(&mut self, state: &State) {
        let Some(key) = state.api_key.as_deref() else { return };
        match self.client.config(key) {
            Ok(c) => self.apply(c),
            Err(Failure::Status { status: 401, .. }) => {
                warn("the server refused this agent's key (revoked or rotated)");
                return;
            }
            Err(_) => {}
        }
        let mut failures = 0u32;
        loop {
            let beat = self.sample();
            match self.client.heartbeat(key, &beat) {
                Ok(c) => {
                    if failures > 0 {
                        info(&format!("heartbeats resumed after {failures} failures"));
                    }
                    failures = 0;
                    self.set_snapshot(|s| {
                        s.heartbeats_ok += 1;
                        s.last_heartbeat = now_secs();
                    });
                    self.apply(c);
                    std::thread::sleep(self.interval);
                }
                Err(Failure::Status { status: 401, .. }) => {
                    warn("the server refused this agent's key (revoked or rotated)");
                    return;
                }
                Err(e) => {
                    self.set_snapshot(|s| s.heartbeats_failed += 1);
                    let wait = wait_for(&e, failures, self.config.retry_max);
                    if failures < 3 || failures.is_multiple_of(10) {
                        warn(&format!("heartbeat failed: {e}; retrying in {:.1}s", wait.as_secs_f64()));
                    }
                    failures += 1;
                    std::thread::sleep(wait);
                }
            }
        }
    }

    fn apply(&mut self, c: sigma_types::AgentConfig) {
        if let Some(secs) = c.heartbeat_interval_secs.filter(|s| *s > 0) {
            self.interval = Duration::from_secs(u64::from(secs));
        }
        if let Some(p) = c.port_scan {
            self.port_scan = p;
        }
        let interval = self.interval.as_secs();
        self.set_snapshot(|s| s.interval_secs = interval);
    }

    /// One heartbeat's worth of measurements.
    fn sample(&mut self) -> Heartbeat {
        let before = match self.cpu {
            Some(c) => c,
            None => {
                let first = system::cpu_times().unwrap_or_default();
                std::thread::sleep(Duration::from_millis(250));
                first
            }
        };
        let now = system::cpu_times().unwrap_or_default();
        self.cpu = Some(now);
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let (memory, swap) = system::parse_meminfo(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default());
        let ports = if self.port_scan { ports::listening() } else { Vec::new() };
        self.set_snapshot(|s| s.ports = ports.clone());
        let metrics_port = self.config.metrics_listen.filter(|a| !a.ip().is_loopback()).map(|a| a.port());
        Heartbeat {
            agent_version: env!("CARGO_PKG_VERSION").into(),
            hostname: system::hostname(),
            os: system::os_name(),
            kernel: system::kernel(),
            arch: std::env::consts::ARCH.into(),
            uptime_secs: system::parse_uptime(&std::fs::read_to_string("/proc/uptime").unwrap_or_default()),
            cpu_percent: system::cpu_percent(before, now),
            cpu_cores: system::cpu_cores(&stat),
            load: system::parse_loadavg(&std::fs::read_to_string("/proc/loadavg").unwrap_or_default()),
            memory,
            swap,
            filesystems: system::filesystems(),
            network: system::parse_net_dev(&std::fs::read_to_string("/proc/net/dev").unwrap_or_default()),
            ports,
            public_ips: system::addresses().iter().filter(|i| system::is_public(i)).map(|i| i.to_string()).collect(),
            interval_secs: self.interval.as_secs() as u32,
            metrics_port,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let cap = Duration::from_secs(60);
        for attempt in 0..20 {
            let step = Duration::from_secs(1u64 << attempt.min(12)).min(cap);
            let b = backoff(attempt, cap);
            assert!(b >= step / 2 && b <= step, "{attempt}: {b:?}");
        }
        let waits: std::collections::HashSet<u128> = (0..20).map(|_| backoff(5, cap).as_micros()).collect();
        assert!(waits.len() > 10, "jittered");
        let limited = Failure::Status { status: 429, message: String::new(), retry_after: Some(7) };
        assert_eq!(wait_for(&limited, 0, cap), Duration::from_secs(7));
    }
}
