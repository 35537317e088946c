//! The real outside tools some tests drive (Prometheus, ansible-inventory),
//! and scratch directories for them.
//!
//! `scripts/tools.sh` installs the tools. When one is missing a test that
//! needs it says so and passes without checking anything, unless
//! `SIGMA_REQUIRE_TOOLS=1` (set by CI), which turns the absence into a failure.

use std::path::{Path, PathBuf};

/// The repository's root (for `deploy/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// `name` on PATH, or in the virtualenv of `scripts/tools.sh`.
pub fn find(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    let tools_dir = std::env::var_os("SIGMA_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sigma/tools")));
    let venv = tools_dir.map(|d| d.join("venv/bin").join(name));
    on_path.chain(venv).find(|p| p.is_file())
}

/// The tool, or `None` after saying why the test checks nothing; panics
/// instead when `SIGMA_REQUIRE_TOOLS=1`.
pub fn require(name: &str, test: &str) -> Option<PathBuf> {
    let found = find(name);
    if found.is_none() {
        let message = format!("{name} is not installed (run scripts/tools.sh)");
        if std::env::var("SIGMA_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
            panic!("{test}: {message}; SIGMA_REQUIRE_TOOLS=1 makes this a failure");
        }
        eprintln!("SKIPPED {test}: {message}");
    }
    found
}

/// A fresh directory under the system's temporary directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("sigma-{what}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A free TCP port on loopback (free when asked; good enough for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
