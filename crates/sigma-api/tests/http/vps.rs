use crate::common::{TestApp, both, expect, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

both!(
    vps_create_get_and_every_field,
    vps_validation_names_each_field,
    vps_patch_put_and_null,
    vps_unique_addresses_and_hostnames,
    vps_retire_is_idempotent_and_frees,
    vps_trash_restore_purge,
    vps_ip_history_endpoints,
    vps_list_filters_sort_paginate,
    vps_filtered_lists_follow_changes,
    vps_etag_and_if_match,
    vps_concurrent_creates_keep_one,
    stats_endpoint,
);

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|v| v["hostname"].as_str().unwrap().to_owned()).collect()
}

async fn vps_create_get_and_every_field(app: TestApp) {
    let p = app.provider("DMIT").await;
    let body = json!({
        "hostname": "Tokyo-1.example.com", "alias": "Tokyo 1", "provider_id": p, "country": "jp", "city": "Tokyo",
        "dc_name": "TYO2", "ip_addresses": [{"ip": "103.1.2.3", "label": "china-telecom"}, {"ip": "2001:DB8::1"}],
        "ssh_port": 2222, "ssh_user": "root", "status": "active", "purpose": "vpn-exit", "vpn_protocol": "vless",
        "tags": ["IPLC", "cn-optimized", "iplc"], "cpu_cores": 2, "ram_mb": 2048, "disk_gb": 40, "bandwidth_tb": "1.5",
        "price": "59.88", "currency": "eur", "billing_cycle": "annual", "purchase_date": "2026-11-01",
        "expire_date": "2027-11-01", "auto_renew": true, "monitoring_enabled": false, "node_exporter_port": 9101,
        "extra": {"panel": 7}, "notes": "first"
    });
    let r = app.post("/api/vps", &body).await;
    assert!(r.headers().contains_key("etag"));
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/api/vps/"));
    let v = expect(r, 201).await;
    let expected = json!({
        "hostname": "tokyo-1.example.com", "alias": "Tokyo 1", "provider_id": p, "provider_name": "DMIT", "country": "JP",
        "city": "Tokyo", "dc_name": "TYO2",
        "ip_addresses": [{"ip": "103.1.2.3", "label": "china-telecom"}, {"ip": "2001:db8::1", "label": null}],
        "ssh_port": 2222, "ssh_user": "root", "status": "active", "purpose": "vpn-exit", "vpn_protocol": "vless",
        "tags": ["iplc", "cn-optimized"], "cpu_cores": 2, "ram_mb": 2048, "disk_gb": 40, "bandwidth_tb": "1.5",
        "price": "59.88", "currency": "EUR", "billing_cycle": "annual", "monthly_cost": "4.99",
        "purchase_date": "2026-11-01", "expire_date": "2027-11-01", "auto_renew": true, "monitoring_enabled": false,
        "node_exporter_port": 9101, "extra": {"panel": 7}, "notes": "first", "source": "manual", "agent": null,
        "retired_at": null, "deleted_at": null
    });
    for (k, want) in expected.as_object().unwrap() {
        assert_eq!(&v[k], want, "field {k}");
    }
    let id = v["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert!(v["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(expect(app.get(&format!("/api/vps/{id}")).await, 200).await, v);

    // Defaults.
    let d = app.vps(&p, "plain", json!({})).await;
    assert_eq!(
        (
            &d["status"],
            &d["ssh_port"],
            &d["currency"],
            &d["billing_cycle"],
            &d["monitoring_enabled"],
            &d["node_exporter_port"],
            &d["monthly_cost"],
            &d["extra"]
        ),
        (
            &json!("provisioning"),
            &json!(22),
            &json!("USD"),
            &json!("monthly"),
            &json!(true),
            &json!(9100),
            &json!("0"),
            &json!({})
        )
    );
    expect_error(app.get(&format!("/api/vps/{}", uuid::Uuid::now_v7())).await, 404, "not_found").await;
    let e = expect_error(app.get("/api/vps/not-a-uuid").await, 400, "validation_failed").await;
    assert!(e["details"]["fields"]["id"].is_string());
}

async fn vps_validation_names_each_field(app: TestApp) {
    let p = app.provider("P").await;
    let e = expect_error(
        app.post(
            "/api/vps",
            &json!({
                "hostname": "bad_host!", "provider_id": p, "country": "Japan", "purpose": "vpn-exit",
                "ip_addresses": [{"ip": "1.2.3.4"}, {"ip": "999.1.1.1"}], "tags": ["ok", "Not OK"],
                "currency": "dollars", "ssh_port": 70000, "price": "-3", "extra": "text"
            }),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let fields = e["details"]["fields"].as_object().unwrap();
    for f in ["hostname", "country", "ip_addresses[1].ip", "tags", "currency", "ssh_port", "price", "extra"] {
        assert!(fields.contains_key(f), "{f} missing in {e}");
    }
    let e = expect_error(
        app.post("/api/vps", &json!({"hostname": "x", "provider_id": p, "country": "JP", "purpose": "spaceship"}))
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["purpose"].as_str().unwrap().contains("vpn-exit"));
    let e = expect_error(
        app.post(
            "/api/vps",
            &json!({"hostname": "x", "provider_id": uuid::Uuid::now_v7(), "country": "JP", "purpose": "monitor"}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["provider_id"].is_string());
    let e = expect_error(
        app.post("/api/vps", &json!({"hostname": "x", "provider_id": "nope", "country": "JP", "purpose": "monitor"}))
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert!(e["details"]["fields"]["provider_id"].is_string());
    let e = expect_error(app.post("/api/vps", &json!({"hostname": "x", "provider_id": p, "country": "JP", "purpose": "monitor", "expire_date": "2026-13-01"})).await, 400, "validation_failed").await;
    assert!(e["details"]["fields"]["expire_date"].is_string());
    assert_eq!(expect(app.get("/api/vps").await, 200).await["total"], 0, "nothing stored");
}

async fn vps_patch_put_and_null(app: TestApp) {
    let p = app.provider("P").await;
    let q = app.provider("Q").await;
    let v = app.vps(&p, "a", json!({"alias": "A", "city": "Osaka", "price": "10", "tags": ["x"]})).await;
    let id = v["id"].as_str().unwrap();
    let patched = expect(
        app.patch(
            &format!("/api/vps/{id}"),
            &json!({"alias": null, "city": "Tokyo", "billing_cycle": "quarterly", "provider_id": q}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(patched["alias"], Value::Null);
    assert_eq!(patched["city"], "Tokyo");
    assert_eq!(patched["monthly_cost"], "3.3333");
    assert_eq!(patched["provider_name"], "Q");
    assert_eq!(patched["tags"], json!(["x"]), "fields not given stay");
    let put =
        expect(app.send_json(Method::PUT, &format!("/api/vps/{id}"), &json!({"tags": [], "price": null})).await, 200)
            .await;
    assert_eq!(
        (put["tags"].clone(), put["price"].clone(), put["monthly_cost"].clone(), put["city"].clone()),
        (json!([]), Value::Null, json!("0"), json!("Tokyo"))
    );
    let e =
        expect_error(app.patch(&format!("/api/vps/{id}"), &json!({"hostname": null})).await, 400, "validation_failed")
            .await;
    assert!(e["details"]["fields"]["hostname"].is_string());
    let e = expect_error(
        app.patch(&format!("/api/vps/{id}"), &json!({"country": "ZZ", "ssh_port": 0})).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(e["details"]["fields"].as_object().unwrap().len(), 2);
    expect_error(
        app.patch(&format!("/api/vps/{}", uuid::Uuid::now_v7()), &json!({"city": "x"})).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        expect(app.get(&format!("/api/vps/{id}")).await, 200).await["country"],
        "JP",
        "failed patches change nothing"
    );
}

async fn vps_unique_addresses_and_hostnames(app: TestApp) {
    let p = app.provider("P").await;
    let a = app.vps(&p, "a", json!({"ip_addresses": [{"ip": "10.1.1.1"}, {"ip": "2001:db8::7"}]})).await;
    let e = expect_error(app.post("/api/vps", &json!({"hostname": "b", "provider_id": p, "country": "JP", "purpose": "monitor", "ip_addresses": [{"ip": "10.9.9.9"}, {"ip": "2001:DB8:0::7"}]})).await, 409, "conflict").await;
    assert_eq!(e["details"]["conflicting_vps"]["id"], a["id"]);
    assert_eq!(e["details"]["conflicting_vps"]["hostname"], "a");
    assert!(e["details"]["fields"]["ip_addresses[1].ip"].is_string());
    let e = expect_error(
        app.post("/api/vps", &json!({"hostname": "A", "provider_id": p, "country": "JP", "purpose": "monitor"})).await,
        409,
        "conflict",
    )
    .await;
    assert!(e["details"]["fields"]["hostname"].is_string());
    let b = app.vps(&p, "b", json!({"ip_addresses": [{"ip": "10.2.2.2"}]})).await;
    let e = expect_error(
        app.patch(&format!("/api/vps/{}", b["id"].as_str().unwrap()), &json!({"ip_addresses": [{"ip": "10.1.1.1"}]}))
            .await,
        409,
        "conflict",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("10.1.1.1"));
    assert_eq!(expect(app.get("/api/vps").await, 200).await["total"], 2);
}

async fn vps_retire_is_idempotent_and_frees(app: TestApp) {
    let p = app.provider("P").await;
    let a = app.vps(&p, "a", json!({"ip_addresses": [{"ip": "10.1.1.1"}]})).await;
    let id = a["id"].as_str().unwrap();
    let r1 = expect(app.post(&format!("/api/vps/{id}/retire"), &json!({})).await, 200).await;
    assert_eq!(r1["status"], "retired");
    assert!(r1["retired_at"].is_string());
    // Retire takes no body; an empty POST works too.
    let r2 = expect(app.request(Method::POST, &format!("/api/vps/{id}/retire")).send().await.unwrap(), 200).await;
    assert_eq!(r1["retired_at"], r2["retired_at"]);
    assert_eq!(r2["ip_addresses"], a["ip_addresses"], "history kept on the record");
    app.vps(&p, "a", json!({"ip_addresses": [{"ip": "10.1.1.1"}]})).await;
    expect_error(app.post(&format!("/api/vps/{}/retire", uuid::Uuid::now_v7()), &json!({})).await, 404, "not_found")
        .await;
}

async fn vps_trash_restore_purge(app: TestApp) {
    let p = app.provider("P").await;
    let a = app.vps(&p, "a", json!({"ip_addresses": [{"ip": "10.1.1.1"}]})).await;
    let id = a["id"].as_str().unwrap();
    expect(app.delete(&format!("/api/vps/{id}")).await, 204).await;
    assert_eq!(expect(app.get("/api/vps").await, 200).await["total"], 0);
    let trash = expect(app.get("/api/vps?deleted=true").await, 200).await;
    assert_eq!(ids(&trash), ["a"]);
    assert!(trash["data"][0]["deleted_at"].is_string());
    expect_error(app.patch(&format!("/api/vps/{id}"), &json!({"city": "x"})).await, 409, "conflict").await;

    let b = app.vps(&p, "a", json!({"ip_addresses": [{"ip": "10.1.1.1"}]})).await;
    let e = expect_error(app.post(&format!("/api/vps/{id}/restore"), &json!({})).await, 409, "conflict").await;
    assert_eq!(e["details"]["conflicting_vps"]["id"], b["id"]);
    expect(app.post(&format!("/api/vps/{}/retire", b["id"].as_str().unwrap()), &json!({})).await, 200).await;
    let restored = expect(app.post(&format!("/api/vps/{id}/restore"), &json!({})).await, 200).await;
    assert_eq!(restored["deleted_at"], Value::Null);
    expect(app.delete(&format!("/api/vps/{id}?purge=true")).await, 204).await;
    expect_error(app.get(&format!("/api/vps/{id}")).await, 404, "not_found").await;
    expect_error(app.delete(&format!("/api/vps/{id}")).await, 404, "not_found").await;
    let e = expect_error(app.delete(&format!("/api/vps/{id}?purge=maybe")).await, 400, "validation_failed").await;
    assert!(e["details"]["fields"]["purge"].is_string());
}

async fn vps_ip_history_endpoints(app: TestApp) {
    let p = app.provider("P").await;
    let a = app.vps(&p, "a", json!({"ip_addresses": [{"ip": "10.1.1.1"}]})).await;
    let id = a["id"].as_str().unwrap();
    expect(app.patch(&format!("/api/vps/{id}"), &json!({"ip_addresses": [{"ip": "10.1.1.2"}]})).await, 200).await;
    expect(app.post(&format!("/api/vps/{id}/retire"), &json!({})).await, 200).await;
    let b = app.vps(&p, "b", json!({"ip_addresses": [{"ip": "10.1.1.1"}]})).await;

    let h = expect(app.get(&format!("/api/vps/{id}/ip-history")).await, 200).await;
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert!(h.iter().all(|e| e["released_at"].is_string() && e["hostname"] == "a"));
    let who = expect(app.get("/api/ip-history?ip=10.1.1.1").await, 200).await;
    let who = who.as_array().unwrap();
    assert_eq!(who.len(), 2);
    assert_eq!((&who[0]["vps_id"], &who[0]["released_at"]), (&b["id"], &Value::Null));
    assert_eq!(who[1]["vps_id"], a["id"]);
    expect_error(app.get("/api/ip-history").await, 400, "validation_failed").await;
    expect_error(app.get("/api/ip-history?ip=nope").await, 400, "validation_failed").await;
    expect_error(app.get(&format!("/api/vps/{}/ip-history", uuid::Uuid::now_v7())).await, 404, "not_found").await;
}

async fn vps_list_filters_sort_paginate(app: TestApp) {
    let p = app.provider("P").await;
    let q = app.provider("Q").await;
    let today = chrono::Utc::now().date_naive();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    app.vps(&p, "alpha", json!({"status": "active", "tags": ["iplc", "cn"], "ip_addresses": [{"ip": "103.1.2.3"}], "expire_date": day(3), "price": "5", "notes": "needle"})).await;
    app.vps(&q, "bravo", json!({"status": "active", "country": "DE", "purpose": "monitor", "tags": ["iplc"], "ip_addresses": [{"ip": "103.1.9.9"}], "expire_date": day(-1), "price": "12"})).await;
    app.vps(&p, "charlie", json!({"monitoring_enabled": false, "ip_addresses": [{"ip": "104.0.0.1"}], "expire_date": day(40), "price": "1"})).await;

    let list = |query: &'static str| {
        let app = &app;
        async move { ids(&expect(app.get(&format!("/api/vps?{query}")).await, 200).await) }
    };
    assert_eq!(list("sort=hostname").await, ["alpha", "bravo", "charlie"]);
    assert_eq!(list("status=active&sort=hostname").await, ["alpha", "bravo"]);
    assert_eq!(list("status=active&status=provisioning&sort=hostname").await, ["alpha", "bravo", "charlie"]);
    assert_eq!(list("country=de").await, ["bravo"]);
    assert_eq!(list("purpose=monitor").await, ["bravo"]);
    assert_eq!(list(Box::leak(format!("provider_id={q}").into_boxed_str())).await, ["bravo"]);
    assert_eq!(list("tag=iplc&sort=hostname").await, ["alpha", "bravo"]);
    assert_eq!(list("tag=iplc&tag=cn").await, ["alpha"]);
    assert_eq!(list("q=NEEDLE").await, ["alpha"]);
    assert_eq!(list("q=104.0.0").await, ["charlie"]);
    assert_eq!(list("ip=103.1.0.0/16&sort=hostname").await, ["alpha", "bravo"]);
    assert_eq!(list("ip=103.1.9.9").await, ["bravo"]);
    assert_eq!(list("expiring_within_days=7&sort=hostname").await, ["alpha", "bravo"]);
    assert_eq!(list("monitoring_enabled=false").await, ["charlie"]);
    assert_eq!(list("sort=monthly_cost&order=desc").await, ["bravo", "alpha", "charlie"]);
    assert_eq!(list("sort=expire_date").await, ["bravo", "alpha", "charlie"]);
    assert_eq!(list("sort=created_at&order=desc").await, ["charlie", "bravo", "alpha"]);

    let page = expect(app.get("/api/vps?sort=hostname&per_page=2&page=2").await, 200).await;
    assert_eq!((page["total"].as_i64(), page["page"].as_i64(), page["per_page"].as_i64()), (Some(3), Some(2), Some(2)));
    assert_eq!(ids(&page), ["charlie"]);
    for bad in [
        "per_page=501",
        "page=0",
        "sort=price",
        "order=up",
        "ip=10.0.0.0/99",
        "country=XX",
        "tag=Bad%20Tag",
        "status=gone",
        "expiring_within_days=-1",
    ] {
        let e = expect_error(app.get(&format!("/api/vps?{bad}")).await, 400, "validation_failed").await;
        let field = bad.split('=').next().unwrap();
        assert!(e["details"]["fields"][field].is_string(), "{bad}: {e}");
    }
}

/// A filtered list is kept under the fleet's version: asking again is served
/// from the cache, and every kind of change shows in the very next answer.
async fn vps_filtered_lists_follow_changes(app: TestApp) {
    let p = app.provider("P").await;
    let a = app
        .vps(
            &p,
            "alpha",
            json!({"status": "active", "tags": ["iplc"], "ip_addresses": [{"ip": "103.1.2.3"}], "notes": "osaka rack"}),
        )
        .await;
    let b = app
        .vps(&p, "bravo", json!({"status": "active", "tags": ["iplc"], "ip_addresses": [{"ip": "103.1.9.9"}]}))
        .await;
    let page = |query: &'static str| {
        let app = &app;
        async move { expect(app.get(&format!("/api/vps?{query}")).await, 200).await }
    };
    let hits = || {
        let app = &app;
        async move {
            let text = app.get("/metrics").await.text().await.unwrap();
            let line = "sigma_fleet_cache_lookups_total{result=\"hit\"} ";
            text.lines().find_map(|l| l.strip_prefix(line)).map_or(0, |n| n.parse::<u64>().unwrap())
        }
    };
    let tagged = "tag=iplc&sort=hostname&per_page=1";
    assert_eq!(ids(&page(tagged).await), ["alpha"]);
    let before = hits().await;
    let second = page("tag=iplc&sort=hostname&per_page=1&page=2").await;
    assert_eq!((ids(&second), second["total"].as_i64()), (vec!["bravo".to_owned()], Some(2)));
    let past = page("tag=iplc&sort=hostname&per_page=1&page=9").await;
    assert_eq!((ids(&past).len(), past["total"].as_i64()), (0, Some(2)), "a page past the end is empty");
    assert_eq!(hits().await, before + 2, "the other pages come from the kept list");

    // A new match, a renamed one, a changed address, a retired one, one in
    // the trash and one restored: each shows at once.
    let c = app.vps(&p, "charlie", json!({"status": "active", "tags": ["iplc"], "notes": "osaka"})).await;
    assert_eq!(ids(&page("tag=iplc&sort=hostname").await), ["alpha", "bravo", "charlie"]);
    assert_eq!(ids(&page("q=osaka&sort=hostname").await), ["alpha", "charlie"]);
    let path = |v: &Value| format!("/api/vps/{}", v["id"].as_str().unwrap());
    expect(app.patch(&path(&a), &json!({"hostname": "zulu"})).await, 200).await;
    assert_eq!(ids(&page("tag=iplc&sort=hostname").await), ["bravo", "charlie", "zulu"]);
    assert_eq!(ids(&page("ip=103.1.0.0/16&sort=hostname").await), ["bravo", "zulu"]);
    expect(app.patch(&path(&b), &json!({"ip_addresses": [{"ip": "104.1.1.1"}]})).await, 200).await;
    assert_eq!(ids(&page("ip=103.1.0.0/16&sort=hostname").await), ["zulu"]);
    expect(app.post(&format!("{}/retire", path(&c)), &json!({})).await, 200).await;
    assert_eq!(ids(&page("tag=iplc&status=active&sort=hostname").await), ["bravo", "zulu"]);
    expect(app.delete(&path(&b)).await, 204).await;
    assert_eq!(ids(&page("tag=iplc&status=active&sort=hostname").await), ["zulu"]);
    assert_eq!(ids(&page("tag=iplc&deleted=true").await), ["bravo"]);
    expect(app.post(&format!("{}/restore", path(&b)), &json!({})).await, 200).await;
    assert_eq!(ids(&page("tag=iplc&status=active&sort=hostname").await), ["bravo", "zulu"]);
    expect(app.patch(&path(&a), &json!({"tags": []})).await, 200).await;
    assert_eq!(ids(&page("tag=iplc&status=active&sort=hostname").await), ["bravo"]);

    // A list by columns only keeps its total, and reads its page afresh.
    let jp = page("country=jp&sort=hostname&per_page=1").await;
    assert_eq!((ids(&jp), jp["total"].as_i64()), (vec!["bravo".to_owned()], Some(3)));
    let before = hits().await;
    assert_eq!(ids(&page("country=jp&sort=hostname&per_page=1&page=3").await), ["zulu"]);
    assert_eq!(hits().await, before + 1, "the total was kept");
    expect(app.patch(&path(&b), &json!({"country": "DE"})).await, 200).await;
    let jp = page("country=jp&sort=hostname&per_page=1").await;
    assert_eq!((ids(&jp), jp["total"].as_i64()), (vec!["charlie".to_owned()], Some(2)));
    expect(app.delete(&path(&c)).await, 204).await;
    let jp = page("country=jp&sort=hostname").await;
    assert_eq!((ids(&jp), jp["total"].as_i64()), (vec!["zulu".to_owned()], Some(1)));
}

async fn vps_etag_and_if_match(app: TestApp) {
    let p = app.provider("P").await;
    let v = app.vps(&p, "a", json!({})).await;
    let path = format!("/api/vps/{}", v["id"].as_str().unwrap());
    let etag = app.get(&path).await.headers()["etag"].to_str().unwrap().to_owned();
    let r = app
        .request(Method::PATCH, &path)
        .header("if-match", &etag)
        .json(&json!({"notes": "one"}))
        .send()
        .await
        .unwrap();
    expect(r, 200).await;
    for method in [Method::PATCH, Method::PUT] {
        let r =
            app.request(method, &path).header("if-match", &etag).json(&json!({"notes": "two"})).send().await.unwrap();
        expect_error(r, 412, "precondition_failed").await;
    }
    assert_eq!(expect(app.get(&path).await, 200).await["notes"], "one");
    let r = app
        .request(Method::PATCH, &path)
        .header("if-match", "*")
        .json(&json!({"notes": "three"}))
        .send()
        .await
        .unwrap();
    expect(r, 200).await;
}

async fn vps_concurrent_creates_keep_one(app: TestApp) {
    let p = app.provider("P").await;
    let bodies: Vec<_> = (0..6)
        .map(|i| json!({"hostname": format!("r{i}"), "provider_id": p, "country": "JP", "purpose": "vpn-exit", "ip_addresses": [{"ip": "198.51.100.1"}]}))
        .collect();
    let attempts = bodies.iter().map(|b| app.post("/api/vps", b));
    let statuses: Vec<u16> = futures::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(expect(app.get("/api/vps").await, 200).await["total"], 1);
}

async fn stats_endpoint(app: TestApp) {
    let p = app.provider("P").await;
    let today = chrono::Utc::now().date_naive();
    app.vps(
        &p,
        "a",
        json!({"status": "active", "price": "10", "expire_date": (today + chrono::Duration::days(2)).to_string()}),
    )
    .await;
    app.vps(&p, "b", json!({"price": "30", "billing_cycle": "quarterly", "country": "DE"})).await;
    let s = expect(app.get("/api/stats").await, 200).await;
    assert_eq!(s["total_vps"], 2);
    assert_eq!(s["by_status"]["active"], 1);
    assert_eq!(s["by_status"]["provisioning"], 1);
    assert_eq!(s["by_country"]["DE"], 1);
    assert_eq!(s["by_provider"][0]["count"], 2);
    assert_eq!((s["expiring_7d"].as_i64(), s["expiring_30d"].as_i64()), (Some(1), Some(1)));
    assert_eq!(s["monthly_cost"], json!([{"currency": "USD", "amount": "20"}]));
    assert_eq!(s["agents"], json!({"online": 0, "offline": 0, "pending": 0}));
}
