//! Store stories of agents: enrolment, keys, heartbeats, transitions and
//! enrolment tokens. Run on both backends through `story_tests!`.

use crate::agents::{ClaimTarget, HeartbeatWrite, Registered, TokenRefusal};
use crate::stories::{provider_draft, vps_draft};
use crate::{AuditContext, Store, StoreError};
use chrono::{Duration, Utc};
use sigma_types::{
    AgentFilter, AgentRegistration, AgentStatus, EnrollmentTokenDraft, NewVpsDefaults, PageRequest, Purpose, Source,
};
use uuid::Uuid;

fn sys() -> AuditContext {
    AuditContext::system()
}

fn hash(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

fn registration(hostname: &str, ips: &[&str], claim: char) -> AgentRegistration {
    AgentRegistration {
        agent_id: Uuid::now_v7(),
        claim_token_hash: hash(claim),
        hostname: hostname.into(),
        agent_version: "0.1.0".into(),
        os: "Debian GNU/Linux 13".into(),
        arch: "x86_64".into(),
        ip_addresses: ips.iter().map(|s| s.parse().unwrap()).collect(),
    }
}

fn beat(agent_id: Uuid, key: &str, cpu: f64) -> HeartbeatWrite {
    let at = Utc::now();
    HeartbeatWrite {
        agent_id,
        key_hash: key.into(),
        at,
        offline_after: at + Duration::seconds(90),
        hostname: "tokyo-1".into(),
        agent_version: "0.1.1".into(),
        data: serde_json::json!({"cpu_percent": cpu}).to_string(),
    }
}

const PAGE: PageRequest = PageRequest { page: 1, per_page: 50 };

pub async fn agent_claim_links_and_delivers_the_key_once(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("DMIT"), &sys()).await.unwrap();
    let v = store.create_vps(&vps_draft(&p, "tokyo-1", &["103.1.2.3"]), Source::Manual, &sys()).await.unwrap();

    let r = registration("tokyo-1", &["10.0.0.5", "103.1.2.3"], 'a');
    let (a, how) = store.register_agent(&r, &sys()).await.unwrap();
    assert_eq!((how, a.status, a.claimed, a.vps_id), (Registered::Created, AgentStatus::Pending, false, None));
    let (_, how) = store.register_agent(&r, &sys()).await.unwrap();
    assert_eq!(how, Registered::Again, "registering again is idempotent");
    let other = AgentRegistration { claim_token_hash: hash('b'), ..r.clone() };
    assert!(matches!(store.register_agent(&other, &sys()).await, Err(StoreError::Conflict(_))));

    let target = ClaimTarget { require_vps: true, ..Default::default() };
    assert_eq!(store.claim_agent(r.agent_id, &hash('b'), &target, &sys()).await.unwrap(), None, "wrong hash");
    assert!(matches!(store.claim_agent(Uuid::now_v7(), &hash('a'), &target, &sys()).await, Err(StoreError::NotFound)));
    assert!(!store.take_agent_key(r.agent_id, &hash('a'), "k1").await.unwrap(), "no key before the claim");

    let claimed = store.claim_agent(r.agent_id, &hash('a'), &target, &sys()).await.unwrap().unwrap();
    assert_eq!(claimed.vps_id, Some(v.id), "linked to the VPS holding its address");
    assert!(claimed.claimed && claimed.key_pending);
    assert_eq!(claimed.enrolled_by.as_deref(), Some("claim"));
    assert!(
        matches!(store.claim_agent(r.agent_id, &hash('a'), &target, &sys()).await, Err(StoreError::Conflict(_))),
        "a claim token works once"
    );

    // Concurrent polls: exactly one of them takes the key.
    let takes = (0..8).map(|i| {
        let key = format!("key-{i}");
        async move { store.take_agent_key(r.agent_id, &hash('a'), &key).await.unwrap() }
    });
    let won = futures::future::join_all(takes).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let key = format!("key-{}", won.iter().position(|w| *w).unwrap());
    let owner = store.agent_by_key(&key).await.unwrap().unwrap();
    assert_eq!((owner.agent_id, owner.vps_id), (r.agent_id, Some(v.id)));
    assert_eq!(store.agent_by_key("key-none").await.unwrap(), None);
    let state = store.agent_claim_state(r.agent_id).await.unwrap().unwrap();
    assert!(state.claimed && !state.key_pending);

    let with_agent = store.get_vps(v.id).await.unwrap();
    let va = with_agent.agent.expect("the VPS shows its agent");
    assert_eq!((va.agent_id, va.status), (r.agent_id, AgentStatus::Pending));

    // A claim without a matching VPS needs the fields of a new one.
    let lone = registration("osaka-1", &["198.51.100.7"], 'c');
    store.register_agent(&lone, &sys()).await.unwrap();
    assert!(matches!(
        store.claim_agent(lone.agent_id, &hash('c'), &target, &sys()).await,
        Err(StoreError::Invalid(e)) if e.0.contains_key("vps_id")
    ));
    let fresh = ClaimTarget {
        new_vps: Some(NewVpsDefaults { provider_id: p.id, country: "JP".into(), purpose: Purpose::VpnRelay }),
        require_vps: true,
        ..Default::default()
    };
    let a = store.claim_agent(lone.agent_id, &hash('c'), &fresh, &sys()).await.unwrap().unwrap();
    let made = store.get_vps(a.vps_id.unwrap()).await.unwrap();
    assert_eq!((made.hostname.as_str(), made.source, made.purpose), ("osaka-1", Source::Agent, Purpose::VpnRelay));
    assert_eq!(made.status, sigma_types::VpsStatus::Provisioning);

    let unclaimed = store.list_agents(AgentFilter { claimed: Some(false), ..Default::default() }, PAGE).await.unwrap();
    assert_eq!(unclaimed.total, 0);
    assert_eq!(store.list_agents(AgentFilter::default(), PAGE).await.unwrap().total, 2);
}

