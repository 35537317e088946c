//! Export and import of VPS and providers, as CSV and JSON.

use crate::common::{Backend, TestApp, both, both_backends, expect, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

both!(
    import_one_bad_row_stores_nothing,
    import_dry_run_stores_nothing,
    import_malformed_files_are_400,
    import_create_providers,
    import_upserts_by_hostname_among_live_vps,
    export_filters_and_formats,
);
both_backends!(export_then_import_gives_the_same_fleet);

async fn import(app: &TestApp, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.request(Method::POST, path).header("content-type", content_type).body(body).send().await.unwrap()
}

async fn csv_import(app: &TestApp, query: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    import(app, &format!("/api/vps/import?format=csv{query}"), "text/csv", body).await
}

async fn export(app: &TestApp, path: &str) -> String {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn vps_total(app: &TestApp) -> i64 {
    expect(app.get("/api/vps?per_page=1").await, 200).await["total"].as_i64().unwrap()
}

/// A fleet that uses every field, with text that needs quoting in CSV.
async fn rich_fleet(app: &TestApp) {
    let r = app
        .post(
            "/api/providers",
            &json!({"name": "DMIT, Inc.", "country": "US", "website": "https://dmit.example", "panel_url":
                "https://panel.dmit.example", "api_supported": true, "notes": "pays \"yearly\"\nsecond line", "rating": 4}),
        )
        .await;
    let dmit = expect(r, 201).await["id"].as_str().unwrap().to_owned();
    let bare = app.provider("Bare").await;
    app.vps(
        &dmit,
        "tokyo-1.example.com",
        json!({"alias": "東京 1, \"main\"", "city": "Tokyo", "dc_name": "TYO2", "country": "JP", "status": "active",
           "ip_addresses": [{"ip": "203.0.113.3", "label": "china-telecom"}, {"ip": "2001:db8::1"},
                            {"ip": "10.0.0.5", "label": "internal"}],
           "ssh_port": 2222, "ssh_user": "root", "purpose": "vpn-exit", "vpn_protocol": "vless",
           "tags": ["iplc", "cn-optimized"], "cpu_cores": 2, "ram_mb": 2048, "disk_gb": 40, "bandwidth_tb": "1.5",
           "price": "59.88", "currency": "EUR", "billing_cycle": "annual", "purchase_date": "2026-11-01",
           "expire_date": "2027-11-01", "auto_renew": true, "monitoring_enabled": false, "node_exporter_port": 9101,
           "extra": {"panel": 7, "nested": {"a": [1, "x,y"]}}, "notes": "line one\nline two, with comma"}),
    )
    .await;
    app.vps(&bare, "la-1", json!({"country": "US", "purpose": "vpn-relay"})).await;
    // A retired VPS whose host name a live one took over later.
    app.vps(&dmit, "reused", json!({"status": "retired", "ip_addresses": [{"ip": "203.0.113.9"}]})).await;
    app.vps(&bare, "reused", json!({"status": "provisioning", "ip_addresses": [{"ip": "203.0.113.9"}]})).await;
    // The trash is not exported.
    let trashed = app.vps(&bare, "trashed", json!({})).await;
    expect(app.delete(&format!("/api/vps/{}", trashed["id"].as_str().unwrap())).await, 204).await;
}

/// Exported VPS without what an import does not carry over: when the
/// record was made and changed, and how (`source`).
fn comparable(fleet: &Value) -> Vec<Value> {
    fleet
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let mut v = v.clone();
            for k in ["created_at", "updated_at", "retired_at", "source"] {
                v.as_object_mut().unwrap().remove(k);
            }
            v
        })
        .collect()
}

fn comparable_providers(list: &Value) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut p = p.clone();
            for k in ["created_at", "updated_at"] {
                p.as_object_mut().unwrap().remove(k);
            }
            p
        })
        .collect()
}

