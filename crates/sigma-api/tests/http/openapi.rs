use crate::common::{TestApp, both, expect};
use serde_json::Value;
use std::collections::BTreeSet;

both!(openapi_document_is_served, swagger_ui_is_served);

/// Every route the API answers, as `METHOD path`. A route added to the
/// server but not here, or here but not in the document, fails the test.
const ROUTES: &[&str] = &[
    "GET /api/providers",
    "POST /api/providers",
    "GET /api/providers/{id}",
    "PATCH /api/providers/{id}",
    "PUT /api/providers/{id}",
    "DELETE /api/providers/{id}",
    "GET /api/vps",
    "POST /api/vps",
    "GET /api/vps/{id}",
    "PATCH /api/vps/{id}",
    "PUT /api/vps/{id}",
    "DELETE /api/vps/{id}",
    "POST /api/vps/{id}/retire",
    "POST /api/vps/{id}/restore",
    "GET /api/vps/{id}/ip-history",
    "GET /api/ip-history",
    "GET /api/stats",
    "GET /api/audit-logs",
    "POST /api/auth/login",
    "POST /api/auth/logout",
    "GET /api/auth/me",
    "POST /api/auth/password",
    "POST /api/auth/totp/setup",
    "POST /api/auth/totp/enable",
    "POST /api/auth/totp/disable",
    "GET /api/users",
    "POST /api/users",
    "GET /api/users/{id}",
    "PATCH /api/users/{id}",
    "DELETE /api/users/{id}",
    "GET /api/api-keys",
    "POST /api/api-keys",
    "DELETE /api/api-keys/{id}",
    "GET /api/prometheus/targets",
    "GET /api/ansible/inventory",
    "GET /api/vps/export",
    "GET /api/providers/export",
    "POST /api/vps/import",
    "POST /api/providers/import",
    "GET /healthz",
    "GET /healthz/live",
    "GET /healthz/ready",
    "GET /metrics",
];

fn operations(doc: &Value) -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    ops
}

async fn openapi_document_is_served(app: TestApp) {
    let doc = expect(app.get("/api-docs/openapi.json").await, 200).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented = operations(&doc);
    let expected: BTreeSet<String> = ROUTES.iter().map(|s| s.to_string()).collect();
    assert_eq!(documented, expected, "documented routes differ from the served ones");

    // Every documented route is served: none answers the unmatched-route 404.
    for op in &documented {
        let (method, path) = op.split_once(' ').unwrap();
        let path = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let r = app
            .request(method.parse().unwrap(), &path)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert!(!(status == 404 && body.contains("no such route")) && status != 405, "{op} is not served ({status})");
    }

    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path} documents no success");
            if path.starts_with("/api/") {
                for status in ["401", "500", "503"] {
                    assert!(responses.contains_key(status), "{method} {path} lacks {status}");
                }
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(responses.contains_key(status), "{method} {path} lacks {status}");
                }
            }
            if path.contains("{id}") {
                let params = op["parameters"].as_array().expect("path parameters documented");
                assert!(
                    params.iter().any(|p| p["name"] == "id" && p["in"] == "path"),
                    "{method} {path} lacks the id parameter"
                );
                assert!(responses.contains_key("404"), "{method} {path} lacks 404");
            }
        }
    }
    let list_params: Vec<&str> = doc["paths"]["/api/vps"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "status",
        "country",
        "provider_id",
        "purpose",
        "tag",
        "q",
        "ip",
        "expiring_within_days",
        "monitoring_enabled",
        "deleted",
        "page",
        "per_page",
        "sort",
        "order",
    ] {
        assert!(list_params.contains(&name), "GET /api/vps lacks the {name} parameter");
    }
    // Every reference resolves, and enumerations list the strings on the wire
    // (the web UI's types are generated from this document).
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(schemas.contains_key(name), "{name} is referenced but not defined");
    }
    for (schema, value) in [
        ("VpsStatus", "active"),
        ("Purpose", "vpn-exit"),
        ("IpLabel", "china-telecom"),
        ("BillingCycle", "one-time"),
        ("Source", "manual"),
        ("VpsSort", "expire_date"),
        ("SortOrder", "desc"),
    ] {
        let values = schemas[schema]["enum"].as_array().unwrap();
        assert!(values.iter().any(|v| v == value), "{schema} does not list {value:?}: {values:?}");
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("api_key") && schemes.contains_key("bearer"));

    // The committed snapshot shows every API change in review.
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &pretty).unwrap();
    } else {
        let committed = std::fs::read_to_string(&snapshot).unwrap_or_default();
        assert!(
            committed == pretty,
            "docs/openapi.json is out of date: run `UPDATE_SNAPSHOTS=1 cargo test -p sigma-api --test http openapi` and review the diff"
        );
    }
}

async fn swagger_ui_is_served(app: TestApp) {
    let r = app.get("/swagger-ui/").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().to_lowercase().contains("swagger"));
}