pub async fn agent_heartbeats_and_transitions(store: &dyn Store) {
    let r = registration("tokyo-1", &[], 'a');
    store.register_agent(&r, &sys()).await.unwrap();
    store.claim_agent(r.agent_id, &hash('a'), &ClaimTarget::default(), &sys()).await.unwrap().unwrap();
    assert!(store.take_agent_key(r.agent_id, &hash('a'), "key").await.unwrap());

    let out = store.record_heartbeats(&[beat(r.agent_id, "key", 1.0), beat(r.agent_id, "key", 2.0)]).await.unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.stored && o.came_online), "{out:?}");
    let out = store.record_heartbeats(&[beat(r.agent_id, "key", 3.0)]).await.unwrap();
    assert!(out[0].stored && !out[0].came_online, "already online");
    let out =
        store.record_heartbeats(&[beat(r.agent_id, "wrong", 4.0), beat(Uuid::now_v7(), "key", 1.0)]).await.unwrap();
    assert!(out.iter().all(|o| !o.stored), "a wrong key or agent stores nothing");

    let a = store.get_agent(r.agent_id).await.unwrap();
    assert_eq!(a.status, AgentStatus::Online);
    assert_eq!(a.metrics.unwrap()["cpu_percent"], 3.0, "the latest heartbeat is kept");
    assert_eq!((a.hostname.as_str(), a.agent_version.as_str()), ("tokyo-1", "0.1.1"));
    let counts = store.agent_counts().await.unwrap();
    assert_eq!((counts.online, counts.offline, counts.pending), (1, 0, 0));

    assert!(store.mark_offline_agents(Utc::now()).await.unwrap().is_empty(), "not yet");
    let later = Utc::now() + Duration::seconds(120);
    let gone = store.mark_offline_agents(later).await.unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].agent_id, gone[0].status), (r.agent_id, AgentStatus::Offline));
    assert!(store.mark_offline_agents(later).await.unwrap().is_empty(), "a transition is recorded once");
    assert_eq!(store.get_agent(r.agent_id).await.unwrap().status, AgentStatus::Offline);
    let online = store.list_agents(AgentFilter { status: Some(AgentStatus::Offline), ..Default::default() }, PAGE);
    assert_eq!(online.await.unwrap().total, 1);

    let back = store.record_heartbeats(&[beat(r.agent_id, "key", 5.0)]).await.unwrap();
    assert!(back[0].came_online);
    let history: Vec<AgentStatus> =
        store.agent_transitions(r.agent_id).await.unwrap().into_iter().map(|t| t.status).collect();
    assert_eq!(history, [AgentStatus::Online, AgentStatus::Offline, AgentStatus::Online]);

    // Rotation: the old key stops at once; a new one waits for the agent.
    let rotated = store.rotate_agent_key(r.agent_id, &sys()).await.unwrap();
    assert!(rotated.key_pending);
    assert_eq!(store.agent_by_key("key").await.unwrap(), None);
    assert!(!store.record_heartbeats(&[beat(r.agent_id, "key", 1.0)]).await.unwrap()[0].stored);
    assert!(store.take_agent_key(r.agent_id, &hash('a'), "key2").await.unwrap());
    assert!(store.record_heartbeats(&[beat(r.agent_id, "key2", 1.0)]).await.unwrap()[0].stored);

    store.delete_agent(r.agent_id, &sys()).await.unwrap();
    assert!(matches!(store.get_agent(r.agent_id).await, Err(StoreError::NotFound)));
    assert_eq!(store.agent_by_key("key2").await.unwrap(), None);
    assert!(matches!(store.delete_agent(r.agent_id, &sys()).await, Err(StoreError::NotFound)));
    let unclaimed = registration("x", &[], 'z');
    store.register_agent(&unclaimed, &sys()).await.unwrap();
    assert!(matches!(store.rotate_agent_key(unclaimed.agent_id, &sys()).await, Err(StoreError::Conflict(_))));
}

