//! End to end: the real `sigma-agent` binary against the real server
//! (the `sigma-api` library serving on a real socket), on SQLite and
//! PostgreSQL, with short intervals.

use reqwest::Method;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const AGENT: &str = env!("CARGO_BIN_EXE_sigma-agent");
const ADMIN_KEY: &str = "e2e-admin-key-0123456789";

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A server on a fixed address, so that it can be stopped and started again
/// where the agent expects it.
struct Server {
    addr: SocketAddr,
    database_url: String,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    async fn start(backend: Backend) -> Server {
        let database_url = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("sigma-e2e-{}", uuid::Uuid::now_v7()));
                format!("sqlite://{}/sigma.db", dir.display())
            }
            Backend::Postgres => sigma_store_postgres::testing::scratch_database().await,
        };
        let mut s = Server {
            addr: "127.0.0.1:0".parse().unwrap(),
            database_url,
            http: reqwest::Client::new(),
            stop: None,
            task: None,
        };
        s.run().await;
        s
    }

    async fn run(&mut self) {
        let mut config = sigma_api::config::Config::for_database(&self.database_url);
        config.api_key = Some(ADMIN_KEY.to_owned().into());
        config.agent_sweep_interval = Duration::from_millis(200);
        let store = sigma_api::open_store(&self.database_url).await.expect("open the database");
        let app = sigma_api::router(sigma_api::state(store, &config), &config);
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("bind");
        self.addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        self.task = Some(tokio::spawn(sigma_api::serve(listener, app, async move {
            let _ = rx.await;
        })));
        self.stop = Some(tx);
    }

    async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.http.request(method, format!("{}{path}", self.url())).header("x-api-key", ADMIN_KEY);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Polls `path` until `done` holds, or fails after `within`.
    async fn wait_for(&self, path: &str, within: Duration, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let (status, body) = self.send(Method::GET, path, None).await;
            if status == 200 && done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; last answer {status}: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The real agent binary, with its output collected.
struct Agent {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    state_dir: PathBuf,
    metrics: SocketAddr,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Agent {
    fn start(server: &Server, state_dir: &PathBuf, extra: &[&str]) -> Agent {
        let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut cmd = Command::new(AGENT);
        for (k, _) in std::env::vars() {
            if k.starts_with("SIGMA_AGENT_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .args(["--server", &server.url(), "--interval", "1", "--retry-max", "1"])
            .arg("--state-dir")
            .arg(state_dir)
            .args(["--metrics-listen", &metrics.to_string()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sigma-agent");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if std::env::var_os("TEST_LOG").is_some() {
                        eprintln!("[agent] {line}");
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Agent { child, lines, state_dir: state_dir.clone(), metrics }
    }

    fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The value printed after `label` (such as `claim token:`), waiting for it.
    async fn printed(&self, label: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(v) = self.lines.lock().unwrap().iter().find_map(|l| l.trim().strip_prefix(label)) {
                return v.trim().to_owned();
            }
            assert!(Instant::now() < deadline, "the agent did not print {label:?}:\n{}", self.output());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_output(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.output().contains(text) {
            assert!(Instant::now() < deadline, "the agent did not say {text:?}:\n{}", self.output());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_dir.join("state.json")).unwrap()).unwrap()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop();
    }
}

fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("sigma-agent-e2e-{}", uuid::Uuid::now_v7()))
}

async fn sse_next(
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

/// Claim workflow; plausible heartbeats; the key delivered once; /metrics;
/// offline after three intervals with an event; restart without re-enrolling.
async fn enrol_by_claim(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, provider) = server.send(Method::POST, "/api/providers", Some(json!({"name": "DMIT"}))).await;
    let body = json!({"hostname": "e2e-1", "provider_id": provider["id"], "country": "JP", "purpose": "vpn-exit"});
    let (status, vps) = server.send(Method::POST, "/api/vps", Some(body)).await;
    assert_eq!(status, 201);

    let dir = temp_dir();
    let mut agent = Agent::start(&server, &dir, &[]);
    let token = agent.printed("claim token:").await;
    let id = agent.printed("agent id:").await;
    assert!(agent.output().contains("/api/agents/claim"), "the operator's command is printed");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.join("state.json")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the state file is the owner's only");
    assert_eq!(agent.state()["api_key"], Value::Null);
    server
        .wait_for(&format!("/api/agents/{id}"), Duration::from_secs(10), "registration", |a| a["status"] == "pending")
        .await;

    // Forged, then genuine, then replayed claim.
    let (status, _) =
        server.send(Method::POST, "/api/agents/claim", Some(json!({"agent_id": id, "claim_token": "forged"}))).await;
    assert_eq!(status, 403);
    let claim = json!({"agent_id": id, "claim_token": token, "vps_id": vps["id"]});
    let (status, claimed) = server.send(Method::POST, "/api/agents/claim", Some(claim.clone())).await;
    assert_eq!(status, 200, "{claimed}");
    let (status, _) = server.send(Method::POST, "/api/agents/claim", Some(claim)).await;
    assert_eq!(status, 409, "a claim token works once");

    let a = server
        .wait_for(&format!("/api/agents/{id}"), Duration::from_secs(15), "online", |a| a["status"] == "online")
        .await;
    let m = &a["metrics"];
    let cpu = m["cpu_percent"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&cpu), "{m}");
    let (total, used) = (m["memory"]["total_bytes"].as_u64().unwrap(), m["memory"]["used_bytes"].as_u64().unwrap());
    assert!(total > 64 << 20 && used > 0 && used <= total, "{m}");
    assert!(m["uptime_secs"].as_u64().unwrap() > 0 && m["cpu_cores"].as_u64().unwrap() >= 1);
    assert!(!m["kernel"].as_str().unwrap().is_empty() && m["hostname"].as_str().is_some());
    let fs = m["filesystems"].as_array().unwrap();
    assert!(fs.iter().any(|f| f["total_bytes"].as_u64().unwrap() > 0), "{m}");
    let ports = m["ports"].as_array().unwrap();
    let own = ports.iter().find(|p| p["port"] == server.addr.port() && p["protocol"] == "tcp");
    let own = own.unwrap_or_else(|| panic!("the server's own listening port is reported: {ports:?}"));
    assert_eq!(own["pid"], std::process::id(), "with the process holding it");
    assert!(m["load"]["one"].as_f64().unwrap() >= 0.0);
    assert_eq!(m["interval_secs"], 1);
    let v = server.get(&format!("/api/vps/{}", vps["id"].as_str().unwrap())).await;
    assert_eq!((v["agent"]["agent_id"].as_str(), v["agent"]["status"].as_str()), (Some(id.as_str()), Some("online")));

    // The key was delivered once: it is in the state file, and never again.
    let key = agent.state()["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sga_"));
    let poll = server.http.get(format!("{}/api/agent/{id}/claim-status", server.url())).header("x-claim-token", &token);
    let again: Value = poll.send().await.unwrap().json().await.unwrap();
    assert_eq!(again, json!({"status": "pending"}));

    // The agent's own /metrics.
    let text = reqwest::get(format!("http://{}/metrics", agent.metrics)).await.unwrap().text().await.unwrap();
    assert!(text.contains("sigma_agent_enrolled 1") && text.contains("sigma_agent_port_listening{"), "{text}");
    assert!(text.contains(&format!("port=\"{}\"", server.addr.port())));

    // Stopped: offline after three intervals, streamed once.
    let mut events =
        server.http.get(format!("{}/api/events", server.url())).header("x-api-key", ADMIN_KEY).send().await.unwrap();
    let mut buffer = String::new();
    agent.stop();
    let stopped = Instant::now();
    let e = sse_next(&mut events, &mut buffer, Duration::from_secs(10), |e| e["type"] == "agent-status").await;
    assert_eq!((e["agent_id"].as_str(), e["status"].as_str()), (Some(id.as_str()), Some("offline")));
    assert!(stopped.elapsed() >= Duration::from_secs(1), "not before the intervals ran out");
    assert_eq!(server.get(&format!("/api/agents/{id}")).await["status"], "offline");

    // Restarted: same identity, no new claim, online again.
    let agent2 = Agent::start(&server, &dir, &[]);
    let e = sse_next(&mut events, &mut buffer, Duration::from_secs(10), |e| e["type"] == "agent-status").await;
    assert_eq!((e["agent_id"].as_str(), e["status"].as_str()), (Some(id.as_str()), Some("online")));
    assert!(!agent2.output().contains("claim token:"), "no new enrolment:\n{}", agent2.output());
    assert_eq!(server.get("/api/agents").await["total"], 1);
    let history = server.get(&format!("/api/agents/{id}/status-history")).await;
    let statuses: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["online", "offline", "online"]);
}

/// Enrolment token; the server restarts and the agent resumes without
/// enrolling again; a rotated key is fetched; a removed agent enrols anew.
async fn enrol_by_token(backend: Backend) {
    let mut server = Server::start(backend).await;
    let (status, token) =
        server.send(Method::POST, "/api/agents/enrollment-tokens", Some(json!({"max_uses": 2}))).await;
    assert_eq!(status, 201);
    let token = token["token"].as_str().unwrap().to_owned();
    let dir = temp_dir();
    let agent = Agent::start(&server, &dir, &["--enrollment-token", &token]);
    let list =
        server.wait_for("/api/agents?status=online", Duration::from_secs(15), "online", |l| l["total"] == 1).await;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    assert!(!agent.output().contains("claim token:"), "no operator needed:\n{}", agent.output());

    // The server goes away and comes back on the same database.
    server.shutdown().await;
    agent.wait_output("heartbeat failed").await;
    let before = server.addr;
    server.run().await;
    assert_eq!(server.addr, before);
    let seen = Instant::now();
    let after = chrono::Utc::now();
    server
        .wait_for(&format!("/api/agents/{id}"), Duration::from_secs(15), "heartbeats to resume", |a| {
            a["last_heartbeat_at"]
                .as_str()
                .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                .is_some_and(|t| t > after)
        })
        .await;
    assert!(seen.elapsed() < Duration::from_secs(15));
    assert_eq!(server.get("/api/agents").await["total"], 1, "resumed without a new enrolment");

    // Rotation: the agent fetches its new key and carries on as itself.
    let old_key = agent.state()["api_key"].as_str().unwrap().to_owned();
    let (status, _) = server.send(Method::POST, &format!("/api/agents/{id}/rotate-key"), Some(json!({}))).await;
    assert_eq!(status, 200);
    agent.wait_output("the key was rotated").await;
    assert_ne!(agent.state()["api_key"].as_str().unwrap(), old_key);
    let r = server
        .http
        .post(format!("{}/api/agent/heartbeat", server.url()))
        .header("x-agent-key", &old_key)
        .json(&json!({"interval_secs": 1}))
        .send();
    assert_eq!(r.await.unwrap().status(), 401, "the old key is refused");

    // Removed: the key is refused and the agent enrols again as a new agent.
    let (status, _) = server.send(Method::DELETE, &format!("/api/agents/{id}"), None).await;
    assert_eq!(status, 204);
    agent.wait_output("enrolling again").await;
    let list = server
        .wait_for("/api/agents?status=online", Duration::from_secs(15), "re-enrolment", |l| {
            l["total"] == 1 && l["data"][0]["id"].as_str() != Some(id.as_str())
        })
        .await;
    assert_ne!(list["data"][0]["id"].as_str().unwrap(), id);
    assert_ne!(agent.state()["agent_id"].as_str().unwrap(), id, "a new identity");
}

/// Without a server: the agent keeps retrying (with backoff) and holds no
/// growing backlog; a bad configuration stops it with a clear message.
async fn unreachable_server_and_bad_config(_backend: Backend) {
    let out = Command::new(AGENT).args(["--server", "ftp://x"]).env_remove("SIGMA_AGENT_SERVER").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https://"));
    let port = free_port();
    let dir = temp_dir();
    let mut child = Command::new(AGENT)
        .args(["--server", &format!("http://127.0.0.1:{port}"), "--retry-max", "1", "--metrics-listen", ""])
        .arg("--state-dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.matches("registration failed").count() >= 2, "it retries: {text}");
    assert!(dir.join("state.json").exists(), "the identity is saved before anything is sent");
}

macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(super::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(super::Backend::Postgres).await
                }
            }
        )+
    };
}

both!(enrol_by_claim, enrol_by_token);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server() {
    unreachable_server_and_bad_config(Backend::Sqlite).await
}
