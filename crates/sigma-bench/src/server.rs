//! The real `sigma-api` binary as a child process, and its memory.

use anyhow::{Context, bail};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub base_url: String,
    log: PathBuf,
}

impl Server {
    /// Starts `binary` on a free loopback port against `database_url` and
    /// waits until `/healthz/ready` answers 200. Its log goes to `log`.
    pub async fn start(binary: &Path, database_url: &str, log: PathBuf) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let listen = format!("127.0.0.1:{port}");
        let out = File::create(&log)?;
        let child = Command::new(binary)
            .args(["--listen", &listen])
            .env("DATABASE_URL", database_url)
            .env("SIGMA_LOG", "warn")
            // Whatever the caller's shell holds, the benchmark talks to an
            // open API (no key, no first admin) without rate limits.
            .env_remove("SIGMA_API_KEY")
            .env_remove("API_KEY")
            .env_remove("SIGMA_CONFIG")
            .env_remove("SIGMA_ADMIN_EMAIL")
            .env_remove("SIGMA_ADMIN_PASSWORD")
            .env_remove("REDIS_URL")
            .env("SIGMA_DEV", "1")
            .env("SIGMA_RATE_LIMIT", "0")
            .env("SIGMA_LOGIN_RATE_LIMIT", "0")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Server { child, base_url: format!("http://{listen}"), log };
        server.wait_ready().await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let url = format!("{}/healthz/ready", self.base_url);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("sigma-api exited during start-up ({status}):\n{}", self.log_tail());
            }
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("sigma-api was not ready within 60 s:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines the server logged.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Sends SIGTERM (through `kill`, so no libc) and waits for the exit.
    pub async fn stop(mut self) -> anyhow::Result<(ExitStatus, Duration)> {
        let started = Instant::now();
        let sent = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().context("cannot run kill")?;
        if !sent.success() {
            bail!("kill -TERM {} failed: {sent}", self.pid());
        }
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok((status, started.elapsed()));
            }
            if started.elapsed() > Duration::from_secs(40) {
                bail!("sigma-api did not stop within 40 s of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    /// On an early return the server must not outlive the benchmark.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last lines of a log file.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Resident memory of a process in bytes (`VmRSS`).
pub fn rss(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmRSS:").map(|k| k * 1024)
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with(field)).with_context(|| format!("no {field} for {pid}"))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().with_context(|| format!("bad {line:?}"))
}

/// CPU time (user + system) a process has used so far.
pub fn cpu_time(pid: u32, ticks_per_second: u64) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces; the fields after it do not.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("unreadable /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of proc(5), counted after "pid (comm)".
    let ticks: u64 =
        fields.get(11..13).context("short /proc stat")?.iter().map(|f| f.parse::<u64>()).sum::<Result<_, _>>()?;
    Ok(Duration::from_secs_f64(ticks as f64 / ticks_per_second as f64))
}

/// Clock ticks per second of `/proc/*/stat` (`getconf CLK_TCK`, usually 100).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// Samples the resident memory of a process every 50 ms and keeps the peak.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<u64>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                tick.tick().await;
                if let Ok(n) = rss(pid) {
                    peak = peak.max(n);
                }
            }
            peak
        });
        RssSampler { stop, task }
    }

    /// The highest sample.
    pub async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or(0)
    }
}
