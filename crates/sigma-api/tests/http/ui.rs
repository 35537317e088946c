//! The web UI at `/`: files, the UI's own routes, caching, precompressed
//! forms, and the API left as it is. A small set of files stands in for
//! `web/dist`; with the `ui` feature the real, embedded build is checked too.

use crate::common::{Backend, TestApp, both_backends, expect, expect_error};
use reqwest::Method;
use sigma_api::ui::Ui;
use std::sync::Arc;

both_backends!(
    ui_index_and_its_routes,
    ui_assets_are_cached_and_precompressed,
    ui_leaves_the_api_alone,
    without_ui_the_root_says_how_to_build,
    this_binary_serves_what_it_was_built_with
);

const INDEX: &str = r#"<!doctype html><html><head><script type="module" src="/assets/index-Ab12Cd.js"></script></head><body><div id="root"></div></body></html>"#;
const SCRIPT: &str = "console.log('the plain form');";

fn fixture() -> Option<Arc<Ui>> {
    Some(Arc::new(Ui::new([
        ("index.html", INDEX.as_bytes().to_vec()),
        ("index.html.br", b"index, brotli".to_vec()),
        ("assets/index-Ab12Cd.js", SCRIPT.as_bytes().to_vec()),
        ("assets/index-Ab12Cd.js.gz", b"script, gzip".to_vec()),
        ("assets/index-Ab12Cd.js.br", b"script, brotli".to_vec()),
        ("favicon.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()),
    ])))
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

async fn get_with(app: &TestApp, path: &str, accept_encoding: &str) -> reqwest::Response {
    app.request(Method::GET, path).header("accept-encoding", accept_encoding).send().await.unwrap()
}

async fn ui_index_and_its_routes(backend: Backend) {
    let app = TestApp::spawn_with_ui(backend, fixture()).await;
    for path in ["/", "/index.html", "/vps", "/vps/0193c7a2-7f00-7000-8000-000000000001", "/providers?q=dmit&page=2"] {
        let r = app.get(path).await;
        assert_eq!(header(&r, "content-type").as_deref(), Some("text/html; charset=utf-8"), "{path}");
        assert_eq!(header(&r, "cache-control").as_deref(), Some("no-cache"), "index.html is revalidated ({path})");
        assert_eq!(header(&r, "content-encoding"), None, "nothing compressed was asked for ({path})");
        assert_eq!(expect(r, 200).await, INDEX, "{path} shows the UI");
    }
    let r = get_with(&app, "/vps", "gzip, deflate, br").await;
    assert_eq!(header(&r, "content-encoding").as_deref(), Some("br"));
    assert_eq!(header(&r, "vary").as_deref(), Some("accept-encoding"));
    assert_eq!(r.bytes().await.unwrap(), "index, brotli", "the precompressed index is sent as it is");
    let r = get_with(&app, "/", "gzip").await;
    assert_eq!(header(&r, "content-encoding"), None, "index.html has no gzip form here");

    // Revalidation: the ETag answers 304 with no body.
    let etag = header(&app.get("/").await, "etag").expect("an ETag on index.html");
    let r = app.request(Method::GET, "/").header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag").as_deref(), Some(etag.as_str()));
    assert!(r.bytes().await.unwrap().is_empty());
    let r = app.request(Method::GET, "/").header("if-none-match", "W/\"0-0\"").send().await.unwrap();
    assert_eq!(r.status(), 200, "another ETag gets the file");

    // HEAD answers the headers of GET.
    let r = app.request(Method::HEAD, "/vps").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-length"), Some(INDEX.len().to_string()));
    assert!(r.bytes().await.unwrap().is_empty());

    let r = app.get("/favicon.svg").await;
    assert_eq!(header(&r, "content-type").as_deref(), Some("image/svg+xml"));
    assert_eq!(
        header(&r, "cache-control").as_deref(),
        Some("no-cache"),
        "a file without a hash in its name is revalidated"
    );
    assert_eq!(header(&r, "x-content-type-options").as_deref(), Some("nosniff"));
    expect(r, 200).await;
}

async fn ui_assets_are_cached_and_precompressed(backend: Backend) {
    let app = TestApp::spawn_with_ui(backend, fixture()).await;
    let path = "/assets/index-Ab12Cd.js";
    for (accept, encoding, body) in [
        ("", None, SCRIPT),
        ("identity", None, SCRIPT),
        ("gzip, deflate, br, zstd", Some("br"), "script, brotli"),
        ("gzip", Some("gzip"), "script, gzip"),
        ("br;q=0, gzip;q=0.8", Some("gzip"), "script, gzip"),
        ("gzip;q=1.0, br;q=0.5", Some("gzip"), "script, gzip"),
        ("*", Some("br"), "script, brotli"),
    ] {
        let r = get_with(&app, path, accept).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type").as_deref(), Some("text/javascript; charset=utf-8"));
        assert_eq!(header(&r, "cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
        assert_eq!(header(&r, "vary").as_deref(), Some("accept-encoding"));
        assert_eq!(header(&r, "content-encoding").as_deref(), encoding, "Accept-Encoding: {accept:?}");
        assert_eq!(r.bytes().await.unwrap(), body, "Accept-Encoding: {accept:?}");
    }
    // A missing build file is a 404, not the index page.
    for path in ["/assets/index-Zz99Zz.js", "/assets/index-Ab12Cd.js.map", "/robots.txt", "/wp-login.php"] {
        expect_error(app.get(path).await, 404, "not_found").await;
    }
}

async fn ui_leaves_the_api_alone(backend: Backend) {
    let app = TestApp::spawn_with_ui(backend, fixture()).await;
    expect_error(app.get("/api/nope").await, 404, "not_found").await;
    expect_error(app.get("/api").await, 404, "not_found").await;
    expect_error(app.get("/api/vps/0193c7a2-7f00-7000-8000-000000000001/nope").await, 404, "not_found").await;
    expect_error(app.post("/vps", &serde_json::json!({})).await, 404, "not_found").await;
    assert_eq!(expect(app.get("/api/vps").await, 200).await["total"], 0);
    assert_eq!(expect(app.get("/healthz/live").await, 200).await["status"], "ok");
    let doc = expect(app.get("/api-docs/openapi.json").await, 200).await;
    assert!(doc["paths"]["/api/vps"].is_object());
}

async fn without_ui_the_root_says_how_to_build(backend: Backend) {
    let app = TestApp::spawn_with_ui(backend, None).await;
    let r = app.get("/").await;
    assert_eq!(header(&r, "content-type").as_deref(), Some("text/html; charset=utf-8"));
    let page = expect(r, 200).await;
    let page = page.as_str().unwrap();
    for needed in ["without its web UI", "make run", "npm run build", "--features ui", "/swagger-ui"] {
        assert!(page.contains(needed), "{needed:?} missing from\n{page}");
    }
    expect_error(app.get("/vps").await, 404, "not_found").await;
    expect_error(app.get("/assets/index-Ab12Cd.js").await, 404, "not_found").await;
    assert_eq!(expect(app.get("/api/vps").await, 200).await["total"], 0);
}

/// The real `web/dist` when built with the `ui` feature: the index and every
/// file it loads, each cached for a year and sent compressed; without the
/// feature, the page that says how to build it.
async fn this_binary_serves_what_it_was_built_with(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let index = app.get("/").await.text().await.unwrap();
    if !cfg!(feature = "ui") {
        assert!(index.contains("--features ui"), "{index}");
        return;
    }
    assert!(index.contains(r#"<div id="root">"#), "{index}");
    let linked: Vec<&str> = index
        .split(['"', '\''])
        .filter(|part| part.starts_with("/assets/") && (part.ends_with(".js") || part.ends_with(".css")))
        .collect();
    assert!(linked.iter().any(|p| p.ends_with(".js")), "index.html loads a script: {index}");
    for path in linked {
        let r = get_with(&app, path, "gzip, deflate, br").await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "cache-control").as_deref(), Some("public, max-age=31536000, immutable"), "{path}");
        assert_eq!(header(&r, "content-encoding").as_deref(), Some("br"), "{path} has its brotli form");
        let r = app.get(path).await;
        assert_eq!(header(&r, "content-encoding"), None);
        assert!(!r.bytes().await.unwrap().is_empty());
    }
    assert_eq!(app.get("/vps?status=active").await.text().await.unwrap(), index, "the UI's routes get the index");
}
