//! The real `sigma-api` binary: subcommands, start-up on a fresh folder,
//! and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sigma-api");

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sigma-bin-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn clean_env(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("SIGMA_") || k == "DATABASE_URL" || k == "API_KEY" {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn check_config_reports_and_rejects() {
    let dir = temp_dir();
    let out = clean_env(Command::new(BIN).current_dir(&dir))
        .args(["check-config", "--listen", "0.0.0.0:4001"])
        .env("DATABASE_URL", "postgres://sigma:hunter2@db/sigma")
        .env("SIGMA_JWT_SECRET", "a-jwt-secret-long-enough-to-be-accepted")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("listen = 0.0.0.0:4001") && text.contains("postgres://sigma:***@db/sigma"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("a-jwt-secret-long"));

    let file = dir.join("sigma.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:4002\"\nlog_format = \"json\"\ndev = true\n").unwrap();
    let out =
        clean_env(Command::new(BIN).current_dir(&dir)).arg("check-config").env("SIGMA_CONFIG", &file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("127.0.0.1:4002") && text.contains("Json"), "{text}");

    let out =
        clean_env(Command::new(BIN).current_dir(&dir)).args(["check-config", "--listen", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen address"));
    std::fs::write(&file, "listne = 1\n").unwrap();
    let out =
        clean_env(Command::new(BIN).current_dir(&dir)).args(["check-config", "--config"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn migrate_creates_the_database_folder() {
    let dir = temp_dir();
    let out = clean_env(Command::new(BIN).current_dir(&dir)).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("data/sigma.db").exists(), "default SQLite file under ./data");
}

#[test]
fn serves_on_defaults_and_stops_on_sigterm() {
    let dir = temp_dir();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = clean_env(Command::new(BIN).current_dir(&dir))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--dev"])
        .env("SIGMA_LOG_FORMAT", "json")
        .env("SIGMA_LISTN", "typo")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
    let lines = lines.join().unwrap();
    let logs = lines.join("\n");
    for line in &lines {
        assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "JSON log line: {line}");
    }
    assert!(logs.contains("no SIGMA_API_KEY is set"), "{logs}");
    assert!(logs.contains("SIGMA_LISTN"), "unknown variables are reported: {logs}");
    assert!(logs.contains("stopped"), "{logs}");
    assert!(dir.join("data/sigma.db").exists());
}

#[test]
fn refuses_to_serve_without_a_jwt_secret_outside_development_mode() {
    let dir = temp_dir();
    let out =
        clean_env(Command::new(BIN).current_dir(&dir)).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SIGMA_JWT_SECRET") && stderr.contains("SIGMA_DEV=1"), "{stderr}");
    let out = clean_env(Command::new(BIN).current_dir(&dir))
        .arg("check-config")
        .env("SIGMA_JWT_SECRET", "too short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = clean_env(Command::new(BIN).current_dir(&dir))
        .arg("check-config")
        .env("SIGMA_JWT_SECRET", "k".repeat(40))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("jwt_secret = (set)") && !stdout.contains(&"k".repeat(40)),
        "{stdout}"
    );
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin() {
    use sigma_store::AuthStore;
    use std::io::Write;
    let dir = temp_dir();
    let create = |email: &str, role: &str, password: &str| {
        let mut child = clean_env(Command::new(BIN).current_dir(&dir))
            .args(["user", "create", "--email", email, "--role", role])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = create("root@example.com", "admin", "a long admin password");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin user root@example.com"));
    let again = create("ROOT@example.com", "readonly", "another long password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    let short = create("ops@example.com", "operator", "short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));

    let url = format!("sqlite://{}/data/sigma.db", dir.display());
    let store = sigma_store_sqlite::SqliteStore::connect(&url).await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 1);
    let user = store.user_secrets_by_email("root@example.com").await.unwrap().unwrap();
    assert_eq!(user.user.role, sigma_types::Role::Admin);
    assert!(sigma_api::auth::password::verify("a long admin password".into(), user.password_hash).await);
}