async fn export_then_import_gives_the_same_fleet(backend: Backend) {
    let source = TestApp::spawn(backend).await;
    rich_fleet(&source).await;
    let providers_csv = export(&source, "/api/providers/export?format=csv").await;
    let vps_csv = export(&source, "/api/vps/export?format=csv").await;
    let providers_json = export(&source, "/api/providers/export").await;
    let vps_json = export(&source, "/api/vps/export?format=json").await;
    let original: Value = serde_json::from_str(&vps_json).unwrap();
    assert_eq!(original.as_array().unwrap().len(), 4, "the trash is not exported: {original}");

    for format in ["csv", "json"] {
        let target = TestApp::spawn(backend).await;
        let (providers, vps, content_type) = match format {
            "csv" => (&providers_csv, &vps_csv, "text/csv"),
            _ => (&providers_json, &vps_json, "application/json"),
        };
        let report = expect(
            import(&target, &format!("/api/providers/import?format={format}"), content_type, providers.clone()).await,
            200,
        )
        .await;
        assert_eq!((report["created"].as_u64(), report["failed"].as_u64()), (Some(2), Some(0)), "{report}");
        let report =
            expect(import(&target, &format!("/api/vps/import?format={format}"), content_type, vps.clone()).await, 200)
                .await;
        assert_eq!((report["created"].as_u64(), report["failed"].as_u64()), (Some(4), Some(0)), "{format}: {report}");

        let copy: Value = serde_json::from_str(&export(&target, "/api/vps/export").await).unwrap();
        assert_eq!(comparable(&copy), comparable(&original), "{format} round trip");
        let copied_providers: Value = serde_json::from_str(&export(&target, "/api/providers/export").await).unwrap();
        let original_providers: Value = serde_json::from_str(&providers_json).unwrap();
        assert_eq!(comparable_providers(&copied_providers), comparable_providers(&original_providers));
        assert!(copy.as_array().unwrap().iter().all(|v| v["source"] == "import"));

        // Importing the same file again changes nothing.
        let again =
            expect(import(&target, &format!("/api/vps/import?format={format}"), content_type, vps.clone()).await, 200)
                .await;
        assert_eq!(
            (again["created"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()),
            (Some(0), Some(0), Some(4)),
            "{format} again: {again}"
        );
        assert_eq!(vps_total(&target).await, 4);
    }
}

/// `n` valid CSV rows (hostname, country, purpose, provider, address).
fn rows(n: usize) -> String {
    let mut s = String::from("hostname,country,purpose,provider_name,ip_addresses,tags\n");
    for i in 0..n {
        s.push_str(&format!("host-{i},JP,vpn-exit,DMIT,198.18.{}.{}/overseas,\"a,b\"\n", i / 250, i % 250 + 1));
    }
    s
}

async fn import_one_bad_row_stores_nothing(app: TestApp) {
    app.provider("DMIT").await;
    // Row 137 (line 138, after the header) has a bad country.
    let file = rows(300).replacen("host-136,JP,", "host-136,Japan,", 1);
    let e = expect_error(csv_import(&app, "", file).await, 400, "import_failed").await;
    assert!(e["message"].as_str().unwrap().contains("row 137"), "{e}");
    assert_eq!(e["details"]["failed"], 1);
    assert_eq!(e["details"]["total"], 300);
    let failed = e["details"]["rows"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "only the failed rows are listed: {e}");
    assert_eq!((failed[0]["row"].as_u64(), failed[0]["line"].as_u64()), (Some(137), Some(138)));
    assert_eq!(failed[0]["key"], "host-136");
    assert!(failed[0]["errors"]["country"].as_str().is_some(), "{e}");
    assert_eq!(vps_total(&app).await, 0, "nothing stored");

    // A row whose address another row already takes, and an unreadable number.
    let file = format!("{}host-x,JP,vpn-exit,DMIT,198.18.0.1,\n", rows(5));
    let e = expect_error(csv_import(&app, "", file).await, 400, "import_failed").await;
    assert_eq!(e["details"]["rows"][0]["row"], 6);
    assert!(e["details"]["rows"][0]["errors"]["ip_addresses[0].ip"].as_str().unwrap().contains("row 1"), "{e}");
    let e = expect_error(
        csv_import(&app, "", "hostname,country,purpose,provider_name,ssh_port\na,JP,vpn-exit,DMIT,twenty\n").await,
        400,
        "import_failed",
    )
    .await;
    assert!(e["details"]["rows"][0]["errors"]["ssh_port"].as_str().unwrap().contains("twenty"), "{e}");

    // JSON: one element of the wrong shape names its row and field.
    let body = json!([
        {"hostname": "a", "country": "JP", "purpose": "vpn-exit", "provider_name": "DMIT"},
        {"hostname": "b", "country": "JP", "purpose": "vpn-exit", "provider_name": "DMIT", "ssh_port": "x"},
        {"hostname": "c", "country": "JP", "purpose": "vpn-exit", "provider_name": "DMIT"}
    ]);
    let e =
        expect_error(import(&app, "/api/vps/import", "application/json", body.to_string()).await, 400, "import_failed")
            .await;
    assert_eq!(e["details"]["rows"][0]["row"], 2);
    assert!(e["details"]["rows"][0]["errors"]["ssh_port"].is_string(), "{e}");
    assert_eq!(vps_total(&app).await, 0, "nothing stored");
    let audit = expect(app.get("/api/audit-logs?action=import").await, 200).await;
    assert_eq!(audit["total"], 0, "a failed import leaves no audit entry: {audit}");
}

async fn import_dry_run_stores_nothing(app: TestApp) {
    let p = app.provider("DMIT").await;
    let existing = app.vps(&p, "host-0", json!({"price": "1.00"})).await;
    let file = rows(10).replacen("host-0,JP,vpn-exit,DMIT,198.18.0.1/overseas", "host-0,JP,vpn-relay,DMIT,", 1);
    let report = expect(csv_import(&app, "&dry_run=true", file.clone()).await, 200).await;
    assert_eq!(report["dry_run"], true);
    assert_eq!((report["created"].as_u64(), report["updated"].as_u64()), (Some(9), Some(1)), "{report}");
    assert_eq!(report["rows"][0]["id"], existing["id"], "an update names the VPS it would change");
    assert!(report["rows"][1]["id"].is_null(), "no id for a VPS a dry run did not create");
    assert_eq!(vps_total(&app).await, 1, "a dry run stores nothing");
    let after = expect(app.get(&format!("/api/vps/{}", existing["id"].as_str().unwrap())).await, 200).await;
    assert_eq!(after, existing, "a dry run changes nothing");
    // A dry run of a bad file reports the bad rows the same way.
    let e = expect_error(
        csv_import(&app, "&dry_run=true", file.replacen("host-3,JP", "host-3,XX", 1)).await,
        400,
        "import_failed",
    )
    .await;
    assert_eq!(e["details"]["rows"][0]["row"], 4);
    // The real import then does what the dry run said.
    let real = expect(csv_import(&app, "", file).await, 200).await;
    assert_eq!(
        (real["created"].as_u64(), real["updated"].as_u64(), real["dry_run"].as_bool()),
        (Some(9), Some(1), Some(false))
    );
    assert_eq!(vps_total(&app).await, 10);
}

async fn import_malformed_files_are_400(app: TestApp) {
    app.provider("DMIT").await;
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("unknown column", b"hostname,country,colour\na,JP,red\n".to_vec(), "invalid_csv", "colour"),
        ("no hostname column", b"country,purpose\nJP,vpn-exit\n".to_vec(), "invalid_csv", "hostname"),
        ("a column twice", b"hostname,country,country\na,JP,JP\n".to_vec(), "invalid_csv", "twice"),
        ("a short record", b"hostname,country,purpose\na,JP\n".to_vec(), "invalid_csv", "line 2"),
        (
            "an unclosed quote",
            b"hostname,country,purpose\n\"a,JP,vpn-exit\nb,JP,vpn-exit\n".to_vec(),
            "invalid_csv",
            "line",
        ),
        ("a stray quote", b"hostname,country,purpose\na,J\"P,vpn-exit,x\n".to_vec(), "invalid_csv", "line 2"),
        ("Latin-1 text", b"hostname,country,purpose,notes\na,JP,vpn-exit,caf\xe9\n".to_vec(), "invalid_csv", "UTF-8"),
        ("UTF-16", "hostname,country\n".encode_utf16().flat_map(u16::to_le_bytes).collect(), "invalid_csv", ""),
        ("an empty file", Vec::new(), "invalid_csv", "header"),
    ];
    for (what, body, code, needle) in cases {
        let e = expect_error(csv_import(&app, "", body).await, 400, code).await;
        assert!(e["message"].as_str().unwrap().contains(needle), "{what}: {e}");
    }
    for (what, body) in
        [("not JSON", "hostname,country"), ("an object", "{\"hostname\": \"a\"}"), ("cut short", "[{\"hostname\": ")]
    {
        let e =
            expect_error(import(&app, "/api/vps/import", "application/json", body).await, 400, "invalid_json").await;
        assert!(!e["message"].as_str().unwrap().is_empty(), "{what}");
    }
    expect_error(import(&app, "/api/vps/import?format=xml", "text/xml", "<a/>").await, 400, "validation_failed").await;
    let e = expect_error(
        import(&app, "/api/providers/import?format=csv", "text/csv", "name,colour\nA,red\n").await,
        400,
        "invalid_csv",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("colour"), "{e}");
    assert_eq!(vps_total(&app).await, 0);
    assert_eq!(expect(app.get("/api/providers").await, 200).await["total"], 1);
}

