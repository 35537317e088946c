//! The integration cases of `make bench`: Prometheus targets and the Ansible
//! inventory of a fleet of 10,000 monitored VPS, and a 50,000-row CSV import
//! through the HTTP API. Their results have their own section of
//! docs/BENCHMARKS.md, between their own markers.

use crate::data;
use crate::load::{self, Case, Measured, ms};
use crate::report::{self, mb, thousands};
use crate::server::{self, RssSampler, Server};
use anyhow::{Context, bail};
use sigma_store::{AuditContext, Store};
use sigma_types::{Source, VpsStatus};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const START: &str = "<!-- sigma-bench:integrations:start -->";
pub const END: &str = "<!-- sigma-bench:integrations:end -->";
pub const TARGETS_GOAL_MS: f64 = 40.0;
pub const IMPORT_GOAL_S: f64 = 10.0;

/// What the integration cases need from the command line.
pub struct Settings {
    pub vps: u64,
    pub providers: usize,
    pub import_rows: u64,
    pub workers: usize,
    pub warmup: usize,
    pub requests: usize,
    pub seed_tasks: usize,
    /// Sequential requests of the cases that follow a change of the fleet.
    pub after_change: usize,
}

pub struct ImportFigures {
    pub rows: u64,
    pub bytes: usize,
    pub took: Duration,
    /// `created` or `updated`: what the import did to each row.
    pub result: &'static str,
    /// Rows with that result.
    pub done: u64,
    pub rss_before: u64,
    pub peak_rss: u64,
    pub error: Option<String>,
}

pub struct BackendFigures {
    pub backend: &'static str,
    pub version: String,
    pub vps: u64,
    pub seeding: Duration,
    pub cases: Vec<Measured>,
    /// The new rows, then the same rows edited.
    pub imports: Vec<ImportFigures>,
}

impl BackendFigures {
    /// Whether every request and the import succeeded.
    pub fn clean(&self) -> bool {
        self.cases.iter().all(|c| c.errors == 0) && self.imports.iter().all(|i| i.error.is_none())
    }
}

/// Seeds `settings.vps` VPS, every one `active` with monitoring on, through the store.
pub async fn seed<S: Store>(store: Arc<S>, settings: &Settings, tasks: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let by = Arc::new(AuditContext::system());
    let mut providers = Vec::with_capacity(settings.providers);
    for i in 0..settings.providers {
        providers
            .push(store.create_provider(&data::provider(i), &by).await.with_context(|| format!("provider {i}"))?.id);
    }
    let providers = Arc::new(providers);
    let today = chrono::Utc::now().date_naive();
    let next = Arc::new(AtomicU64::new(0));
    let total = settings.vps;
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (store, providers, next, by) = (store.clone(), providers.clone(), next.clone(), by.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return anyhow::Ok(());
                    }
                    let mut draft = data::vps(i, &providers, today);
                    draft.status = VpsStatus::Active;
                    draft.monitoring_enabled = true;
                    store.create_vps(&draft, Source::Import, &by).await.with_context(|| format!("VPS {i}"))?;
                }
            })
        })
        .collect();
    for h in handles {
        h.await??;
    }
    let took = started.elapsed();
    eprintln!("   seeded {total} monitored VPS in {:.1} s", took.as_secs_f64());
    Ok(took)
}

/// A CSV import file of `rows` new VPS over 20 providers (made on the fly),
/// with addresses from 100.64.0.0/10, which the seeded fleet does not use.
pub fn import_file(rows: u64) -> String {
    let mut s = String::with_capacity(rows as usize * 160);
    s.push_str(
        "hostname,alias,provider_name,country,city,ip_addresses,status,purpose,tags,price,currency,expire_date,notes\n",
    );
    let countries = ["JP", "US", "HK", "SG", "DE"];
    for i in 0..rows {
        let country = countries[(i % 5) as usize];
        let _ = writeln!(
            s,
            "imported-{i:06}.example.net,Imported {i},Import Provider {},{country},,\
             100.{}.{}.{}/overseas,active,vpn-exit,\"imported,batch-{}\",4.99,USD,2027-01-{:02},\"row {i}, from the old sheet\"",
            i % 20,
            64 + i / 65_536,
            (i / 256) % 256,
            i % 256,
            i % 7,
            1 + i % 28,
        );
    }
    s
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "Prometheus targets, whole fleet".into(),
            paths: vec!["/api/prometheus/targets".into()],
            goal_p99_ms: Some(TARGETS_GOAL_MS),
            matches: None,
        },
        Case {
            name: "Prometheus targets, one country".into(),
            paths: vec!["/api/prometheus/targets?country=JP".into()],
            goal_p99_ms: Some(TARGETS_GOAL_MS),
            matches: None,
        },
        Case {
            name: "Ansible inventory, whole fleet".into(),
            paths: vec!["/api/ansible/inventory".into()],
            goal_p99_ms: None,
            matches: None,
        },
    ]
}

