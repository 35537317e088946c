//! `/api/prometheus/targets`: its format and filters over HTTP, then a real
//! Prometheus discovering the fleet through `http_sd_configs` and, via
//! `deploy/sync-targets.sh`, through `file_sd_configs`, with the example
//! configuration of `deploy/prometheus/prometheus.yml`.
//!
//! Every address below is a loopback one: Prometheus scrapes what it
//! discovers, and test traffic must stay on this machine.

use crate::common::{Backend, TestApp, both, both_backends, expect, expect_error};
use crate::tools::{self, Scratch};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

both!(targets_format_and_filters);
both_backends!(real_prometheus_discovers_the_fleet, sync_targets_keeps_the_old_file_on_failure);

const KEY: &str = "prometheus-test-key-0123456789";

async fn keyed(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| c.api_key = Some(KEY.to_owned().into())).await
}

/// Target groups by `instance_name`: (targets, labels).
fn by_instance(groups: &Value) -> BTreeMap<String, (Value, Value)> {
    groups
        .as_array()
        .expect("an array of target groups")
        .iter()
        .map(|g| {
            (g["labels"]["instance_name"].as_str().unwrap().to_owned(), (g["targets"].clone(), g["labels"].clone()))
        })
        .collect()
}

fn names(groups: &Value) -> Vec<String> {
    by_instance(groups).into_keys().collect()
}

async fn targets(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("/api/prometheus/targets{query}")).await;
    assert_eq!(
        r.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "http_sd needs a JSON content type"
    );
    expect(r, 200).await
}

/// Creates the fleet the targets tests look at; gives back the VPS by host name.
async fn fleet(app: &TestApp) -> BTreeMap<String, Value> {
    let dmit = app.provider("DMIT").await;
    let rn = app.provider("RackNerd (LA)").await;
    let mut out = BTreeMap::new();
    let specs = [
        (
            &dmit,
            "tokyo-1",
            json!({"status": "active", "alias": "Tokyo 1", "city": "Tokyo", "dc_name": "TYO2", "vpn_protocol": "vless",
               "tags": ["iplc", "cn-optimized"], "expire_date": "2026-12-31", "node_exporter_port": 9101,
               "ip_addresses": [{"ip": "127.0.0.11", "label": "overseas"}, {"ip": "127.0.0.12", "label": "china-telecom"}]}),
        ),
        (&rn, "la-1", json!({"country": "US", "purpose": "vpn-relay", "ip_addresses": [{"ip": "::1"}]})),
        (
            &dmit,
            "osaka-1",
            json!({"status": "retiring", "tags": ["iplc"], "ip_addresses": [{"ip": "127.0.0.13", "label": "internal"}]}),
        ),
        (&dmit, "suspended-1", json!({"status": "suspended", "ip_addresses": [{"ip": "127.0.0.14"}]})),
        (
            &dmit,
            "quiet-1",
            json!({"status": "active", "monitoring_enabled": false, "ip_addresses": [{"ip": "127.0.0.15"}]}),
        ),
        (&dmit, "bare-1", json!({"status": "active"})),
        (&dmit, "gone-1", json!({"status": "retired", "ip_addresses": [{"ip": "127.0.0.16"}]})),
        (&dmit, "trashed-1", json!({"status": "active", "ip_addresses": [{"ip": "127.0.0.17"}]})),
    ];
    for (provider, host, fields) in specs {
        out.insert(host.to_owned(), app.vps(provider, host, fields).await);
    }
    let trashed = out["trashed-1"]["id"].as_str().unwrap().to_owned();
    expect(app.delete(&format!("/api/vps/{trashed}")).await, 204).await;
    out
}

