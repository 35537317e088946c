//! `make bench`: seeds a large fleet into each backend through the store,
//! starts the release `sigma-api` against it, measures list, stats and
//! single-VPS requests and the server's memory, and prints a Markdown report
//! (optionally written into docs/BENCHMARKS.md).

mod data;
mod integrations;
mod load;
mod report;
mod server;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use load::Case;
use report::{BackendReport, Outcome, Run, Seeded};
use server::{RssSampler, Server};
use sigma_store::{AuditContext, Store};
use sigma_types::Source;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const LIST_GOAL_MS: f64 = 15.0;
const STATS_GOAL_MS: f64 = 50.0;

#[derive(Debug, Parser)]
#[command(name = "sigma-bench", about = "Load benchmark of the release sigma-api on SQLite and PostgreSQL")]
struct Opts {
    /// Which backends to measure.
    #[arg(long, value_enum, default_value_t = Backend::Both)]
    backend: Backend,
    /// VPS to seed.
    #[arg(long, default_value_t = 100_000)]
    vps: u64,
    /// Providers to spread them over.
    #[arg(long, default_value_t = 50)]
    providers: usize,
    /// The sigma-api binary [default: the one next to this program].
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
    /// Concurrent connections of the load loop.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Timed requests per case.
    #[arg(long, default_value_t = 3000)]
    requests: usize,
    /// Untimed requests per case before measuring.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Concurrent seeding tasks for PostgreSQL (SQLite has one writer).
    #[arg(long, default_value_t = 8)]
    seed_tasks: usize,
    /// Also write the results section of this Markdown file (e.g. docs/BENCHMARKS.md).
    #[arg(long, value_name = "PATH")]
    write: Option<PathBuf>,
    /// Keep the seeded databases and print where they are.
    #[arg(long)]
    keep: bool,
    /// Measure the API cases on a database kept by `--keep` instead of
    /// seeding one (`sqlite://...` or `postgres://...`; the backend follows).
    /// Only the API cases run, and the database is left as it is.
    #[arg(long, value_name = "URL", conflicts_with_all = ["write", "backend"])]
    database_url: Option<String>,
    /// Sequential requests per filtered list case made right after a change
    /// (so that none is served from the kept ids).
    #[arg(long, default_value_t = 100)]
    after_change: usize,
    /// Which cases to run: the API at `--vps` VPS, the integrations
    /// (Prometheus targets, Ansible inventory, CSV import), or both.
    #[arg(long, value_enum, default_value_t = Suite::All)]
    suite: Suite,
    /// Monitored VPS the integration cases seed.
    #[arg(long, default_value_t = 10_000)]
    integration_vps: u64,
    /// Rows of the integration cases' CSV import.
    #[arg(long, default_value_t = 50_000)]
    import_rows: u64,
    /// Timed requests per integration case (each answer lists the whole fleet).
    #[arg(long, default_value_t = 300)]
    integration_requests: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Suite {
    Api,
    Integrations,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
    Both,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Opts::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sigma-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Ok(false) when a request failed or the server did not stop cleanly.
async fn run(opts: Opts) -> anyhow::Result<bool> {
    if opts.vps == 0 || opts.vps > data::MAX_VPS {
        bail!("--vps must be between 1 and {}", data::MAX_VPS);
    }
    if opts.providers == 0 || opts.workers == 0 || opts.requests == 0 || opts.seed_tasks == 0 {
        bail!("--providers, --workers, --requests and --seed-tasks must be at least 1");
    }
    let server = match &opts.server {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("sigma-api"),
    };
    if !server.is_file() {
        bail!("{} not found: build it with `cargo build --release -p sigma-api` or pass --server", server.display());
    }
    if server.components().any(|c| c.as_os_str() == "debug") {
        eprintln!("warning: {} looks like a debug build; figures will not be representative", server.display());
    }

    let load_at_start = report::load_average();
    let mut clean = true;
    if opts.suite != Suite::Api && opts.database_url.is_none() {
        clean &= integration_suite(&opts, &server).await?;
    }
    if opts.suite == Suite::Integrations {
        return Ok(clean);
    }
    let mut outcomes = Vec::new();
    if let Some(url) = &opts.database_url {
        outcomes.push(Outcome::Ran(Box::new(reuse(&opts, &server, url).await.context("kept database")?)));
    } else if matches!(opts.backend, Backend::Sqlite | Backend::Both) {
        outcomes.push(Outcome::Ran(Box::new(sqlite(&opts, &server).await.context("SQLite")?)));
    }
    if opts.database_url.is_none() && matches!(opts.backend, Backend::Postgres | Backend::Both) {
        outcomes.push(match scratch_postgres().await {
            Ok(url) => Outcome::Ran(Box::new(postgres(&opts, &server, &url).await.context("PostgreSQL")?)),
            Err(reason) => {
                eprintln!("\nPostgreSQL skipped: {reason}\n");
                Outcome::Skipped { backend: "PostgreSQL", reason }
            }
        });
    }

    let run = Run {
        command: std::env::args().map(|a| shell_word(&a)).collect::<Vec<_>>().join(" "),
        load_at_start,
        workers: opts.workers,
        warmup: opts.warmup,
        requests: opts.requests,
        outcomes,
    };
    let section = report::markdown(&run);
    println!("\n{section}");
    if let Some(path) = &opts.write {
        report::write(path, &section).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }

    for o in &run.outcomes {
        if let Outcome::Ran(r) = o {
            for c in r.cases.iter().filter(|c| c.errors > 0) {
                clean = false;
                eprintln!(
                    "{} / {}: {} failed requests, first: {}",
                    r.backend,
                    c.name,
                    c.errors,
                    c.first_error.as_deref().unwrap_or("?")
                );
            }
            if !r.shutdown.starts_with("exit 0") {
                clean = false;
                eprintln!("{}: the server did not stop cleanly: {}", r.backend, r.shutdown);
            }
        }
    }
    Ok(clean)
}

/// The integration cases on each backend, reported in their own section.
async fn integration_suite(opts: &Opts, server: &Path) -> anyhow::Result<bool> {
    let settings = integrations::Settings {
        vps: opts.integration_vps,
        providers: opts.providers,
        import_rows: opts.import_rows,
        workers: opts.workers,
        warmup: opts.warmup.min(50),
        requests: opts.integration_requests,
        seed_tasks: opts.seed_tasks,
        after_change: (opts.integration_requests / 6).max(10),
    };
    let load_at_start = report::load_average();
    let mut figures = Vec::new();
    let mut skipped = Vec::new();
    if matches!(opts.backend, Backend::Sqlite | Backend::Both) {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
        let dir = std::env::temp_dir().join(format!("sigma-bench-int-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}", dir.join("sigma.db").display());
        eprintln!("== integrations, SQLite: {url}");
        let result = async {
            let store = Arc::new(sigma_store_sqlite::SqliteStore::connect(&url).await?);
            let seeding = integrations::seed(store.clone(), &settings, 1).await?;
            store.close().await;
            let mut conn = sqlx::SqliteConnection::connect(&url).await?;
            let version: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&mut conn).await?;
            conn.close().await?;
            integrations::measure(
                &settings,
                server,
                &url,
                &dir.join("server.log"),
                "SQLite",
                format!("SQLite {version}"),
                seeding,
            )
            .await
        }
        .await
        .context("integrations on SQLite");
        if !opts.keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        figures.push(result?);
    }
    if matches!(opts.backend, Backend::Postgres | Backend::Both) {
        match scratch_postgres().await {
            Ok(url) => {
                let options: sqlx::postgres::PgConnectOptions = url.parse()?;
                let name = options.get_database().unwrap_or_default().to_owned();
                eprintln!("== integrations, PostgreSQL: {name}");
                let result = async {
                    let store = Arc::new(sigma_store_postgres::PostgresStore::connect(&url).await?);
                    let seeding = integrations::seed(store.clone(), &settings, settings.seed_tasks).await?;
                    store.close().await;
                    let mut conn = sqlx::PgConnection::connect(&url).await?;
                    sqlx::raw_sql("VACUUM ANALYZE").execute(&mut conn).await?;
                    let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut conn).await?;
                    conn.close().await?;
                    let version = format!("PostgreSQL {}", version.split_whitespace().next().unwrap_or(&version));
                    let log = std::env::temp_dir().join(format!("sigma-bench-{name}.log"));
                    let r = integrations::measure(&settings, server, &url, &log, "PostgreSQL", version, seeding).await;
                    let _ = std::fs::remove_file(&log);
                    r
                }
                .await
                .context("integrations on PostgreSQL");
                if !opts.keep
                    && let Err(e) = drop_database(&options, &name).await
                {
                    eprintln!("warning: cannot drop the scratch database {name}: {e:#}");
                }
                figures.push(result?);
            }
            Err(reason) => skipped.push(("PostgreSQL", reason)),
        }
    }
    let run = Run {
        command: std::env::args().map(|a| shell_word(&a)).collect::<Vec<_>>().join(" "),
        load_at_start,
        workers: settings.workers,
        warmup: settings.warmup,
        requests: settings.requests,
        outcomes: Vec::new(),
    };
    let section = integrations::markdown(&run, &figures, &skipped);
    println!("\n{section}");
    if let Some(path) = &opts.write {
        report::write_between(path, integrations::START, integrations::END, &section)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("integration results written to {}", path.display());
    }
    let mut clean = true;
    for f in &figures {
        if !f.clean() {
            clean = false;
            eprintln!("{}: some integration requests or the import failed", f.backend);
        }
    }
    Ok(clean)
}

fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@".contains(&b)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

async fn sqlite(opts: &Opts, server: &Path) -> anyhow::Result<BackendReport> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
    let dir = std::env::temp_dir().join(format!("sigma-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("sigma.db");
    let url = format!("sqlite://{}", file.display());
    eprintln!("== SQLite: {}", file.display());

    let store = Arc::new(sigma_store_sqlite::SqliteStore::connect(&url).await?);
    let (mut seeded, ids) = seed(store.clone(), opts, 1, None).await?;
    store.close().await;
    drop(store);
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&mut conn).await?;
    conn.close().await?;
    seeded.database_bytes = Some(
        ["sigma.db", "sigma.db-wal"].iter().filter_map(|f| std::fs::metadata(dir.join(f)).ok()).map(|m| m.len()).sum(),
    );

    let result =
        measure(opts, server, &url, &dir.join("server.log"), "SQLite", format!("SQLite {version}"), seeded, &ids).await;
    if opts.keep {
        eprintln!("kept the SQLite database: {url}");
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// The API cases on a database that an earlier `--keep` run seeded.
async fn reuse(opts: &Opts, server: &Path, url: &str) -> anyhow::Result<BackendReport> {
    // Every thousandth live VPS or so, for the single-VPS requests.
    const SAMPLE: &str = "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM vps
        WHERE deleted_at IS NULL) s WHERE n % 100 = 1 LIMIT 1000";
    let (backend, version, vps, providers, bytes, ids) = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        let version: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&mut conn).await?;
        let vps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vps").fetch_one(&mut conn).await?;
        let providers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM providers").fetch_one(&mut conn).await?;
        let bytes: i64 =
            sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
                .fetch_one(&mut conn)
                .await?;
        let ids: Vec<String> = sqlx::query_scalar(SAMPLE).fetch_all(&mut conn).await?;
        conn.close().await?;
        let ids = ids.iter().map(|id| Uuid::parse_str(id)).collect::<Result<_, _>>()?;
        ("SQLite", format!("SQLite {version}"), vps, providers, bytes, ids)
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut conn).await?;
        let vps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vps").fetch_one(&mut conn).await?;
        let providers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM providers").fetch_one(&mut conn).await?;
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut conn).await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(SAMPLE).fetch_all(&mut conn).await?;
        conn.close().await?;
        let version = format!("PostgreSQL {}", version.split_whitespace().next().unwrap_or(&version));
        ("PostgreSQL", version, vps, providers, bytes, ids)
    };
    eprintln!("== {backend}, kept database: {vps} VPS, {providers} providers");
    let seeded = Seeded {
        vps: u64::try_from(vps)?,
        providers: usize::try_from(providers)?,
        tasks: 0,
        took: None,
        database_bytes: u64::try_from(bytes).ok(),
    };
    let log = std::env::temp_dir().join(format!("sigma-bench-reuse-{}.log", std::process::id()));
    let r = measure(opts, server, url, &log, backend, version, seeded, &ids).await;
    let _ = std::fs::remove_file(&log);
    r
}

