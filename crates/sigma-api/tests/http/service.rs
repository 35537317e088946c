use crate::common::{Backend, TestApp, both, both_backends, expect, expect_error};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

both!(health_endpoints, metrics_endpoint);
both_backends!(graceful_shutdown_finishes_requests_in_flight);

async fn health_endpoints(app: TestApp) {
    let h = expect(app.get("/healthz").await, 200).await;
    assert_eq!((h["status"].as_str(), h["database_reachable"].as_bool()), (Some("ok"), Some(true)));
    let backend = if app.backend == Backend::Sqlite { "sqlite" } else { "postgres" };
    assert_eq!(h["database"], backend);
    assert_eq!(expect(app.get("/healthz/live").await, 200).await, json!({"status": "ok"}));
    assert_eq!(expect(app.get("/healthz/ready").await, 200).await["status"], "ok");
}

async fn metrics_endpoint(app: TestApp) {
    let p = app.provider("P").await;
    app.vps(&p, "a", json!({"status": "active"})).await;
    expect_error(app.get("/api/vps/nope").await, 400, "validation_failed").await;
    app.get("/scanner/probe.php").await;
    let r = app.get("/metrics").await;
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    for line in [
        r#"sigma_http_requests_total{method="POST",route="/api/vps",status="201"} 1"#,
        r#"sigma_http_requests_total{method="GET",route="/api/vps/{id}",status="400"} 1"#,
        r#"sigma_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"sigma_vps{status="active"} 1"#,
        r#"sigma_vps{status="retired"} 0"#,
        "sigma_db_up 1",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    assert!(text.contains("sigma_http_request_duration_seconds_bucket{le="));
    assert!(text.contains(r#"sigma_db_pool_connections{state="idle"}"#));
    assert!(text.contains("sigma_db_pool_max_connections"));
    assert!(!text.contains("scanner"), "unmatched paths are not labels");
}

/// Starts a request, asks the server to stop while the body is still
/// arriving, then finishes the body: the request completes, the server
/// then stops, and new connections are refused.
async fn graceful_shutdown_finishes_requests_in_flight(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let addr = app.addr;
    let body = br#"{"name": "slow-provider"}"#;
    let mut stream = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "POST /api/providers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(&body[..5]).unwrap();
        s
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(async move {
        app.stop().await;
        app
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let response = tokio::task::spawn_blocking(move || {
        stream.write_all(&body[5..]).unwrap();
        let mut text = String::new();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = stream.read_to_string(&mut text);
        text
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "in-flight request answered: {response}");
    let app = tokio::time::timeout(Duration::from_secs(10), stopping).await.expect("server stopped").unwrap();
    assert!(TcpStream::connect(addr).is_err(), "no new connections after shutdown");
    let again = TestApp::spawn_on(backend, &app.database_url, |_| {}).await;
    assert_eq!(again.client.list_providers(&Default::default()).await.unwrap().data[0].name, "slow-provider");
}

/// A TCP proxy in front of PostgreSQL that can cut every connection.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused in effect
                }
                let target = target.clone();
                let flag = flag.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let cut = async {
                        while flag.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, _ = cut => {} }
                });
            }
        });
        Proxy { addr, up }
    }
}

/// `/healthz/ready` turns 503 while PostgreSQL is unreachable and 200 again
/// when it is back, without a restart. (An embedded SQLite file cannot
/// become unreachable this way.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_postgres() {
    let url = crate::common::fresh_database(Backend::Postgres).await;
    let parsed = reqwest::Url::parse(&url).unwrap();
    let target = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap_or(5432));
    let proxy = Proxy::start(target).await;
    let mut via_proxy = parsed.clone();
    via_proxy.set_host(Some("127.0.0.1")).unwrap();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();
    let app = TestApp::spawn_on(Backend::Postgres, via_proxy.as_str(), |_| {}).await;
    expect(app.get("/healthz/ready").await, 200).await;

    proxy.up.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = app.get("/healthz/ready").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["database_reachable"], false);
    assert_eq!(app.get("/healthz").await.status(), 503);
    let e = expect_error(app.get("/api/stats").await, 503, "unavailable").await;
    assert!(!e.to_string().to_lowercase().contains("sql"), "no internals leak: {e}");
    assert_eq!(app.get("/healthz/live").await.status(), 200, "the process itself is alive");

    proxy.up.store(true, Ordering::SeqCst);
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/healthz/ready").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again once the database is back");
    expect(app.get("/api/stats").await, 200).await;
}
