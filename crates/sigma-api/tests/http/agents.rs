//! Agents over HTTP: the claim workflow, enrolment tokens, keys valid only
//! on `/api/agent/*`, heartbeats, offline detection and live events.

use crate::common::{Backend, TestApp, both_backends, expect, expect_error};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use uuid::Uuid;

const ADMIN_KEY: &str = "test-admin-key-0123456789";

async fn app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.api_key = Some(ADMIN_KEY.to_owned().into());
        c.agent_sweep_interval = Duration::from_millis(200);
    })
    .await
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A registration body with a fresh id and claim token.
fn registration(hostname: &str, ips: &[&str]) -> (Value, String) {
    let token = format!("claim-{}", Uuid::new_v4().simple());
    let body = json!({
        "agent_id": Uuid::now_v7(), "claim_token_hash": sha256(&token), "hostname": hostname,
        "agent_version": "0.1.0", "os": "Debian GNU/Linux 13", "arch": "x86_64", "ip_addresses": ips,
    });
    (body, token)
}

/// An unauthenticated request (as an agent makes before it has a key).
fn bare(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.http.request(method, app.url(path))
}

async fn poll(app: &TestApp, id: &str, token: &str) -> Value {
    let r = bare(app, Method::GET, &format!("/api/agent/{id}/claim-status")).header("x-claim-token", token);
    expect(r.send().await.unwrap(), 200).await
}

fn heartbeat_body(interval: u32) -> Value {
    json!({
        "agent_version": "0.1.0", "hostname": "tokyo-1", "os": "Debian", "kernel": "6.1.0", "arch": "x86_64",
        "uptime_secs": 1234, "cpu_percent": 12.5, "cpu_cores": 2,
        "load": {"one": 0.5, "five": 0.25, "fifteen": 0.1},
        "memory": {"total_bytes": 1000, "used_bytes": 400}, "swap": {"total_bytes": 0, "used_bytes": 0},
        "filesystems": [{"mount": "/", "fstype": "ext4", "total_bytes": 100, "used_bytes": 50}],
        "network": {"rx_bytes": 10, "tx_bytes": 20},
        "ports": [{"protocol": "tcp", "address": "0.0.0.0", "port": 22, "process": "sshd", "pid": 1}],
        "public_ips": ["103.1.2.3"], "interval_secs": interval, "metrics_port": 9101,
    })
}

async fn heartbeat(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    bare(app, Method::POST, "/api/agent/heartbeat").header("x-agent-key", key).json(body).send().await.unwrap()
}

/// Registers an agent, claims it as the operator (onto `vps_id`, or a new
/// VPS) and fetches its key.
async fn enrol(app: &TestApp, hostname: &str, ips: &[&str], vps_id: Option<&str>) -> (String, String, String) {
    let vps_id = match vps_id {
        Some(v) => v.to_owned(),
        None => {
            let provider = app.provider(&format!("provider of {hostname}")).await;
            app.vps(&provider, hostname, json!({})).await["id"].as_str().unwrap().to_owned()
        }
    };
    let (body, token) = registration(hostname, ips);
    let id = body["agent_id"].as_str().unwrap().to_owned();
    expect(bare(app, Method::POST, "/api/agent/register").json(&body).send().await.unwrap(), 201).await;
    let claim = json!({"agent_id": id, "claim_token": token, "vps_id": vps_id});
    expect(app.post("/api/agents/claim", &claim).await, 200).await;
    let key = poll(app, &id, &token).await["api_key"].as_str().unwrap().to_owned();
    (id, token, key)
}

