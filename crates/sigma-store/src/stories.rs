//! Backend-independent test stories. Each takes a fresh, empty store; the
//! backends run every story through [`story_tests!`](crate::story_tests).

mod auth;
pub use auth::*;

pub use crate::agent_stories::*;
use crate::{AuditContext, Store, StoreError};
use chrono::{Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use sigma_types::{
    BillingCycle, CountBy, CurrencyAmount, IpEntry, IpLabel, PageRequest, Provider, ProviderDraft, Purpose, SortOrder,
    Source, Stats, VpsDraft, VpsFilter, VpsSort, VpsStatus,
};
use std::net::IpAddr;
use std::str::FromStr;

/// Generates one `#[tokio::test]` per story, each with a store made by
/// `$make().await` (an async fn returning something that derefs to a `Store`).
#[macro_export]
macro_rules! story_tests {
    ($make:path) => {
        $crate::story_tests!(@each $make;
            providers_crud, provider_delete_refused_while_referenced, vps_round_trip,
            live_addresses_and_hostnames_are_unique, retire_frees_and_is_idempotent,
            trash_restore_purge, ip_history_follows_every_change, update_checks_version,
            list_filters_sort_and_paginate, stats_add_up, concurrent_creates_keep_one,
            audit_records_every_change, stats_follow_every_change, search_follows_changes,
            stats_survive_concurrent_writers, users_crud_and_last_admin, failed_logins_lock_an_address,
            totp_steps_and_recovery_codes, api_keys_lifecycle, agent_claim_links_and_delivers_the_key_once,
            agent_heartbeats_and_transitions, enrollment_tokens_limit_and_expire, fleet_version_moves_with_every_change,
            fleet_reads_what_all_vps_reads);
    };
    (@each $make:path; $($name:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = $make().await;
                $crate::stories::$name(&*store).await;
            }
        )+
    };
}

fn sys() -> AuditContext {
    AuditContext::system()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn provider_draft(name: &str) -> ProviderDraft {
    ProviderDraft {
        name: name.into(),
        country: Some("US".into()),
        website: Some("https://example.com".into()),
        panel_url: None,
        api_supported: false,
        notes: None,
        rating: Some(4),
    }
}

pub fn vps_draft(provider: &Provider, hostname: &str, ips: &[&str]) -> VpsDraft {
    VpsDraft {
        hostname: hostname.into(),
        alias: None,
        provider_id: provider.id,
        country: "JP".into(),
        city: None,
        dc_name: None,
        ip_addresses: ips.iter().map(|s| IpEntry { ip: ip(s), label: None }).collect(),
        ssh_port: 22,
        ssh_user: None,
        status: VpsStatus::Active,
        purpose: Purpose::VpnExit,
        vpn_protocol: None,
        tags: vec![],
        cpu_cores: None,
        ram_mb: None,
        disk_gb: None,
        bandwidth_tb: None,
        price: None,
        currency: "USD".into(),
        billing_cycle: BillingCycle::Monthly,
        purchase_date: None,
        expire_date: None,
        auto_renew: false,
        monitoring_enabled: true,
        node_exporter_port: 9100,
        extra: serde_json::json!({}),
        notes: None,
    }
}

fn all() -> PageRequest {
    PageRequest { page: 1, per_page: 500 }
}

/// The host names `filter` lists, checking on the way that the ids of every
/// match (`list_vps_ids`) come in the same order for each sort, that the
/// count and the page alone agree with the list, and that `get_vps_many`
/// gives back those VPS in any order asked.
async fn hostnames(store: &dyn Store, filter: VpsFilter) -> Vec<String> {
    let page = store.list_vps(&filter, all(), VpsSort::Hostname, SortOrder::Asc).await.unwrap();
    assert_eq!(page.total as usize, page.data.len());
    for sort in [VpsSort::Hostname, VpsSort::ExpireDate, VpsSort::MonthlyCost, VpsSort::CreatedAt] {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let listed: Vec<_> =
                store.list_vps(&filter, all(), sort, order).await.unwrap().data.iter().map(|v| v.id).collect();
            assert_eq!(
                store.list_vps_ids(&filter, sort, order).await.unwrap(),
                listed,
                "{filter:?} {sort:?} {order:?}"
            );
        }
    }
    assert_eq!(store.count_vps(&filter).await.unwrap(), page.total);
    let alone = store.list_vps_page(&filter, all(), VpsSort::Hostname, SortOrder::Asc).await.unwrap();
    assert_eq!(alone, page.data, "the page without its count");
    let mut ids: Vec<_> = page.data.iter().rev().map(|v| v.id).collect();
    ids.insert(ids.len() / 2, uuid::Uuid::now_v7());
    let many = store.get_vps_many(&ids).await.unwrap();
    assert_eq!(many.iter().map(|v| v.id).collect::<Vec<_>>(), page.data.iter().rev().map(|v| v.id).collect::<Vec<_>>());
    assert_eq!(many.iter().rev().cloned().collect::<Vec<_>>(), page.data, "the same VPS as the list gives");
    page.data.into_iter().map(|v| v.hostname).collect()
}

fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, needle: &str) -> crate::Conflict {
    match r {
        Err(StoreError::Conflict(c)) => {
            assert!(c.message.contains(needle), "conflict {:?} does not mention {needle:?}", c.message);
            c
        }
        other => panic!("expected a conflict about {needle:?}, got {other:?}"),
    }
}