pub async fn enrollment_tokens_limit_and_expire(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("DMIT"), &sys()).await.unwrap();
    let now = Utc::now();
    let draft = |max_uses, hours| EnrollmentTokenDraft {
        name: Some("batch".into()),
        expires_at: now + Duration::hours(hours),
        max_uses,
        new_vps: Some(NewVpsDefaults { provider_id: p.id, country: "SG".into(), purpose: Purpose::VpnExit }),
    };
    let t = store.create_enrollment_token(&draft(1, 1), &hash('1'), &sys()).await.unwrap();
    assert_eq!((t.uses, t.max_uses, t.revoked_at), (0, 1, None));

    let first = registration("sg-1", &["203.0.113.9", "192.168.1.2"], 'a');
    let (a, how) = store.enroll_agent(&first, &hash('1'), &sys()).await.unwrap().unwrap();
    assert_eq!(how, Registered::Created);
    assert!(a.claimed && a.key_pending);
    assert_eq!(a.enrolled_by.as_deref(), Some("enrollment-token"));
    let v = store.get_vps(a.vps_id.expect("a VPS made from the token's defaults")).await.unwrap();
    assert_eq!((v.country.as_str(), v.source), ("SG", Source::Agent));
    assert_eq!(v.ip_addresses.len(), 1, "private addresses are not recorded: {:?}", v.ip_addresses);
    let (_, how) = store.enroll_agent(&first, &hash('1'), &sys()).await.unwrap().unwrap();
    assert_eq!(how, Registered::Again, "a retry uses no token");

    let second = registration("sg-2", &[], 'b');
    assert_eq!(store.enroll_agent(&second, &hash('1'), &sys()).await.unwrap().unwrap_err(), TokenRefusal::UsedUp);
    assert_eq!(store.enroll_agent(&second, &hash('9'), &sys()).await.unwrap().unwrap_err(), TokenRefusal::Unknown);
    let expired = EnrollmentTokenDraft { expires_at: now - Duration::seconds(1), ..draft(5, 1) };
    store.create_enrollment_token(&expired, &hash('2'), &sys()).await.unwrap();
    assert_eq!(store.enroll_agent(&second, &hash('2'), &sys()).await.unwrap().unwrap_err(), TokenRefusal::Expired);
    let t3 = store.create_enrollment_token(&draft(5, 1), &hash('3'), &sys()).await.unwrap();
    store.revoke_enrollment_token(t3.id, &sys()).await.unwrap();
    let again = store.revoke_enrollment_token(t3.id, &sys()).await.unwrap();
    assert!(again.revoked_at.is_some(), "revoking twice is fine");
    assert_eq!(store.enroll_agent(&second, &hash('3'), &sys()).await.unwrap().unwrap_err(), TokenRefusal::Revoked);
    assert!(matches!(store.get_agent(second.agent_id).await, Err(StoreError::NotFound)), "refusals store nothing");

    let tokens = store.list_enrollment_tokens().await.unwrap();
    assert_eq!(tokens.len(), 3);
    assert_eq!(tokens.iter().find(|x| x.id == t.id).unwrap().uses, 1);
    let bad = EnrollmentTokenDraft {
        new_vps: Some(NewVpsDefaults { provider_id: Uuid::now_v7(), country: "SG".into(), purpose: Purpose::VpnExit }),
        ..draft(1, 1)
    };
    assert!(matches!(store.create_enrollment_token(&bad, &hash('4'), &sys()).await, Err(StoreError::Invalid(_))));
}