async fn claim_workflow(backend: Backend) {
    let app = app(backend).await;
    let provider = app.provider("DMIT").await;
    let vps = app.vps(&provider, "tokyo-1", json!({"ip_addresses": [{"ip": "103.1.2.3"}]})).await;

    let (body, token) = registration("tokyo-1", &["10.1.1.1", "103.1.2.3"]);
    let id = body["agent_id"].as_str().unwrap().to_owned();
    let r = expect(bare(&app, Method::POST, "/api/agent/register").json(&body).send().await.unwrap(), 201).await;
    assert_eq!(r, json!({"status": "pending_claim", "poll_url": format!("/api/agent/{id}/claim-status")}));
    let again = bare(&app, Method::POST, "/api/agent/register").json(&body).send().await.unwrap();
    assert_eq!(expect(again, 200).await["status"], "pending_claim", "registering again is idempotent");
    let mut forged = body.clone();
    forged["claim_token_hash"] = json!(sha256("someone else"));
    expect_error(bare(&app, Method::POST, "/api/agent/register").json(&forged).send().await.unwrap(), 409, "conflict")
        .await;
    let mut bad = body.clone();
    bad["claim_token_hash"] = json!("not-a-hash");
    let e = expect_error(
        bare(&app, Method::POST, "/api/agent/register").json(&bad).send().await.unwrap(),
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["claim_token_hash"].is_string());

    assert_eq!(poll(&app, &id, &token).await, json!({"status": "pending"}));
    let r = bare(&app, Method::GET, &format!("/api/agent/{id}/claim-status")).header("x-claim-token", "forged");
    expect_error(r.send().await.unwrap(), 403, "forbidden").await;
    let unknown = bare(&app, Method::GET, &format!("/api/agent/{}/claim-status", Uuid::now_v7()));
    expect_error(unknown.send().await.unwrap(), 404, "not_found").await;

    // The operator claims: a forged token is refused and changes nothing.
    let claim = json!({"agent_id": id, "claim_token": "forged"});
    expect_error(app.post("/api/agents/claim", &claim).await, 403, "forbidden").await;
    expect_error(bare(&app, Method::POST, "/api/agents/claim").json(&claim).send().await.unwrap(), 401, "unauthorized")
        .await;
    let claim = json!({"agent_id": id, "claim_token": token});
    let agent = expect(app.post("/api/agents/claim", &claim).await, 200).await;
    assert_eq!(agent["vps_id"], vps["id"], "linked to the VPS holding its address");
    assert_eq!((agent["claimed"].clone(), agent["status"].clone()), (json!(true), json!("pending")));
    expect_error(app.post("/api/agents/claim", &claim).await, 409, "conflict").await;

    // Concurrent polls: the key is delivered exactly once.
    let polls = (0..6).map(|_| poll(&app, &id, &token));
    let answers = futures::future::join_all(polls).await;
    let keys: Vec<&str> = answers.iter().filter_map(|a| a["api_key"].as_str()).collect();
    assert_eq!(keys.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|a| a["status"] == "claimed" || a == &json!({"status": "pending"})));
    let key = keys[0].to_owned();
    assert!(key.starts_with("sga_"));
    assert_eq!(poll(&app, &id, &token).await, json!({"status": "pending"}), "never repeated");

    // The key works on /api/agent/* only; user keys do not work there.
    let cfg = expect(bare(&app, Method::GET, "/api/agent/config").bearer_auth(&key).send().await.unwrap(), 200).await;
    assert_eq!(cfg["agent_id"], json!(id));
    expect_error(
        bare(&app, Method::GET, "/api/vps").header("x-api-key", &key).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    expect_error(bare(&app, Method::GET, "/api/vps").bearer_auth(&key).send().await.unwrap(), 401, "unauthorized")
        .await;
    expect_error(heartbeat(&app, ADMIN_KEY, &heartbeat_body(30)).await, 401, "unauthorized").await;
    expect_error(app.get("/api/agent/config").await, 401, "unauthorized").await;

    let r = expect(heartbeat(&app, &key, &heartbeat_body(30)).await, 200).await;
    assert_eq!(r["agent_id"], json!(id));
    let v = expect(app.get(&format!("/api/vps/{}", vps["id"].as_str().unwrap())).await, 200).await;
    assert_eq!(v["agent"]["agent_id"], json!(id));
    assert_eq!(v["agent"]["status"], "online");
    assert_eq!(v["agent"]["metrics"]["cpu_percent"], 12.5);
    let listed = expect(app.get("/api/agents?status=online").await, 200).await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["data"][0]["metrics"]["ports"][0]["process"], "sshd");
    let stats = expect(app.get("/api/stats").await, 200).await;
    assert_eq!(stats["agents"], json!({"online": 1, "offline": 0, "pending": 0}));

    let targets = expect(app.get("/api/prometheus/targets?job=agent").await, 200).await;
    assert_eq!(targets[0]["targets"], json!(["103.1.2.3:9101"]));
    assert_eq!(targets[0]["labels"]["agent_id"], json!(id));
    assert_eq!(targets[0]["labels"]["instance_name"], "tokyo-1");
    let nodes = expect(app.get("/api/prometheus/targets").await, 200).await;
    assert_eq!(nodes[0]["targets"], json!(["103.1.2.3:9100"]), "the node job is unchanged");

    let log = expect(app.get("/api/audit-logs?resource_type=agent").await, 200).await;
    let actions: Vec<&str> = log["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"register") && actions.contains(&"claim"), "{actions:?}");
}