pub async fn providers_crud(store: &dyn Store) {
    let dmit = store.create_provider(&provider_draft("DMIT"), &sys()).await.unwrap();
    assert_eq!(dmit.name, "DMIT");
    assert_eq!((dmit.vps_count, dmit.active_vps_count), (0, 0));
    assert_eq!(store.get_provider(dmit.id).await.unwrap(), dmit);
    assert_conflict(store.create_provider(&provider_draft("dmit"), &sys()).await, "DMIT");

    let rn = store.create_provider(&provider_draft("RackNerd"), &sys()).await.unwrap();
    let page = store.list_providers(None, all()).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.data.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["DMIT", "RackNerd"]);
    let found = store.list_providers(Some("nerd"), all()).await.unwrap();
    assert_eq!(found.data, vec![rn.clone()]);
    let second = store.list_providers(None, PageRequest { page: 2, per_page: 1 }).await.unwrap();
    assert_eq!((second.total, second.data.len(), second.data[0].id), (2, 1, rn.id));

    let mut draft = provider_draft("RackNerd LLC");
    draft.notes = Some("cheap".into());
    draft.rating = None;
    let updated = store.update_provider(rn.id, &draft, rn.version, &sys()).await.unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.notes.as_deref(), updated.rating),
        ("RackNerd LLC", Some("cheap"), None)
    );
    assert!(updated.version > rn.version && updated.updated_at >= rn.updated_at);
    assert!(matches!(store.update_provider(rn.id, &draft, rn.version, &sys()).await, Err(StoreError::VersionMismatch)));
    assert_conflict(store.update_provider(rn.id, &provider_draft("DMIT"), updated.version, &sys()).await, "DMIT");
    // Renaming to a different case of its own name is fine.
    store.update_provider(dmit.id, &provider_draft("dmit"), dmit.version, &sys()).await.unwrap();

    store.delete_provider(rn.id, &sys()).await.unwrap();
    assert!(matches!(store.get_provider(rn.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete_provider(rn.id, &sys()).await, Err(StoreError::NotFound)));
    let missing = uuid::Uuid::now_v7();
    assert!(matches!(store.update_provider(missing, &draft, 1, &sys()).await, Err(StoreError::NotFound)));
}

pub async fn provider_delete_refused_while_referenced(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let a = store.create_vps(&vps_draft(&p, "a", &[]), Source::Manual, &sys()).await.unwrap();
    let mut draft = vps_draft(&p, "b", &[]);
    draft.status = VpsStatus::Provisioning;
    store.create_vps(&draft, Source::Manual, &sys()).await.unwrap();
    let counted = store.get_provider(p.id).await.unwrap();
    assert_eq!((counted.vps_count, counted.active_vps_count), (2, 1));

    assert_conflict(store.delete_provider(p.id, &sys()).await, "VPS");
    store.retire_vps(a.id, &sys()).await.unwrap();
    let b =
        store.list_vps(&VpsFilter::default(), all(), VpsSort::Hostname, SortOrder::Asc).await.unwrap().data[1].clone();
    store.trash_vps(b.id, &sys()).await.unwrap();
    let counted = store.get_provider(p.id).await.unwrap();
    assert_eq!((counted.vps_count, counted.active_vps_count), (0, 0));
    // Retired and trashed VPS still keep their provider.
    assert_conflict(store.delete_provider(p.id, &sys()).await, "VPS");
    store.purge_vps(a.id, &sys()).await.unwrap();
    store.purge_vps(b.id, &sys()).await.unwrap();
    store.delete_provider(p.id, &sys()).await.unwrap();
}

pub async fn vps_round_trip(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("DMIT"), &sys()).await.unwrap();
    let mut d = vps_draft(&p, "tokyo-1.example.com", &["103.1.2.3", "2001:db8::1"]);
    d.ip_addresses[0].label = Some(IpLabel::ChinaTelecom);
    d.alias = Some("Tokyo 1 — 東京".into());
    d.city = Some("Tokyo".into());
    d.dc_name = Some("TYO2".into());
    d.ssh_port = 2222;
    d.ssh_user = Some("root".into());
    d.vpn_protocol = Some("vless".into());
    d.tags = vec!["iplc".into(), "cn-optimized".into()];
    d.cpu_cores = Some(2);
    d.ram_mb = Some(2048);
    d.disk_gb = Some(40);
    d.bandwidth_tb = Some(dec("1.5"));
    d.price = Some(dec("29.97"));
    d.currency = "EUR".into();
    d.billing_cycle = BillingCycle::Quarterly;
    d.purchase_date = NaiveDate::from_ymd_opt(2026, 11, 1);
    d.expire_date = NaiveDate::from_ymd_opt(2027, 2, 1);
    d.auto_renew = true;
    d.monitoring_enabled = false;
    d.node_exporter_port = 9101;
    d.extra = serde_json::json!({"panel_id": 42, "nested": {"a": [1, 2]}});
    d.notes = Some("first of its kind".into());

    let before = Utc::now();
    let v = store.create_vps(&d, Source::Import, &sys()).await.unwrap();
    assert_eq!(v.id.get_version_num(), 7, "UUIDv7 keys");
    assert_eq!(v.provider_name, "DMIT");
    assert_eq!(v.monthly_cost, dec("9.99"));
    assert_eq!(v.source, Source::Import);
    assert!(v.created_at >= before - chrono::Duration::seconds(1) && v.retired_at.is_none() && v.deleted_at.is_none());
    assert_eq!(v.agent, None);
    let back = sigma_types::VpsCreate::from(&v).validate().unwrap();
    assert_eq!(back, d, "every field survives the round trip");
    assert_eq!(store.get_vps(v.id).await.unwrap(), v);

    let mut bad = vps_draft(&p, "other", &[]);
    bad.provider_id = uuid::Uuid::now_v7();
    match store.create_vps(&bad, Source::Manual, &sys()).await {
        Err(StoreError::Invalid(e)) => assert!(e.0.contains_key("provider_id")),
        other => panic!("expected invalid provider_id, got {other:?}"),
    }
    assert!(matches!(store.get_vps(uuid::Uuid::now_v7()).await, Err(StoreError::NotFound)));
}