/// The labels API.md promises for the fleet above.
fn expected_labels(fleet: &BTreeMap<String, Value>) -> BTreeMap<String, (Value, Value)> {
    let id = |h: &str| fleet[h]["id"].clone();
    BTreeMap::from([
        (
            "tokyo-1".to_owned(),
            (
                json!(["127.0.0.11:9101"]),
                json!({"vps_id": id("tokyo-1"), "instance_name": "tokyo-1", "alias": "Tokyo 1", "provider": "DMIT",
                   "country": "JP", "city": "Tokyo", "dc": "TYO2", "status": "active", "purpose": "vpn-exit",
                   "vpn_protocol": "vless", "tags": ",iplc,cn-optimized,", "expire_date": "2026-12-31"}),
            ),
        ),
        (
            "la-1".to_owned(),
            (
                json!(["[::1]:9100"]),
                json!({"vps_id": id("la-1"), "instance_name": "la-1", "provider": "RackNerd (LA)", "country": "US",
                   "status": "provisioning", "purpose": "vpn-relay"}),
            ),
        ),
        (
            "osaka-1".to_owned(),
            (
                json!(["127.0.0.13:9100"]),
                json!({"vps_id": id("osaka-1"), "instance_name": "osaka-1", "provider": "DMIT", "country": "JP",
                   "status": "retiring", "purpose": "vpn-exit", "tags": ",iplc,"}),
            ),
        ),
    ])
}

async fn targets_format_and_filters(app: TestApp) {
    let fleet = fleet(&app).await;
    let all = targets(&app, "").await;
    // Provisioning, active and retiring VPS with monitoring on and an
    // address; never suspended, retired, trashed, unmonitored or address-less ones.
    assert_eq!(by_instance(&all), expected_labels(&fleet));
    let label_name = |n: &str| {
        n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    for g in all.as_array().unwrap() {
        for (name, value) in g["labels"].as_object().unwrap() {
            assert!(label_name(name), "label name {name:?} is not valid for Prometheus");
            assert!(value.as_str().is_some_and(|v| !v.is_empty()), "label {name} is empty in {g}");
        }
    }

    // ?label= picks the first address with that label, and leaves out VPS without one.
    let telecom = targets(&app, "?label=china-telecom").await;
    assert_eq!(names(&telecom), ["tokyo-1"]);
    assert_eq!(telecom[0]["targets"], json!(["127.0.0.12:9101"]));
    assert_eq!(names(&targets(&app, "?label=internal").await), ["osaka-1"]);

    // The VPS filters narrow the monitored set.
    let dmit = fleet["tokyo-1"]["provider_id"].as_str().unwrap();
    for (query, want) in [
        ("?country=JP", &["osaka-1", "tokyo-1"][..]),
        ("?country=us", &["la-1"]),
        ("?tag=iplc", &["osaka-1", "tokyo-1"]),
        ("?tag=iplc&tag=cn-optimized", &["tokyo-1"]),
        ("?purpose=vpn-relay", &["la-1"]),
        ("?status=active", &["tokyo-1"]),
        ("?status=active&status=retiring", &["osaka-1", "tokyo-1"]),
        ("?q=osaka", &["osaka-1"]),
        ("?ip=127.0.0.0/30", &[]),
        ("?ip=127.0.0.8/29", &["osaka-1", "tokyo-1"]),
        ("?ip=::1", &["la-1"]),
        (&format!("?provider_id={dmit}"), &["osaka-1", "tokyo-1"]),
        ("?expiring_within_days=36500", &["tokyo-1"]),
        ("?monitoring_enabled=true", &["la-1", "osaka-1", "tokyo-1"]),
        // Filters never widen the set: these statuses are not monitored.
        ("?status=suspended", &[]),
        ("?status=retired&status=active", &["tokyo-1"]),
        ("?monitoring_enabled=false", &[]),
        // Agents have their own job; no agent reports in this fleet.
        ("?job=agent", &[]),
        ("?job=node&country=US", &["la-1"]),
    ] {
        assert_eq!(names(&targets(&app, query).await), want, "targets{query}");
    }

    // Bad filters are a 400 naming the field, not an empty list.
    for (query, field) in
        [("?country=XX", "country"), ("?ip=not-an-ip", "ip"), ("?tag=Bad%20Tag", "tag"), ("?label=carrier-x", "label")]
    {
        let e = expect_error(app.get(&format!("/api/prometheus/targets{query}")).await, 400, "validation_failed").await;
        assert!(e["details"]["fields"].get(field).is_some() || e["message"].as_str().unwrap().contains(field), "{e}");
    }
    expect_error(app.get("/api/prometheus/targets?job=cadvisor").await, 400, "validation_failed").await;

    // Answers are kept under the fleet's version: asking again is served
    // from the cache, and any change (even a provider's new name, which is
    // a label) shows in the very next answer, as do the inventory's.
    let lookups = |text: &str, result: &str| -> u64 {
        let line = format!("sigma_fleet_cache_lookups_total{{result=\"{result}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&line)).map_or(0, |n| n.parse().unwrap())
    };
    let before = targets(&app, "?country=JP").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let hits = lookups(&text, "hit");
    assert_eq!(targets(&app, "?country=JP").await, before);
    assert_eq!(targets(&app, "?country=jp").await, before, "the same filter, spelt otherwise");
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(lookups(&text, "hit"), hits + 2, "{text}");
    let inventory_before = expect(app.get("/api/ansible/inventory").await, 200).await;
    assert!(inventory_before["provider_dmit"]["hosts"].is_array(), "{inventory_before}");
    let dmit = fleet["tokyo-1"]["provider_id"].as_str().unwrap();
    expect(app.patch(&format!("/api/providers/{dmit}"), &json!({"name": "DMIT Cloud"})).await, 200).await;
    let after = targets(&app, "?country=JP").await;
    assert_eq!(names(&after), names(&before));
    for g in after.as_array().unwrap() {
        assert_eq!(g["labels"]["provider"], "DMIT Cloud", "{g}");
    }
    let inventory_after = expect(app.get("/api/ansible/inventory").await, 200).await;
    assert!(inventory_after.get("provider_dmit").is_none(), "{inventory_after}");
    assert_eq!(inventory_after["provider_dmit_cloud"]["hosts"], inventory_before["provider_dmit"]["hosts"]);
    let tokyo = fleet["tokyo-1"]["id"].as_str().unwrap();
    expect(app.patch(&format!("/api/vps/{tokyo}"), &json!({"monitoring_enabled": false})).await, 200).await;
    assert_eq!(names(&targets(&app, "?country=JP").await), ["osaka-1"]);
}

/// Runs a command off the async threads (the server under test shares them).
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("run a command")).await.unwrap()
}