/// A fresh database from the test template, or why there is none.
async fn scratch_postgres() -> Result<String, String> {
    eprintln!("== PostgreSQL: creating a scratch database");
    // `scratch_database` panics with advice when the server is unreachable;
    // keep that advice as the reason and stay quiet otherwise.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let made = tokio::spawn(sigma_store_postgres::testing::scratch_database()).await;
    std::panic::set_hook(hook);
    made.map_err(|e| match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "cannot create a scratch database".into()),
        Err(e) => e.to_string(),
    })
}

async fn postgres(opts: &Opts, server: &Path, url: &str) -> anyhow::Result<BackendReport> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let name = options.get_database().unwrap_or_default().to_owned();
    eprintln!("   database {name}");
    let result = async {
        let store = Arc::new(sigma_store_postgres::PostgresStore::connect(url).await?);
        let (mut seeded, ids) = seed(store.clone(), opts, opts.seed_tasks, Some(url)).await?;
        store.close().await;
        drop(store);
        let mut conn = sqlx::PgConnection::connect(url).await?;
        // After a bulk load autovacuum would soon do this; do it now so the
        // planner has statistics and index-only scans see a visibility map.
        let t = Instant::now();
        sqlx::raw_sql("VACUUM ANALYZE").execute(&mut conn).await?;
        eprintln!("   VACUUM ANALYZE took {:.1} s", t.elapsed().as_secs_f64());
        let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut conn).await?;
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut conn).await?;
        conn.close().await?;
        seeded.database_bytes = u64::try_from(bytes).ok();
        let log = std::env::temp_dir().join(format!("sigma-bench-{name}.log"));
        let version = format!("PostgreSQL {}", version.split_whitespace().next().unwrap_or(&version));
        let r = measure(opts, server, url, &log, "PostgreSQL", version, seeded, &ids).await;
        let _ = std::fs::remove_file(&log);
        r
    }
    .await;
    if opts.keep {
        eprintln!("kept the PostgreSQL database: {name}");
    } else if let Err(e) = drop_database(&options, &name).await {
        eprintln!("warning: cannot drop the scratch database {name}: {e:#}");
    }
    result
}