pub async fn live_addresses_and_hostnames_are_unique(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let a = store.create_vps(&vps_draft(&p, "a", &["10.0.0.1", "2001:db8::1"]), Source::Manual, &sys()).await.unwrap();
    let c = assert_conflict(
        store.create_vps(&vps_draft(&p, "b", &["10.0.0.2", "2001:db8::1"]), Source::Manual, &sys()).await,
        "2001:db8::1",
    );
    assert_eq!(c.other_vps, Some((a.id, "a".into())));
    let c = assert_conflict(store.create_vps(&vps_draft(&p, "a", &[]), Source::Manual, &sys()).await, "a");
    assert_eq!(c.field.as_deref(), Some("hostname"));
    assert_eq!(c.other_vps.map(|o| o.0), Some(a.id));

    let b = store.create_vps(&vps_draft(&p, "b", &["10.0.0.2"]), Source::Manual, &sys()).await.unwrap();
    let c = assert_conflict(
        store.update_vps(b.id, &vps_draft(&p, "b", &["10.0.0.2", "10.0.0.1"]), b.version, &sys()).await,
        "10.0.0.1",
    );
    assert_eq!(c.other_vps.map(|o| o.1), Some("a".into()));
    // A VPS may keep its own addresses when updated.
    store.update_vps(a.id, &vps_draft(&p, "a", &["2001:db8::1", "10.0.0.1"]), a.version, &sys()).await.unwrap();
    assert_eq!(hostnames(store, VpsFilter::default()).await, ["a", "b"], "nothing half-written");
    assert_eq!(store.get_vps(b.id).await.unwrap().ip_addresses.len(), 1);
}

pub async fn retire_frees_and_is_idempotent(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let a = store.create_vps(&vps_draft(&p, "a", &["10.0.0.1"]), Source::Manual, &sys()).await.unwrap();
    let r = store.retire_vps(a.id, &sys()).await.unwrap();
    assert_eq!(r.status, VpsStatus::Retired);
    let at = r.retired_at.expect("retired_at set");
    let again = store.retire_vps(a.id, &sys()).await.unwrap();
    assert_eq!(again.retired_at, Some(at), "retiring twice changes nothing");
    assert_eq!(again.ip_addresses, r.ip_addresses, "a retired VPS keeps its addresses");

    // Its host name and address are free for a new VPS.
    let a2 = store.create_vps(&vps_draft(&p, "a", &["10.0.0.1"]), Source::Manual, &sys()).await.unwrap();
    // Bringing the old one back to life now collides.
    let revive = vps_draft(&p, "a-old", &["10.0.0.1"]);
    let c = assert_conflict(store.update_vps(a.id, &revive, again.version, &sys()).await, "10.0.0.1");
    assert_eq!(c.other_vps.map(|o| o.0), Some(a2.id));
    let revived = store.update_vps(a.id, &vps_draft(&p, "a-old", &["10.0.0.9"]), again.version, &sys()).await.unwrap();
    assert_eq!((revived.status, revived.retired_at), (VpsStatus::Active, None));
    assert!(matches!(store.retire_vps(uuid::Uuid::now_v7(), &sys()).await, Err(StoreError::NotFound)));
}

