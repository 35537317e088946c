//! `make bench-agents`: how many heartbeats per second the release
//! `sigma-api` absorbs on SQLite and PostgreSQL, and what the release
//! `sigma-agent` costs on a VPS (resident memory, CPU at a 30 s interval,
//! binary size) next to Debian's `prometheus-node-exporter` in the same run.
//! Prints a Markdown report; `--write docs/BENCHMARKS.md` puts it between
//! its own markers there.

#[path = "../server.rs"]
#[allow(dead_code)]
mod server;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use server::Server;
use sha2::{Digest, Sha256};
use sqlx::Connection;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const START: &str = "<!-- agents-bench:start -->";
const END: &str = "<!-- agents-bench:end -->";
const INGEST_GOAL: f64 = 5000.0;

#[derive(Debug, Parser)]
#[command(name = "sigma-bench-agents", about = "Heartbeat ingest of sigma-api and footprint of sigma-agent")]
struct Opts {
    /// The sigma-api binary [default: next to this program].
    #[arg(long)]
    server: Option<PathBuf>,
    /// The sigma-agent binary [default: next to this program].
    #[arg(long)]
    agent: Option<PathBuf>,
    /// Agents seeded for the ingest test.
    #[arg(long, default_value_t = 10_000)]
    agents: usize,
    /// Concurrent connections sending heartbeats.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of timed heartbeats per backend.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Seconds the agent and node_exporter are watched side by side.
    #[arg(long, default_value_t = 120)]
    footprint_seconds: u64,
    /// Skip PostgreSQL, or the footprint part.
    #[arg(long)]
    skip_postgres: bool,
    #[arg(long)]
    skip_footprint: bool,
    /// Also write the results into this Markdown file, between the agents markers.
    #[arg(long)]
    write: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Opts::parse()).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sigma-bench-agents: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn sibling(name: &str, given: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name(name),
    };
    if !path.is_file() {
        bail!("{} not found: build it with `cargo build --release -p {name}`", path.display());
    }
    Ok(path)
}

