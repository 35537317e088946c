//! Rate limits, login locks, trusted proxies, and counters in Redis shared
//! by two servers.

use crate::common::{BOOTSTRAP_KEY, Backend, PASSWORD, TestApp, both_backends, expect, expect_error};
use reqwest::{Method, Response};
use serde_json::json;
use std::time::Duration;

/// A client address nobody else uses, so that tests sharing counters (in
/// one Redis) do not count each other's requests.
fn unique_client() -> String {
    let b = uuid::Uuid::new_v4().into_bytes();
    format!("10.{}.{}.{}", b[0], b[1], b[2])
}

fn header(r: &Response, name: &str) -> Option<u64> {
    r.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

async fn get_as(app: &TestApp, client: &str, credential: Option<&str>) -> Response {
    let mut rb = app.anonymous(Method::GET, "/api/vps").header("x-forwarded-for", client);
    if let Some(c) = credential {
        rb = rb.header("x-api-key", c);
    }
    rb.send().await.unwrap()
}

both_backends!(
    limits_per_client_and_per_credential,
    failed_logins_lock_an_address_whether_or_not_it_exists,
    redis_counters_are_shared_by_two_servers,
    agent_registrations_are_counted_in_redis
);

async fn limits_per_client_and_per_credential(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.api_key = Some(BOOTSTRAP_KEY.to_owned().into());
        c.rate_limit = 5;
        c.login_rate_limit = 2;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let client = unique_client();
    for remaining in (0..5).rev() {
        let r = get_as(&app, &client, Some(BOOTSTRAP_KEY)).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "ratelimit-limit"), Some(5));
        assert_eq!(header(&r, "ratelimit-remaining"), Some(remaining));
        assert!(header(&r, "ratelimit-reset").is_some_and(|s| (1..=60).contains(&s)));
    }
    let r = get_as(&app, &client, Some(BOOTSTRAP_KEY)).await;
    let retry = header(&r, "retry-after").expect("Retry-After on 429");
    assert!((1..=60).contains(&retry));
    assert_eq!(header(&r, "ratelimit-remaining"), Some(0));
    expect_error(r, 429, "rate_limited").await;

    // Another client address has its own budget; the same key does not.
    let other = unique_client();
    let r = get_as(&app, &other, None).await;
    expect_error(r, 401, "unauthorized").await;
    let r = get_as(&app, &other, Some(BOOTSTRAP_KEY)).await;
    expect_error(r, 429, "rate_limited").await;

    // Login has a stricter budget per address.
    let third = unique_client();
    let login = |who: &str| {
        app.anonymous(Method::POST, "/api/auth/login")
            .header("x-forwarded-for", who.to_owned())
            .json(&json!({"email": "a@example.com", "password": "whatever it is"}))
            .send()
    };
    for _ in 0..2 {
        expect_error(login(&third).await.unwrap(), 401, "invalid_credentials").await;
    }
    let r = login(&third).await.unwrap();
    assert!(header(&r, "retry-after").is_some());
    expect_error(r, 429, "rate_limited").await;

    // The forwarded address is what the audit log records, when a trusted proxy sent it.
    let fourth = unique_client();
    let admin = TestApp::spawn_on(backend, &app.database_url, |c| {
        c.api_key = Some(BOOTSTRAP_KEY.to_owned().into());
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let r = admin
        .request(Method::POST, "/api/providers")
        .header("x-forwarded-for", format!("6.6.6.6, {fourth}"))
        .json(&json!({"name": "DMIT"}))
        .send()
        .await
        .unwrap();
    expect(r, 201).await;
    let log = expect(admin.get("/api/audit-logs?resource_type=provider").await, 200).await;
    assert_eq!(log["data"][0]["ip"], fourth.as_str());
    // Without trust, the header is the client's own word and is ignored.
    let untrusting = TestApp::spawn_on(backend, &app.database_url, |c| {
        c.api_key = Some(BOOTSTRAP_KEY.to_owned().into());
    })
    .await;
    let r = untrusting
        .request(Method::POST, "/api/providers")
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"name": "Other"}))
        .send()
        .await
        .unwrap();
    expect(r, 201).await;
    let log = expect(untrusting.get("/api/audit-logs?resource_type=provider").await, 200).await;
    assert_eq!(log["data"][0]["ip"], "127.0.0.1");
}