/// Starts the server on the seeded database, measures the read cases, then
/// the import.
pub async fn measure(
    settings: &Settings,
    binary: &Path,
    database_url: &str,
    log: &Path,
    backend: &'static str,
    version: String,
    seeding: Duration,
) -> anyhow::Result<BackendFigures> {
    let server = Server::start(binary, database_url, log.to_path_buf()).await?;
    let pid = server.pid();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.workers)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()?;

    let mut cases = cases();
    for case in &mut cases {
        let url = format!("{}{}", server.base_url, case.paths[0]);
        let body: serde_json::Value = client.get(&url).send().await?.error_for_status()?.json().await?;
        case.matches = Some(entries(&body) as i64);
    }
    if cases[0].matches != Some(settings.vps as i64) {
        bail!("targets lists {:?} VPS, {} expected", cases[0].matches, settings.vps);
    }
    let mut measured = Vec::new();
    for case in &cases {
        load::warm_up(&client, &server.base_url, case, settings.workers, settings.warmup).await;
        let m = load::run(&client, &server.base_url, case, settings.workers, settings.requests).await;
        eprintln!(
            "   {:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  {:>7.0} req/s",
            m.name,
            ms(m.p50),
            ms(m.p99),
            ms(m.max),
            m.per_second
        );
        measured.push(m);
    }

    // The answers above are served from the cache after the first; these
    // make the server build them afresh: each request follows a change of
    // one VPS, which moves the fleet's version on.
    for (name, path) in [
        ("Prometheus targets, whole fleet, after a change", "/api/prometheus/targets"),
        ("Ansible inventory, whole fleet, after a change", "/api/ansible/inventory"),
    ] {
        let m = after_change(&client, &server.base_url, name, path, settings.after_change).await?;
        eprintln!("   {:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms", m.name, ms(m.p50), ms(m.p99), ms(m.max));
        measured.push(m);
    }

    // The file of new VPS, then the same file with each row's price and
    // notes edited, as when an exported sheet comes back: every row an update.
    let file = import_file(settings.import_rows);
    let edited = file.replace(",4.99,USD,", ",5.49,USD,").replace("from the old sheet", "edited");
    let mut imports = Vec::new();
    for (file, result) in [(file, "created"), (edited, "updated")] {
        let figures = time_import(&client, &server.base_url, pid, file, result).await?;
        eprintln!(
            "   import of {} rows ({:.1} MB), {result}: {:.2} s, peak RSS {:.0} MB",
            settings.import_rows,
            mb(figures.bytes as u64),
            figures.took.as_secs_f64(),
            mb(figures.peak_rss)
        );
        if let Some(e) = &figures.error {
            eprintln!("   import failed: {e}");
        }
        imports.push(ImportFigures { rows: settings.import_rows, ..figures });
    }
    drop(client);
    let _ = server.stop().await;
    Ok(BackendFigures { backend, version, vps: settings.vps, seeding, cases: measured, imports })
}

/// Posts a CSV import and times it; `result` is what every row should get.
async fn time_import(
    client: &reqwest::Client,
    base_url: &str,
    pid: u32,
    file: String,
    result: &'static str,
) -> anyhow::Result<ImportFigures> {
    let bytes = file.len();
    let rss_before = server::rss(pid)?;
    let sampler = RssSampler::start(pid);
    let started = Instant::now();
    let answer = client
        .post(format!("{base_url}/api/vps/import?format=csv&create_providers=true"))
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await;
    let took = started.elapsed();
    let peak_rss = sampler.finish().await;
    let (done, error) = match answer {
        Ok(r) if r.status().is_success() => {
            let report: serde_json::Value = r.json().await?;
            (report[result].as_u64().unwrap_or(0), None)
        }
        Ok(r) => {
            let status = r.status();
            (0, Some(format!("{status}: {}", r.text().await.unwrap_or_default().chars().take(300).collect::<String>())))
        }
        Err(e) => (0, Some(e.to_string())),
    };
    Ok(ImportFigures { rows: 0, bytes, took, result, done, rss_before, peak_rss, error })
}