async fn claim_makes_a_vps_when_none_matches(backend: Backend) {
    let app = app(backend).await;
    let provider = app.provider("DMIT").await;
    let (body, token) = registration("osaka-7", &["198.51.100.20"]);
    let id = body["agent_id"].as_str().unwrap().to_owned();
    expect(bare(&app, Method::POST, "/api/agent/register").json(&body).send().await.unwrap(), 201).await;
    let e = expect_error(
        app.post("/api/agents/claim", &json!({"agent_id": id, "claim_token": token})).await,
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["vps_id"].is_string(), "{e}");
    let partial = json!({"agent_id": id, "claim_token": token, "provider_id": provider});
    let e = expect_error(app.post("/api/agents/claim", &partial).await, 400, "validation_failed").await;
    assert!(e["details"]["fields"]["country"].is_string() && e["details"]["fields"]["purpose"].is_string());
    let full =
        json!({"agent_id": id, "claim_token": token, "provider_id": provider, "country": "jp", "purpose": "vpn-relay"});
    let agent = expect(app.post("/api/agents/claim", &full).await, 200).await;
    let v = expect(app.get(&format!("/api/vps/{}", agent["vps_id"].as_str().unwrap())).await, 200).await;
    assert_eq!(
        (v["hostname"].as_str(), v["status"].as_str(), v["source"].as_str()),
        (Some("osaka-7"), Some("provisioning"), Some("agent"))
    );
    assert_eq!(v["ip_addresses"], json!([{"ip": "198.51.100.20", "label": null}]));
}

async fn enrolment_tokens(backend: Backend) {
    let app = app(backend).await;
    let provider = app.provider("DMIT").await;
    let e = expect_error(
        app.post("/api/agents/enrollment-tokens", &json!({"max_uses": 0, "expires_in_hours": 0})).await,
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["max_uses"].is_string() && e["details"]["fields"]["expires_in_hours"].is_string());
    let created = expect(
        app.post(
            "/api/agents/enrollment-tokens",
            &json!({"name": "batch", "max_uses": 2, "provider_id": provider, "country": "SG", "purpose": "vpn-exit"}),
        )
        .await,
        201,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sge_"));
    assert_eq!(created["uses"], 0);

    let (mut body, claim) = registration("sg-1", &["203.0.113.50"]);
    body["enrollment_token"] = json!(token);
    let id = body["agent_id"].as_str().unwrap().to_owned();
    let r = expect(bare(&app, Method::POST, "/api/agent/register").json(&body).send().await.unwrap(), 201).await;
    assert_eq!(r["status"], "claimed", "claimed at once");
    let key = poll(&app, &id, &claim).await["api_key"].as_str().unwrap().to_owned();
    expect(heartbeat(&app, &key, &heartbeat_body(30)).await, 200).await;
    let agent = expect(app.get(&format!("/api/agents/{id}")).await, 200).await;
    assert_eq!((agent["status"].as_str(), agent["enrolled_by"].as_str()), (Some("online"), Some("enrollment-token")));
    assert!(agent["vps_id"].is_string(), "a VPS made from the token's defaults");

    let (mut wrong, _) = registration("sg-2", &[]);
    wrong["enrollment_token"] = json!("sge_0000");
    expect_error(
        bare(&app, Method::POST, "/api/agent/register").json(&wrong).send().await.unwrap(),
        401,
        "invalid_enrollment_token",
    )
    .await;
    let listed = expect(app.get("/api/agents/enrollment-tokens").await, 200).await;
    assert_eq!(listed[0]["uses"], 1);
    assert!(listed[0].get("token").is_none(), "the secret is never shown again");
    let token_id = created["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/agents/enrollment-tokens/{token_id}")).await.status(), 204);
    wrong["enrollment_token"] = json!(token);
    expect_error(
        bare(&app, Method::POST, "/api/agent/register").json(&wrong).send().await.unwrap(),
        401,
        "invalid_enrollment_token",
    )
    .await;
    expect_error(app.delete(&format!("/api/agents/enrollment-tokens/{}", Uuid::now_v7())).await, 404, "not_found")
        .await;
    expect_error(bare(&app, Method::GET, "/api/agents/enrollment-tokens").send().await.unwrap(), 401, "unauthorized")
        .await;
}