pub async fn trash_restore_purge(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let a = store.create_vps(&vps_draft(&p, "a", &["10.0.0.1"]), Source::Manual, &sys()).await.unwrap();
    let t = store.trash_vps(a.id, &sys()).await.unwrap();
    assert!(t.deleted_at.is_some());
    assert_eq!(store.trash_vps(a.id, &sys()).await.unwrap().deleted_at, t.deleted_at, "idempotent");
    assert!(hostnames(store, VpsFilter::default()).await.is_empty(), "the trash leaves lists");
    assert_eq!(hostnames(store, VpsFilter { deleted: true, ..Default::default() }).await, ["a"]);
    assert!(store.get_vps(a.id).await.unwrap().deleted_at.is_some(), "still readable");
    assert_conflict(store.update_vps(a.id, &vps_draft(&p, "a", &[]), t.version, &sys()).await, "trash");
    assert_conflict(store.retire_vps(a.id, &sys()).await, "trash");

    // Its address is free meanwhile, so restoring collides.
    let b = store.create_vps(&vps_draft(&p, "b", &["10.0.0.1"]), Source::Manual, &sys()).await.unwrap();
    let c = assert_conflict(store.restore_vps(a.id, &sys()).await, "10.0.0.1");
    assert_eq!(c.other_vps.map(|o| o.0), Some(b.id));
    assert!(store.get_vps(a.id).await.unwrap().deleted_at.is_some(), "restore changed nothing");
    store.trash_vps(b.id, &sys()).await.unwrap();
    let restored = store.restore_vps(a.id, &sys()).await.unwrap();
    assert_eq!(restored.deleted_at, None);
    assert_eq!(store.restore_vps(a.id, &sys()).await.unwrap().deleted_at, None, "idempotent");
    assert_eq!(hostnames(store, VpsFilter::default()).await, ["a"]);

    store.purge_vps(b.id, &sys()).await.unwrap();
    assert!(matches!(store.get_vps(b.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.purge_vps(b.id, &sys()).await, Err(StoreError::NotFound)));
    assert!(store.vps_ip_history(b.id).await.is_err() || store.vps_ip_history(b.id).await.unwrap().is_empty());
}

pub async fn ip_history_follows_every_change(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let a = store.create_vps(&vps_draft(&p, "a", &["10.0.0.1", "10.0.0.2"]), Source::Manual, &sys()).await.unwrap();
    let a = store.update_vps(a.id, &vps_draft(&p, "a", &["10.0.0.2", "10.0.0.3"]), a.version, &sys()).await.unwrap();
    let h = store.vps_ip_history(a.id).await.unwrap();
    let open: Vec<_> = h.iter().filter(|e| e.released_at.is_none()).map(|e| e.ip.to_string()).collect();
    let closed: Vec<_> = h.iter().filter(|e| e.released_at.is_some()).map(|e| e.ip.to_string()).collect();
    assert_eq!(h.len(), 3);
    assert!(open.contains(&"10.0.0.2".into()) && open.contains(&"10.0.0.3".into()));
    assert_eq!(closed, ["10.0.0.1"]);

    store.retire_vps(a.id, &sys()).await.unwrap();
    let b = store.create_vps(&vps_draft(&p, "b", &["10.0.0.2"]), Source::Manual, &sys()).await.unwrap();
    let who = store.ip_history(ip("10.0.0.2")).await.unwrap();
    assert_eq!(who.len(), 2);
    assert_eq!((who[0].vps_id, who[0].hostname.as_str(), who[0].released_at), (b.id, "b", None));
    assert_eq!((who[1].vps_id, who[1].hostname.as_str()), (a.id, "a"));
    assert!(who[1].released_at.is_some() && who[1].released_at.unwrap() <= who[0].assigned_at);
    assert!(store.vps_ip_history(a.id).await.unwrap().iter().all(|e| e.released_at.is_some()));

    store.trash_vps(b.id, &sys()).await.unwrap();
    assert!(store.ip_history(ip("10.0.0.2")).await.unwrap().iter().all(|e| e.released_at.is_some()));
    store.restore_vps(b.id, &sys()).await.unwrap();
    assert_eq!(store.ip_history(ip("10.0.0.2")).await.unwrap().iter().filter(|e| e.released_at.is_none()).count(), 1);
    assert!(store.ip_history(ip("192.0.2.1")).await.unwrap().is_empty());
}

pub async fn update_checks_version(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let a = store.create_vps(&vps_draft(&p, "a", &[]), Source::Manual, &sys()).await.unwrap();
    let mut d = vps_draft(&p, "a", &[]);
    d.notes = Some("one".into());
    let one = store.update_vps(a.id, &d, a.version, &sys()).await.unwrap();
    assert!(one.version > a.version);
    d.notes = Some("two".into());
    assert!(matches!(store.update_vps(a.id, &d, a.version, &sys()).await, Err(StoreError::VersionMismatch)));
    assert_eq!(store.get_vps(a.id).await.unwrap().notes.as_deref(), Some("one"));
    assert_eq!(one.source, Source::Manual);
}

pub async fn list_filters_sort_and_paginate(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let q = store.create_provider(&provider_draft("Q"), &sys()).await.unwrap();
    let today = Utc::now().date_naive();
    let day = |n: i64| if n >= 0 { today + Days::new(n as u64) } else { today - Days::new((-n) as u64) };

    let mut a = vps_draft(&p, "alpha", &["103.1.2.3"]);
    a.tags = vec!["iplc".into(), "cn".into()];
    a.expire_date = Some(day(3));
    a.price = Some(dec("5"));
    a.notes = Some("Needle in notes".into());
    let mut b = vps_draft(&q, "bravo", &["103.1.9.9", "2001:db8::5"]);
    b.country = "DE".into();
    b.tags = vec!["iplc".into()];
    b.purpose = Purpose::Monitor;
    b.expire_date = Some(day(-2));
    b.price = Some(dec("12"));
    b.alias = Some("Frankfurt Box".into());
    let mut c = vps_draft(&p, "charlie", &["104.0.0.1"]);
    c.status = VpsStatus::Provisioning;
    c.monitoring_enabled = false;
    c.expire_date = Some(day(20));
    c.price = Some(dec("1.5"));
    let mut d = vps_draft(&p, "delta", &["103.1.0.7"]);
    d.expire_date = Some(day(1));
    d.tags = vec!["iplc".into(), "cn".into()];
    for draft in [&a, &b, &c, &d] {
        store.create_vps(draft, Source::Manual, &sys()).await.unwrap();
    }
    let delta = store
        .list_vps(
            &VpsFilter { q: Some("delta".into()), ..Default::default() },
            all(),
            VpsSort::Hostname,
            SortOrder::Asc,
        )
        .await
        .unwrap()
        .data[0]
        .clone();
    store.retire_vps(delta.id, &sys()).await.unwrap();

    let f = VpsFilter::default;
    assert_eq!(hostnames(store, f()).await, ["alpha", "bravo", "charlie", "delta"]);
    assert_eq!(hostnames(store, VpsFilter { statuses: vec![VpsStatus::Active], ..f() }).await, ["alpha", "bravo"]);
    assert_eq!(
        hostnames(store, VpsFilter { statuses: vec![VpsStatus::Provisioning, VpsStatus::Retired], ..f() }).await,
        ["charlie", "delta"]
    );
    assert_eq!(hostnames(store, VpsFilter { country: Some("DE".into()), ..f() }).await, ["bravo"]);
    assert_eq!(hostnames(store, VpsFilter { provider_id: Some(q.id), ..f() }).await, ["bravo"]);
    assert_eq!(
        hostnames(store, VpsFilter { purpose: Some(Purpose::VpnExit), ..f() }).await,
        ["alpha", "charlie", "delta"]
    );
    assert_eq!(hostnames(store, VpsFilter { tags: vec!["iplc".into()], ..f() }).await, ["alpha", "bravo", "delta"]);
    assert_eq!(hostnames(store, VpsFilter { tags: vec!["iplc".into(), "cn".into()], ..f() }).await, ["alpha", "delta"]);
    assert!(hostnames(store, VpsFilter { tags: vec!["iplc".into(), "nope".into()], ..f() }).await.is_empty());
    assert_eq!(hostnames(store, VpsFilter { q: Some("needle".into()), ..f() }).await, ["alpha"]);
    assert_eq!(hostnames(store, VpsFilter { q: Some("frankfurt".into()), ..f() }).await, ["bravo"]);
    assert_eq!(hostnames(store, VpsFilter { q: Some("104.0".into()), ..f() }).await, ["charlie"]);
    assert_eq!(
        hostnames(store, VpsFilter { q: Some("100%_".into()), ..f() }).await,
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );
    let net = |s: &str| Some(s.parse().unwrap());
    assert_eq!(hostnames(store, VpsFilter { ip: net("103.1.0.0/16"), ..f() }).await, ["alpha", "bravo", "delta"]);
    assert_eq!(hostnames(store, VpsFilter { ip: net("103.1.2.3/32"), ..f() }).await, ["alpha"]);
    assert_eq!(hostnames(store, VpsFilter { ip: net("2001:db8::/32"), ..f() }).await, ["bravo"]);
    assert_eq!(
        hostnames(store, VpsFilter { expires_by: Some(day(7)), ..f() }).await,
        ["alpha", "bravo"],
        "overdue included, retired not"
    );
    assert_eq!(hostnames(store, VpsFilter { monitoring_enabled: Some(false), ..f() }).await, ["charlie"]);
    assert_eq!(
        hostnames(
            store,
            VpsFilter {
                statuses: vec![VpsStatus::Active],
                tags: vec!["iplc".into()],
                country: Some("JP".into()),
                ..f()
            }
        )
        .await,
        ["alpha"]
    );

    let sorted = |sort, order| async move {
        store.list_vps(&f(), all(), sort, order).await.unwrap().data.into_iter().map(|v| v.hostname).collect::<Vec<_>>()
    };
    assert_eq!(sorted(VpsSort::MonthlyCost, SortOrder::Desc).await, ["bravo", "alpha", "charlie", "delta"]);
    assert_eq!(sorted(VpsSort::ExpireDate, SortOrder::Asc).await, ["bravo", "delta", "alpha", "charlie"]);
    assert_eq!(sorted(VpsSort::CreatedAt, SortOrder::Desc).await, ["delta", "charlie", "bravo", "alpha"]);
    assert_eq!(sorted(VpsSort::Country, SortOrder::Asc).await[0], "bravo");
    assert_eq!(sorted(VpsSort::Status, SortOrder::Asc).await, ["alpha", "bravo", "charlie", "delta"]);

    let page =
        store.list_vps(&f(), PageRequest { page: 2, per_page: 3 }, VpsSort::Hostname, SortOrder::Asc).await.unwrap();
    assert_eq!((page.total, page.page, page.per_page), (4, 2, 3));
    assert_eq!(page.data.iter().map(|v| v.hostname.as_str()).collect::<Vec<_>>(), ["delta"]);
    let beyond =
        store.list_vps(&f(), PageRequest { page: 9, per_page: 3 }, VpsSort::Hostname, SortOrder::Asc).await.unwrap();
    assert_eq!((beyond.total, beyond.data.len()), (4, 0));
}

pub async fn stats_add_up(store: &dyn Store) {
    let today = Utc::now().date_naive();
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let q = store.create_provider(&provider_draft("Q"), &sys()).await.unwrap();
    let mut a = vps_draft(&p, "a", &[]);
    a.price = Some(dec("10"));
    a.expire_date = Some(today + Days::new(5));
    let mut b = vps_draft(&p, "b", &[]);
    b.price = Some(dec("120"));
    b.billing_cycle = BillingCycle::Annual;
    b.expire_date = Some(today + Days::new(20));
    b.purpose = Purpose::Monitor;
    let mut c = vps_draft(&q, "c", &[]);
    c.price = Some(dec("3.33"));
    c.currency = "EUR".into();
    c.country = "DE".into();
    c.expire_date = Some(today - Days::new(1));
    let mut d = vps_draft(&q, "d", &[]);
    d.price = Some(dec("99"));
    d.expire_date = Some(today);
    for draft in [&a, &b, &c, &d] {
        store.create_vps(draft, Source::Manual, &sys()).await.unwrap();
    }
    let d_id = store
        .list_vps(
            &VpsFilter {
                q: Some("d".into()),
                country: Some("JP".into()),
                provider_id: Some(q.id),
                ..Default::default()
            },
            all(),
            VpsSort::Hostname,
            SortOrder::Asc,
        )
        .await
        .unwrap()
        .data[0]
        .id;
    store.retire_vps(d_id, &sys()).await.unwrap();

    let s = store.stats(today).await.unwrap();
    assert_eq!((s.total_vps, s.retired_vps, s.total_providers), (3, 1, 2));
    assert_eq!(s.by_status.get("active"), Some(&3));
    assert_eq!(s.by_status.get("retired"), Some(&1));
    assert_eq!(s.by_status.get("suspended"), Some(&0));
    assert_eq!(s.by_country.get("JP"), Some(&2));
    assert_eq!(s.by_country.get("DE"), Some(&1));
    assert_eq!(s.by_purpose.get("monitor"), Some(&1));
    assert_eq!(
        s.by_provider.iter().map(|c| (c.provider_name.as_str(), c.count)).collect::<Vec<_>>(),
        [("P", 2), ("Q", 1)]
    );
    assert_eq!((s.expiring_7d, s.expiring_30d), (2, 3));
    let cost: Vec<_> = s.monthly_cost.iter().map(|c| (c.currency.as_str(), c.amount.normalize().to_string())).collect();
    assert_eq!(cost, [("EUR", "3.33".to_string()), ("USD", "20".to_string())]);

    let by_status = store.count_vps_by_status().await.unwrap();
    assert!(by_status.contains(&(VpsStatus::Active, 3)) && by_status.contains(&(VpsStatus::Retired, 1)));
}

pub async fn concurrent_creates_keep_one(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let drafts: Vec<_> = (0..8).map(|i| vps_draft(&p, &format!("racer-{i}"), &["198.51.100.7"])).collect();
    let ctx = sys();
    let results = futures::future::join_all(drafts.iter().map(|d| store.create_vps(d, Source::Manual, &ctx))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "exactly one VPS gets the address: {results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(StoreError::Conflict(_)))));
    assert_eq!(hostnames(store, VpsFilter::default()).await.len(), 1);
}

pub async fn audit_records_every_change(store: &dyn Store) {
    use sigma_types::{ActorKind, AuditActor, AuditFilter};
    let alice = AuditContext {
        actor: AuditActor { kind: ActorKind::User, id: Some(uuid::Uuid::now_v7()), name: "alice@example.com".into() },
        ip: Some(ip("192.0.2.10")),
        request_id: Some("req-1".into()),
    };
    let p = store.create_provider(&provider_draft("P"), &alice).await.unwrap();
    let p = store.update_provider(p.id, &provider_draft("P2"), p.version, &alice).await.unwrap();
    let v = store.create_vps(&vps_draft(&p, "a", &["10.0.0.1"]), Source::Manual, &sys()).await.unwrap();
    let mut d = vps_draft(&p, "a", &["10.0.0.2"]);
    d.notes = Some("changed".into());
    store.update_vps(v.id, &d, v.version, &sys()).await.unwrap();
    store.retire_vps(v.id, &sys()).await.unwrap();
    store.retire_vps(v.id, &sys()).await.unwrap(); // no change, no entry
    store.trash_vps(v.id, &sys()).await.unwrap();
    store.restore_vps(v.id, &sys()).await.unwrap();
    // Failed changes leave no entry.
    assert!(store.create_provider(&provider_draft("p2"), &alice).await.is_err());
    assert!(store.update_vps(v.id, &d, 0, &sys()).await.is_err());
    store.purge_vps(v.id, &sys()).await.unwrap();
    store.delete_provider(p.id, &alice).await.unwrap();

    let everything = store.list_audit(&AuditFilter::default(), all()).await.unwrap();
    let actions: Vec<(String, String)> =
        everything.data.iter().rev().map(|e| (e.resource_type.clone(), e.action.clone())).collect();
    let expected = [
        ("provider", "create"),
        ("provider", "update"),
        ("vps", "create"),
        ("vps", "update"),
        ("vps", "retire"),
        ("vps", "delete"),
        ("vps", "restore"),
        ("vps", "purge"),
        ("provider", "delete"),
    ];
    assert_eq!(actions, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(everything.total, 9);

    let newest = &everything.data[0];
    assert_eq!((newest.actor.name.as_str(), newest.actor.kind), ("alice@example.com", ActorKind::User));
    assert_eq!((newest.ip.as_deref(), newest.request_id.as_deref()), (Some("192.0.2.10"), Some("req-1")));
    assert_eq!(newest.resource_id, Some(p.id));
    assert_eq!(newest.before.as_ref().unwrap()["name"], "P2");
    assert!(newest.after.is_none());
    let update = &everything.data[5];
    assert_eq!(update.action, "update");
    assert_eq!(update.before.as_ref().unwrap()["ip_addresses"][0]["ip"], "10.0.0.1");
    assert_eq!(update.after.as_ref().unwrap()["ip_addresses"][0]["ip"], "10.0.0.2");
    assert_eq!(update.after.as_ref().unwrap()["notes"], "changed");

    let by_alice = store
        .list_audit(&AuditFilter { actor: Some("alice@example.com".into()), ..Default::default() }, all())
        .await
        .unwrap();
    assert_eq!(by_alice.total, 3);
    let vps_only = store
        .list_audit(
            &AuditFilter { resource_type: Some("vps".into()), action: Some("update".into()), ..Default::default() },
            all(),
        )
        .await
        .unwrap();
    assert_eq!(vps_only.total, 1);
    let of_v = store.list_audit(&AuditFilter { resource_id: Some(v.id), ..Default::default() }, all()).await.unwrap();
    assert_eq!(of_v.total, 6);
    let future = store
        .list_audit(&AuditFilter { from: Some(Utc::now() + chrono::Duration::hours(1)), ..Default::default() }, all())
        .await
        .unwrap();
    assert_eq!(future.total, 0);
    let paged = store.list_audit(&AuditFilter::default(), PageRequest { page: 2, per_page: 4 }).await.unwrap();
    assert_eq!((paged.total, paged.data.len()), (9, 4));
    assert_eq!(paged.data[0].id, everything.data[4].id);
}

/// The figures `stats` must give, counted from the list itself.
async fn stats_by_listing(store: &dyn Store) -> Stats {
    let mut s = Stats::default();
    for st in VpsStatus::ALL {
        s.by_status.insert(st.as_str().to_owned(), 0);
    }
    let mut cost: std::collections::BTreeMap<String, Decimal> = Default::default();
    let mut providers: Vec<CountBy> = Vec::new();
    for v in store.list_vps(&VpsFilter::default(), all(), VpsSort::Hostname, SortOrder::Asc).await.unwrap().data {
        *s.by_status.entry(v.status.as_str().to_owned()).or_default() += 1;
        if v.status == VpsStatus::Retired {
            s.retired_vps += 1;
            continue;
        }
        s.total_vps += 1;
        *s.by_country.entry(v.country.clone()).or_default() += 1;
        *s.by_purpose.entry(v.purpose.as_str().to_owned()).or_default() += 1;
        *cost.entry(v.currency.clone()).or_default() += v.monthly_cost;
        match providers.iter_mut().find(|c| c.provider_id == v.provider_id) {
            Some(c) => c.count += 1,
            None => providers.push(CountBy {
                provider_id: v.provider_id,
                provider_name: store.get_provider(v.provider_id).await.unwrap().name,
                count: 1,
            }),
        }
    }
    providers.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.provider_name.cmp(&b.provider_name)));
    s.by_provider = providers;
    s.monthly_cost =
        cost.into_iter().map(|(currency, amount)| CurrencyAmount { currency, amount: amount.normalize() }).collect();
    s
}

/// Stats agree with the list after every kind of change: updates of each
/// counted field, retire, trash, restore and purge.
pub async fn stats_follow_every_change(store: &dyn Store) {
    let today = Utc::now().date_naive();
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let q = store.create_provider(&provider_draft("Q"), &sys()).await.unwrap();
    let check = |step: &'static str| async move {
        let got = store.stats(today).await.unwrap();
        let want = stats_by_listing(store).await;
        assert_eq!(
            (&got.by_status, &got.by_country, &got.by_purpose, &got.by_provider, &got.monthly_cost),
            (&want.by_status, &want.by_country, &want.by_purpose, &want.by_provider, &want.monthly_cost),
            "after {step}"
        );
        assert_eq!((got.total_vps, got.retired_vps), (want.total_vps, want.retired_vps), "after {step}");
    };
    let mut ids = Vec::new();
    for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        let mut d = vps_draft(if i % 2 == 0 { &p } else { &q }, name, &[]);
        d.price = Some(dec("7.5") * Decimal::from(i as i64 + 1));
        d.currency = if i == 4 { "EUR".into() } else { "USD".into() };
        ids.push(store.create_vps(&d, Source::Manual, &sys()).await.unwrap());
    }
    check("creates").await;

    let a = &ids[0];
    let mut moved = vps_draft(&q, "a", &[]);
    moved.country = "SG".into();
    moved.purpose = Purpose::Monitor;
    moved.currency = "EUR".into();
    moved.price = Some(dec("1.25"));
    moved.status = VpsStatus::Suspended;
    store.update_vps(a.id, &moved, a.version, &sys()).await.unwrap();
    check("an update of every counted field").await;

    store.retire_vps(ids[1].id, &sys()).await.unwrap();
    check("retire").await;
    store.trash_vps(ids[2].id, &sys()).await.unwrap();
    store.trash_vps(ids[1].id, &sys()).await.unwrap();
    check("trash").await;
    store.restore_vps(ids[2].id, &sys()).await.unwrap();
    check("restore").await;
    store.purge_vps(ids[1].id, &sys()).await.unwrap();
    store.trash_vps(ids[3].id, &sys()).await.unwrap();
    store.purge_vps(ids[3].id, &sys()).await.unwrap();
    check("purge").await;
    let s = store.stats(today).await.unwrap();
    assert_eq!((s.total_vps, s.retired_vps), (3, 0));
}