/// `requests` sequential reads of `path`, each right after a change of one
/// VPS, so that none is served from the cache.
pub async fn after_change(
    client: &reqwest::Client,
    base_url: &str,
    name: &str,
    path: &str,
    requests: usize,
) -> anyhow::Result<Measured> {
    let page: serde_json::Value =
        client.get(format!("{base_url}/api/vps?per_page=1")).send().await?.error_for_status()?.json().await?;
    let id = page["data"][0]["id"].as_str().context("no VPS to change")?.to_owned();
    let mut samples = Vec::with_capacity(requests);
    let mut busy = Duration::ZERO;
    let mut case = Case { name: name.to_owned(), paths: vec![path.to_owned()], goal_p99_ms: None, matches: None };
    for i in 0..requests {
        client
            .patch(format!("{base_url}/api/vps/{id}"))
            .json(&serde_json::json!({"notes": format!("changed {i}")}))
            .send()
            .await?
            .error_for_status()?;
        let t = Instant::now();
        let body = client.get(format!("{base_url}{path}")).send().await?.error_for_status()?.bytes().await?;
        let took = t.elapsed();
        busy += took;
        samples.push(took);
        if case.matches.is_none() {
            case.matches = Some(entries(&serde_json::from_slice(&body)?) as i64);
        }
    }
    Ok(Measured::from_samples(&case, samples, busy))
}

/// How many targets (inventory hosts, listed VPS) an answer lists.
fn entries(body: &serde_json::Value) -> usize {
    match (body.as_array(), body["total"].as_u64()) {
        (Some(groups), _) => groups.len(),
        (None, Some(total)) => total as usize,
        (None, None) => body["_meta"]["hostvars"].as_object().map_or(0, serde_json::Map::len),
    }
}

/// The integrations section of the report.
pub fn markdown(run: &report::Run, figures: &[BackendFigures], skipped: &[(&str, String)]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "### Integrations: targets, inventory, import\n");
    let _ = writeln!(o, "- Date: {}", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
    let _ = writeln!(o, "- Commit: {}", report::git_commit());
    let _ = writeln!(o, "- Machine: {}", report::machine());
    let _ = writeln!(o, "- Command: `{}`", run.command);
    let _ = writeln!(
        o,
        "- Load: {} concurrent connections, closed loop; {} warm-up requests, then {} timed requests per case. \
         Client, server and database share the machine.",
        run.workers, run.warmup, run.requests
    );
    let _ = writeln!(
        o,
        "- Load average (1, 5, 15 min) at start: {}; at end: {}\n",
        run.load_at_start,
        report::load_average()
    );
    for (backend, reason) in skipped {
        let _ = writeln!(o, "**{backend} was skipped:** {reason}\n");
    }
    if figures.is_empty() {
        return o;
    }
    let _ = writeln!(o, "| Backend | Case | Request | Entries | p50 | p99 | max | req/s | Goal (p99) |");
    let _ = writeln!(o, "|---|---|---|--:|--:|--:|--:|--:|---|");
    for f in figures {
        for c in &f.cases {
            let (goal, errors) = report::goal_and_errors(c);
            let _ = writeln!(
                o,
                "| {} | {} | `{}` | {} | {:.2} | {:.2} | {:.2} | {:.0}{errors} | {goal} |",
                f.backend,
                c.name,
                c.example,
                c.matches.map_or("—".into(), |n| thousands(n as u64)),
                ms(c.p50),
                ms(c.p99),
                ms(c.max),
                c.per_second,
            );
        }
    }
    let _ = writeln!(
        o,
        "\n| Backend | Version | Fleet before (seeding) | CSV import | File | Outcome | Time | Rows/s | Server RSS before → peak | Goal |"
    );
    let _ = writeln!(o, "|---|---|--:|--:|--:|---|--:|--:|--:|---|");
    for (f, i) in figures.iter().flat_map(|f| f.imports.iter().map(move |i| (f, i))) {
        let secs = i.took.as_secs_f64();
        let outcome = match &i.error {
            None => format!("{} rows {}", thousands(i.done), i.result),
            Some(e) => format!("failed: {e}"),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} VPS ({:.1} s) | {} rows | {:.1} MB | {} | {secs:.2} s | {} | {:.0} → {:.0} MB | < {IMPORT_GOAL_S} s {} |",
            f.backend,
            f.version,
            thousands(f.vps),
            f.seeding.as_secs_f64(),
            thousands(i.rows),
            mb(i.bytes as u64),
            outcome,
            thousands((i.rows as f64 / secs) as u64),
            mb(i.rss_before),
            mb(i.peak_rss),
            report::check(i.error.is_none() && secs < IMPORT_GOAL_S),
        );
    }
    o
}
