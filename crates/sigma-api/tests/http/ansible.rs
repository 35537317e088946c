//! `/api/ansible/inventory` over HTTP, then read by the real
//! `ansible-inventory` through the script in `deploy/ansible/`.

use crate::common::{Backend, TestApp, both, both_backends, expect, expect_error};
use crate::tools::{self, Scratch};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

both!(inventory_format_and_filters);
both_backends!(real_ansible_inventory_reads_the_script);

const KEY: &str = "ansible-test-key-0123456789";

/// The fleet both tests look at; gives back the VPS by host name.
async fn fleet(app: &TestApp) -> BTreeMap<String, Value> {
    let dmit = app.provider("DMIT").await;
    let rn = app.provider("RackNerd (LA)").await;
    let mut out = BTreeMap::new();
    let specs = [
        (
            &dmit,
            "tokyo-1",
            json!({"status": "active", "ssh_port": 2222, "ssh_user": "root", "city": "Tokyo", "dc_name": "TYO2",
               "tags": ["iplc", "cn-optimized"], "expire_date": "2026-12-31", "vpn_protocol": "vless",
               "ip_addresses": [{"ip": "10.0.0.5", "label": "internal"}, {"ip": "203.0.113.3", "label": "china-telecom"},
                                {"ip": "203.0.113.4", "label": "overseas"}]}),
        ),
        (
            &rn,
            "la-1.example.com",
            json!({"country": "us", "purpose": "vpn-relay", "ip_addresses": [{"ip": "2001:db8::1"}]}),
        ),
        (&dmit, "hk-1", json!({"country": "HK", "status": "suspended", "monitoring_enabled": false})),
        (&dmit, "old-1", json!({"status": "retired", "ip_addresses": [{"ip": "203.0.113.9"}]})),
    ];
    for (provider, host, fields) in specs {
        out.insert(host.to_owned(), app.vps(provider, host, fields).await);
    }
    out
}

/// Group → sorted hosts, `all` → its children, from an inventory document.
fn groups(inv: &Value) -> BTreeMap<String, Vec<String>> {
    inv.as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| *name != "_meta")
        .map(|(name, g)| {
            let list = if name == "all" { &g["children"] } else { &g["hosts"] };
            let mut members: Vec<String> =
                list.as_array().map(|a| a.iter().map(|h| h.as_str().unwrap().to_owned()).collect()).unwrap_or_default();
            members.sort();
            (name.clone(), members)
        })
        .collect()
}