/// `?q=` finds a VPS by what it is now, whatever the length of the text.
pub async fn search_follows_changes(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let mut d = vps_draft(&p, "tokyo-edge-1", &["198.51.100.7"]);
    d.notes = Some("Rack 7, 東京, \"blue\" cable".into());
    let v = store.create_vps(&d, Source::Manual, &sys()).await.unwrap();
    store.create_vps(&vps_draft(&p, "osaka-2", &["198.51.100.8"]), Source::Manual, &sys()).await.unwrap();
    let find = |text: &str, deleted: bool| {
        let filter = VpsFilter { q: Some(text.to_lowercase()), deleted, ..Default::default() };
        async move { hostnames(store, filter).await }
    };
    assert_eq!(find("edge", false).await, ["tokyo-edge-1"]);
    assert_eq!(find("EDGE", false).await, ["tokyo-edge-1"], "case does not matter");
    assert_eq!(find("100.7", false).await, ["tokyo-edge-1"]);
    assert_eq!(find("東京", false).await, ["tokyo-edge-1"], "two characters");
    assert_eq!(find("k 7, 東", false).await, ["tokyo-edge-1"]);
    assert_eq!(find("10", false).await, ["osaka-2", "tokyo-edge-1"]);
    assert!(find("edge*", false).await.is_empty(), "wildcards are literal");
    assert!(find("e?ge", false).await.is_empty(), "wildcards are literal");
    assert!(find("[e]dge", false).await.is_empty(), "wildcards are literal");
    assert_eq!(find("\"blue\" c", false).await, ["tokyo-edge-1"], "quotes are literal");
    assert!(find("blue AND cable", false).await.is_empty(), "no query syntax");
    assert!(find("\"blue", false).await.len() == 1 && find("blue\"\"", false).await.is_empty());

    d.hostname = "nagoya-9".into();
    let v = store.update_vps(v.id, &d, v.version, &sys()).await.unwrap();
    assert!(find("edge", false).await.is_empty(), "the old name is forgotten");
    assert_eq!(find("nagoya", false).await, ["nagoya-9"]);

    store.trash_vps(v.id, &sys()).await.unwrap();
    assert!(find("nagoya", false).await.is_empty());
    assert_eq!(find("nagoya", true).await, ["nagoya-9"], "the trash is searchable");
    store.purge_vps(v.id, &sys()).await.unwrap();
    assert!(find("nagoya", true).await.is_empty());
    assert_eq!(find("osaka", false).await, ["osaka-2"]);
}

