//! The role-by-route matrix: every `/api` route of the OpenAPI document,
//! called without credentials and with a login token and an API key of each
//! role, answers as the table below says. A route missing from the table
//! fails the test, so no new route can be left open by accident.

use crate::common::{BOOTSTRAP_KEY, Backend, PASSWORD, TestApp, both_backends, expect};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone, without credentials.
    Public,
    /// Any credential (readonly and up).
    Read,
    Operate,
    Admin,
    /// A user's login token of any role; API keys are refused with 403.
    Session,
}

const ROLES: [&str; 3] = ["readonly", "operator", "admin"];

fn access(route: &str) -> Option<Access> {
    use Access::*;
    Some(match route {
        "POST /api/auth/login" => Public,
        "POST /api/auth/logout"
        | "POST /api/auth/password"
        | "POST /api/auth/totp/setup"
        | "POST /api/auth/totp/enable"
        | "POST /api/auth/totp/disable" => Session,
        "GET /api/auth/me"
        | "GET /api/providers"
        | "GET /api/providers/{id}"
        | "GET /api/providers/export"
        | "GET /api/vps"
        | "GET /api/vps/{id}"
        | "GET /api/vps/{id}/ip-history"
        | "GET /api/vps/export"
        | "GET /api/ip-history"
        | "GET /api/stats"
        | "GET /api/prometheus/targets"
        | "GET /api/ansible/inventory"
        | "GET /api/api-keys"
        | "POST /api/api-keys"
        | "DELETE /api/api-keys/{id}"
        | "GET /api/agents"
        | "GET /api/agents/{id}"
        | "GET /api/agents/{id}/status-history"
        | "GET /api/events" => Read,
        "POST /api/providers"
        | "PATCH /api/providers/{id}"
        | "PUT /api/providers/{id}"
        | "DELETE /api/providers/{id}"
        | "POST /api/providers/import"
        | "POST /api/vps"
        | "PATCH /api/vps/{id}"
        | "PUT /api/vps/{id}"
        | "DELETE /api/vps/{id}"
        | "POST /api/vps/{id}/retire"
        | "POST /api/vps/{id}/restore"
        | "POST /api/vps/import"
        | "POST /api/agents/claim"
        | "POST /api/agents/{id}/rotate-key"
        | "DELETE /api/agents/{id}" => Operate,
        "GET /api/audit-logs"
        | "GET /api/users"
        | "POST /api/users"
        | "GET /api/users/{id}"
        | "PATCH /api/users/{id}"
        | "DELETE /api/users/{id}"
        | "GET /api/agents/enrollment-tokens"
        | "POST /api/agents/enrollment-tokens"
        | "DELETE /api/agents/enrollment-tokens/{id}" => Admin,
        _ => return None,
    })
}

fn rank(role: &str) -> u8 {
    ROLES.iter().position(|r| *r == role).unwrap() as u8
}

/// Whether a credential of `role` (a token when `token`) may call the route.
fn allowed(access: Access, role: &str, token: bool) -> bool {
    match access {
        Access::Public | Access::Read => true,
        Access::Operate => rank(role) >= 1,
        Access::Admin => rank(role) >= 2,
        Access::Session => token,
    }
}

async fn call(app: &TestApp, method: &str, path: &str, credential: Option<&str>) -> (u16, String) {
    let method: Method = method.parse().unwrap();
    let mut rb = app.anonymous(method.clone(), path);
    if let Some(c) = credential {
        rb = rb.bearer_auth(c);
    }
    if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        rb = rb.header("content-type", "application/json").body("{}");
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    // An event stream never ends: its status is the answer.
    if r.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream")) {
        return (status, String::new());
    }
    (status, r.text().await.unwrap())
}

both_backends!(every_route_checks_the_role);

async fn every_route_checks_the_role(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.api_key = Some(BOOTSTRAP_KEY.to_owned().into());
        // This test logs in more often than the per-address login budget allows.
        c.login_rate_limit = 0;
    })
    .await;
    let doc = expect(app.get("/api-docs/openapi.json").await, 200).await;
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        // Agent routes take per-agent keys, checked by their own tests.
        if !path.starts_with("/api/") || path.starts_with("/api/agent/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            routes.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let unlisted: Vec<_> = routes.iter().filter(|r| access(r).is_none()).collect();
    assert!(unlisted.is_empty(), "routes without a role in the matrix: {unlisted:?}");

    let mut users: Vec<(&str, String, String, String)> = Vec::new();
    for role in ROLES {
        let email = format!("{role}@example.com");
        let (_, token) = app.user(&email, role).await;
        let (key, _) = app.api_key(&token, json!({"name": format!("{role} key")})).await;
        users.push((role, email, token, key));
    }

    for route in &routes {
        let access = access(route).unwrap();
        let (method, template) = route.split_once(' ').unwrap();
        let path = template.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let (status, body) = call(&app, method, &path, None).await;
        if access == Access::Public {
            assert!(status != 401 && status != 403, "{route} without credentials: {status} {body}");
        } else {
            assert_eq!(status, 401, "{route} without credentials: {body}");
        }
        for (role, email, token, key) in users.iter_mut() {
            let logout = route == "POST /api/auth/logout";
            for (credential, is_token) in [(token.clone(), true), (key.clone(), false)] {
                let (status, body) = call(&app, method, &path, Some(&credential)).await;
                let what = if is_token { "token" } else { "API key" };
                if allowed(access, role, is_token) {
                    assert!(status != 401 && status != 403, "{route} with a {role} {what}: {status} {body}");
                } else {
                    assert_eq!(status, 403, "{route} with a {role} {what}: {body}");
                    let error: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(error["error"]["code"], "forbidden");
                }
            }
            // Logging out ended every token of the user: log in again.
            if logout {
                *token = app.login(email, PASSWORD).await;
            }
        }
    }

    // Purging a VPS for good is for admins, though trashing is for operators.
    let pid = app.provider("DMIT").await;
    let v = app.vps(&pid, "tokyo-1", json!({})).await;
    let purge = format!("/api/vps/{}?purge=true", v["id"].as_str().unwrap());
    let operator = &users[1].2;
    let r = app.as_bearer(Method::DELETE, &purge, operator).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = app.as_bearer(Method::DELETE, &purge, &users[2].2).send().await.unwrap();
    assert_eq!(r.status(), 204);
}
