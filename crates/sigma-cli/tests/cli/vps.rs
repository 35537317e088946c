use crate::common::{Server, assert_plain, both, fails, run};
use serde_json::Value;

both!(vps_lifecycle, vps_list_filters, stats_in_every_format, colour_only_on_a_terminal);

fn hostnames(list: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = list.as_array().unwrap().iter().map(|v| v["hostname"].as_str().unwrap()).collect();
    names.sort();
    names
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(days as u64)).to_string()
}

fn vps_lifecycle(s: Server) {
    s.ok(&["provider", "create", "DMIT"]);
    let expire = in_days(40);
    let v = s.json(&[
        "vps",
        "create",
        "tokyo-1",
        "--provider",
        "dmit",
        "--country",
        "jp",
        "--purpose",
        "vpn-exit",
        "--ip",
        "103.1.2.3/china-telecom",
        "--ip",
        "2001:db8::1",
        "--tag",
        "iplc",
        "--tag",
        "cn-optimized",
        "--price",
        "4.99",
        "--expire-date",
        &expire,
        "--alias",
        "Tokyo 1",
        "--extra",
        r#"{"rack": 7}"#,
    ]);
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["provider_name"], "DMIT");
    assert_eq!(v["ip_addresses"][0], serde_json::json!({"ip": "103.1.2.3", "label": "china-telecom"}));
    assert_eq!((v["status"].as_str(), v["extra"]["rack"].as_i64()), (Some("provisioning"), Some(7)));

    // The table shows expiry in days and the first address; `show` shows every field.
    let table = s.ok(&["vps", "list"]);
    assert_plain(&table);
    let header = table.lines().next().unwrap();
    for column in ["HOSTNAME", "PROVIDER", "STATUS", "IP", "EXPIRES", "DAYS", "MONTHLY"] {
        assert!(header.contains(column), "{table}");
    }
    let row = table.lines().nth(1).unwrap();
    assert!(row.contains("103.1.2.3 +1") && row.contains(" 40 ") && row.contains("4.99 USD"), "{table}");
    let shown = s.ok(&["vps", "show", "tokyo-1"]);
    assert!(shown.contains(&id) && shown.contains("103.1.2.3/china-telecom 2001:db8::1"), "{shown}");
    let yaml: Value = serde_saphyr::from_str(&s.ok(&["vps", "show", &id, "-o", "yaml"])).unwrap();
    assert_eq!(yaml, s.json(&["vps", "show", &id]));
    let csv = s.ok(&["vps", "show", "tokyo-1", "-o", "csv"]);
    assert!(csv.lines().next().unwrap().starts_with("id,hostname,alias,provider,"), "{csv}");
    assert_eq!(csv.lines().count(), 2);

    // Update: only what is given changes; tags can be added and removed.
    let u = s.json(&[
        "vps",
        "update",
        "tokyo-1",
        "--status",
        "active",
        "--add-tag",
        "premium",
        "--remove-tag",
        "iplc",
        "--clear",
        "alias",
        "--city",
        "Tokyo",
    ]);
    assert_eq!(u["tags"], serde_json::json!(["cn-optimized", "premium"]));
    assert_eq!((u["status"].as_str(), u["alias"].as_str(), u["city"].as_str()), (Some("active"), None, Some("Tokyo")));
    assert_eq!(u["price"], "4.99", "untouched fields stay");
    let u = s.json(&["vps", "update", &id, "--ip", "103.9.9.9", "--hostname", "tokyo-2"]);
    assert_eq!((u["hostname"].as_str(), u["ip_addresses"].as_array().unwrap().len()), (Some("tokyo-2"), 1));

    // The address history shows both periods.
    let history = s.json(&["vps", "ip-history", "tokyo-2"]);
    assert!(history.as_array().unwrap().len() >= 3, "{history}");
    let by_ip = s.json(&["ip-history", "103.1.2.3"]);
    assert_eq!(by_ip[0]["vps_id"], id.as_str());
    assert!(by_ip[0]["released_at"].is_string(), "released when the list changed: {by_ip}");

    // Retire, trash, restore, purge.
    assert_eq!(s.json(&["vps", "retire", "tokyo-2"])["status"], "retired");
    let r = run(s.sigma().args(["vps", "delete", &id]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(hostnames(&s.json(&["vps", "list"])).is_empty());
    assert_eq!(hostnames(&s.json(&["vps", "list", "--deleted"])), ["tokyo-2"]);
    assert!(s.json(&["vps", "restore", "tokyo-2"])["deleted_at"].is_null());
    fails(&run(s.sigma().args(["vps", "delete", "tokyo-2", "--purge"])), 2);
    let r = run(s.sigma().args(["vps", "delete", "tokyo-2", "--purge", "--yes"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    fails(&run(s.sigma().args(["vps", "show", &id])), 3);
    fails(&run(s.sigma().args(["vps", "show", "tokyo-2"])), 3);
    fails(&run(s.sigma().args(["vps", "restore", "tokyo-2"])), 3);
}

fn vps_list_filters(s: Server) {
    s.ok(&["provider", "create", "DMIT"]);
    s.ok(&["provider", "create", "Vultr"]);
    let soon = in_days(5);
    let later = in_days(90);
    let make = |host: &str, extra: &[&str]| {
        let mut args = vec!["vps", "create", host];
        args.extend(extra);
        s.ok(&args);
    };
    let jp_exit = ["--country", "jp", "--purpose", "vpn-exit"];
    make(
        "a-1",
        &[
            &jp_exit[..],
            &["--provider", "DMIT", "--ip", "103.1.2.3", "--tag", "iplc", "--status", "active", "--expire-date", &soon],
        ]
        .concat(),
    );
    make(
        "b-1",
        &[
            &jp_exit[..],
            &["--provider", "Vultr", "--ip", "45.1.2.3", "--tag", "iplc", "--tag", "premium", "--expire-date", &later],
        ]
        .concat(),
    );
    make("c-1", &["--provider", "Vultr", "--country", "us", "--purpose", "monitor", "--monitoring", "false"]);

    let list = |args: &[&str]| {
        let mut all = vec!["vps", "list"];
        all.extend(args);
        hostnames(&s.json(&all)).into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(list(&[]), ["a-1", "b-1", "c-1"]);
    assert_eq!(list(&["--status", "active"]), ["a-1"]);
    assert_eq!(list(&["--status", "active", "--status", "provisioning"]), ["a-1", "b-1", "c-1"]);
    assert_eq!(list(&["--country", "US"]), ["c-1"]);
    assert_eq!(list(&["--provider", "vultr"]), ["b-1", "c-1"]);
    assert_eq!(list(&["--purpose", "monitor"]), ["c-1"]);
    assert_eq!(list(&["--tag", "iplc"]), ["a-1", "b-1"]);
    assert_eq!(list(&["--tag", "iplc", "--tag", "premium"]), ["b-1"]);
    assert_eq!(list(&["--search", "B-"]), ["b-1"]);
    assert_eq!(list(&["--ip", "103.1.0.0/16"]), ["a-1"]);
    assert_eq!(list(&["--expiring-within", "30"]), ["a-1"]);
    assert_eq!(list(&["--monitoring", "false"]), ["c-1"]);

    // Sorting and one page at a time.
    let sorted = s.json(&["vps", "list", "--sort", "hostname", "--desc"]);
    let order: Vec<&str> = sorted.as_array().unwrap().iter().map(|v| v["hostname"].as_str().unwrap()).collect();
    assert_eq!(order, ["c-1", "b-1", "a-1"]);
    let page = s.json(&["vps", "list", "--sort", "hostname", "--page", "2", "--per-page", "2"]);
    assert_eq!(hostnames(&page), ["c-1"]);

    // Every output format of a list.
    let csv = s.ok(&["vps", "list", "-o", "csv", "--sort", "hostname"]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains(",a-1,"), "{csv}");
    let yaml: Value = serde_saphyr::from_str(&s.ok(&["vps", "list", "-o", "yaml"])).unwrap();
    assert_eq!(hostnames(&yaml), ["a-1", "b-1", "c-1"]);

    // A bad filter value is a usage error.
    let r = run(s.sigma().args(["vps", "list", "--status", "sleeping"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("provisioning"), "the accepted values are listed: {}", r.stderr);
    fails(&run(s.sigma().args(["vps", "list", "--provider", "Nobody"])), 3);
}

fn stats_in_every_format(s: Server) {
    s.ok(&["provider", "create", "DMIT"]);
    for (host, status) in [("a-1", "active"), ("b-1", "active"), ("c-1", "provisioning")] {
        s.ok(&[
            "vps",
            "create",
            host,
            "--provider",
            "DMIT",
            "--country",
            "JP",
            "--purpose",
            "vpn-exit",
            "--status",
            status,
            "--price",
            "10",
            "--expire-date",
            &in_days(3),
        ]);
    }
    let stats = s.json(&["stats"]);
    assert_eq!((stats["total_vps"].as_i64(), stats["expiring_7d"].as_i64()), (Some(3), Some(3)));
    assert_eq!(stats["by_status"]["active"], 2);
    let table = s.ok(&["stats"]);
    assert_plain(&table);
    assert!(table.contains("3 live, 0 retired") && table.contains("30 USD"), "{table}");
    assert!(table.contains("STATUS") && table.contains("PROVIDER"), "{table}");
    let csv = s.ok(&["stats", "-o", "csv"]);
    assert!(csv.starts_with("group,key,value\n") && csv.contains("status,active,2\n"), "{csv}");
    assert!(csv.contains("monthly_cost,USD,30\n") && csv.contains("provider,DMIT,3\n"), "{csv}");
    let yaml: Value = serde_saphyr::from_str(&s.ok(&["stats", "-o", "yaml"])).unwrap();
    assert_eq!(yaml, stats);
}

/// On a terminal (a pseudo-terminal from script(1)) the status is coloured,
/// unless NO_COLOR or --no-color says otherwise.
fn colour_only_on_a_terminal(s: Server) {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: script(1) is not installed to give sigma a terminal");
        return;
    }
    s.ok(&["provider", "create", "DMIT"]);
    let fields = ["--provider", "DMIT", "--country", "JP", "--purpose", "monitor", "--status", "active"];
    s.ok(&[&["vps", "create", "a-1"][..], &fields].concat());
    let on_terminal = |extra: &str, no_color: bool| {
        let mut cmd = std::process::Command::new("/usr/bin/script");
        cmd.args(["-qec", &format!("{} vps list {extra}", crate::common::BIN), "/dev/null"])
            .env("SIGMA_URL", &s.url)
            .env("SIGMA_API_KEY", crate::common::KEY)
            .env("SIGMA_CLI_CONFIG", s.path("cli.toml"))
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_terminal("", false);
    assert!(coloured.contains("\x1b[32mactive\x1b[0m"), "{coloured:?}");
    assert!(!on_terminal("", true).contains('\x1b'), "NO_COLOR is respected");
    assert!(!on_terminal("--no-color", false).contains('\x1b'), "--no-color is respected");
    assert!(!s.ok(&["vps", "list"]).contains('\x1b'), "no colour off a terminal");
}
