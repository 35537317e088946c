use crate::common::{TestApp, both, expect, expect_error};
use reqwest::Method;
use serde_json::json;

both!(
    provider_crud,
    provider_names_are_unique,
    provider_delete_is_refused_while_referenced,
    provider_etag_guards_updates
);

async fn provider_crud(app: TestApp) {
    let created = expect(
        app.post(
            "/api/providers",
            &json!({"name": "DMIT", "country": "us", "website": "https://dmit.io", "api_supported": true, "rating": 5}),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["country"], "US");
    assert_eq!((created["vps_count"].as_i64(), created["active_vps_count"].as_i64()), (Some(0), Some(0)));

    let got = expect(app.get(&format!("/api/providers/{id}")).await, 200).await;
    assert_eq!(got, created);

    let patched =
        expect(app.patch(&format!("/api/providers/{id}"), &json!({"notes": "fast", "website": null})).await, 200).await;
    assert_eq!(
        (patched["notes"].as_str(), patched["website"].is_null(), patched["name"].as_str()),
        (Some("fast"), true, Some("DMIT"))
    );
    let put =
        expect(app.send_json(Method::PUT, &format!("/api/providers/{id}"), &json!({"rating": 3})).await, 200).await;
    assert_eq!(
        (put["rating"].as_i64(), put["notes"].as_str()),
        (Some(3), Some("fast")),
        "PUT changes only what is given"
    );

    app.provider("RackNerd").await;
    app.provider("BandwagonHost").await;
    let page = expect(app.get("/api/providers?per_page=2&page=1").await, 200).await;
    assert_eq!((page["total"].as_i64(), page["page"].as_i64(), page["per_page"].as_i64()), (Some(3), Some(1), Some(2)));
    let names: Vec<_> =
        page["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["BandwagonHost", "DMIT"]);
    let found = expect(app.get("/api/providers?q=NERD").await, 200).await;
    assert_eq!(found["data"][0]["name"], "RackNerd");

    let e = expect_error(
        app.post("/api/providers", &json!({"name": " ", "country": "XX", "rating": 9, "website": "ftp://x"})).await,
        400,
        "validation_failed",
    )
    .await;
    for f in ["name", "country", "rating", "website"] {
        assert!(e["details"]["fields"][f].is_string(), "{f} in {e}");
    }

    expect(app.delete(&format!("/api/providers/{id}")).await, 204).await;
    expect_error(app.get(&format!("/api/providers/{id}")).await, 404, "not_found").await;
    expect_error(app.delete(&format!("/api/providers/{id}")).await, 404, "not_found").await;
    expect_error(app.patch(&format!("/api/providers/{id}"), &json!({"notes": "x"})).await, 404, "not_found").await;
}

async fn provider_names_are_unique(app: TestApp) {
    app.provider("DMIT").await;
    let e = expect_error(app.post("/api/providers", &json!({"name": "dmit"})).await, 409, "conflict").await;
    assert!(e["message"].as_str().unwrap().contains("DMIT"));
    let other = app.provider("Vultr").await;
    expect_error(app.patch(&format!("/api/providers/{other}"), &json!({"name": "Dmit"})).await, 409, "conflict").await;
    assert_eq!(expect(app.get("/api/providers").await, 200).await["total"], 2);
}

async fn provider_delete_is_refused_while_referenced(app: TestApp) {
    let p = app.provider("P").await;
    let v = app.vps(&p, "a", json!({"status": "active"})).await;
    let vid = v["id"].as_str().unwrap();
    let counted = expect(app.get(&format!("/api/providers/{p}")).await, 200).await;
    assert_eq!((counted["vps_count"].as_i64(), counted["active_vps_count"].as_i64()), (Some(1), Some(1)));
    expect_error(app.delete(&format!("/api/providers/{p}")).await, 409, "conflict").await;
    expect(app.post(&format!("/api/vps/{vid}/retire"), &json!({})).await, 200).await;
    expect_error(app.delete(&format!("/api/providers/{p}")).await, 409, "conflict").await;
    expect(app.delete(&format!("/api/vps/{vid}")).await, 204).await;
    expect_error(app.delete(&format!("/api/providers/{p}")).await, 409, "conflict").await;
    expect(app.delete(&format!("/api/vps/{vid}?purge=true")).await, 204).await;
    expect(app.delete(&format!("/api/providers/{p}")).await, 204).await;
}

async fn provider_etag_guards_updates(app: TestApp) {
    let p = app.provider("P").await;
    let r = app.get(&format!("/api/providers/{p}")).await;
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let ok = app
        .request(Method::PATCH, &format!("/api/providers/{p}"))
        .header("if-match", &etag)
        .json(&json!({"notes": "1"}))
        .send()
        .await
        .unwrap();
    let new_etag = ok.headers()["etag"].to_str().unwrap().to_owned();
    expect(ok, 200).await;
    assert_ne!(etag, new_etag);
    let stale = app
        .request(Method::PATCH, &format!("/api/providers/{p}"))
        .header("if-match", &etag)
        .json(&json!({"notes": "2"}))
        .send()
        .await
        .unwrap();
    expect_error(stale, 412, "precondition_failed").await;
    assert_eq!(
        expect(app.get(&format!("/api/providers/{p}")).await, 200).await["notes"],
        "1",
        "a stale write changes nothing"
    );
}
