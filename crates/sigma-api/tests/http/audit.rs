use crate::common::{Backend, TestApp, both_backends, expect, expect_error};
use reqwest::Method;
use serde_json::json;

both_backends!(changes_are_audited_with_actor_ip_and_request_id);

async fn changes_are_audited_with_actor_ip_and_request_id(backend: Backend) {
    let key = "audit-test-key-0123456789";
    let app = TestApp::spawn_with(backend, |c| c.api_key = Some(key.to_owned().into())).await;
    let r = app
        .request(Method::POST, "/api/providers")
        .header("x-request-id", "req-audit-1")
        .json(&json!({"name": "DMIT"}))
        .send()
        .await
        .unwrap();
    let p = expect(r, 201).await;
    let pid = p["id"].as_str().unwrap();
    // A failed change leaves no entry.
    expect_error(app.post("/api/providers", &json!({"name": "dmit"})).await, 409, "conflict").await;
    expect_error(app.post("/api/vps", &json!({"hostname": "x"})).await, 400, "validation_failed").await;
    let v = app.vps(pid, "tokyo-1", json!({"ip_addresses": [{"ip": "10.0.0.1"}]})).await;
    let vid = v["id"].as_str().unwrap();
    expect(app.patch(&format!("/api/vps/{vid}"), &json!({"notes": "moved"})).await, 200).await;
    expect(app.post(&format!("/api/vps/{vid}/retire"), &json!({})).await, 200).await;

    let log = expect(app.get("/api/audit-logs").await, 200).await;
    assert_eq!(log["total"], 4, "{log}");
    let entries = log["data"].as_array().unwrap();
    let actions: Vec<_> = entries
        .iter()
        .map(|e| format!("{} {}", e["resource_type"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, ["vps retire", "vps update", "vps create", "provider create"]);
    let first = &entries[3];
    assert_eq!(first["actor"], json!({"kind": "api_key", "id": null, "name": "bootstrap API key"}));
    assert_eq!(first["ip"], "127.0.0.1");
    assert_eq!(first["request_id"], "req-audit-1");
    assert_eq!(first["resource_id"], p["id"]);
    assert_eq!(first["after"]["name"], "DMIT");
    assert!(first["before"].is_null());
    assert_eq!(entries[1]["before"]["notes"], json!(null));
    assert_eq!(entries[1]["after"]["notes"], "moved");
    assert!(entries.iter().all(|e| e["request_id"].as_str().is_some_and(|r| !r.is_empty())));

    let only =
        expect(app.get(&format!("/api/audit-logs?resource_type=vps&resource_id={vid}&action=update")).await, 200).await;
    assert_eq!(only["total"], 1);
    let actor = expect(app.get("/api/audit-logs?actor=bootstrap%20API%20key&per_page=2").await, 200).await;
    assert_eq!((actor["total"].as_i64(), actor["data"].as_array().unwrap().len()), (Some(4), 2));
    let none = expect(app.get("/api/audit-logs?from=2999-01-01T00:00:00Z").await, 200).await;
    assert_eq!(none["total"], 0);
    let e = expect_error(app.get("/api/audit-logs?from=yesterday").await, 400, "validation_failed").await;
    assert!(e["details"]["fields"]["from"].is_string());
    expect_error(
        app.get("/api/audit-logs?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z").await,
        400,
        "validation_failed",
    )
    .await;
    // Reading the log needs credentials like any read.
    let anonymous = reqwest::Client::new().get(app.url("/api/audit-logs")).send().await.unwrap();
    expect_error(anonymous, 401, "unauthorized").await;
}
