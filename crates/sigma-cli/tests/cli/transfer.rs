use crate::common::{Server, assert_plain, both, run};
use serde_json::Value;

both!(vps_import_and_export, provider_import_and_export);

const CSV: &str = r#"hostname,provider_name,country,purpose,ip_addresses,tags,price,expire_date
tokyo-1,DMIT,JP,vpn-exit,103.1.2.3/china-telecom,"iplc,cn-optimized",4.99,2030-01-31
osaka-1,DMIT,JP,vpn-relay,103.1.2.4,,5,
la-1,Vultr,US,monitor,45.1.2.3,,,
"#;

fn vps_import_and_export(s: Server) {
    let file = s.path("fleet.csv");
    std::fs::write(&file, CSV).unwrap();
    let path = file.to_str().unwrap();

    // A dry run reports and stores nothing; off a terminal there is no progress drawing.
    let r = run(s.sigma().args(["vps", "import", path, "--dry-run", "--create-providers"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_plain(&r.stdout);
    assert_plain(&r.stderr);
    assert!(r.stderr.is_empty(), "progress stays quiet off a terminal: {:?}", r.stderr);
    assert!(r.stdout.contains("3 VPS in the file: 3 created") && r.stdout.contains("dry run"), "{}", r.stdout);
    assert!(s.json(&["vps", "list"]).as_array().unwrap().is_empty());

    let report = s.json(&["vps", "import", path, "--create-providers"]);
    assert_eq!((report["created"].as_u64(), report["dry_run"].as_bool()), (Some(3), Some(false)));
    assert_eq!(report["providers_created"], serde_json::json!(["DMIT", "Vultr"]));
    assert_eq!(s.json(&["vps", "show", "tokyo-1"])["tags"], serde_json::json!(["iplc", "cn-optimized"]));

    // The same file again changes nothing; CSV output lists each row.
    let rows = s.ok(&["vps", "import", path, "-o", "csv"]);
    assert_eq!(rows.lines().next(), Some("row,line,key,result,id"));
    assert_eq!(rows.matches(",unchanged,").count(), 3, "{rows}");

    // A bad row fails the whole import: exit 1, one line, then the row.
    let bad = s.path("bad.json");
    std::fs::write(&bad, r#"[{"hostname": "new-1", "provider_name": "DMIT", "country": "XX", "purpose": "vpn-exit"}]"#)
        .unwrap();
    let r = run(s.sigma().args(["vps", "import", bad.to_str().unwrap()]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(lines[0].starts_with("error: 1 of 1 rows are invalid"), "{}", r.stderr);
    assert!(lines[1].contains("row 1") && lines[1].contains("new-1") && lines[1].contains("country:"), "{}", r.stderr);
    assert!(s.json(&["vps", "show", "tokyo-1"]).is_object());
    crate::common::fails(&run(s.sigma().args(["vps", "show", "new-1"])), 3);

    // Standard input works too, as JSON.
    let mut child = s
        .sigma()
        .args(["vps", "import", "-", "--format", "json", "-o", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        br#"[{"hostname": "tokyo-1", "provider_name": "DMIT", "country": "JP", "purpose": "vpn-exit", "notes": "moved"}]"#,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["updated"], 1);

    // Export: CSV to a file (by its name), JSON to standard output, with filters.
    let csv_file = s.path("out/vps.csv");
    std::fs::create_dir_all(csv_file.parent().unwrap()).unwrap();
    let r = run(s.sigma().args(["vps", "export", "--file", csv_file.to_str().unwrap(), "--country", "JP"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_plain(&r.stderr);
    let csv = std::fs::read_to_string(&csv_file).unwrap();
    assert!(csv.starts_with("id,hostname,"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "two JP VPS: {csv}");
    let json: Value = serde_json::from_str(&s.ok(&["vps", "export", "--tag", "iplc"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["hostname"], "tokyo-1");

    // What was exported imports back unchanged.
    let again = s.json(&["vps", "import", csv_file.to_str().unwrap()]);
    assert_eq!(again["unchanged"], 2, "{again}");
}

fn provider_import_and_export(s: Server) {
    let file = s.path("providers.csv");
    std::fs::write(&file, "name,country,rating\nDMIT,US,4\nVultr,US,3\n").unwrap();
    let r = run(s.sigma().args(["provider", "import", file.to_str().unwrap()]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("2 providers in the file: 2 created"), "{}", r.stdout);
    let exported: Value = serde_json::from_str(&s.ok(&["provider", "export", "--search", "vul"])).unwrap();
    assert_eq!(exported.as_array().unwrap().len(), 1);
    assert_eq!(exported[0]["rating"], 3);
    let csv = s.ok(&["provider", "export", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 3);
    assert!(run(s.sigma().args(["provider", "import", file.to_str().unwrap(), "--create-providers"])).code == 2);
}
