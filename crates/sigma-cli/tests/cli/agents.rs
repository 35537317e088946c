//! Agents and enrolment tokens from the terminal.

use crate::common::{Server, both, fails, run};
use serde_json::{Value, json};

both!(claim_and_manage_agents);

/// Registers an agent over HTTP, as `sigma-agent` does on first start.
fn register(s: &Server, hostname: &str, claim_token: &str, ip: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let body = json!({
        "agent_id": id,
        "claim_token_hash": sigma_api::agent_auth::sha256_hex(claim_token),
        "hostname": hostname,
        "agent_version": "0.1.0",
        "os": "Debian GNU/Linux 13",
        "arch": "x86_64",
        "ip_addresses": [ip],
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new().post(format!("{}/api/agent/register", s.url)).json(&body).send().await.unwrap().status()
    });
    assert!(status.is_success(), "registration: {status}");
    id
}

fn claim_and_manage_agents(s: Server) {
    assert_eq!(s.json(&["agent", "list"]), json!([]));
    let a = register(&s, "tokyo-7", "claim-token-of-tokyo-7", "103.7.7.7");
    let waiting = s.json(&["agent", "list", "--claimed", "false"]);
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!((waiting[0]["id"].as_str(), waiting[0]["status"].as_str()), (Some(a.as_str()), Some("pending")));
    let table = s.ok(&["agent", "list"]);
    assert!(table.starts_with("ID") && table.contains("pending") && table.contains("tokyo-7"), "{table}");

    // A forged token is refused (exit 4) and changes nothing.
    let line = fails(&run(s.sigma().args(["agent", "claim", &a, "forged-token"])), 4);
    assert!(line.contains("claim token"), "{line}");
    assert_eq!(s.json(&["agent", "show", &a])["claimed"], false);

    // The right token links the agent to the VPS holding its address.
    s.json(&["provider", "create", "DMIT"]);
    let vps = s.json(&[
        "vps",
        "create",
        "tokyo-7",
        "--provider",
        "DMIT",
        "--country",
        "JP",
        "--purpose",
        "vpn-exit",
        "--ip",
        "103.7.7.7",
    ]);
    let r = run(s.sigma().args(["agent", "claim", &a, "claim-token-of-tokyo-7", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("claimed agent") && r.stderr.contains("linked to VPS"), "{}", r.stderr);
    let claimed: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((claimed["claimed"].as_bool(), &claimed["vps_id"]), (Some(true), &vps["id"]));
    assert_eq!(claimed["key_pending"], true);
    let line = fails(&run(s.sigma().args(["agent", "claim", &a, "claim-token-of-tokyo-7"])), 1);
    assert!(line.contains("claimed"), "a replayed claim: {line}");

    // An agent no VPS matches: a new provisioning VPS from the options.
    let b = register(&s, "sg-relay-2", "claim-token-b", "103.8.8.8");
    let line = fails(&run(s.sigma().args(["agent", "claim", &b, "claim-token-b"])), 1);
    assert!(line.contains("vps_id"), "{line}");
    let r = run(s.sigma().args([
        "agent",
        "claim",
        &b,
        "claim-token-b",
        "--provider",
        "dmit",
        "--country",
        "sg",
        "--purpose",
        "vpn-relay",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let made = s.json(&["vps", "list", "--country", "SG"]);
    assert_eq!((made[0]["status"].as_str(), made[0]["purpose"].as_str()), (Some("provisioning"), Some("vpn-relay")));
    let r = run(s.sigma().args(["agent", "claim", &b, "t", "--country", "SG"]));
    assert_eq!(r.code, 2, "--country alone is a usage error: {}", r.stderr);

    // Rotate, list as CSV, delete.
    assert_eq!(s.json(&["agent", "rotate-key", &a])["key_pending"], true);
    let csv = s.ok(&["agent", "list", "-o", "csv"]);
    assert!(csv.starts_with("id,status,hostname,claimed,ip,cpu,memory,heartbeat,vps_id"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let r = run(s.sigma().args(["agent", "delete", &b]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    fails(&run(s.sigma().args(["agent", "show", &b])), 3);
    fails(&run(s.sigma().args(["agent", "rotate-key", &b])), 3);

    // Enrolment tokens: the secret printed once, alone on stdout.
    let r = run(s.sigma().args([
        "agent",
        "token",
        "create",
        "--name",
        "batch 11",
        "--max-uses",
        "5",
        "--expires-in",
        "48",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("shown once") && r.stderr.contains("5 agent(s)"), "{}", r.stderr);
    let secret = r.stdout.trim();
    assert!(secret.starts_with("sge_") && !secret.contains('\n'), "{secret:?}");
    let made = s.json(&["agent", "token", "create", "--provider", "DMIT", "--country", "JP", "--purpose", "vpn-exit"]);
    assert!(made["token"].as_str().unwrap().starts_with("sge_"));
    assert_eq!(made["new_vps"]["country"], "JP");
    let line = fails(&run(s.sigma().args(["agent", "token", "create", "--max-uses", "0"])), 1);
    assert!(line.contains("max_uses"), "{line}");
    let tokens = s.json(&["agent", "token", "list"]);
    assert_eq!(tokens.as_array().unwrap().len(), 2);
    let batch = tokens.as_array().unwrap().iter().find(|t| t["name"] == "batch 11").unwrap();
    let id = batch["id"].as_str().unwrap();
    let table = s.ok(&["agent", "token", "list"]);
    assert!(table.contains("batch 11") && table.contains("0/5") && table.contains("usable"), "{table}");
    let r = run(s.sigma().args(["agent", "token", "revoke", id]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(s.ok(&["agent", "token", "list"]).contains("revoked"));
    fails(&run(s.sigma().args(["agent", "token", "revoke", &uuid::Uuid::now_v7().to_string()])), 3);
}