async fn import_create_providers(app: TestApp) {
    let file =
        "hostname,country,purpose,provider_name\na,JP,vpn-exit,NewCo\nb,JP,vpn-exit,newco\nc,US,vpn-exit,Other\n";
    let e = expect_error(csv_import(&app, "", file).await, 400, "import_failed").await;
    assert_eq!(e["details"]["failed"], 3);
    assert!(e["details"]["rows"][0]["errors"]["provider_name"].as_str().unwrap().contains("create_providers"), "{e}");

    let dry = expect(csv_import(&app, "&create_providers=true&dry_run=true", file).await, 200).await;
    assert_eq!(dry["providers_created"], json!(["NewCo", "Other"]));
    assert_eq!(expect(app.get("/api/providers").await, 200).await["total"], 0, "a dry run creates no provider");

    let report = expect(csv_import(&app, "&create_providers=true", file).await, 200).await;
    assert_eq!(report["providers_created"], json!(["NewCo", "Other"]), "names match ignoring case");
    assert_eq!(report["created"], 3);
    let providers = expect(app.get("/api/providers").await, 200).await;
    let names: Vec<&str> = providers["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["NewCo", "Other"]);
    assert_eq!(providers["data"][0]["vps_count"], 2);
    // A provider import of a bad file stores nothing either.
    let e = expect_error(
        import(&app, "/api/providers/import?format=csv", "text/csv", "name,rating\nFine,3\nBad,9\n").await,
        400,
        "import_failed",
    )
    .await;
    assert_eq!(e["details"]["rows"][0]["row"], 2);
    assert!(e["details"]["rows"][0]["errors"]["rating"].is_string(), "{e}");
    assert_eq!(expect(app.get("/api/providers").await, 200).await["total"], 2);
}

async fn import_upserts_by_hostname_among_live_vps(app: TestApp) {
    let p = app.provider("DMIT").await;
    let live = app
        .vps(
            &p,
            "tokyo-1",
            json!({"price": "5.00", "notes": "keep me", "city": "Tokyo", "ip_addresses": [{"ip": "203.0.113.1"}]}),
        )
        .await;
    let retired = app.vps(&p, "old-1", json!({"status": "retired", "ip_addresses": [{"ip": "203.0.113.2"}]})).await;
    let other = app.vps(&p, "other", json!({"ip_addresses": [{"ip": "203.0.113.3"}]})).await;

    // Columns absent from the file keep their values; an empty cell clears.
    let file = "hostname,price,city,ip_addresses\ntokyo-1,6.00,,203.0.113.4/overseas\nold-1,,,203.0.113.2\n";
    let e = expect_error(csv_import(&app, "", file).await, 400, "import_failed").await;
    // A new VPS needs the required fields; the retired old-1 is not matched.
    assert_eq!(e["details"]["rows"][0]["row"], 2, "{e}");
    let file = "hostname,price,city,ip_addresses,country,purpose,provider_name\n\
                tokyo-1,6.00,,203.0.113.4/overseas,JP,vpn-exit,DMIT\n\
                old-1,,,203.0.113.2,JP,vpn-exit,DMIT\n";
    let report = expect(csv_import(&app, "", file).await, 200).await;
    assert_eq!(report["rows"][0]["result"], "updated");
    assert_eq!(report["rows"][0]["id"], live["id"]);
    assert_eq!(report["rows"][1]["result"], "created");
    assert_ne!(report["rows"][1]["id"], retired["id"], "a retired VPS is never matched by host name");
    let tokyo = expect(app.get(&format!("/api/vps/{}", live["id"].as_str().unwrap())).await, 200).await;
    assert_eq!(
        (&tokyo["price"], &tokyo["city"], &tokyo["notes"], &tokyo["ip_addresses"]),
        (&json!("6"), &Value::Null, &json!("keep me"), &json!([{"ip": "203.0.113.4", "label": "overseas"}]))
    );
    let history = expect(app.get("/api/ip-history?ip=203.0.113.1").await, 200).await;
    assert!(history.to_string().contains("released_at"), "the import records address changes: {history}");

    // An address held by another live VPS is refused, naming it.
    let e =
        expect_error(csv_import(&app, "", "hostname,ip_addresses\ntokyo-1,203.0.113.3\n").await, 400, "import_failed")
            .await;
    assert!(e["details"]["rows"][0]["errors"]["ip_addresses[0].ip"].as_str().unwrap().contains("other"), "{e}");
    // ... unless the same file moves it away first.
    let file = "hostname,ip_addresses\nother,203.0.113.5\ntokyo-1,203.0.113.3\n";
    let report = expect(csv_import(&app, "", file).await, 200).await;
    assert_eq!(report["updated"], 2);
    let other = expect(app.get(&format!("/api/vps/{}", other["id"].as_str().unwrap())).await, 200).await;
    assert_eq!(other["ip_addresses"], json!([{"ip": "203.0.113.5", "label": null}]));
    // A host name may appear once among the rows that stay live.
    let e = expect_error(csv_import(&app, "", "hostname,notes\nother,a\nother,b\n").await, 400, "import_failed").await;
    assert!(e["details"]["rows"][0]["errors"]["hostname"].as_str().unwrap().contains("row 1"), "{e}");
    // Retiring through an import.
    let report = expect(csv_import(&app, "", "hostname,status\nother,retired\n").await, 200).await;
    assert_eq!(report["updated"], 1);
    let other = expect(app.get(&format!("/api/vps/{}", other["id"].as_str().unwrap())).await, 200).await;
    assert_eq!(other["status"], "retired");
    assert!(other["retired_at"].is_string());
    let history = expect(app.get("/api/ip-history?ip=203.0.113.5").await, 200).await;
    assert!(history[0]["released_at"].is_string(), "retiring releases the addresses: {history}");

    // Tags through an import; a change of notes alone leaves the addresses
    // and their history as they were.
    let tokyo_id = live["id"].as_str().unwrap();
    let report = expect(
        csv_import(
            &app,
            "",
            "hostname,tags,notes
tokyo-1,\"iplc,jp\",moved
",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(report["updated"], 1);
    let tagged = expect(app.get("/api/vps?tag=jp").await, 200).await;
    assert_eq!(tagged["data"][0]["id"], live["id"], "{tagged}");
    let before = expect(app.get(&format!("/api/vps/{tokyo_id}/ip-history")).await, 200).await;
    let report = expect(
        csv_import(
            &app,
            "",
            "hostname,notes
tokyo-1,again
",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(report["updated"], 1);
    assert_eq!(expect(app.get(&format!("/api/vps/{tokyo_id}/ip-history")).await, 200).await, before);
    let tokyo = expect(app.get(&format!("/api/vps/{tokyo_id}")).await, 200).await;
    assert_eq!((&tokyo["notes"], &tokyo["tags"]), (&json!("again"), &json!(["iplc", "jp"])));
    assert_eq!(expect(app.get("/api/vps?ip=203.0.113.3").await, 200).await["data"][0]["id"], live["id"]);

    let audit = expect(app.get("/api/audit-logs?action=import").await, 200).await;
    assert_eq!(audit["total"], 5, "one audit entry per stored import: {audit}");
}

async fn export_filters_and_formats(app: TestApp) {
    let p = app.provider("DMIT").await;
    app.provider("Bare").await;
    app.vps(&p, "tokyo-1", json!({"status": "active", "tags": ["iplc"]})).await;
    app.vps(&p, "la-1", json!({"country": "US"})).await;
    app.vps(&p, "gone", json!({"status": "retired"})).await;

    let r = app.get("/api/vps/export?format=csv&country=JP").await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("vps.csv"));
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,hostname,alias,provider_name,provider_id,country,"), "{header}");
    let hosts: Vec<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(hosts, ["gone", "tokyo-1"], "retired VPS are exported unless filtered out");

    let json_export: Value =
        serde_json::from_str(&export(&app, "/api/vps/export?status=active&tag=iplc").await).unwrap();
    assert_eq!(json_export.as_array().unwrap().len(), 1);
    assert_eq!(json_export[0]["hostname"], "tokyo-1");
    let providers = export(&app, "/api/providers/export?format=csv&q=dm").await;
    assert_eq!(providers.lines().count(), 2, "{providers}");
    assert!(providers.lines().nth(1).unwrap().contains(",DMIT,"));
    expect_error(app.get("/api/vps/export?country=XX").await, 400, "validation_failed").await;
    expect_error(app.get("/api/vps/export?format=xls").await, 400, "validation_failed").await;
}