/// Writers running side by side, each moving VPS between statuses and
/// countries in its own order, all succeed and leave the tallies right.
pub async fn stats_survive_concurrent_writers(store: &dyn Store) {
    let today = Utc::now().date_naive();
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    let writer = |w: usize| {
        let p = p.clone();
        async move {
            let ctx = sys();
            let (here, there) = if w.is_multiple_of(2) { ("JP", "US") } else { ("US", "JP") };
            for i in 0..4 {
                let first = (w + i).is_multiple_of(2);
                let mut d = vps_draft(&p, &format!("w{w}-{i}"), &[]);
                d.status = if first { VpsStatus::Active } else { VpsStatus::Provisioning };
                d.country = here.into();
                let v = store.create_vps(&d, Source::Manual, &ctx).await?;
                d.status = if first { VpsStatus::Provisioning } else { VpsStatus::Active };
                d.country = there.into();
                let v = store.update_vps(v.id, &d, v.version, &ctx).await?;
                if i == 3 {
                    store.retire_vps(v.id, &ctx).await?;
                }
            }
            Ok::<_, StoreError>(())
        }
    };
    let results = futures::future::join_all((0..6).map(writer)).await;
    assert!(results.iter().all(|r| r.is_ok()), "every writer succeeds: {results:?}");
    let got = store.stats(today).await.unwrap();
    let want = stats_by_listing(store).await;
    assert_eq!(
        (&got.by_status, &got.by_country, &got.monthly_cost),
        (&want.by_status, &want.by_country, &want.monthly_cost)
    );
    assert_eq!((got.total_vps, got.retired_vps), (18, 6));
}