fn sync_targets(app: &TestApp, key_file: &std::path::Path, out: &std::path::Path, query: Option<&str>) -> Command {
    let mut c = Command::new(tools::repo_root().join("deploy/sync-targets.sh"));
    c.arg(out).args(query).env("SIGMA_URL", &app.base).env("SIGMA_API_KEY_FILE", key_file).env_remove("SIGMA_API_KEY");
    c
}

fn check_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Prometheus started for one test, stopped when dropped.
struct Prometheus {
    child: std::process::Child,
    base: String,
    log: std::path::PathBuf,
}

impl Prometheus {
    async fn start(binary: &std::path::Path, config: &std::path::Path, dir: &Scratch) -> Prometheus {
        let port = tools::free_port();
        let log = dir.path("prometheus.log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.path("prometheus.err")).unwrap())
            .spawn()
            .expect("start prometheus");
        let p = Prometheus { child, base: format!("http://127.0.0.1:{port}"), log: dir.path("prometheus.err") };
        let started = Instant::now();
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{}/-/ready", p.base)).send().await
                && r.status().is_success()
            {
                return p;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "Prometheus did not start:\n{}", p.log_text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The active targets by job, then by `instance`: (address, final labels).
    async fn targets(&self) -> BTreeMap<String, BTreeMap<String, (String, Value)>> {
        let body: Value =
            reqwest::get(format!("{}/api/v1/targets?state=active", self.base)).await.unwrap().json().await.unwrap();
        let mut out: BTreeMap<String, BTreeMap<String, (String, Value)>> = BTreeMap::new();
        for t in body["data"]["activeTargets"].as_array().unwrap() {
            let instance = t["labels"]["instance"].as_str().unwrap_or_default().to_owned();
            let address = t["discoveredLabels"]["__address__"].as_str().unwrap_or_default().to_owned();
            out.entry(t["scrapePool"].as_str().unwrap().to_owned())
                .or_default()
                .insert(instance, (address, t["labels"].clone()));
        }
        out
    }

    /// Waits until Prometheus shows exactly `want`, then asserts it.
    async fn wait_for(&self, want: &BTreeMap<String, BTreeMap<String, (String, Value)>>, step: &str) {
        let started = Instant::now();
        loop {
            let got = self.targets().await;
            if &got == want {
                return;
            }
            if started.elapsed() > Duration::from_secs(30) {
                assert_eq!(&got, want, "{step}: Prometheus' targets after 30 s; its log:\n{}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What Prometheus should show for the expected target groups in each job
/// of the example configuration: `instance` is the host name.
fn in_prometheus(groups: &BTreeMap<String, (Value, Value)>) -> BTreeMap<String, BTreeMap<String, (String, Value)>> {
    let mut out = BTreeMap::new();
    for job in ["node", "node_file"] {
        let mut targets = BTreeMap::new();
        for (host, (addresses, labels)) in groups {
            let mut labels = labels.clone();
            labels["instance"] = json!(host);
            labels["job"] = json!(job);
            targets.insert(host.clone(), (addresses[0].as_str().unwrap().to_owned(), labels));
        }
        out.insert(job.to_owned(), targets);
    }
    out
}

/// Replaces `from` (which must be there) everywhere in `text`.
fn substitute(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "deploy/prometheus/prometheus.yml no longer contains {from:?}; update this test");
    text.replace(from, to)
}

async fn real_prometheus_discovers_the_fleet(backend: Backend) {
    let test = "real_prometheus_discovers_the_fleet";
    let (Some(prometheus), Some(promtool)) = (tools::require("prometheus", test), tools::require("promtool", test))
    else {
        return;
    };
    let app = keyed(backend).await;
    let dir = Scratch::new("prometheus");
    let fleet = fleet(&app).await;
    let key_file = dir.path("sigma-api-key");
    std::fs::write(&key_file, KEY).unwrap();
    let targets_file = dir.path("targets.json");

    // The example configuration, pointed at this Sigma and this directory,
    // with a short discovery refresh.
    let example = std::fs::read_to_string(tools::repo_root().join("deploy/prometheus/prometheus.yml")).unwrap();
    let config = substitute(&example, "http://sigma.internal:3000", &app.base);
    let config = substitute(&config, "/etc/prometheus/sigma-api-key", key_file.to_str().unwrap());
    let config = substitute(&config, "/var/lib/prometheus/sigma/targets.json", targets_file.to_str().unwrap());
    let config = substitute(&config, "refresh_interval: 60s", "refresh_interval: 1s");
    let config_file = dir.path("prometheus.yml");
    std::fs::write(&config_file, config).unwrap();

    check_ok("sync-targets.sh", &run(sync_targets(&app, &key_file, &targets_file, None)).await);
    // promtool also checks the file_sd file the configuration names.
    check_ok(
        "promtool check config",
        &run({
            let mut c = Command::new(&promtool);
            c.args(["check", "config"]).arg(&config_file);
            c
        })
        .await,
    );

    let prom = Prometheus::start(&prometheus, &config_file, &dir).await;
    let mut want = expected_labels(&fleet);
    prom.wait_for(&in_prometheus(&want), "first discovery").await;

    // Changes show up at the next refresh (http_sd) or the next sync (file_sd).
    let id = |h: &str| fleet[h]["id"].as_str().unwrap().to_owned();
    expect(app.post(&format!("/api/vps/{}/retire", id("osaka-1")), &json!({})).await, 200).await;
    expect(app.patch(&format!("/api/vps/{}", id("la-1")), &json!({"monitoring_enabled": false})).await, 200).await;
    let moved = json!({"ip_addresses": [{"ip": "127.0.0.21", "label": "overseas"}], "node_exporter_port": 9102});
    expect(app.patch(&format!("/api/vps/{}", id("tokyo-1")), &moved).await, 200).await;
    expect(app.patch(&format!("/api/vps/{}", id("quiet-1")), &json!({"monitoring_enabled": true})).await, 200).await;
    want.remove("osaka-1");
    want.remove("la-1");
    want.get_mut("tokyo-1").unwrap().0 = json!(["127.0.0.21:9102"]);
    want.insert(
        "quiet-1".into(),
        (
            json!(["127.0.0.15:9100"]),
            json!({"vps_id": id("quiet-1"), "instance_name": "quiet-1", "provider": "DMIT", "country": "JP",
               "status": "active", "purpose": "vpn-exit"}),
        ),
    );
    assert_eq!(by_instance(&targets(&app, "").await), want, "the API itself");
    check_ok("sync-targets.sh", &run(sync_targets(&app, &key_file, &targets_file, None)).await);
    prom.wait_for(&in_prometheus(&want), "after retire, new address, monitoring off and on").await;
}

async fn sync_targets_keeps_the_old_file_on_failure(backend: Backend) {
    if tools::require("curl", "sync_targets_keeps_the_old_file_on_failure").is_none() {
        return;
    }
    let mut app = keyed(backend).await;
    let dir = Scratch::new("sync-targets");
    let p = app.provider("DMIT").await;
    app.vps(&p, "tokyo-1", json!({"ip_addresses": [{"ip": "127.0.0.11"}]})).await;
    app.vps(&p, "la-1", json!({"country": "US", "ip_addresses": [{"ip": "127.0.0.12"}]})).await;
    let key_file = dir.path("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let out = dir.path("targets.json");
    let file = || serde_json::from_slice::<Value>(&std::fs::read(&out).unwrap()).unwrap();
    let leftovers = || std::fs::read_dir(&dir.0).unwrap().filter(|e| e.as_ref().unwrap().file_name() != "key").count();

    check_ok("sync-targets.sh", &run(sync_targets(&app, &key_file, &out, None)).await);
    assert_eq!(file(), targets(&app, "").await);
    assert_eq!(names(&file()), ["la-1", "tokyo-1"]);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&out).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o644, "Prometheus, another user, must be able to read the file");

    // A query narrows the list.
    check_ok("sync-targets.sh country=US", &run(sync_targets(&app, &key_file, &out, Some("country=US"))).await);
    assert_eq!(names(&file()), ["la-1"]);
    let good = std::fs::read(&out).unwrap();

    // A rejected key: the old file stays, the script fails.
    std::fs::write(&key_file, "not-the-key-0123456789").unwrap();
    let failed = run(sync_targets(&app, &key_file, &out, None)).await;
    assert!(!failed.status.success(), "a 401 must fail the script");
    assert!(String::from_utf8_lossy(&failed.stderr).contains("left unchanged"), "{failed:?}");
    assert_eq!(std::fs::read(&out).unwrap(), good);
    assert_eq!(leftovers(), 1, "no temporary file is left behind");

    // A bad filter: the same.
    std::fs::write(&key_file, KEY).unwrap();
    let failed = run(sync_targets(&app, &key_file, &out, Some("country=XX"))).await;
    assert!(!failed.status.success(), "a 400 must fail the script");
    assert_eq!(std::fs::read(&out).unwrap(), good);

    // Sigma down: the same.
    app.stop().await;
    let failed = run(sync_targets(&app, &key_file, &out, None)).await;
    assert!(!failed.status.success(), "an unreachable Sigma must fail the script");
    assert!(String::from_utf8_lossy(&failed.stderr).contains("left unchanged"), "{failed:?}");
    assert_eq!(std::fs::read(&out).unwrap(), good);
    assert_eq!(leftovers(), 1, "no temporary file is left behind");
}