async fn drop_database(options: &sqlx::postgres::PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut admin = sqlx::PgConnection::connect_with(&options.clone().database("postgres")).await?;
    sqlx::raw_sql(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)).execute(&mut admin).await?;
    admin.close().await?;
    Ok(())
}

/// Creates the providers, then the VPS from `tasks` concurrent tasks.
/// Returns the timing and a sample of VPS ids for single-VPS requests.
///
/// With `analyze` (a PostgreSQL URL) the tables are analysed as they grow,
/// as autovacuum would: a statement planned while the table was nearly empty
/// is otherwise kept with that plan, and where autovacuum is off (CI
/// machines turn it off) each hostname check ends up reading the whole table.
async fn seed<S: Store>(
    store: Arc<S>,
    opts: &Opts,
    tasks: usize,
    analyze: Option<&str>,
) -> anyhow::Result<(Seeded, Vec<Uuid>)> {
    let started = Instant::now();
    let by = Arc::new(AuditContext::system());
    let mut providers = Vec::with_capacity(opts.providers);
    for i in 0..opts.providers {
        let p = store.create_provider(&data::provider(i), &by).await.with_context(|| format!("provider {i}"))?;
        providers.push(p.id);
    }
    let providers = Arc::new(providers);
    let today = chrono::Utc::now().date_naive();
    let total = opts.vps;
    let sample_every = (total / 1000).max(1);
    let next = Arc::new(AtomicU64::new(0));
    let analyze = match analyze {
        Some(url) => Some(sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?),
        None => None,
    };
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (store, providers, next, by) = (store.clone(), providers.clone(), next.clone(), by.clone());
            let analyze = analyze.clone();
            tokio::spawn(async move {
                let mut sample = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return anyhow::Ok(sample);
                    }
                    let draft = data::vps(i, &providers, today);
                    let v = store.create_vps(&draft, Source::Import, &by).await.with_context(|| format!("VPS {i}"))?;
                    if i % sample_every == 0 {
                        sample.push(v.id);
                    }
                    if let Some(pool) = analyze.as_ref().filter(|_| i + 1 == 1_000 || (i + 1) % 20_000 == 0) {
                        sqlx::raw_sql("ANALYZE").execute(pool).await?;
                    }
                    if (i + 1) % 10_000 == 0 {
                        let secs = started.elapsed().as_secs_f64();
                        eprintln!("   {} VPS in {secs:.1} s ({:.0}/s)", i + 1, (i + 1) as f64 / secs);
                    }
                }
            })
        })
        .collect();
    let mut ids = Vec::new();
    for h in handles {
        ids.extend(h.await??);
    }
    if let Some(pool) = analyze {
        pool.close().await;
    }
    let took = started.elapsed();
    eprintln!("   seeded {total} VPS in {:.1} s ({:.0}/s)", took.as_secs_f64(), total as f64 / took.as_secs_f64());
    Ok((Seeded { vps: total, providers: opts.providers, tasks, took: Some(took), database_bytes: None }, ids))
}

