//! Logins, users and API keys from the terminal.

use crate::common::{Run, Server, bare, both, fails, run};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

both!(login_users_and_api_keys);

const PASSWORD: &str = "correct horse battery";

/// Runs `cmd` with `input` on its standard input.
fn run_with_input(cmd: &mut Command, input: &str) -> Run {
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start sigma");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("sigma exits"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `sigma` with the server's URL and the profile file, but no API key:
/// what a person who logged in runs.
fn person(s: &Server) -> Command {
    let mut cmd = bare(&s.dir);
    cmd.env("SIGMA_URL", &s.url);
    cmd
}

fn json_of(r: &Run) -> Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {}", r.stdout))
}

fn session_token(s: &Server) -> Option<String> {
    let text = std::fs::read_to_string(s.path("cli.toml")).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    file["profiles"]["default"].get("session").map(|v| v["token"].as_str().unwrap().to_owned())
}

fn login_users_and_api_keys(s: Server) {
    // The bootstrap key is an admin.
    let me = s.json(&["whoami"]);
    assert_eq!(me["role"], "admin");

    // Users: the password comes from standard input, never from the command line.
    let line = fails(&run(s.sigma().args(["user", "create", "ops@example.com", "--role", "operator"])), 2);
    assert!(line.contains("--password-stdin"), "{line}");
    let r =
        run_with_input(s.sigma().args(["user", "create", "ops@example.com", "--role", "x", "--password-stdin"]), "");
    assert_eq!(r.code, 2, "a role outside the list is a usage error: {}", r.stderr);
    let r = run_with_input(
        s.sigma().args(["user", "create", "ops@example.com", "--role", "operator", "--password-stdin"]),
        "short\n",
    );
    let line = fails(&r, 1);
    assert!(line.contains("password"), "the field is named: {line}");
    let r = run_with_input(
        s.sigma().args(["user", "create", "ops@example.com", "--role", "operator", "--password-stdin", "-o", "json"]),
        &format!("{PASSWORD}\n"),
    );
    let ops = json_of(&r);
    assert_eq!((ops["email"].as_str(), ops["role"].as_str()), (Some("ops@example.com"), Some("operator")));
    let users = s.json(&["user", "list"]);
    assert_eq!(users.as_array().unwrap().len(), 1);
    let table = s.ok(&["user", "list"]);
    assert!(table.starts_with("EMAIL") && table.contains("ops@example.com  operator"), "{table}");
    assert_eq!(s.json(&["user", "show", "OPS@example.com"])["id"], ops["id"]);
    fails(&run(s.sigma().args(["user", "show", "nobody@example.com"])), 3);

    // Login keeps the session in the profile, readable by the owner only.
    let wrong = run_with_input(
        person(&s).args(["login", "--email", "ops@example.com", "--password-stdin"]),
        "not the password\n",
    );
    let line = fails(&wrong, 4);
    assert!(line.contains("invalid") || line.contains("credentials"), "{line}");
    let r = run_with_input(
        person(&s).args(["login", "--email", "ops@example.com", "--password-stdin"]),
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("logged in to") && r.stderr.contains("ops@example.com (operator)"), "{}", r.stderr);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(s.path("cli.toml")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let me = json_of(&run(person(&s).args(["whoami", "-o", "json"])));
    assert_eq!((me["kind"].as_str(), me["name"].as_str()), (Some("user"), Some("ops@example.com")));
    let shown = run(person(&s).args(["config", "show"])).stdout;
    assert!(shown.contains("credentials  login of ops@example.com (profile default, until"), "{shown}");
    assert!(!shown.contains("eyJ"), "the token is never shown: {shown}");
    let listed = run(person(&s).args(["config", "list"])).stdout;
    assert!(listed.contains("ops@example.com") && listed.contains(&s.url), "{listed}");
    let who = run(person(&s).arg("whoami"));
    assert!(who.stdout.contains("login of profile default"), "{}", who.stdout);
    let line = fails(&run(person(&s).args(["user", "list"])), 4);
    assert!(line.contains("admin"), "an operator may not list users: {line}");

    // API keys: made by the logged-in user, never above its role, printed once.
    let key = run(person(&s).args(["api-key", "create", "ci", "--role", "readonly", "--expires-in", "30"]));
    assert_eq!(key.code, 0, "{}", key.stderr);
    assert!(key.stderr.contains("shown once"), "{}", key.stderr);
    let key = key.stdout.trim().to_owned();
    assert!(!key.is_empty() && !key.contains(' '), "only the key on stdout: {key:?}");
    let line = fails(&run(person(&s).args(["api-key", "create", "boss", "--role", "admin"])), 4);
    assert!(line.contains("at most operator"), "{line}");
    let with_key = |k: &str| {
        let mut cmd = bare(&s.dir);
        cmd.env("SIGMA_URL", &s.url).env("SIGMA_API_KEY", k);
        cmd
    };
    let me = json_of(&run(with_key(&key).args(["whoami", "-o", "json"])));
    assert_eq!(
        (me["kind"].as_str(), me["role"].as_str(), me["name"].as_str()),
        (Some("api_key"), Some("readonly"), Some("ci"))
    );
    fails(&run(with_key(&key).args(["provider", "create", "Nope"])), 4);
    let keys = json_of(&run(person(&s).args(["api-key", "list", "-o", "json"])));
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["name"], "ci");
    assert!(keys[0]["expires_at"].is_string());
    let r = run(person(&s).args(["api-key", "delete", "ci"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = fails(&run(with_key(&key).arg("whoami")), 4);
    assert!(line.contains("the API key was refused"), "{line}");
    fails(&run(person(&s).args(["api-key", "delete", "ci"])), 3);

    // A second factor: without a code off a terminal, exit 4 naming --totp; with it, a login.
    let token = session_token(&s).expect("the profile keeps the login");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = sigma_client::Client::new(s.url.clone(), Some(token.clone()));
    let setup = runtime.block_on(client.totp_setup()).unwrap();
    let secret = sigma_api::auth::totp::from_base32(&setup.secret).unwrap();
    let step = sigma_api::auth::totp::step_at(chrono::Utc::now().timestamp());
    let recovery = runtime.block_on(client.totp_enable(&sigma_api::auth::totp::code_at(&secret, step))).unwrap();
    let login = |extra: &[&str]| {
        let mut args = vec!["login", "--email", "ops@example.com", "--password-stdin"];
        args.extend(extra);
        run_with_input(person(&s).args(&args), &format!("{PASSWORD}\n"))
    };
    let line = fails(&login(&[]), 4);
    assert!(line.contains("--totp"), "{line}");
    fails(&login(&["--totp", "000000"]), 4);
    let next = sigma_api::auth::totp::code_at(&secret, step + 1);
    let r = login(&["--totp", &next]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = session_token(&s).expect("the login with a code is kept");

    // Logout forgets the login; --everywhere also ends it on the server.
    let r = run(person(&s).arg("logout"));
    assert!(r.code == 0 && r.stderr.contains("logged out ops@example.com"), "{}", r.stderr);
    assert_eq!(session_token(&s), None);
    let line = fails(&run(person(&s).arg("whoami")), 4);
    assert!(line.contains("sigma login"), "{line}");
    assert_eq!(json_of(&run(with_key(&second).args(["whoami", "-o", "json"])))["name"], "ops@example.com");
    // A recovery code stands in for a lost phone.
    let r = login(&["--totp", &recovery.recovery_codes[0]]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(person(&s).args(["logout", "--everywhere"]));
    assert!(r.code == 0 && r.stderr.contains("every session"), "{}", r.stderr);
    fails(&run(with_key(&second).arg("whoami")), 4);
    fails(&run(person(&s).args(["logout", "--everywhere"])), 2);

    // An admin disables and deletes the user.
    let u = s.json(&["user", "update", "ops@example.com", "--disable", "--reset-totp"]);
    assert_eq!((u["disabled"].as_bool(), u["totp_enabled"].as_bool()), (Some(true), Some(false)));
    let r = run(s.sigma().args(["user", "delete", "ops@example.com"]));
    assert!(r.code == 0 && r.stderr.contains("deleted user ops@example.com"), "{}", r.stderr);
    fails(&run(s.sigma().args(["user", "show", "ops@example.com"])), 3);
}
