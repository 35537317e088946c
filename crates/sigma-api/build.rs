//! With the `ui` feature, lists the files of the built web UI (`web/dist`,
//! or the folder named by `SIGMA_UI_DIST`) so `src/ui.rs` can embed them
//! with `include_bytes!`. Without the feature it does nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_UI").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=SIGMA_UI_DIST");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = match std::env::var_os("SIGMA_UI_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("../../web/dist"),
    };
    let dist = dist.canonicalize().unwrap_or(dist);
    if !dist.join("index.html").is_file() {
        panic!(
            "the `ui` feature embeds the built web UI, but {} has no index.html: \
             build it first with `make web` (or `cd web && npm ci && npm run build`)",
            dist.display()
        );
    }
    println!("cargo:rerun-if-changed={}", dist.display());

    let mut files = Vec::new();
    walk(&dist, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for file in &files {
        let name = file.strip_prefix(&dist).expect("inside dist").to_str().expect("UI file names are UTF-8");
        let name = name.replace(std::path::MAIN_SEPARATOR, "/");
        writeln!(out, "    ({name:?}, include_bytes!({:?}) as &[u8]),", file.display().to_string()).unwrap();
    }
    out.push(']');
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("ui_files.rs"), out).expect("write ui_files.rs");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}