/// The fleet's version moves on with every committed change of a VPS or a
/// provider, and only then.
pub async fn fleet_version_moves_with_every_change(store: &dyn Store) {
    let v0 = store.fleet_version().await.unwrap();
    assert_eq!(store.fleet_version().await.unwrap(), v0, "reading moves nothing");
    let mut last = v0;
    fn moved_on(last: &mut i64, now: i64, what: &str) {
        assert!(now > *last, "{what} moves the version on ({last} -> {now})");
        *last = now;
    }
    macro_rules! moved {
        ($now:expr, $what:expr) => {
            moved_on(&mut last, $now, $what)
        };
    }
    let p = store.create_provider(&provider_draft("P"), &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a new provider");
    let p = store.update_provider(p.id, &provider_draft("Q"), p.version, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a renamed provider");
    let a = store.create_vps(&vps_draft(&p, "a", &["10.0.0.1"]), Source::Manual, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a new VPS");
    let a = store.update_vps(a.id, &vps_draft(&p, "a", &["10.0.0.2"]), a.version, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a new address");
    // A refused change stores nothing and moves nothing.
    assert!(store.update_vps(a.id, &vps_draft(&p, "a", &[]), a.version - 1, &sys()).await.is_err());
    assert_eq!(store.fleet_version().await.unwrap(), last, "a refused change");
    store.retire_vps(a.id, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a retirement");
    store.trash_vps(a.id, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "the trash");
    store.restore_vps(a.id, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a restore");
    store.purge_vps(a.id, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a purge");
    let rows = (0..3)
        .map(|i| crate::VpsImportRow {
            row: i + 1,
            patch: sigma_types::VpsPatch {
                hostname: sigma_types::Patch::Value(format!("imported-{i}")),
                provider_id: sigma_types::Patch::Value(p.id),
                country: sigma_types::Patch::Value("JP".into()),
                purpose: sigma_types::Patch::Value(Purpose::VpnExit),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect::<Vec<_>>();
    let dry = crate::ImportOptions { dry_run: true, ..Default::default() };
    store.import_vps(rows.clone(), dry, &sys()).await.unwrap();
    assert_eq!(store.fleet_version().await.unwrap(), last, "a dry run");
    let report = store.import_vps(rows, crate::ImportOptions::default(), &sys()).await.unwrap();
    assert_eq!(report.created, 3, "{report:?}");
    moved!(store.fleet_version().await.unwrap(), "an import");
    store.delete_provider(store.create_provider(&provider_draft("R"), &sys()).await.unwrap().id, &sys()).await.unwrap();
    moved!(store.fleet_version().await.unwrap(), "a deleted provider");
}

pub async fn fleet_reads_what_all_vps_reads(store: &dyn Store) {
    let p = store.create_provider(&provider_draft("DMIT"), &sys()).await.unwrap();
    let q = store.create_provider(&provider_draft("RackNerd"), &sys()).await.unwrap();
    let mut full = vps_draft(&p, "tokyo-1", &["10.0.0.5", "203.0.113.3", "2001:db8::1"]);
    full.ip_addresses[0].label = Some(IpLabel::Internal);
    full.ip_addresses[1].label = Some(IpLabel::ChinaTelecom);
    full.alias = Some("Tokyo \"1\"".into());
    full.city = Some("Tokyo".into());
    full.dc_name = Some("TYO2".into());
    full.ssh_port = 2222;
    full.ssh_user = Some("root".into());
    full.vpn_protocol = Some("vless".into());
    full.tags = vec!["iplc".into(), "cn,optimized".into(), "quote\"d".into()];
    full.expire_date = NaiveDate::from_ymd_opt(2027, 2, 1);
    full.node_exporter_port = 9101;
    store.create_vps(&full, Source::Manual, &sys()).await.unwrap();
    let mut bare = vps_draft(&q, "la-1", &[]);
    bare.country = "US".into();
    bare.monitoring_enabled = false;
    bare.status = VpsStatus::Suspended;
    store.create_vps(&bare, Source::Manual, &sys()).await.unwrap();
    for _ in 0..2 {
        let old = store.create_vps(&vps_draft(&p, "old-1", &["10.0.0.9"]), Source::Manual, &sys()).await.unwrap();
        store.retire_vps(old.id, &sys()).await.unwrap();
    }
    let gone = store.create_vps(&vps_draft(&q, "gone", &[]), Source::Manual, &sys()).await.unwrap();
    store.trash_vps(gone.id, &sys()).await.unwrap();

    let filters = [
        VpsFilter::default(),
        VpsFilter { statuses: vec![VpsStatus::Retired], ..Default::default() },
        VpsFilter { country: Some("JP".into()), monitoring_enabled: Some(true), ..Default::default() },
        VpsFilter { tags: vec!["iplc".into()], ..Default::default() },
        VpsFilter { deleted: true, ..Default::default() },
    ];
    for filter in filters {
        let want: Vec<crate::FleetVps> = store.all_vps(&filter).await.unwrap().iter().map(Into::into).collect();
        assert!(!want.is_empty(), "{filter:?} matches something");
        assert_eq!(store.fleet(&filter).await.unwrap(), want, "{filter:?}");
    }
}