fn cases(ids: &[Uuid]) -> Vec<Case> {
    let list = |name: &str, query: &str| Case {
        name: name.into(),
        paths: vec![format!("/api/vps?{query}")],
        goal_p99_ms: Some(LIST_GOAL_MS),
        matches: None,
    };
    vec![
        list("list, no filter (UI default)", "per_page=50"),
        list("list, status + country, by expiry", "status=active&country=JP&sort=expire_date&per_page=50"),
        list("list, status + tag, by expiry", "status=active&tag=iplc&sort=expire_date&per_page=50"),
        list("list, CIDR, by expiry", &format!("ip={}&sort=expire_date&per_page=50", data::sample_network())),
        list("list, text search, by expiry", "q=osaka&sort=expire_date&per_page=50"),
        Case {
            name: "stats".into(),
            paths: vec!["/api/stats".into()],
            goal_p99_ms: Some(STATS_GOAL_MS),
            matches: None,
        },
        Case {
            name: "one VPS by id".into(),
            paths: ids.iter().map(|id| format!("/api/vps/{id}")).collect(),
            goal_p99_ms: None,
            matches: None,
        },
    ]
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    opts: &Opts,
    binary: &Path,
    database_url: &str,
    log: &Path,
    backend: &'static str,
    version: String,
    seeded: Seeded,
    ids: &[Uuid],
) -> anyhow::Result<BackendReport> {
    let server = Server::start(binary, database_url, log.to_path_buf()).await?;
    let pid = server.pid();
    eprintln!("   sigma-api ready at {} (pid {pid})", server.base_url);
    // Let start-up work (migrations check, pool warm-up) settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = server::rss(pid)?;

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.workers)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut cases = cases(ids);
    let sampler = RssSampler::start(pid);
    for case in &mut cases {
        if case.goal_p99_ms == Some(LIST_GOAL_MS) {
            let url = format!("{}{}", server.base_url, case.paths[0]);
            let body: serde_json::Value = client.get(&url).send().await?.error_for_status()?.json().await?;
            case.matches = body["total"].as_i64();
            if case.matches == Some(0) {
                eprintln!("warning: {} matches nothing", case.paths[0]);
            }
        }
    }
    let ticks = server::clock_ticks();
    let mut measured = Vec::new();
    for case in &cases {
        load::warm_up(&client, &server.base_url, case, opts.workers, opts.warmup).await;
        let cpu_before = server::cpu_time(pid, ticks)?;
        let mut m = load::run(&client, &server.base_url, case, opts.workers, opts.requests).await;
        let cpu = server::cpu_time(pid, ticks)?.saturating_sub(cpu_before);
        m.server_cpu = Some(cpu / u32::try_from(opts.requests).unwrap_or(u32::MAX));
        eprintln!(
            "   {:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  {:>7.0} req/s  server CPU {:.2} ms/req{}",
            m.name,
            load::ms(m.p50),
            load::ms(m.p99),
            load::ms(m.max),
            m.per_second,
            load::ms(cpu) / opts.requests as f64,
            if m.errors > 0 { format!("  {} ERRORS", m.errors) } else { String::new() }
        );
        measured.push(m);
    }
    // Filtered lists are served from the ids kept under the fleet's version
    // after the first request; these make the server find them afresh, each
    // request right after a change of one VPS.
    let filtered: Vec<_> =
        cases.iter().filter(|c| c.goal_p99_ms == Some(LIST_GOAL_MS) && c.paths[0] != "/api/vps?per_page=50").collect();
    for case in filtered {
        let name = format!("{}, after a change", case.name);
        let m = integrations::after_change(&client, &server.base_url, &name, &case.paths[0], opts.after_change).await?;
        eprintln!(
            "   {:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            m.name,
            load::ms(m.p50),
            load::ms(m.p99),
            load::ms(m.max)
        );
        measured.push(m);
    }
    let peak_rss = sampler.finish().await;
    drop(client);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_rss = server::rss(pid)?;

    let shutdown = match server.stop().await {
        Ok((status, took)) if status.success() => format!("exit 0 after {} ms", took.as_millis()),
        Ok((status, _)) => format!("{status}; log:\n{}", server::log_tail(log)),
        Err(e) => format!("{e:#}"),
    };
    Ok(BackendReport {
        backend,
        version,
        seeded,
        cases: measured,
        idle_rss,
        peak_rss: peak_rss.max(idle_rss),
        after_rss,
        shutdown,
    })
}
