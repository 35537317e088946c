//! End to end: the real `sigma-agent` binary against the real `sigma-api`
//! binary (each its own process, on a real socket), on SQLite and
//! PostgreSQL, with short intervals.
//!
//! The server binary is taken from next to the agent binary: `cargo test
//! --workspace` builds both; `cargo test -p sigma-agent` alone needs
//! `cargo build -p sigma-api` first.

use reqwest::Method;
use serde_json::{Value, json};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const AGENT: &str = env!("CARGO_BIN_EXE_sigma-agent");
const ADMIN_KEY: &str = "e2e-admin-key-0123456789";
/// Seconds between the server's offline checks (its smallest setting).
const SWEEP_SECS: u64 = 1;

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The `sigma-api` binary built with this test.
fn server_binary() -> PathBuf {
    let path = Path::new(AGENT).with_file_name("sigma-api");
    assert!(
        path.is_file(),
        "{} not found: build the server first (`cargo build -p sigma-api`; `cargo test --workspace` does)",
        path.display()
    );
    path
}

/// The real server process on a fixed address, so that it can be stopped
/// and started again where the agent expects it.
struct Server {
    addr: SocketAddr,
    database_url: String,
    http: reqwest::Client,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    async fn start(backend: Backend) -> Server {
        let dir = temp_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}/sigma.db", dir.display()),
            Backend::Postgres => sigma_store_postgres::testing::scratch_database().await,
        };
        let mut s = Server {
            addr: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
            database_url,
            http: reqwest::Client::new(),
            child: None,
            log: dir.join("server.log"),
        };
        s.run().await;
        s
    }

    /// Starts the server process and waits until it is ready.
    async fn run(&mut self) {
        let log = File::options().create(true).append(true).open(&self.log).unwrap();
        let mut cmd = Command::new(server_binary());
        // Only what this test sets: no key, Redis or file from the caller's shell.
        cmd.env_clear()
            .args(["serve", "--listen", &self.addr.to_string()])
            .env("DATABASE_URL", &self.database_url)
            .env("SIGMA_API_KEY", ADMIN_KEY)
            .env("SIGMA_DEV", "1")
            .env("SIGMA_AGENT_SWEEP_INTERVAL", SWEEP_SECS.to_string())
            .env("SIGMA_LOG", "info")
            .stdin(Stdio::null());
        if std::env::var_os("TEST_LOG").is_some() {
            cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            cmd.stdout(log.try_clone().unwrap()).stderr(log);
        }
        let mut child = cmd.spawn().expect("start sigma-api");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("sigma-api exited during start-up ({status}):\n{}", self.log_text());
            }
            if let Ok(r) = self.http.get(format!("{}/healthz/ready", self.url())).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "sigma-api was not ready within 60 s:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child = Some(child);
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server runs").id()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the server as its service manager would (SIGTERM) and waits.
    async fn shutdown(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(term.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "sigma-api did not stop on SIGTERM:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
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
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last answer {status}: {body}\nserver log:\n{}",
                self.log_text()
            );
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

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop();
    }
}

fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
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
    assert!(agent.output().contains("/api/agents/claim"), "the operator's HTTP call is printed");
    assert!(agent.output().contains(&format!("sigma agent claim {id} {token}")), "and the CLI command");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.join("state.json")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the state file is the owner's only");
    assert_eq!(agent.state()["api_key"], Value::Null);
    server
        .wait_for(&format!("/api/agents/{id}"), Duration::from_secs(10), "registration", |a| a["status"] == "pending")
        .await;

    // Forged claim tokens: the operator's claim, the key poll, and a
    // registration taking over the agent's id with another claim hash.
    let (status, _) =
        server.send(Method::POST, "/api/agents/claim", Some(json!({"agent_id": id, "claim_token": "forged"}))).await;
    assert_eq!(status, 403);
    let forged = format!("{}{}", &token[..token.len() - 1], if token.ends_with('0') { '1' } else { '0' });
    let poll = |claim_token: &str| {
        server.http.get(format!("{}/api/agent/{id}/claim-status", server.url())).header("x-claim-token", claim_token)
    };
    assert_eq!(poll(&forged).send().await.unwrap().status(), 403);
    let takeover = json!({
        "agent_id": id, "claim_token_hash": hex_sha256("someone else's token"), "hostname": "evil",
        "agent_version": "0.1.0", "os": "Linux", "arch": "x86_64", "ip_addresses": [],
    });
    let r = server.http.post(format!("{}/api/agent/register", server.url())).json(&takeover).send().await.unwrap();
    assert_eq!(r.status(), 409, "another claim hash cannot take the agent's id");
    // Genuine, then replayed: a claim token works once, and for its own agent only.
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
    assert_eq!(own["pid"], server.pid(), "with the process holding it");
    assert_eq!(own["process"], "sigma-api");
    assert!(m["load"]["one"].as_f64().unwrap() >= 0.0);
    assert_eq!(m["interval_secs"], 1);
    let v = server.get(&format!("/api/vps/{}", vps["id"].as_str().unwrap())).await;
    assert_eq!((v["agent"]["agent_id"].as_str(), v["agent"]["status"].as_str()), (Some(id.as_str()), Some("online")));

    // The key was delivered once: it is in the state file, and never again.
    let key = agent.state()["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sga_"));
    let again: Value = poll(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(again, json!({"status": "pending"}));
    assert_eq!(poll(&forged).send().await.unwrap().status(), 403);

    // The server's own /metrics counts the agent and its heartbeats.
    let text = server.http.get(format!("{}/metrics", server.url())).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("sigma_agents{status=\"online\"} 1"), "{text}");
    let accepted = text.lines().find_map(|l| l.strip_prefix("sigma_agent_heartbeats_total{result=\"accepted\"} "));
    assert!(accepted.and_then(|n| n.parse::<f64>().ok()).is_some_and(|n| n >= 1.0), "{text}");

    // The agent's own /metrics.
    let text = reqwest::get(format!("http://{}/metrics", agent.metrics)).await.unwrap().text().await.unwrap();
    assert!(text.contains("sigma_agent_enrolled 1") && text.contains("sigma_agent_port_listening{"), "{text}");
    assert!(text.contains(&format!("port=\"{}\"", server.addr.port())));

    // Stopped: offline once three intervals (1 s each) passed without a
    // heartbeat, found by the next offline check, and streamed.
    let mut events =
        server.http.get(format!("{}/api/events", server.url())).header("x-api-key", ADMIN_KEY).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let mut buffer = String::new();
    agent.stop();
    let last = server.get(&format!("/api/agents/{id}")).await["last_heartbeat_at"].clone();
    let last = last.as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let e = sse_next(&mut events, &mut buffer, Duration::from_secs(10), |e| e["type"] == "agent-status").await;
    assert_eq!((e["agent_id"].as_str(), e["status"].as_str()), (Some(id.as_str()), Some("offline")));
    assert_eq!(e["vps_id"], vps["id"]);
    let at = e["at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let silent = (at - last).to_std().unwrap();
    let latest = Duration::from_secs(3 + SWEEP_SECS + 2);
    assert!(silent >= Duration::from_secs(3) && silent <= latest, "offline {silent:?} after the last heartbeat");
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

    // Removed: its key is refused with 401, the agent says so and enrols
    // again as a new agent.
    let revoked = agent.state()["api_key"].as_str().unwrap().to_owned();
    let (status, _) = server.send(Method::DELETE, &format!("/api/agents/{id}"), None).await;
    assert_eq!(status, 204);
    let r = server.http.get(format!("{}/api/agent/config", server.url())).header("x-agent-key", &revoked).send();
    assert_eq!(r.await.unwrap().status(), 401, "the removed agent's key is refused");
    agent.wait_output("enrolling again").await;
    let said = agent.output();
    let refused = said.rfind("the server refused this agent's key").expect("the refusal is reported");
    assert!(refused < said.rfind("enrolling again").unwrap(), "{said}");
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
