//! What `sigma` answers without a server: help, completions, the man page.

use crate::common::{BIN, bare, run};

fn dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sigma-cli-local-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn completions_for_every_shell() {
    let d = dir();
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef sigma"), ("fish", "complete -c sigma")] {
        let r = run(bare(&d).args(["completions", shell]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(marker), "{shell}: {}", &r.stdout[..200.min(r.stdout.len())]);
        assert!(
            r.stdout.contains("expiring-within") && r.stdout.contains("provisioning"),
            "{shell} knows options and values"
        );
    }
    // bash accepts the script.
    let r = run(bare(&d).args(["completions", "bash"]));
    let script = d.join("sigma.bash");
    std::fs::write(&script, r.stdout).unwrap();
    let check = std::process::Command::new("bash").arg("-n").arg(&script).status().unwrap();
    assert!(check.success(), "bash -n on the completion script");
}

#[test]
fn man_pages_come_from_the_command_line() {
    let d = dir();
    let r = run(bare(&d).arg("man"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(".ie") || r.stdout.contains(".TH sigma"), "{}", &r.stdout[..200]);
    assert!(r.stdout.contains("SIGMA_URL") && r.stdout.contains("provider"), "options and commands are in the page");
    let out = d.join("man");
    let r = run(bare(&d).args(["man", "--dir"]).arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for page in ["sigma.1", "sigma-vps.1", "sigma-vps-list.1", "sigma-inventory.1"] {
        assert!(out.join(page).exists(), "{page}");
    }
    if let Ok(status) =
        std::process::Command::new("man").arg("-l").arg(out.join("sigma-vps-list.1")).env("MANPAGER", "cat").output()
        && status.status.success()
    {
        assert!(String::from_utf8_lossy(&status.stdout).contains("expiring"), "man renders the page");
    }
}

#[test]
fn help_and_version() {
    let d = dir();
    let r = run(bare(&d).arg("--help"));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 authentication"), "{}", r.stdout);
    let r = run(bare(&d).arg("--version"));
    assert!(r.code == 0 && r.stdout.starts_with("sigma "), "{}", r.stdout);
    let r = run(bare(&d).arg("frobnicate"));
    assert_eq!(r.code, 2);
    assert!(std::path::Path::new(BIN).exists());
}
