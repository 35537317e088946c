//! Users, login tokens, the second factor, API keys and their audit trail.

use crate::common::{BOOTSTRAP_KEY, Backend, PASSWORD, TestApp, both_backends, expect, expect_error};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use sigma_api::auth::totp;

/// A server closed by a bootstrap key, without the per-address login
/// budget (these tests log in often; the budget has its own test).
async fn closed(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.api_key = Some(BOOTSTRAP_KEY.to_owned().into());
        c.login_rate_limit = 0;
    })
    .await
}

async fn login_attempt(app: &TestApp, body: Value) -> reqwest::Response {
    app.anonymous(Method::POST, "/api/auth/login").json(&body).send().await.unwrap()
}

async fn status_with(app: &TestApp, credential: &str, path: &str) -> u16 {
    app.as_bearer(Method::GET, path, credential).send().await.unwrap().status().as_u16()
}

/// The whole audit log as text, to look for secrets in it.
async fn audit_text(app: &TestApp) -> (Vec<Value>, String) {
    let log = expect(app.get("/api/audit-logs?per_page=500").await, 200).await;
    let text = log.to_string();
    (log["data"].as_array().unwrap().clone(), text)
}

fn count(entries: &[Value], resource_type: &str, action: &str) -> usize {
    entries.iter().filter(|e| e["resource_type"] == resource_type && e["action"] == action).count()
}

both_backends!(
    login_tokens_and_their_end,
    open_until_the_first_user,
    first_admin_from_the_environment,
    totp_login_replay_and_recovery,
    api_keys_roles_expiry_and_revocation,
    users_are_managed_by_admins
);