fn expected_groups(with_all: bool) -> BTreeMap<String, Vec<String>> {
    let mut g: BTreeMap<String, Vec<String>> = [
        ("status_active", &["tokyo-1"][..]),
        ("status_provisioning", &["la-1.example.com"]),
        ("status_suspended", &["hk-1"]),
        ("purpose_vpn_exit", &["hk-1", "tokyo-1"]),
        ("purpose_vpn_relay", &["la-1.example.com"]),
        ("country_jp", &["tokyo-1"]),
        ("country_us", &["la-1.example.com"]),
        ("country_hk", &["hk-1"]),
        ("provider_dmit", &["hk-1", "tokyo-1"]),
        ("provider_racknerd_la", &["la-1.example.com"]),
        ("tag_iplc", &["tokyo-1"]),
        ("tag_cn_optimized", &["tokyo-1"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
    .collect();
    if with_all {
        let children = g.keys().cloned().collect();
        g.insert("all".into(), children);
    }
    g
}

async fn inventory(app: &TestApp, query: &str) -> Value {
    expect(app.get(&format!("/api/ansible/inventory{query}")).await, 200).await
}

async fn inventory_format_and_filters(app: TestApp) {
    // Empty fleet: still `_meta.hostvars` (or Ansible asks host by host) and `all`.
    let empty = inventory(&app, "").await;
    assert_eq!(empty["_meta"], json!({"hostvars": {}}));
    assert!(empty["all"].is_object(), "{empty}");

    let fleet = fleet(&app).await;
    let inv = inventory(&app, "").await;
    assert_eq!(groups(&inv), expected_groups(true));
    for (name, g) in inv.as_object().unwrap().iter().filter(|(n, _)| *n != "_meta") {
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "group {name}");
        if name != "all" {
            assert!(g["hosts"].is_array(), "hosts of {name} must be a list: {g}");
        }
    }
    let hostvars = &inv["_meta"]["hostvars"];
    assert_eq!(
        hostvars.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["hk-1", "la-1.example.com", "tokyo-1"],
        "retired VPS are left out"
    );
    let tokyo = &hostvars["tokyo-1"];
    let want = json!({
        "ansible_host": "203.0.113.3", "ansible_port": 2222, "ansible_user": "root",
        "sigma_id": fleet["tokyo-1"]["id"], "sigma_hostname": "tokyo-1", "sigma_provider": "DMIT",
        "sigma_provider_id": fleet["tokyo-1"]["provider_id"], "sigma_country": "JP", "sigma_city": "Tokyo",
        "sigma_dc": "TYO2", "sigma_status": "active", "sigma_purpose": "vpn-exit", "sigma_vpn_protocol": "vless",
        "sigma_tags": ["iplc", "cn-optimized"], "sigma_expire_date": "2026-12-31", "sigma_monitoring_enabled": true,
        "sigma_node_exporter_port": 9100, "sigma_ip_addresses": fleet["tokyo-1"]["ip_addresses"]
    });
    assert_eq!(tokyo, &want);
    assert_eq!(hostvars["la-1.example.com"]["ansible_host"], "2001:db8::1");
    assert_eq!(hostvars["la-1.example.com"]["ansible_port"], 22);
    assert!(hostvars["la-1.example.com"].get("ansible_user").is_none(), "no ansible_user when none is set");
    assert!(hostvars["hk-1"].get("ansible_host").is_none(), "no address, no ansible_host");

    // ?label= chooses the address; a VPS without one has no ansible_host.
    let by_label = inventory(&app, "?label=overseas").await;
    assert_eq!(by_label["_meta"]["hostvars"]["tokyo-1"]["ansible_host"], "203.0.113.4");
    assert!(by_label["_meta"]["hostvars"]["la-1.example.com"].get("ansible_host").is_none());
    let internal = inventory(&app, "?label=internal").await;
    assert_eq!(internal["_meta"]["hostvars"]["tokyo-1"]["ansible_host"], "10.0.0.5");

    // Filters.
    let hosts = |inv: &Value| inv["_meta"]["hostvars"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    for (query, want) in [
        ("?country=JP", &["tokyo-1"][..]),
        ("?tag=iplc", &["tokyo-1"]),
        ("?purpose=vpn-relay", &["la-1.example.com"]),
        ("?status=retired", &["old-1"]),
        ("?status=retired&status=suspended", &["hk-1", "old-1"]),
        ("?monitoring_enabled=false", &["hk-1"]),
        ("?ip=2001:db8::/32", &["la-1.example.com"]),
        ("?q=tokyo", &["tokyo-1"]),
        ("?country=FR", &[]),
    ] {
        assert_eq!(hosts(&inventory(&app, query).await), want, "inventory{query}");
    }
    let retired = inventory(&app, "?status=retired").await;
    assert_eq!(groups(&retired)["status_retired"], ["old-1"]);
    assert_eq!(groups(&inventory(&app, "?country=FR").await), BTreeMap::from([("all".to_owned(), vec![])]));

    // Two retired VPS may share a host name; the second gets a distinct inventory name.
    let dmit = fleet["tokyo-1"]["provider_id"].as_str().unwrap();
    let again = app.vps(dmit, "old-1", json!({"status": "retired"})).await;
    let retired = hosts(&inventory(&app, "?status=retired").await);
    let suffix = again["id"].as_str().unwrap().replace('-', "");
    assert_eq!(retired, ["old-1".to_owned(), format!("old-1_{}", &suffix[..8])]);

    expect_error(app.get("/api/ansible/inventory?country=XX").await, 400, "validation_failed").await;
    expect_error(app.get("/api/ansible/inventory?label=nope").await, 400, "validation_failed").await;
}

struct AnsibleRun {
    json: Option<Value>,
    stdout: String,
    stderr: String,
    ok: bool,
}

async fn ansible_inventory(
    binary: &std::path::Path,
    app: &TestApp,
    dir: &Scratch,
    args: &[&str],
    env: &[(&str, &str)],
) -> AnsibleRun {
    let mut c = Command::new(binary);
    c.arg("-i")
        .arg(tools::repo_root().join("deploy/ansible/sigma-inventory.sh"))
        .args(args)
        .env("SIGMA_URL", &app.base)
        .env("SIGMA_API_KEY", KEY)
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_HOME", &dir.0)
        .env("ANSIBLE_LOCAL_TEMP", dir.path("tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_CONFIG", dir.path("none.cfg"))
        .env_remove("SIGMA_INVENTORY_QUERY");
    for (k, v) in env {
        c.env(k, v);
    }
    let out: Output = tokio::task::spawn_blocking(move || c.output().expect("run ansible-inventory")).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    AnsibleRun {
        json: serde_json::from_str(&stdout).ok(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout,
        ok: out.status.success(),
    }
}

fn assert_clean(run: &AnsibleRun, what: &str) {
    assert!(run.ok, "{what} failed:\n{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stderr.contains("WARNING") && !run.stderr.contains("Invalid characters"),
        "{what} warned:\n{}",
        run.stderr
    );
}

async fn real_ansible_inventory_reads_the_script(backend: Backend) {
    let Some(binary) = tools::require("ansible-inventory", "real_ansible_inventory_reads_the_script") else {
        return;
    };
    let app = TestApp::spawn_with(backend, |c| c.api_key = Some(KEY.to_owned().into())).await;
    let dir = Scratch::new("ansible");
    let fleet = fleet(&app).await;

    let list = ansible_inventory(&binary, &app, &dir, &["--list"], &[]).await;
    assert_clean(&list, "ansible-inventory --list");
    let inv = list.json.as_ref().expect("--list prints JSON");
    // Ansible's view: every Sigma group, each a child of `all`, with its
    // hosts; `ungrouped` is Ansible's own and stays empty.
    let mut got = groups(inv);
    let ungrouped = got.remove("ungrouped").unwrap_or_default();
    assert!(ungrouped.is_empty(), "every host is in a group: {ungrouped:?}");
    let mut want = expected_groups(false);
    let mut children: Vec<String> = want.keys().cloned().collect();
    children.push("ungrouped".into());
    children.sort();
    want.insert("all".into(), children);
    assert_eq!(got, want);
    let hostvars = &inv["_meta"]["hostvars"];
    assert_eq!(
        hostvars.as_object().unwrap().keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"hk-1".to_owned(), &"la-1.example.com".to_owned(), &"tokyo-1".to_owned()])
    );
    let tokyo = &hostvars["tokyo-1"];
    assert_eq!(
        (&tokyo["ansible_host"], &tokyo["ansible_port"], &tokyo["ansible_user"]),
        (&json!("203.0.113.3"), &json!(2222), &json!("root"))
    );
    assert_eq!(tokyo["sigma_id"], fleet["tokyo-1"]["id"]);
    assert_eq!(tokyo["sigma_tags"], json!(["iplc", "cn-optimized"]));
    assert_eq!(tokyo["sigma_provider"], "DMIT");
    assert_eq!(hostvars["la-1.example.com"]["ansible_host"], "2001:db8::1");

    let graph = ansible_inventory(&binary, &app, &dir, &["--graph"], &[]).await;
    assert_clean(&graph, "ansible-inventory --graph");
    for line in
        ["@all:", "|--@provider_racknerd_la:", "|  |--la-1.example.com", "|--@tag_cn_optimized:", "|  |--tokyo-1"]
    {
        assert!(graph.stdout.lines().any(|l| l.trim_start() == line), "--graph lacks {line:?}:\n{}", graph.stdout);
    }

    // The script passes filters and the address label on.
    let jp =
        ansible_inventory(&binary, &app, &dir, &["--list"], &[("SIGMA_INVENTORY_QUERY", "country=JP&label=overseas")])
            .await;
    assert_clean(&jp, "ansible-inventory --list (country=JP)");
    let jp = jp.json.unwrap();
    assert_eq!(jp["_meta"]["hostvars"].as_object().unwrap().keys().collect::<Vec<_>>(), ["tokyo-1"]);
    assert_eq!(jp["_meta"]["hostvars"]["tokyo-1"]["ansible_host"], "203.0.113.4");
    let host = ansible_inventory(&binary, &app, &dir, &["--host", "tokyo-1"], &[]).await;
    assert_clean(&host, "ansible-inventory --host");
    assert_eq!(host.json.unwrap()["ansible_port"], 2222);

    // A rejected key is a failure, not an empty inventory.
    let refused =
        ansible_inventory(&binary, &app, &dir, &["--list"], &[("SIGMA_API_KEY", "wrong-key-0123456789")]).await;
    assert!(!refused.ok, "a 401 must fail ansible-inventory: {}", refused.stdout);
}
