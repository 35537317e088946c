use crate::common::{BIN, KEY, Server, assert_plain, both, fails, run};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

both!(targets_for_prometheus, inventory_for_ansible, audit_log);

fn fleet(s: &Server) {
    s.ok(&["provider", "create", "DMIT"]);
    s.ok(&[
        "vps",
        "create",
        "tokyo-1",
        "--provider",
        "DMIT",
        "--country",
        "JP",
        "--purpose",
        "vpn-exit",
        "--status",
        "active",
        "--ip",
        "10.0.0.1/internal",
        "--ip",
        "103.1.2.3/china-telecom",
        "--tag",
        "iplc",
        "--ssh-user",
        "root",
    ]);
    s.ok(&[
        "vps",
        "create",
        "la-1",
        "--provider",
        "DMIT",
        "--country",
        "US",
        "--purpose",
        "monitor",
        "--ip",
        "2001:db8::1",
        "--node-exporter-port",
        "9200",
    ]);
    s.ok(&[
        "vps",
        "create",
        "old-1",
        "--provider",
        "DMIT",
        "--country",
        "US",
        "--purpose",
        "monitor",
        "--ip",
        "45.1.1.1",
    ]);
    s.ok(&["vps", "retire", "old-1"]);
}

fn targets_for_prometheus(s: Server) {
    fleet(&s);
    let groups = s.json(&["targets"]);
    let targets: Vec<&str> = groups.as_array().unwrap().iter().map(|g| g["targets"][0].as_str().unwrap()).collect();
    assert_eq!(targets.len(), 2, "{groups}");
    assert!(targets.contains(&"10.0.0.1:9100") && targets.contains(&"[2001:db8::1]:9200"), "{groups}");
    let labelled = s.json(&["targets", "--label", "china-telecom"]);
    assert_eq!(labelled[0]["targets"][0], "103.1.2.3:9100");
    let jp = s.json(&["targets", "--country", "JP", "--tag", "iplc"]);
    assert_eq!(jp.as_array().unwrap().len(), 1);
    assert_eq!(jp[0]["labels"]["tags"], ",iplc,");

    let table = s.ok(&["targets"]);
    assert_plain(&table);
    assert!(
        table.starts_with("TARGET") && table.contains("tokyo-1") && table.contains("[2001:db8::1]:9200"),
        "{table}"
    );

    // --file replaces the file atomically: no temporary file is left beside it.
    let dir = s.path("sd");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sigma.json");
    std::fs::write(&file, "old").unwrap();
    let r = run(s.sigma().args(["targets", "--file", file.to_str().unwrap()]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty() && r.stderr.contains("wrote 2 targets"), "{}", r.stderr);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written, groups);
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, [std::ffi::OsString::from("sigma.json")]);
    let r = run(s.sigma().args(["targets", "--file", "/nonexistent-dir/sigma.json"]));
    fails(&r, 1);
}

fn inventory_for_ansible(s: Server) {
    fleet(&s);
    let inventory: Value = serde_json::from_str(&s.ok(&["inventory", "--list"])).unwrap();
    assert_eq!(inventory["_meta"]["hostvars"]["tokyo-1"]["ansible_host"], "103.1.2.3");
    assert_eq!(inventory["_meta"]["hostvars"]["tokyo-1"]["ansible_user"], "root");
    assert_eq!(inventory["country_jp"]["hosts"], serde_json::json!(["tokyo-1"]));
    assert!(inventory["_meta"]["hostvars"].get("old-1").is_none(), "retired VPS are left out");
    // --list is JSON whatever --output says: it is a protocol.
    let yaml_asked: Value = serde_json::from_str(&s.ok(&["inventory", "--list", "-o", "yaml"])).unwrap();
    assert_eq!(yaml_asked, inventory);
    let host: Value = serde_json::from_str(&s.ok(&["inventory", "--host", "la-1"])).unwrap();
    assert_eq!((host["ansible_host"].as_str(), host["ansible_port"].as_i64()), (Some("2001:db8::1"), Some(22)));
    assert_eq!(s.ok(&["inventory", "--host", "nowhere"]).trim(), "{}");
    let filtered: Value = serde_json::from_str(&s.ok(&["inventory", "--list", "--country", "US"])).unwrap();
    assert_eq!(filtered["_meta"]["hostvars"].as_object().unwrap().len(), 1);
    let r = run(s.sigma().args(["inventory", "--list", "--host", "la-1"]));
    assert_eq!(r.code, 2, "--list and --host exclude each other");

    let table = s.ok(&["inventory"]);
    assert!(table.starts_with("HOST") && table.contains("status_active"), "{table}");

    // The real ansible-inventory through a two-line wrapper script.
    let Some(ansible) = ansible_inventory() else {
        assert!(
            std::env::var_os("SIGMA_REQUIRE_TOOLS").is_none(),
            "SIGMA_REQUIRE_TOOLS is set but ansible-inventory is absent"
        );
        eprintln!("skipped: ansible-inventory not found (scripts/tools.sh installs it)");
        return;
    };
    let wrapper = s.path("sigma-inventory");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec {BIN} inventory \"$@\"\n")).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Command::new(&ansible)
        .args(["-i", wrapper.to_str().unwrap(), "--list"])
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_LOCAL_TEMP", s.path("ansible-tmp"))
        .env("SIGMA_URL", &s.url)
        .env("SIGMA_API_KEY", KEY)
        .env("SIGMA_CLI_CONFIG", s.path("cli.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "ansible-inventory failed: {}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["country_jp"]["hosts"], serde_json::json!(["tokyo-1"]), "{seen}");
    assert_eq!(seen["tag_iplc"]["hosts"], serde_json::json!(["tokyo-1"]), "{seen}");
    assert_eq!(seen["_meta"]["hostvars"]["la-1"]["ansible_host"], "2001:db8::1", "{seen}");
    let children = seen["all"]["children"].as_array().unwrap();
    assert!(children.contains(&"status_active".into()) && children.contains(&"purpose_monitor".into()), "{seen}");
}

/// ansible-inventory from PATH, else from the virtualenv of scripts/tools.sh.
fn ansible_inventory() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join("ansible-inventory")).find(|p| p.exists()));
    on_path.or_else(|| {
        let tools = std::env::var_os("SIGMA_TOOLS_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sigma/tools")))?;
        Some(tools.join("venv/bin/ansible-inventory")).filter(|p| p.exists())
    })
}

fn audit_log(s: Server) {
    fleet(&s);
    let entries = s.json(&["audit", "--resource-type", "vps"]);
    let actions: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "create").count(), 3, "{actions:?}");
    assert!(actions.contains(&"retire"), "{actions:?}");
    let table = s.ok(&["audit", "--action", "retire"]);
    assert_plain(&table);
    assert!(table.starts_with("AT") && table.contains("retire") && table.contains("bootstrap API key"), "{table}");
    let r = run(s.sigma().args(["audit", "--per-page", "2"]));
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    assert!(r.stderr.contains("2 of 5 entries; --page 2 shows more"), "{}", r.stderr);
    let csv = s.ok(&["audit", "-o", "csv", "--resource-type", "provider"]);
    assert!(csv.starts_with("id,at,actor,actor_kind") && csv.lines().count() == 2, "{csv}");
}
