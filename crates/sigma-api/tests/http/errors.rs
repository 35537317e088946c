use crate::common::{Backend, TestApp, both, both_backends, expect, expect_error};
use reqwest::Method;
use serde_json::json;

both!(framework_rejections_use_the_error_shape, request_ids);
both_backends!(api_key_is_required_when_set, body_limit_is_enforced);

async fn framework_rejections_use_the_error_shape(app: TestApp) {
    // Bad JSON, wrong content type, empty body, wrong shape.
    let r = app
        .request(Method::POST, "/api/providers")
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_json").await;
    let r = app
        .request(Method::POST, "/api/providers")
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    expect_error(r, 415, "unsupported_media_type").await;
    let r = app.request(Method::POST, "/api/providers").send().await.unwrap();
    expect_error(r, 415, "unsupported_media_type").await;
    let r =
        app.request(Method::POST, "/api/providers").header("content-type", "application/json").send().await.unwrap();
    expect_error(r, 400, "bad_request").await;
    expect_error(app.post("/api/providers", &json!([1, 2])).await, 400, "invalid_json").await;
    let r = app
        .request(Method::POST, "/api/providers")
        .header("content-type", "application/json")
        .body("{\"name\": \"a\"} trailing")
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_json").await;
    let e = expect_error(app.post("/api/providers", &json!({"name": 5})).await, 400, "validation_failed").await;
    assert!(e["details"]["fields"]["name"].is_string());
    // Unknown routes and wrong methods.
    expect_error(app.get("/api/nope").await, 404, "not_found").await;
    expect_error(app.get("/nope.php").await, 404, "not_found").await;
    let r = app.request(Method::DELETE, "/api/stats").send().await.unwrap();
    assert!(r.headers().contains_key("allow"));
    expect_error(r, 405, "method_not_allowed").await;
    expect_error(
        app.request(Method::PATCH, "/api/vps").json(&json!({})).send().await.unwrap(),
        405,
        "method_not_allowed",
    )
    .await;
    // Nothing was stored by any of it.
    assert_eq!(expect(app.get("/api/providers").await, 200).await["total"], 0);
}

async fn request_ids(app: TestApp) {
    let r = app.get("/api/stats").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let r = app.request(Method::GET, "/nope").header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-me-42");
    let r = app.request(Method::GET, "/healthz/live").send().await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
}

async fn api_key_is_required_when_set(backend: Backend) {
    let key = "test-key-0123456789abcdef";
    let app = TestApp::spawn_with(backend, |c| c.api_key = Some(key.to_owned().into())).await;
    let anonymous = reqwest::Client::new();
    let r = anonymous.get(app.url("/api/vps")).send().await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    expect_error(r, 401, "unauthorized").await;
    let r = anonymous.get(app.url("/api/vps")).header("x-api-key", "wrong-key-0123456789").send().await.unwrap();
    expect_error(r, 401, "unauthorized").await;
    let r = anonymous.get(app.url("/api/vps")).bearer_auth("wrong").send().await.unwrap();
    expect_error(r, 401, "unauthorized").await;
    let r = anonymous.post(app.url("/api/providers")).json(&json!({"name": "x"})).send().await.unwrap();
    expect_error(r, 401, "unauthorized").await;
    expect(anonymous.get(app.url("/api/vps")).header("x-api-key", key).send().await.unwrap(), 200).await;
    expect(anonymous.get(app.url("/api/vps")).bearer_auth(key).send().await.unwrap(), 200).await;
    expect(
        anonymous.post(app.url("/api/providers")).bearer_auth(key).json(&json!({"name": "x"})).send().await.unwrap(),
        201,
    )
    .await;
    // Service endpoints stay open.
    for path in ["/healthz", "/healthz/live", "/healthz/ready", "/metrics", "/api-docs/openapi.json"] {
        assert_eq!(anonymous.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
    }
    // The typed client carries the key.
    assert_eq!(app.client.list_providers(&Default::default()).await.unwrap().total, 1);
}

async fn body_limit_is_enforced(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.body_limit = 4096).await;
    let big = json!({"name": "x", "notes": "n".repeat(10_000)});
    expect_error(app.post("/api/providers", &big).await, 413, "payload_too_large").await;
    expect(app.post("/api/providers", &json!({"name": "x", "notes": "n".repeat(1000)})).await, 201).await;
    assert_eq!(expect(app.get("/api/providers").await, 200).await["total"], 1);
}
