//! The machine, the run and the figures, as Markdown.

use crate::load::{Measured, ms};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub const START: &str = "<!-- sigma-bench:results:start -->";
pub const END: &str = "<!-- sigma-bench:results:end -->";
pub const IDLE_RSS_GOAL_MB: f64 = 30.0;

pub struct Seeded {
    pub vps: u64,
    pub providers: usize,
    pub tasks: usize,
    /// None for a database seeded by an earlier run (`--database-url`).
    pub took: Option<Duration>,
    pub database_bytes: Option<u64>,
}

pub struct BackendReport {
    pub backend: &'static str,
    pub version: String,
    pub seeded: Seeded,
    pub cases: Vec<Measured>,
    pub idle_rss: u64,
    pub peak_rss: u64,
    pub after_rss: u64,
    pub shutdown: String,
}

pub enum Outcome {
    Ran(Box<BackendReport>),
    Skipped { backend: &'static str, reason: String },
}

pub struct Run {
    pub command: String,
    /// `/proc/loadavg` when the run started.
    pub load_at_start: String,
    pub workers: usize,
    pub warmup: usize,
    pub requests: usize,
    pub outcomes: Vec<Outcome>,
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn check(ok: bool) -> &'static str {
    if ok { "✅ met" } else { "❌ missed" }
}

/// The goal cell of a latency row, and the note on failed requests that
/// follows its rate.
pub fn goal_and_errors(c: &Measured) -> (String, String) {
    let goal = match (c.goal_p99_ms, c.meets_goal()) {
        (Some(g), Some(ok)) => format!("< {g} ms {}", check(ok)),
        _ => "—".into(),
    };
    let errors = if c.errors > 0 { format!(" ({} errors)", c.errors) } else { String::new() };
    (goal, errors)
}

pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn markdown(run: &Run) -> String {
    let mut o = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(o, "### Results\n");
    let _ = writeln!(o, "- Date: {now}");
    let _ = writeln!(o, "- Commit: {}", git_commit());
    let _ = writeln!(o, "- Machine: {}", machine());
    let _ = writeln!(o, "- Command: `{}`", run.command);
    let _ = writeln!(
        o,
        "- Load: {} concurrent connections, closed loop; {} warm-up requests, then {} timed requests per case. \
         Client, server and database share the machine.",
        run.workers, run.warmup, run.requests
    );
    let _ = writeln!(o, "- Load average (1, 5, 15 min) at start: {}; at end: {}\n", run.load_at_start, load_average());

    let ran: Vec<&BackendReport> = run
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Ran(r) => Some(&**r),
            Outcome::Skipped { .. } => None,
        })
        .collect();
    for outcome in &run.outcomes {
        if let Outcome::Skipped { backend, reason } = outcome {
            let _ = writeln!(o, "**{backend} was skipped:** {reason}\n");
        }
    }
    if ran.is_empty() {
        return o;
    }

    let _ = writeln!(o, "#### Seeding (through the store, one transaction per VPS)\n");
    let _ = writeln!(o, "| Backend | Version | VPS | Providers | Writers | Time | Rows/s | Database size |");
    let _ = writeln!(o, "|---|---|--:|--:|--:|--:|--:|--:|");
    for r in &ran {
        let s = &r.seeded;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.backend,
            r.version,
            thousands(s.vps),
            s.providers,
            s.tasks,
            s.took.map_or("—".into(), |t| format!("{:.1} s", t.as_secs_f64())),
            s.took.map_or("—".into(), |t| thousands((s.vps as f64 / t.as_secs_f64()) as u64)),
            s.database_bytes.map_or("?".into(), |b| format!("{:.0} MB", mb(b))),
        );
    }

    let _ = writeln!(o, "\n#### Latency (milliseconds, measured by the client)\n");
    let _ = writeln!(
        o,
        "| Backend | Case | Request | Matches | p50 | p99 | max | req/s | sigma-api CPU/req | Goal (p99) |"
    );
    let _ = writeln!(o, "|---|---|---|--:|--:|--:|--:|--:|--:|---|");
    for r in &ran {
        for c in &r.cases {
            let (goal, errors) = goal_and_errors(c);
            let _ = writeln!(
                o,
                "| {} | {} | `{}` | {} | {:.2} | {:.2} | {:.2} | {:.0}{errors} | {} | {goal} |",
                r.backend,
                c.name,
                c.example,
                c.matches.map_or("—".into(), |n| thousands(n as u64)),
                ms(c.p50),
                ms(c.p99),
                ms(c.max),
                c.per_second,
                c.server_cpu.map_or("—".into(), |d| format!("{:.2}", ms(d))),
            );
        }
    }

    let _ = writeln!(o, "\n#### Server memory (VmRSS) and shutdown\n");
    let _ = writeln!(
        o,
        "| Backend | Idle after start-up | Peak under load (50 ms samples) | After load | Goal (idle) | SIGTERM |"
    );
    let _ = writeln!(o, "|---|--:|--:|--:|---|---|");
    for r in &ran {
        let _ = writeln!(
            o,
            "| {} | {:.1} MB | {:.1} MB | {:.1} MB | < {IDLE_RSS_GOAL_MB} MB {} | {} |",
            r.backend,
            mb(r.idle_rss),
            mb(r.peak_rss),
            mb(r.after_rss),
            check(mb(r.idle_rss) < IDLE_RSS_GOAL_MB),
            r.shutdown,
        );
    }
    o
}

/// Replaces the results section of `path` (between the markers), or
/// creates the file with just that section.
pub fn write(path: &Path, section: &str) -> anyhow::Result<()> {
    write_between(path, START, END, section)
}

/// Replaces what lies between the markers `start` and `end` in `path`,
/// leaving the rest of the file (other sections too) as it is; appends the
/// section with its markers when they are not there yet.
pub fn write_between(path: &Path, start: &str, end: &str, section: &str) -> anyhow::Result<()> {
    let block = format!("{start}\n{section}{end}\n");
    let text = match std::fs::read_to_string(path) {
        Ok(old) => match (old.find(start), old.find(end)) {
            (Some(a), Some(b)) if a < b => {
                // What follows the section stays one blank line below it.
                let rest = old[b + end.len()..].trim_start_matches('\n');
                let gap = if rest.is_empty() { "" } else { "\n" };
                format!("{}{block}{gap}{rest}", &old[..a])
            }
            _ => format!("{}\n{block}", old.trim_end()),
        },
        Err(_) => format!("# Benchmarks\n\nRun `make bench` to measure.\n\n{block}"),
    };
    std::fs::write(path, text)?;
    Ok(())
}

/// The 1, 5 and 15 minute load averages: other work competing for the CPU.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|_| "unknown".into())
}

pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned())))
        .unwrap_or_else(|| "Linux".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cores} logical cores, {:.1} GiB RAM; {os}, kernel {}",
        mem_kib as f64 / (1024.0 * 1024.0),
        kernel.trim()
    )
}

pub fn git_commit() -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(sha) => match run(&["status", "--porcelain"]) {
            Some(changes) if !changes.is_empty() => format!("{sha} (with uncommitted changes)"),
            _ => sha,
        },
        None => "unknown (not a git checkout)".into(),
    }
}
