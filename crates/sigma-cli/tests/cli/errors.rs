use crate::common::{KEY, Server, bare, both, fails, run};

both!(failures_have_one_line_and_a_meaningful_exit_code, profiles_choose_the_server_and_key);

fn failures_have_one_line_and_a_meaningful_exit_code(s: Server) {
    s.ok(&["provider", "create", "DMIT"]);

    // Validation: one line naming every bad field, exit 1, nothing stored.
    let r = run(s.sigma().args(["vps", "create", "bad_host", "--provider", "DMIT", "--country", "XX"]));
    let line = fails(&r, 1);
    for field in ["hostname", "country", "purpose"] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(s.json(&["vps", "list"]).as_array().unwrap().is_empty());
    let line = fails(&run(s.sigma().args(["provider", "create", "Bad", "--rating", "9"])), 1);
    assert!(line.contains("rating: must be between 1 and 5"), "{line}");

    // Conflict: exit 1 too.
    let line = fails(&run(s.sigma().args(["provider", "create", "dmit"])), 1);
    assert!(line.to_lowercase().contains("dmit") || line.contains("exists"), "{line}");

    // Not found: exit 3, for ids and for names.
    fails(&run(s.sigma().args(["vps", "show", "nowhere-1"])), 3);
    fails(&run(s.sigma().args(["vps", "retire", "0190d9a5-0000-7000-8000-000000000000"])), 3);
    fails(&run(s.sigma().args(["provider", "update", "Nobody", "--rating", "3"])), 3);

    // Credentials: a wrong key, or none, is exit 4.
    let line = fails(&run(s.sigma().env("SIGMA_API_KEY", "wrong-key-wrong-key").args(["vps", "list"])), 4);
    assert!(!line.contains("wrong-key"), "the key is never printed: {line}");
    fails(&run(s.sigma().env_remove("SIGMA_API_KEY").args(["stats"])), 4);

    // Usage: exit 2 from the parser, with its own help text.
    let r = run(s.sigma().args(["vps", "create"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("<HOSTNAME>"), "{}", r.stderr);
    let r = run(s.sigma().args(["vps", "update", "x", "--city", "Osaka", "--clear", "city"]));
    fails(&r, 2);
    fails(&run(s.sigma().args(["vps", "create", "a-1", "--ip", "1.2.3.4/moon"])), 2);

    // No server: exit 1 with the address it tried.
    let r = run(s.sigma().env("SIGMA_URL", "http://127.0.0.1:9").args(["vps", "list"]));
    let line = fails(&r, 1);
    assert!(line.contains("cannot reach the server at http://127.0.0.1:9"), "{line}");
}

fn profiles_choose_the_server_and_key(s: Server) {
    let sigma = || bare(&s.dir);
    // Naming a profile that does not exist is a usage error.
    let r = run(sigma().args(["--profile", "prod", "stats"]));
    let line = fails(&r, 2);
    assert!(line.contains("no profile named \"prod\""), "{line}");

    assert_eq!(run(sigma().args(["--profile", "prod", "config", "set", "url", &s.url])).code, 0);
    // The key is read from standard input, so that it stays out of the shell history; an empty one is refused.
    fails(&run(sigma().args(["--profile", "prod", "config", "set", "api-key"])), 2);
    let mut child = sigma()
        .args(["--profile", "prod", "config", "set", "api-key"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{KEY}\n").as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());

    let file = s.dir.join("cli.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "private file");
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[profiles.prod]") && text.contains(&s.url), "{text}");

    // The first profile made becomes the current one.
    let r = run(sigma().args(["stats", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let shown = run(sigma().args(["config", "show"]));
    assert!(shown.stdout.contains("profile prod") && !shown.stdout.contains(KEY), "{}", shown.stdout);

    // A second profile with a bad key; --profile picks it, SIGMA_API_KEY overrides it.
    assert_eq!(run(sigma().args(["--profile", "lab", "config", "set", "url", &s.url])).code, 0);
    assert_eq!(run(sigma().args(["--profile", "lab", "config", "set", "api-key", "not-the-key-at-all"])).code, 0);
    fails(&run(sigma().args(["--profile", "lab", "stats"])), 4);
    assert_eq!(run(sigma().env("SIGMA_API_KEY", KEY).args(["--profile", "lab", "stats"])).code, 0);
    // SIGMA_URL overrides the profile's URL.
    fails(&run(sigma().env("SIGMA_URL", "http://127.0.0.1:9").args(["stats"])), 1);

    let list = run(sigma().args(["config", "list", "-o", "json"]));
    let profiles: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(profiles[0]["name"], "lab");
    assert_eq!((profiles[1]["name"].as_str(), profiles[1]["current"].as_bool()), (Some("prod"), Some(true)));
    assert!(!list.stdout.contains(KEY));

    assert_eq!(run(sigma().args(["config", "use", "lab"])).code, 0);
    fails(&run(sigma().args(["stats"])), 4);
    fails(&run(sigma().args(["config", "use", "nope"])), 3);
    assert_eq!(run(sigma().args(["config", "remove", "lab"])).code, 0);
    assert_eq!(run(sigma().args(["--profile", "prod", "stats"])).code, 0);
}