async fn run(opts: Opts) -> anyhow::Result<String> {
    let api = sibling("sigma-api", &opts.server)?;
    let load_before = load_average();
    let mut out = String::new();
    let _ = writeln!(out, "### Agents: heartbeat ingest and agent footprint\n");
    let _ = writeln!(out, "- Date: {}", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
    let _ = writeln!(out, "- Machine: {}", machine());
    let _ = writeln!(out, "- Load average before the run (1, 5, 15 min): {load_before}");
    let _ = writeln!(
        out,
        "- Command: `make bench-agents` ({} agents, {} connections, {} s per backend; the load generator runs on the same machine)\n",
        opts.agents, opts.connections, opts.seconds
    );
    let _ = writeln!(
        out,
        "| backend | heartbeats/s | goal ≥ {INGEST_GOAL:.0}/s | p50 ms | p99 ms | errors | server peak RSS |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("sigma-bench-agents-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let sqlite_url = format!("sqlite://{}/sigma.db", dir.display());
    let row = ingest(&opts, &api, &sqlite_url, &dir).await.context("SQLite")?;
    let _ = writeln!(out, "| SQLite | {row}");
    if !opts.skip_postgres {
        match scratch_postgres().await {
            Ok(url) => {
                let row = ingest(&opts, &api, &url, &dir).await.context("PostgreSQL")?;
                let _ = writeln!(out, "| PostgreSQL | {row}");
            }
            Err(e) => {
                let _ = writeln!(out, "| PostgreSQL | skipped: {e} | | | | | |");
            }
        }
    }
    let _ = writeln!(
        out,
        "\nEach request is a full heartbeat (about 1.5 KB of JSON: metrics, 3 filesystems, 12 ports) with its own agent key, \
         round-robin over the seeded agents; the server checks the key, validates, and the coalescing writer stores the \
         latest heartbeat of each agent with one statement per batch. 5,000/s is 150,000 agents at a 30 s interval.\n"
    );
    if !opts.skip_footprint {
        let agent = sibling("sigma-agent", &opts.agent)?;
        out.push_str(&footprint(&opts, &api, &agent, &dir).await.context("agent footprint")?);
    }
    let _ = writeln!(out, "\n- Load average after the run: {}", load_average());
    if let Some(path) = &opts.write {
        write_section(path, &out)?;
    }
    Ok(out)
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn key(i: usize) -> String {
    format!("sga_bench{i:012}")
}

/// Seeds `n` claimed agents with known keys, straight into the database.
async fn seed(url: &str, n: usize) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        let ts = now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let mut tx = c.begin().await?;
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO agents (id, claim_hash, hostname, agent_version, os, arch, registered_at, claimed_at, enrolled_by, key_hash, status_changed_at) ",
            );
            q.push_values(chunk, |mut b, i| {
                b.push_bind(Uuid::now_v7().to_string())
                    .push_bind(sha256(&format!("claim{i}")))
                    .push_bind(format!("bench-{i}"))
                    .push_bind("0.1.0")
                    .push_bind("Debian")
                    .push_bind("x86_64")
                    .push_bind(ts.clone())
                    .push_bind(ts.clone())
                    .push_bind("claim")
                    .push_bind(sha256(&key(*i)))
                    .push_bind(ts.clone());
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    } else {
        let mut c = sqlx::PgConnection::connect(url).await?;
        let mut tx = c.begin().await?;
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                "INSERT INTO agents (id, claim_hash, hostname, agent_version, os, arch, registered_at, claimed_at, enrolled_by, key_hash, status_changed_at) ",
            );
            q.push_values(chunk, |mut b, i| {
                b.push_bind(Uuid::now_v7())
                    .push_bind(sha256(&format!("claim{i}")))
                    .push_bind(format!("bench-{i}"))
                    .push_bind("0.1.0")
                    .push_bind("Debian")
                    .push_bind("x86_64")
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind("claim")
                    .push_bind(sha256(&key(*i)))
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

fn heartbeat(i: usize) -> Value {
    let ports: Vec<Value> = (0..12)
        .map(|p| json!({"protocol": if p % 3 == 0 { "udp" } else { "tcp" }, "address": "0.0.0.0", "port": 1000 + p, "process": "xray", "pid": 100 + p}))
        .collect();
    json!({
        "agent_version": "0.1.0", "hostname": format!("bench-{i}"), "os": "Debian GNU/Linux 13 (trixie)",
        "kernel": "6.12.0-amd64", "arch": "x86_64", "uptime_secs": 86400 + i, "cpu_percent": (i % 100) as f64,
        "cpu_cores": 2, "load": {"one": 0.3, "five": 0.2, "fifteen": 0.1},
        "memory": {"total_bytes": 2_000_000_000u64, "used_bytes": 800_000_000u64},
        "swap": {"total_bytes": 0, "used_bytes": 0},
        "filesystems": [
            {"mount": "/", "fstype": "ext4", "total_bytes": 20_000_000_000u64, "used_bytes": 5_000_000_000u64},
            {"mount": "/boot", "fstype": "ext4", "total_bytes": 500_000_000u64, "used_bytes": 100_000_000u64},
            {"mount": "/var/log", "fstype": "xfs", "total_bytes": 5_000_000_000u64, "used_bytes": 1_000_000_000u64}],
        "network": {"rx_bytes": 123_456_789u64, "tx_bytes": 987_654_321u64},
        "ports": ports, "public_ips": ["103.1.2.3"], "interval_secs": 30,
    })
}

/// One backend: seed, start the release server, send heartbeats for the
/// configured time. Returns the rest of a table row.
async fn ingest(opts: &Opts, api: &Path, url: &str, dir: &Path) -> anyhow::Result<String> {
    // Migrate through the server binary, then seed.
    let status = Command::new(api).arg("migrate").env("DATABASE_URL", url).env("SIGMA_LOG", "warn").status()?;
    if !status.success() {
        bail!("sigma-api migrate failed");
    }
    seed(url, opts.agents).await?;
    let log = dir.join(format!("server-{}.log", Uuid::now_v7()));
    let server = Server::start(api, url, log).await?;
    let rss = server::RssSampler::start(server.pid());
    let client = reqwest::Client::builder().pool_max_idle_per_host(opts.connections).build()?;
    let bodies: Arc<Vec<(String, bytes_body::Body)>> =
        Arc::new((0..opts.agents).map(|i| (key(i), bytes_body::Body::from(heartbeat(i).to_string()))).collect());
    // Warm up: every agent once (also takes each from pending to online).
    blast(&client, &server.base_url, &bodies, opts.connections, Duration::from_secs(3600), opts.agents).await;
    let (ok, errors, mut latencies, elapsed) =
        blast(&client, &server.base_url, &bodies, opts.connections, Duration::from_secs(opts.seconds), usize::MAX)
            .await;
    let peak = rss.finish().await;
    server.stop().await?;
    latencies.sort_unstable();
    let pct =
        |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0) as f64 / 1000.0;
    let rate = ok as f64 / elapsed.as_secs_f64();
    let verdict = if rate >= INGEST_GOAL { "met" } else { "missed" };
    Ok(format!(
        "{rate:.0} | {verdict} | {:.1} | {:.1} | {errors} | {:.0} MB |",
        pct(0.5),
        pct(0.99),
        peak as f64 / 1_048_576.0
    ))
}

mod bytes_body {
    /// A heartbeat body shared by every request for one agent.
    pub type Body = std::sync::Arc<str>;
}

/// Sends heartbeats from `connections` tasks until `time` passed or
/// `limit` were sent. Returns (ok, errors, latencies in µs, elapsed).
async fn blast(
    client: &reqwest::Client,
    base: &str,
    bodies: &Arc<Vec<(String, bytes_body::Body)>>,
    connections: usize,
    time: Duration,
    limit: usize,
) -> (u64, u64, Vec<u64>, Duration) {
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let url = format!("{base}/api/agent/heartbeat");
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, bodies, next, errors, url) =
            (client.clone(), bodies.clone(), next.clone(), errors.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                if n >= limit || started.elapsed() >= time {
                    break;
                }
                let (key, body) = &bodies[n % bodies.len()];
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("x-agent-key", key)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let elapsed = started.elapsed();
    (all.len() as u64, errors.load(Ordering::Relaxed), all, elapsed)
}

async fn scratch_postgres() -> anyhow::Result<String> {
    let admin = std::env::var("SIGMA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut c = sqlx::PgConnection::connect(&admin).await.context("no PostgreSQL answers")?;
    let name = format!("sigma_bench_agents_{}", Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).context("bad PostgreSQL URL")?;
    Ok(format!("{base}/{name}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").map(|l| l.local_addr().map(|a| a.port()).unwrap_or(0)).unwrap_or(0)
}

/// Debian's node_exporter, installed when missing.
fn node_exporter() -> anyhow::Result<PathBuf> {
    let path = PathBuf::from("/usr/bin/prometheus-node-exporter");
    if !path.is_file() {
        eprintln!("installing prometheus-node-exporter (Debian package) for the comparison");
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        let status = Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "prometheus-node-exporter"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()?;
        if !status.success() || !path.is_file() {
            bail!("cannot install prometheus-node-exporter");
        }
    }
    Ok(path)
}

struct Watched {
    name: &'static str,
    child: Child,
    cpu_start: Duration,
    peak: u64,
    last: u64,
}

impl Watched {
    fn sample(&mut self) {
        if let Ok(r) = server::rss(self.child.id()) {
            self.peak = self.peak.max(r);
            self.last = r;
        }
    }
}

async fn footprint(opts: &Opts, api: &Path, agent: &Path, dir: &Path) -> anyhow::Result<String> {
    let ticks = server::clock_ticks();
    let url = format!("sqlite://{}/footprint.db", dir.display());
    let server = Server::start(api, &url, dir.join("footprint-server.log")).await?;
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/api/agents/enrollment-tokens", server.base_url))
        .json(&json!({"max_uses": 1}))
        .send()
        .await?
        .json()
        .await?;
    let token = token["token"].as_str().context("no enrolment token")?.to_owned();
    let agent_metrics = format!("127.0.0.1:{}", free_port());
    let agent_child = Command::new(agent)
        .args(["--server", &server.base_url, "--interval", "30", "--enrollment-token", &token])
        .args(["--metrics-listen", &agent_metrics])
        .arg("--state-dir")
        .arg(dir.join("agent-state"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let exporter_addr = format!("127.0.0.1:{}", free_port());
    let exporter_child = Command::new(node_exporter()?)
        .arg(format!("--web.listen-address={exporter_addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Wait until the agent reports.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list: Value =
            http.get(format!("{}/api/agents?status=online", server.base_url)).send().await?.json().await?;
        if list["total"] == 1 {
            break;
        }
        if Instant::now() > deadline {
            bail!("the agent did not come online");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut watched: Vec<Watched> = [("sigma-agent", agent_child), ("prometheus-node-exporter", exporter_child)]
        .into_iter()
        .map(|(name, child)| {
            let cpu_start = server::cpu_time(child.id(), ticks).unwrap_or_default();
            Watched { name, child, cpu_start, peak: 0, last: 0 }
        })
        .collect();
    let started = Instant::now();
    let window = Duration::from_secs(opts.footprint_seconds);
    let mut next_scrape = Instant::now();
    while started.elapsed() < window {
        // Both are scraped every 30 s, as a Prometheus would.
        if Instant::now() >= next_scrape {
            let _ = http.get(format!("http://{agent_metrics}/metrics")).send().await;
            let _ = http.get(format!("http://{exporter_addr}/metrics")).send().await;
            next_scrape += Duration::from_secs(30);
        }
        for w in &mut watched {
            w.sample();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    for w in &mut watched {
        let cpu = server::cpu_time(w.child.id(), ticks).unwrap_or_default().saturating_sub(w.cpu_start);
        rows.push((w.name, w.peak, w.last, cpu.as_secs_f64() * 100.0 / elapsed));
        let _ = w.child.kill();
        let _ = w.child.wait();
    }
    server.stop().await?;
    let size = std::fs::metadata(agent)?.len();
    let exporter_size = std::fs::metadata("/usr/bin/prometheus-node-exporter").map(|m| m.len()).unwrap_or(0);
    let (a, e) = (&rows[0], &rows[1]);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Footprint over {elapsed:.0} s side by side (agent heartbeat every 30 s; both /metrics scraped every 30 s):\n"
    );
    let _ = writeln!(out, "| program | peak RSS | RSS at end | CPU (% of one core) | binary |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (row, bin) in [(a, size), (e, exporter_size)] {
        let _ = writeln!(
            out,
            "| {} | {:.1} MB | {:.1} MB | {:.3} % | {:.1} MB |",
            row.0,
            row.1 as f64 / 1_048_576.0,
            row.2 as f64 / 1_048_576.0,
            row.3,
            bin as f64 / 1_048_576.0
        );
    }
    let ratio = |x: f64, y: f64| if y > 0.0 { format!("{:.2}", x / y) } else { "n/a".into() };
    let _ = writeln!(
        out,
        "\nsigma-agent / node_exporter: peak RSS {}x, CPU {}x, binary {}x. Goals: RSS < 8 MB ({}), CPU < 0.5 % ({}), stripped binary < 6 MB ({}).",
        ratio(a.1 as f64, e.1 as f64),
        ratio(a.3, e.3),
        ratio(size as f64, exporter_size as f64),
        if (a.1 as f64) < 8.0 * 1_048_576.0 { "met" } else { "missed" },
        if a.3 < 0.5 { "met" } else { "missed" },
        if (size as f64) < 6.0 * 1_048_576.0 { "met" } else { "missed" },
    );
    Ok(out)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|_| "unknown".into())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    format!("{model}, {cores} logical cores")
}

fn write_section(path: &Path, section: &str) -> anyhow::Result<()> {
    let block = format!("{START}\n{section}{END}\n");
    let text = match std::fs::read_to_string(path) {
        Ok(old) => match (old.find(START), old.find(END)) {
            (Some(a), Some(b)) if a < b => {
                // What follows the section stays one blank line below it.
                let rest = old[b + END.len()..].trim_start_matches('\n');
                let gap = if rest.is_empty() { "" } else { "\n" };
                format!("{}{block}{gap}{rest}", &old[..a])
            }
            _ => format!("{}\n\n{block}", old.trim_end()),
        },
        Err(_) => format!("# Benchmarks\n\n{block}"),
    };
    std::fs::write(path, text)?;
    Ok(())
}