async fn revoked_and_rotated_keys(backend: Backend) {
    let app = app(backend).await;
    let (id, token, key) = enrol(&app, "tokyo-2", &[], None).await;
    expect(heartbeat(&app, &key, &heartbeat_body(30)).await, 200).await;

    let rotated = expect(app.post(&format!("/api/agents/{id}/rotate-key"), &json!({})).await, 200).await;
    assert_eq!(rotated["key_pending"], true);
    expect_error(heartbeat(&app, &key, &heartbeat_body(30)).await, 401, "unauthorized").await;
    let new_key = poll(&app, &id, &token).await["api_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, key);
    expect(heartbeat(&app, &new_key, &heartbeat_body(30)).await, 200).await;

    assert_eq!(app.delete(&format!("/api/agents/{id}")).await.status(), 204);
    expect_error(heartbeat(&app, &new_key, &heartbeat_body(30)).await, 401, "unauthorized").await;
    let r = bare(&app, Method::GET, &format!("/api/agent/{id}/claim-status")).header("x-claim-token", &token);
    expect_error(r.send().await.unwrap(), 404, "not_found").await;
    expect_error(app.get(&format!("/api/agents/{id}")).await, 404, "not_found").await;
    expect_error(app.post(&format!("/api/agents/{}/rotate-key", Uuid::now_v7()), &json!({})).await, 404, "not_found")
        .await;
}

async fn heartbeats_are_checked(backend: Backend) {
    let app = app(backend).await;
    let (id, _, key) = enrol(&app, "tokyo-3", &[], None).await;
    let mut body = heartbeat_body(30);
    body["cpu_percent"] = json!(250);
    body["ports"][0]["protocol"] = json!("sctp");
    body["interval_secs"] = json!(0);
    let e = expect_error(heartbeat(&app, &key, &body).await, 400, "validation_failed").await;
    for f in ["cpu_percent", "ports[0].protocol", "interval_secs"] {
        assert!(e["details"]["fields"][f].is_string(), "{f}: {e}");
    }
    let r = bare(&app, Method::POST, "/api/agent/heartbeat")
        .header("x-agent-key", &key)
        .body("{")
        .header("content-type", "application/json");
    expect_error(r.send().await.unwrap(), 400, "invalid_json").await;
    let agent = expect(app.get(&format!("/api/agents/{id}")).await, 200).await;
    assert_eq!(agent["status"], "pending", "nothing stored");
    assert_eq!(agent["metrics"], Value::Null);
}

async fn registrations_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.agent_register_limit = 3;
        // Budgets of the other routes do not apply to registrations.
        c.rate_limit = 1;
        c.login_rate_limit = 1;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let register = |client: &'static str| {
        let (body, _) = registration("r", &[]);
        bare(&app, Method::POST, "/api/agent/register").header("x-forwarded-for", client).json(&body).send()
    };
    for remaining in (0..3).rev() {
        let r = register("198.51.100.7").await.unwrap();
        assert_eq!(r.headers()["ratelimit-limit"], "3");
        assert_eq!(r.headers()["ratelimit-remaining"], remaining.to_string().as_str());
        expect(r, 201).await;
    }
    let r = register("198.51.100.7").await.unwrap();
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    expect_error(r, 429, "rate_limited").await;
    // Counted per client address (behind a trusted proxy, the forwarded one).
    expect(register("198.51.100.8").await.unwrap(), 201).await;
    assert_eq!(expect(app.get("/api/agents").await, 200).await["total"], 4, "refused: not stored");
}

/// Reads server-sent events until one matches, or fails after `within`.
pub async fn next_event(
    stream: &mut reqwest::Response,
    buffer: &mut String,
    within: Duration,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                let event: Value = serde_json::from_str(data).unwrap();
                if want(&event) {
                    return event;
                }
            }
        }
        let left = deadline.checked_duration_since(Instant::now()).expect("the event did not come in time");
        let chunk = tokio::time::timeout(left, stream.chunk()).await.expect("the event did not come in time");
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("the stream ended")));
    }
}