async fn failed_logins_lock_an_address_whether_or_not_it_exists(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.api_key = Some(BOOTSTRAP_KEY.to_owned().into());
        c.login_rate_limit = 0;
        c.login_max_failures = 3;
        c.login_lock = Duration::from_secs(2);
    })
    .await;
    app.user("ops@example.com", "operator").await;
    app.user("other@example.com", "readonly").await;
    let attempt = |email: &str, password: &str| {
        app.anonymous(Method::POST, "/api/auth/login").json(&json!({"email": email, "password": password})).send()
    };
    let mut answers = Vec::new();
    for email in ["ops@example.com", "ghost@example.com"] {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let r = attempt(email, "guessed password").await.unwrap();
            seen.push((r.status().as_u16(), r.text().await.unwrap()));
        }
        // The failure that reaches the limit locks the address...
        let r = attempt(email, "guessed password").await.unwrap();
        assert!(header(&r, "retry-after").is_some_and(|s| s <= 2));
        seen.push((r.status().as_u16(), r.text().await.unwrap()));
        // ...and the right password does not open it.
        let r = attempt(email, PASSWORD).await.unwrap();
        seen.push((r.status().as_u16(), r.text().await.unwrap()));
        answers.push(seen);
    }
    let statuses: Vec<u16> = answers[0].iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [401, 401, 429, 429]);
    assert_eq!(answers[0], answers[1], "a lock answers the same whether or not the address exists");
    assert!(answers[0][2].1.contains("rate_limited"));

    // Other addresses are not locked; the lock ends by itself.
    app.login("other@example.com", PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.login("ops@example.com", PASSWORD).await;

    let log = expect(app.get("/api/audit-logs?action=login_failed&per_page=100").await, 200).await;
    assert_eq!(log["total"], 6, "the two guesses and the locking one, for each address");
    let locking = log["data"].as_array().unwrap().iter().filter(|e| e["after"]["locked_until"].is_string()).count();
    assert_eq!(locking, 2);
}

/// The Redis for tests: `SIGMA_TEST_REDIS_URL`, else the usual local port.
fn redis_url() -> String {
    std::env::var("SIGMA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn redis_counters_are_shared_by_two_servers(backend: Backend) {
    let url = redis_url();
    let limiter = sigma_api::ratelimit::RateLimiter::redis(
        sigma_api::ratelimit::Limits { per_client: 1, per_credential: 0, strict_per_client: 0 },
        &url,
    )
    .unwrap();
    if let Err(e) = limiter.connect().await {
        panic!("this test needs Redis at {url} ({e}): start one, or set SIGMA_TEST_REDIS_URL (scripts/test.sh does)");
    }
    let configure = |c: &mut sigma_api::config::Config| {
        c.rate_limit = 4;
        c.redis_url = Some(url.clone().into());
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    };
    let a = TestApp::spawn_with(backend, configure).await;
    let b = TestApp::spawn_with(backend, configure).await;
    let client = unique_client();
    let mut remaining = Vec::new();
    for app in [&a, &b, &a, &b] {
        let r = get_as(app, &client, None).await;
        assert_eq!(r.status(), 200);
        remaining.push(header(&r, "ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, [3, 2, 1, 0], "both servers count in one place");
    expect_error(get_as(&a, &client, None).await, 429, "rate_limited").await;
    expect_error(get_as(&b, &client, None).await, 429, "rate_limited").await;
    assert_eq!(get_as(&b, &unique_client(), None).await.status(), 200);

    // Without Redis, requests pass rather than fail.
    let down = TestApp::spawn_with(backend, |c| {
        c.rate_limit = 1;
        c.redis_url = Some("redis://127.0.0.1:1".to_owned().into());
    })
    .await;
    for _ in 0..2 {
        assert_eq!(down.get("/api/vps").await.status(), 200);
    }
}

/// An agent registration from `client` with a fresh id.
async fn register_as(app: &TestApp, client: &str) -> Response {
    let body = json!({
        "agent_id": uuid::Uuid::now_v7(), "claim_token_hash": "ab".repeat(32), "hostname": "r",
        "agent_version": "0.1.0", "os": "Debian GNU/Linux 13", "arch": "x86_64", "ip_addresses": [],
    });
    app.anonymous(Method::POST, "/api/agent/register")
        .header("x-forwarded-for", client)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn agent_registrations_are_counted_in_redis(backend: Backend) {
    let url = redis_url();
    let configure = |c: &mut sigma_api::config::Config| {
        c.agent_register_limit = 3;
        c.redis_url = Some(url.clone().into());
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    };
    let a = TestApp::spawn_with(backend, configure).await;
    let b = TestApp::spawn_with(backend, configure).await;
    let client = unique_client();
    let mut remaining = Vec::new();
    for app in [&a, &b, &a] {
        let r = register_as(app, &client).await;
        assert_eq!(r.status(), 201);
        remaining.push(header(&r, "ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, [2, 1, 0], "both servers count one address's registrations in one place");
    for app in [&a, &b] {
        let r = register_as(app, &client).await;
        assert!(header(&r, "retry-after").is_some_and(|s| (1..=60).contains(&s)));
        expect_error(r, 429, "rate_limited").await;
    }
    assert_eq!(register_as(&b, &unique_client()).await.status(), 201, "another address has its own budget");
}