async fn login_tokens_and_their_end(backend: Backend) {
    let app = closed(backend).await;
    let (uid, token) = app.user("Ops@Example.com", "operator").await;

    // Wrong password and unknown address: the same answer.
    let wrong = expect_error(
        login_attempt(&app, json!({"email": "ops@example.com", "password": "not the password"})).await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = expect_error(
        login_attempt(&app, json!({"email": "nobody@example.com", "password": "not the password"})).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
    let e = expect_error(login_attempt(&app, json!({})).await, 400, "validation_failed").await;
    assert!(e["details"]["fields"]["email"].is_string() && e["details"]["fields"]["password"].is_string());

    // The token works as a bearer credential; the e-mail matches ignoring case.
    let r = login_attempt(&app, json!({"email": "OPS@example.com", "password": PASSWORD})).await;
    let login = expect(r, 200).await;
    assert_eq!((login["user"]["id"].as_str(), login["expires_in"].as_u64()), (Some(uid.as_str()), Some(43200)));
    assert!(login["user"]["last_login_at"].is_string());
    assert!(login["user"].get("password_hash").is_none());
    let me = expect(app.as_bearer(Method::GET, "/api/auth/me", &token).send().await.unwrap(), 200).await;
    assert_eq!((me["kind"].as_str(), me["role"].as_str()), (Some("user"), Some("operator")));
    assert_eq!(me["user"]["email"], "Ops@Example.com");
    let r = app.as_bearer(Method::POST, "/api/providers", &token).json(&json!({"name": "DMIT"})).send().await.unwrap();
    expect(r, 201).await;
    // A forged or mangled token is refused.
    let mut forged = token.clone();
    forged.pop();
    assert_eq!(status_with(&app, &forged, "/api/vps").await, 401);

    // Logout ends every token of the user.
    let second = app.login("ops@example.com", PASSWORD).await;
    expect(app.as_bearer(Method::POST, "/api/auth/logout", &token).send().await.unwrap(), 204).await;
    assert_eq!(status_with(&app, &token, "/api/vps").await, 401);
    assert_eq!(status_with(&app, &second, "/api/vps").await, 401);

    // A password change (by the user) ends them too; the old password stops working.
    let token = app.login("ops@example.com", PASSWORD).await;
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let r = app.as_bearer(Method::POST, "/api/auth/password", &token).json(&change("wrong one!", "brand new password"));
    expect_error(r.send().await.unwrap(), 401, "invalid_credentials").await;
    let r = app.as_bearer(Method::POST, "/api/auth/password", &token).json(&change(PASSWORD, "short"));
    expect_error(r.send().await.unwrap(), 400, "validation_failed").await;
    assert_eq!(status_with(&app, &token, "/api/vps").await, 200, "failed changes end nothing");
    let r = app.as_bearer(Method::POST, "/api/auth/password", &token).json(&change(PASSWORD, "brand new password"));
    expect(r.send().await.unwrap(), 204).await;
    assert_eq!(status_with(&app, &token, "/api/vps").await, 401);
    expect(login_attempt(&app, json!({"email": "ops@example.com", "password": PASSWORD})).await, 401).await;
    let token = app.login("ops@example.com", "brand new password").await;

    // So does an admin's password reset, and disabling the user.
    expect(app.patch(&format!("/api/users/{uid}"), &json!({"password": "reset by the admin"})).await, 200).await;
    assert_eq!(status_with(&app, &token, "/api/vps").await, 401);
    let token = app.login("ops@example.com", "reset by the admin").await;
    expect(app.patch(&format!("/api/users/{uid}"), &json!({"disabled": true})).await, 200).await;
    assert_eq!(status_with(&app, &token, "/api/vps").await, 401);
    let r = login_attempt(&app, json!({"email": "ops@example.com", "password": "reset by the admin"})).await;
    expect_error(r, 401, "invalid_credentials").await;

    // Every login, failure and logout is in the audit log, no password is.
    let (entries, text) = audit_text(&app).await;
    assert_eq!(count(&entries, "user", "login"), 6);
    assert_eq!(count(&entries, "user", "login_failed"), 4);
    assert_eq!(count(&entries, "user", "logout"), 1);
    assert_eq!(count(&entries, "user", "update"), 3);
    let failed: Vec<_> = entries.iter().filter(|e| e["action"] == "login_failed").collect();
    assert!(failed.iter().any(|e| e["after"]["reason"] == "unknown_email" && e["resource_id"].is_null()));
    assert!(failed.iter().any(|e| e["after"]["reason"] == "disabled" && e["resource_id"] == uid.as_str()));
    let login = entries.iter().find(|e| e["action"] == "login").unwrap();
    assert_eq!((login["actor"]["kind"].as_str(), login["ip"].as_str()), (Some("user"), Some("127.0.0.1")));
    for secret in [PASSWORD, "brand new password", "reset by the admin", "not the password", "$argon2"] {
        assert!(!text.contains(secret), "{secret:?} is in the audit log");
    }
}

async fn open_until_the_first_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    expect(app.get("/api/vps").await, 200).await;
    let me = expect(app.get("/api/auth/me").await, 200).await;
    assert_eq!((me["kind"].as_str(), me["role"].as_str()), (Some("anonymous"), Some("admin")));
    let e = expect_error(
        app.post("/api/users", &json!({"email": "ops@example.com", "password": PASSWORD, "role": "operator"})).await,
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["role"].as_str().unwrap().contains("first user"));
    let r = app.post("/api/users", &json!({"email": "root@example.com", "password": PASSWORD, "role": "admin"})).await;
    expect(r, 201).await;
    // From now on the API needs credentials.
    expect_error(app.get("/api/vps").await, 401, "unauthorized").await;
    let token = app.login("root@example.com", PASSWORD).await;
    assert_eq!(status_with(&app, &token, "/api/vps").await, 200);
}

async fn first_admin_from_the_environment(backend: Backend) {
    let url = crate::common::fresh_database(backend).await;
    let mut app = TestApp::spawn_on(backend, &url, |c| {
        c.admin = Some(("root@example.com".into(), PASSWORD.to_owned().into()));
    })
    .await;
    expect_error(app.get("/api/vps").await, 401, "unauthorized").await;
    let token = app.login("root@example.com", PASSWORD).await;
    let me = expect(app.as_bearer(Method::GET, "/api/auth/me", &token).send().await.unwrap(), 200).await;
    assert_eq!(me["role"], "admin");
    app.stop().await;
    // Later starts leave the users alone, even with other settings.
    let app = TestApp::spawn_on(backend, &url, |c| {
        c.admin = Some(("other@example.com".into(), "another password".to_owned().into()));
    })
    .await;
    let users = expect(app.as_bearer(Method::GET, "/api/users", &token).send().await.unwrap(), 401).await;
    assert_eq!(users["error"]["code"], "unauthorized", "tokens of another start's random secret are refused");
    let token = app.login("root@example.com", PASSWORD).await;
    let users = expect(app.as_bearer(Method::GET, "/api/users", &token).send().await.unwrap(), 200).await;
    assert_eq!(users["total"], 1);
}

fn code(secret: &str, step: i64) -> String {
    totp::code_at(&totp::from_base32(secret).unwrap(), step)
}

async fn totp_login_replay_and_recovery(backend: Backend) {
    let app = closed(backend).await;
    let (uid, token) = app.user("ops@example.com", "operator").await;
    let post = |path: &str, body: Value| app.as_bearer(Method::POST, path, &token).json(&body).send();

    expect_error(post("/api/auth/totp/enable", json!({"code": "123456"})).await.unwrap(), 409, "conflict").await;
    let setup = expect(post("/api/auth/totp/setup", json!({})).await.unwrap(), 200).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Sigma:ops@example.com?secret=") && uri.contains(&secret), "{uri}");
    // Until proven, login does not ask for a code.
    app.login("ops@example.com", PASSWORD).await;

    let step = totp::step_at(Utc::now().timestamp());
    let wrong = format!("{:06}", (code(&secret, step).parse::<u32>().unwrap() + 1) % 1_000_000);
    let wrong = wrong.as_str();
    let e =
        expect_error(post("/api/auth/totp/enable", json!({"code": wrong})).await.unwrap(), 400, "validation_failed")
            .await;
    assert!(e["details"]["fields"]["code"].is_string());
    let enabling = code(&secret, step);
    let enabled = expect(post("/api/auth/totp/enable", json!({"code": enabling})).await.unwrap(), 200).await;
    let recovery: Vec<String> =
        enabled["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(recovery.len(), 10);
    expect_error(post("/api/auth/totp/setup", json!({})).await.unwrap(), 409, "conflict").await;

    let attempt = |totp_code: Option<String>| {
        let mut body = json!({"email": "ops@example.com", "password": PASSWORD});
        if let Some(c) = totp_code {
            body["totp_code"] = c.into();
        }
        login_attempt(&app, body)
    };
    expect_error(attempt(None).await, 401, "totp_required").await;
    expect_error(attempt(Some(wrong.into())).await, 401, "invalid_credentials").await;
    // The code that enabled TOTP is spent; the next one works, once.
    expect_error(attempt(Some(enabling.clone())).await, 401, "invalid_credentials").await;
    let next = code(&secret, step + 1);
    let login = expect(attempt(Some(next.clone())).await, 200).await;
    let token2 = login["access_token"].as_str().unwrap().to_owned();
    expect_error(attempt(Some(next)).await, 401, "invalid_credentials").await;
    // A wrong password with the right code is still wrong.
    let r = login_attempt(
        &app,
        json!({"email": "ops@example.com", "password": "wrong password", "totp_code": code(&secret, step + 1)}),
    );
    expect_error(r.await, 401, "invalid_credentials").await;
    // A recovery code stands in for the app, once.
    expect(attempt(Some(recovery[0].to_uppercase())).await, 200).await;
    expect_error(attempt(Some(recovery[0].clone())).await, 401, "invalid_credentials").await;

    // Turning TOTP off needs a valid code; then login needs none.
    let off = |body: Value| app.as_bearer(Method::POST, "/api/auth/totp/disable", &token2).json(&body).send();
    expect_error(off(json!({"code": recovery[0]})).await.unwrap(), 400, "validation_failed").await;
    let user = expect(off(json!({"code": recovery[1]})).await.unwrap(), 200).await;
    assert_eq!(user["totp_enabled"], false);
    expect(attempt(None).await, 200).await;

    let (entries, text) = audit_text(&app).await;
    assert_eq!(count(&entries, "user", "totp_enable"), 1);
    assert_eq!(count(&entries, "user", "totp_disable"), 1);
    let bad_totp = entries.iter().filter(|e| e["after"]["reason"] == "bad_totp").count();
    assert_eq!(bad_totp, 4, "wrong, replayed, replayed and spent recovery code");
    assert!(entries.iter().any(|e| e["action"] == "totp_enable" && e["resource_id"] == uid.as_str()));
    assert!(!text.contains(&secret), "the TOTP secret is not in the audit log");
    assert!(!text.contains(&recovery[5]), "recovery codes are not in the audit log");
}

async fn api_keys_roles_expiry_and_revocation(backend: Backend) {
    let app = closed(backend).await;
    let (_, ops) = app.user("ops@example.com", "operator").await;
    let (reader_id, reader) = app.user("reader@example.com", "readonly").await;

    // A key takes its maker's role by default, never more.
    let (key, record) = app.api_key(&ops, json!({"name": "ci"})).await;
    assert!(key.starts_with("sigma_") && key.starts_with(record["prefix"].as_str().unwrap()));
    assert_eq!((record["role"].as_str(), record["last_used_at"].is_null()), (Some("operator"), true));
    let r = app.as_bearer(Method::POST, "/api/api-keys", &ops).json(&json!({"name": "x", "role": "admin"}));
    expect_error(r.send().await.unwrap(), 403, "forbidden").await;
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let r = app.as_bearer(Method::POST, "/api/api-keys", &ops).json(&json!({"name": "x", "expires_at": past}));
    let e = expect_error(r.send().await.unwrap(), 400, "validation_failed").await;
    assert!(e["details"]["fields"]["expires_at"].is_string());
    let r = app.as_bearer(Method::POST, "/api/api-keys", &ops).json(&json!({"name": " "}));
    expect_error(r.send().await.unwrap(), 400, "validation_failed").await;

    // Both headers carry a key; it can do what its role allows.
    let r = app.anonymous(Method::POST, "/api/providers").header("x-api-key", &key).json(&json!({"name": "DMIT"}));
    expect(r.send().await.unwrap(), 201).await;
    let (prom, _) = app.api_key(&ops, json!({"name": "prometheus", "role": "readonly"})).await;
    assert_eq!(status_with(&app, &prom, "/api/prometheus/targets").await, 200);
    let r = app.as_bearer(Method::POST, "/api/providers", &prom).json(&json!({"name": "Other"}));
    expect_error(r.send().await.unwrap(), 403, "forbidden").await;
    let me = expect(app.as_bearer(Method::GET, "/api/auth/me", &prom).send().await.unwrap(), 200).await;
    assert_eq!(
        (me["kind"].as_str(), me["name"].as_str(), me["role"].as_str()),
        (Some("api_key"), Some("prometheus"), Some("readonly"))
    );
    let listed = expect(app.as_bearer(Method::GET, "/api/api-keys", &ops).send().await.unwrap(), 200).await;
    assert_eq!(listed["total"], 2);
    assert!(listed["data"].as_array().unwrap().iter().any(|k| k["name"] == "ci" && k["last_used_at"].is_string()));
    assert!(!listed.to_string().contains(&key[10..]), "keys are shown once");

    // Others see only their own; admins may see all.
    let mine = expect(app.as_bearer(Method::GET, "/api/api-keys", &reader).send().await.unwrap(), 200).await;
    assert_eq!(mine["total"], 0);
    let r = app.as_bearer(Method::GET, "/api/api-keys?all=true", &reader).send().await.unwrap();
    expect_error(r, 403, "forbidden").await;
    let all = expect(app.get("/api/api-keys?all=true").await, 200).await;
    assert_eq!(all["total"], 2);
    let ci_id = record["id"].as_str().unwrap();
    let r = app.as_bearer(Method::DELETE, &format!("/api/api-keys/{ci_id}"), &reader).send().await.unwrap();
    expect_error(r, 404, "not_found").await;
    assert_eq!(status_with(&app, &key, "/api/vps").await, 200, "a refused revocation changes nothing");

    // Revoked and expired keys are refused.
    let r = app.as_bearer(Method::DELETE, &format!("/api/api-keys/{ci_id}"), &ops).send().await.unwrap();
    expect(r, 204).await;
    assert_eq!(status_with(&app, &key, "/api/vps").await, 401);
    let soon = (Utc::now() + Duration::milliseconds(1500)).to_rfc3339();
    let (short, _) = app.api_key(&reader, json!({"name": "short-lived", "expires_at": soon})).await;
    assert_eq!(status_with(&app, &short, "/api/vps").await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    assert_eq!(status_with(&app, &short, "/api/vps").await, 401);
    assert_eq!(status_with(&app, "sigma_00000000000000000000000000000000", "/api/vps").await, 401);

    // A key stops working when its owner is disabled.
    let (reader_key, _) = app.api_key(&reader, json!({"name": "reader"})).await;
    expect(app.patch(&format!("/api/users/{reader_id}"), &json!({"disabled": true})).await, 200).await;
    assert_eq!(status_with(&app, &reader_key, "/api/vps").await, 401);

    let (entries, text) = audit_text(&app).await;
    assert_eq!(count(&entries, "api_key", "create"), 4);
    assert_eq!(count(&entries, "api_key", "revoke"), 1);
    let created = entries.iter().find(|e| e["resource_type"] == "api_key" && e["after"]["name"] == "ci").unwrap();
    assert_eq!(
        (created["actor"]["kind"].as_str(), created["actor"]["name"].as_str()),
        (Some("user"), Some("ops@example.com"))
    );
    let provider = entries.iter().find(|e| e["resource_type"] == "provider").unwrap();
    assert_eq!((provider["actor"]["kind"].as_str(), provider["actor"]["name"].as_str()), (Some("api_key"), Some("ci")));
    for secret in [&key, &prom, &short, &reader_key] {
        assert!(!text.contains(secret.as_str()), "an API key is in the audit log");
    }
}

async fn users_are_managed_by_admins(backend: Backend) {
    let app = closed(backend).await;
    let (admin_id, admin) = app.user("root@example.com", "admin").await;
    let (ops_id, _) = app.user("ops@example.com", "operator").await;
    let post = |body: Value| app.as_bearer(Method::POST, "/api/users", &admin).json(&body).send();

    let e = expect_error(
        post(json!({"email": "x", "password": "short", "role": "boss"})).await.unwrap(),
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["role"].is_string() || e["message"].is_string());
    let e =
        expect_error(post(json!({"email": "x", "password": "short"})).await.unwrap(), 400, "validation_failed").await;
    let fields = e["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("email") && fields.contains_key("password") && fields.contains_key("role"));
    let r = post(json!({"email": "OPS@example.com", "password": PASSWORD, "role": "readonly"})).await.unwrap();
    let e = expect_error(r, 409, "conflict").await;
    assert!(e["details"]["fields"]["email"].is_string());

    let list = expect(app.as_bearer(Method::GET, "/api/users", &admin).send().await.unwrap(), 200).await;
    assert_eq!(list["total"], 2);
    let user =
        expect(app.as_bearer(Method::GET, &format!("/api/users/{ops_id}"), &admin).send().await.unwrap(), 200).await;
    assert_eq!((user["role"].as_str(), user["disabled"].as_bool()), (Some("operator"), Some(false)));
    let patch =
        |id: &str, body: Value| app.as_bearer(Method::PATCH, &format!("/api/users/{id}"), &admin).json(&body).send();
    let user =
        expect(patch(&ops_id, json!({"role": "readonly", "email": "reader@example.com"})).await.unwrap(), 200).await;
    assert_eq!((user["role"].as_str(), user["email"].as_str()), (Some("readonly"), Some("reader@example.com")));
    expect_error(patch(&ops_id, json!({"totp_enabled": true})).await.unwrap(), 400, "validation_failed").await;

    // The last admin stays: neither demoted, disabled nor deleted.
    expect_error(patch(&admin_id, json!({"role": "operator"})).await.unwrap(), 409, "conflict").await;
    expect_error(patch(&admin_id, json!({"disabled": true})).await.unwrap(), 409, "conflict").await;
    let r = app.as_bearer(Method::DELETE, &format!("/api/users/{admin_id}"), &admin).send().await.unwrap();
    expect_error(r, 409, "conflict").await;
    let r =
        app.as_bearer(Method::DELETE, &format!("/api/users/{}", uuid::Uuid::now_v7()), &admin).send().await.unwrap();
    expect_error(r, 404, "not_found").await;
    let r = app.as_bearer(Method::DELETE, &format!("/api/users/{ops_id}"), &admin).send().await.unwrap();
    expect(r, 204).await;
    expect(login_attempt(&app, json!({"email": "reader@example.com", "password": PASSWORD})).await, 401).await;

    // Changes are audited once each, failed ones not at all.
    let (entries, _) = audit_text(&app).await;
    assert_eq!(count(&entries, "user", "create"), 2);
    assert_eq!(count(&entries, "user", "update"), 1);
    assert_eq!(count(&entries, "user", "delete"), 1);
    let update = entries.iter().find(|e| e["action"] == "update").unwrap();
    assert_eq!(
        (update["before"]["role"].as_str(), update["after"]["role"].as_str()),
        (Some("operator"), Some("readonly"))
    );
    assert_eq!(update["actor"]["name"], "root@example.com");
}