async fn live_events_and_offline_detection(backend: Backend) {
    let mut app = app(backend).await;
    expect_error(bare(&app, Method::GET, "/api/events").send().await.unwrap(), 401, "unauthorized").await;
    let mut stream = app.get("/api/events").await;
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut buffer = String::new();

    let provider = app.provider("DMIT").await;
    let vps = app.vps(&provider, "tokyo-9", json!({})).await;
    let e = next_event(&mut stream, &mut buffer, Duration::from_secs(5), |e| e["type"] == "vps-changed").await;
    assert_eq!((e["vps_id"].clone(), e["action"].clone()), (vps["id"].clone(), json!("created")));

    let (id, _, key) = enrol(&app, "tokyo-9", &[], Some(vps["id"].as_str().unwrap())).await;
    expect(heartbeat(&app, &key, &heartbeat_body(1)).await, 200).await;
    let e = next_event(&mut stream, &mut buffer, Duration::from_secs(5), |e| e["type"] == "agent-status").await;
    assert_eq!((e["agent_id"].as_str(), e["status"].as_str()), (Some(id.as_str()), Some("online")));
    assert_eq!(e["vps_id"], vps["id"]);
    let e = next_event(&mut stream, &mut buffer, Duration::from_secs(5), |e| e["type"] == "agent-heartbeat").await;
    assert_eq!(e["cpu_percent"], 12.5);

    // Three intervals of 1 s without a heartbeat: offline, once.
    let started = Instant::now();
    let e = next_event(&mut stream, &mut buffer, Duration::from_secs(8), |e| e["type"] == "agent-status").await;
    assert_eq!(e["status"], "offline");
    assert!(started.elapsed() >= Duration::from_millis(2500), "not before three intervals: {:?}", started.elapsed());
    let agent = expect(app.get(&format!("/api/agents/{id}")).await, 200).await;
    assert_eq!(agent["status"], "offline");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let history = expect(app.get(&format!("/api/agents/{id}/status-history")).await, 200).await;
    let statuses: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["online", "offline"], "each transition recorded once");

    // Stopping the server ends the stream instead of hanging the shutdown.
    tokio::time::timeout(Duration::from_secs(10), app.stop()).await.expect("shutdown is not held up by event streams");
}

both_backends!(
    claim_workflow,
    claim_makes_a_vps_when_none_matches,
    enrolment_tokens,
    revoked_and_rotated_keys,
    heartbeats_are_checked,
    registrations_are_rate_limited,
    live_events_and_offline_detection,
    metrics_count_agents_and_heartbeats,
);

/// The value of one sample line of the server's `/metrics`.
async fn sample(app: &TestApp, series: &str) -> String {
    let text = app.get("/metrics").await.text().await.unwrap();
    let line =
        text.lines().find(|l| l.starts_with(&format!("{series} "))).unwrap_or_else(|| panic!("{series} in\n{text}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

async fn metrics_count_agents_and_heartbeats(backend: Backend) {
    let app = app(backend).await;
    assert_eq!(sample(&app, r#"sigma_agent_heartbeats_total{result="accepted"}"#).await, "0");
    let (body, _) = registration("waiting", &[]);
    expect(bare(&app, Method::POST, "/api/agent/register").json(&body).send().await.unwrap(), 201).await;
    let (_, _, online) = enrol(&app, "up", &[], None).await;
    let (_, _, fading) = enrol(&app, "fading", &[], None).await;
    expect(heartbeat(&app, &online, &heartbeat_body(60)).await, 200).await;
    expect(heartbeat(&app, &online, &heartbeat_body(60)).await, 200).await;
    expect(heartbeat(&app, &fading, &heartbeat_body(1)).await, 200).await;
    expect_error(heartbeat(&app, "sga_forged", &heartbeat_body(60)).await, 401, "unauthorized").await;
    let mut bad = heartbeat_body(60);
    bad["cpu_percent"] = json!(-1);
    expect_error(heartbeat(&app, &online, &bad).await, 400, "validation_failed").await;
    assert_eq!(sample(&app, r#"sigma_agent_heartbeats_total{result="accepted"}"#).await, "3");
    assert_eq!(sample(&app, r#"sigma_agent_heartbeats_total{result="rejected"}"#).await, "2");
    // Three intervals of 1 s later the second agent is offline.
    let deadline = Instant::now() + Duration::from_secs(8);
    while sample(&app, r#"sigma_agents{status="offline"}"#).await != "1" {
        assert!(Instant::now() < deadline, "the agent did not go offline");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(sample(&app, r#"sigma_agents{status="online"}"#).await, "1");
    assert_eq!(sample(&app, r#"sigma_agents{status="pending"}"#).await, "1");
}
