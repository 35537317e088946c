//! A real Sigma server (in this process, on its own runtime thread) over a
//! fresh database, and the real `sigma` binary run against it.

use secrecy::SecretString;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_sigma");
pub const KEY: &str = "cli-test-admin-key-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Server {
    pub url: String,
    /// A folder of this test's own (config file, files to import, ...).
    pub dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server that requires the API key `KEY`.
    pub fn start(backend: Backend) -> Server {
        let dir = std::env::temp_dir().join(format!("sigma-cli-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let db_dir = dir.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let database_url = match backend {
                    Backend::Sqlite => format!("sqlite://{}/sigma.db", db_dir.display()),
                    Backend::Postgres => sigma_store_postgres::testing::scratch_database().await,
                };
                let mut config = sigma_api::config::Config::for_database(&database_url);
                config.api_key = Some(SecretString::from(KEY.to_owned()));
                let store = sigma_api::open_store(&database_url).await.expect("open the test database");
                let app = sigma_api::router(sigma_api::state(store, &config), &config);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                sigma_api::serve(listener, app, async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().expect("the test server starts");
        Server { url: format!("http://{addr}"), dir, stop: Some(stop), thread: Some(thread) }
    }

    /// `sigma` with this server and key in the environment, and a config
    /// file of this test's own.
    pub fn sigma(&self) -> Command {
        let mut cmd = bare(&self.dir);
        cmd.env("SIGMA_URL", &self.url).env("SIGMA_API_KEY", KEY);
        cmd
    }

    /// Runs `sigma ARGS` and expects success; gives back standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = run(self.sigma().args(args));
        assert_eq!(r.code, 0, "sigma {args:?} failed: {}", r.stderr);
        r.stdout
    }

    /// Runs `sigma ARGS` and parses its JSON output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("sigma {args:?} printed no JSON ({e}): {out}"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `sigma` with no Sigma settings from the environment and a config file in `dir`.
pub fn bare(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("SIGMA_") || k == "NO_COLOR" {
            cmd.env_remove(k);
        }
    }
    cmd.env("SIGMA_CLI_CONFIG", dir.join("cli.toml")).stdin(Stdio::null());
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let Output { status, stdout, stderr } = cmd.output().expect("run sigma");
    Run {
        code: status.code().expect("sigma exits, not killed"),
        stdout: String::from_utf8(stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(stderr).expect("UTF-8 errors"),
    }
}

/// Asserts a failure with `code` reported as exactly one `error:` line.
pub fn fails(r: &Run, code: i32) -> String {
    assert_eq!(r.code, code, "exit code; stderr: {} stdout: {}", r.stderr, r.stdout);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line of error: {:?}", r.stderr);
    assert!(lines[0].starts_with("error: "), "{:?}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing on stdout: {:?}", r.stdout);
    lines[0].to_owned()
}

/// Asserts that nothing but printable text and line breaks was written.
pub fn assert_plain(text: &str) {
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "control characters in output: {text:?}");
}

/// Runs each named test once per backend: `name::sqlite` and `name::postgres`.
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(crate::common::Server::start(crate::common::Backend::Sqlite))
                }
                #[test]
                fn postgres() {
                    super::$name(crate::common::Server::start(crate::common::Backend::Postgres))
                }
            }
        )+
    };
}
pub(crate) use both;
