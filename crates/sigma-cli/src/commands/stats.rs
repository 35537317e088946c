//! `sigma stats`

use super::Ctx;
use crate::error::CliResult;
use crate::output::{Cell, Format, Tone, emit};
use sigma_types::Stats;

pub async fn run(ctx: &Ctx) -> CliResult<()> {
    let stats = ctx.client.stats().await?;
    match ctx.out.format {
        Format::Json | Format::Yaml => ctx.out.data(&stats),
        Format::Csv => emit(&csv(&stats)),
        Format::Table => emit(&table(ctx, &stats)),
    }
}

fn join<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let parts: Vec<String> = items.iter().map(show).collect();
    if parts.is_empty() { "-".to_owned() } else { parts.join(", ") }
}

fn table(ctx: &Ctx, s: &Stats) -> String {
    let count_tone = |n: i64, tone: Tone| if n > 0 { tone } else { Tone::Plain };
    let summary = vec![
        vec![Cell::from("VPS"), format!("{} live, {} retired", s.total_vps, s.retired_vps).into()],
        vec![Cell::from("Providers"), s.total_providers.to_string().into()],
        vec![
            Cell::from("Expiring"),
            Cell::new(
                format!("{} within 7 days, {} within 30 days", s.expiring_7d, s.expiring_30d),
                count_tone(s.expiring_7d, Tone::Bad),
            ),
        ],
        vec![Cell::from("Monthly cost"), join(&s.monthly_cost, |c| format!("{} {}", c.amount, c.currency)).into()],
        vec![
            Cell::from("Agents"),
            format!("{} online, {} offline, {} pending", s.agents.online, s.agents.offline, s.agents.pending).into(),
        ],
    ];
    let mut out = ctx.out.table(&[], summary);
    let mut section = |title: &str, rows: Vec<(String, i64)>| {
        if rows.is_empty() {
            return;
        }
        out.push('\n');
        let rows = rows.into_iter().map(|(k, n)| vec![Cell::from(k), n.to_string().into()]).collect();
        out.push_str(&ctx.out.table(&[title, "vps"], rows));
    };
    section("status", s.by_status.iter().map(|(k, n)| (k.clone(), *n)).collect());
    section("country", s.by_country.iter().map(|(k, n)| (k.clone(), *n)).collect());
    section("purpose", s.by_purpose.iter().map(|(k, n)| (k.clone(), *n)).collect());
    section("provider", s.by_provider.iter().map(|c| (c.provider_name.clone(), c.count)).collect());
    out
}

/// `group,key,value` rows: every number of the stats, flat.
fn csv(s: &Stats) -> String {
    let mut rows: Vec<(String, String, String)> = vec![
        ("vps".into(), "live".into(), s.total_vps.to_string()),
        ("vps".into(), "retired".into(), s.retired_vps.to_string()),
        ("providers".into(), "total".into(), s.total_providers.to_string()),
        ("expiring".into(), "7d".into(), s.expiring_7d.to_string()),
        ("expiring".into(), "30d".into(), s.expiring_30d.to_string()),
        ("agents".into(), "online".into(), s.agents.online.to_string()),
        ("agents".into(), "offline".into(), s.agents.offline.to_string()),
        ("agents".into(), "pending".into(), s.agents.pending.to_string()),
    ];
    rows.extend(s.monthly_cost.iter().map(|c| ("monthly_cost".into(), c.currency.clone(), c.amount.to_string())));
    for (group, map) in [("status", &s.by_status), ("country", &s.by_country), ("purpose", &s.by_purpose)] {
        rows.extend(map.iter().map(|(k, n)| (group.into(), k.clone(), n.to_string())));
    }
    rows.extend(s.by_provider.iter().map(|c| ("provider".into(), c.provider_name.clone(), c.count.to_string())));
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["group", "key", "value"]);
    for (g, k, v) in rows {
        let _ = w.write_record([g, k, v]);
    }
    String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned()
}
