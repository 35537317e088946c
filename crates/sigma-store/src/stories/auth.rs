//! Stories of users, sessions, second factors, API keys and failed logins.

use crate::{AuditContext, LockPolicy, NewApiKey, NewUser, Store, StoreError, UserUpdate};
use chrono::{TimeDelta, Utc};
use sigma_types::{AuditFilter, PageRequest, Role};
use uuid::Uuid;

fn sys() -> AuditContext {
    AuditContext::system()
}

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser { email: email.into(), password_hash: format!("hash-of-{email}"), role }
}

fn page() -> PageRequest {
    PageRequest { page: 1, per_page: 50 }
}

async fn audit_actions(store: &dyn Store, resource_type: &str) -> Vec<String> {
    let filter = AuditFilter { resource_type: Some(resource_type.into()), ..Default::default() };
    let log = store.list_audit(&filter, PageRequest { page: 1, per_page: 500 }).await.unwrap();
    log.data.iter().rev().map(|e| e.action.clone()).collect()
}

pub async fn users_crud_and_last_admin(store: &dyn Store) {
    assert_eq!(store.count_users().await.unwrap(), 0);
    let admin = store.create_user(&new_user("Root@Example.com", Role::Admin), &sys()).await.unwrap();
    assert_eq!(
        (admin.email.as_str(), admin.role, admin.disabled, admin.totp_enabled),
        ("Root@Example.com", Role::Admin, false, false)
    );
    let taken = store.create_user(&new_user("root@example.COM", Role::Readonly), &sys()).await.unwrap_err();
    assert!(matches!(&taken, StoreError::Conflict(c) if c.field.as_deref() == Some("email")), "{taken:?}");

    let found = store.user_secrets_by_email("ROOT@example.com").await.unwrap().unwrap();
    assert_eq!(
        (found.user.id, found.password_hash.as_str(), found.token_generation),
        (admin.id, "hash-of-Root@Example.com", 0)
    );
    assert!(store.user_secrets_by_email("nobody@example.com").await.unwrap().is_none());

    // The only admin can be neither disabled, demoted nor deleted.
    for change in [
        UserUpdate { disabled: Some(true), ..Default::default() },
        UserUpdate { role: Some(Role::Operator), ..Default::default() },
    ] {
        assert!(matches!(store.update_user(admin.id, &change, &sys()).await, Err(StoreError::Conflict(_))));
    }
    assert!(matches!(store.delete_user(admin.id, &sys()).await, Err(StoreError::Conflict(_))));
    assert!(!store.get_user(admin.id).await.unwrap().disabled, "a refused change changes nothing");

    let ops = store.create_user(&new_user("ops@example.com", Role::Operator), &sys()).await.unwrap();
    let renamed = UserUpdate { email: Some("OPS2@example.com".into()), role: Some(Role::Admin), ..Default::default() };
    let ops = store.update_user(ops.id, &renamed, &sys()).await.unwrap();
    assert_eq!((ops.email.as_str(), ops.role), ("OPS2@example.com", Role::Admin));
    let clash = UserUpdate { email: Some("root@example.com".into()), ..Default::default() };
    assert!(matches!(store.update_user(ops.id, &clash, &sys()).await, Err(StoreError::Conflict(_))));

    // A new password or disabling ends the sessions; a role change does not.
    let before = store.user_secrets(admin.id).await.unwrap().token_generation;
    let pw = UserUpdate { password_hash: Some("new-hash".into()), ..Default::default() };
    store.update_user(admin.id, &pw, &sys()).await.unwrap();
    let s = store.user_secrets(admin.id).await.unwrap();
    assert_eq!((s.password_hash.as_str(), s.token_generation), ("new-hash", before + 1));
    store.update_user(admin.id, &UserUpdate { disabled: Some(true), ..Default::default() }, &sys()).await.unwrap();
    assert_eq!(store.user_secrets(admin.id).await.unwrap().token_generation, before + 2);
    store.end_sessions(admin.id, "logout", &sys()).await.unwrap();
    assert_eq!(store.user_secrets(admin.id).await.unwrap().token_generation, before + 3);
    assert!(matches!(store.end_sessions(Uuid::now_v7(), "logout", &sys()).await, Err(StoreError::NotFound)));

    let list = store.list_users(page()).await.unwrap();
    assert_eq!(list.total, 2);
    assert_eq!(list.data[0].email, "OPS2@example.com", "by address, ignoring case");
    store.delete_user(admin.id, &sys()).await.unwrap();
    assert!(matches!(store.get_user(admin.id).await, Err(StoreError::NotFound)));
    assert_eq!(store.count_users().await.unwrap(), 1);

    let actions = audit_actions(store, "user").await;
    assert_eq!(actions, ["create", "create", "update", "update", "update", "logout", "delete"]);
    let log = store.list_audit(&AuditFilter::default(), page()).await.unwrap();
    let text = serde_json::to_string(&log.data).unwrap();
    assert!(!text.contains("hash-of") && !text.contains("new-hash"), "no password hash in the audit log: {text}");
    assert!(text.contains("password_changed"));
}

pub async fn failed_logins_lock_an_address(store: &dyn Store) {
    let policy = LockPolicy { max_failures: 3, window: TimeDelta::minutes(15), lock_for: TimeDelta::minutes(10) };
    let user = store.create_user(&new_user("ops@example.com", Role::Operator), &sys()).await.unwrap();
    for email in ["ghost@example.com", "OPS@example.com"] {
        let user_id = (email != "ghost@example.com").then_some(user.id);
        assert_eq!(store.login_locked_until(email).await.unwrap(), None);
        for _ in 0..2 {
            let locked = store.record_login_failure(email, user_id, "bad_password", &policy, &sys()).await.unwrap();
            assert_eq!(locked, None);
        }
        let locked = store.record_login_failure(email, user_id, "bad_password", &policy, &sys()).await.unwrap();
        let until = locked.expect("the third failure locks");
        assert!(until > Utc::now() + TimeDelta::minutes(9));
        assert_eq!(store.login_locked_until(&email.to_lowercase()).await.unwrap(), Some(until));
    }
    // A successful login forgets the failures of its address.
    let u = store.record_login(user.id, &sys()).await.unwrap();
    assert!(u.last_login_at.is_some());
    assert_eq!(store.login_locked_until("ops@example.com").await.unwrap(), None);
    assert!(store.login_locked_until("ghost@example.com").await.unwrap().is_some());

    let filter = AuditFilter { action: Some("login_failed".into()), ..Default::default() };
    let failed = store.list_audit(&filter, page()).await.unwrap();
    assert_eq!(failed.total, 6);
    let unknown = failed.data.iter().filter(|e| e.resource_id.is_none()).count();
    assert_eq!(unknown, 3, "failures for an unknown address name no user");
    assert_eq!(failed.data[0].after.as_ref().unwrap()["reason"], "bad_password");
    assert_eq!(audit_actions(store, "user").await.last().unwrap(), "login");
}

pub async fn totp_steps_and_recovery_codes(store: &dyn Store) {
    let user = store.create_user(&new_user("ops@example.com", Role::Operator), &sys()).await.unwrap();
    let none: &[String] = &[];
    assert!(matches!(store.enable_totp(user.id, 1, none, &sys()).await, Err(StoreError::Conflict(_))), "set up first");
    store.set_totp_secret(user.id, "JBSWY3DPEHPK3PXP").await.unwrap();
    let codes = ["h1".to_string(), "h2".to_string()];
    let u = store.enable_totp(user.id, 100, &codes, &sys()).await.unwrap();
    assert!(u.totp_enabled);
    assert_eq!(store.user_secrets(user.id).await.unwrap().totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
    assert!(matches!(store.set_totp_secret(user.id, "OTHER").await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.enable_totp(user.id, 101, &codes, &sys()).await, Err(StoreError::Conflict(_))));

    // Each time step is accepted once, and never an older one.
    assert!(!store.use_totp_step(user.id, 100).await.unwrap(), "the step that enabled TOTP is spent");
    assert!(store.use_totp_step(user.id, 101).await.unwrap());
    assert!(!store.use_totp_step(user.id, 101).await.unwrap());
    assert!(!store.use_totp_step(user.id, 99).await.unwrap());
    assert!(store.use_recovery_code(user.id, "h1").await.unwrap());
    assert!(!store.use_recovery_code(user.id, "h1").await.unwrap());
    assert!(!store.use_recovery_code(user.id, "nope").await.unwrap());

    let u = store.disable_totp(user.id, &sys()).await.unwrap();
    assert!(!u.totp_enabled);
    let s = store.user_secrets(user.id).await.unwrap();
    assert!(s.totp_secret.is_none());
    assert!(!store.use_recovery_code(user.id, "h2").await.unwrap(), "codes go with TOTP");
    // An admin can turn it off for a user who lost the device.
    store.set_totp_secret(user.id, "JBSWY3DPEHPK3PXP").await.unwrap();
    store.enable_totp(user.id, 5, &codes, &sys()).await.unwrap();
    let off =
        store.update_user(user.id, &UserUpdate { disable_totp: true, ..Default::default() }, &sys()).await.unwrap();
    assert!(!off.totp_enabled);
    assert!(!store.use_recovery_code(user.id, "h2").await.unwrap());
    assert_eq!(audit_actions(store, "user").await, ["create", "totp_enable", "totp_disable", "totp_enable", "update"]);
    let log = store.list_audit(&AuditFilter::default(), page()).await.unwrap();
    assert!(!serde_json::to_string(&log.data).unwrap().contains("JBSWY3DP"), "no TOTP secret in the audit log");
}

pub async fn api_keys_lifecycle(store: &dyn Store) {
    let ops = store.create_user(&new_user("ops@example.com", Role::Operator), &sys()).await.unwrap();
    let key = |name: &str, hash: &str, owner| NewApiKey {
        name: name.into(),
        prefix: "sigma_ab".into(),
        key_hash: hash.into(),
        role: Role::Readonly,
        owner_id: owner,
        expires_at: Some(Utc::now() + TimeDelta::days(30)),
    };
    let prom = store.create_api_key(&key("prometheus", "hash-1", Some(ops.id)), &sys()).await.unwrap();
    let ci = store.create_api_key(&key("ci", "hash-2", None), &sys()).await.unwrap();
    assert_eq!(
        (prom.name.as_str(), prom.role, prom.owner_id, prom.last_used_at),
        ("prometheus", Role::Readonly, Some(ops.id), None)
    );
    assert!(store.create_api_key(&key("again", "hash-1", None), &sys()).await.is_err(), "hashes are unique");

    assert_eq!(store.list_api_keys(Some(ops.id), page()).await.unwrap().data, std::slice::from_ref(&prom));
    let all = store.list_api_keys(None, page()).await.unwrap();
    assert_eq!((all.total, all.data[0].id), (2, ci.id), "newest first");

    let grant = store.api_key_by_hash("hash-1").await.unwrap().unwrap();
    assert_eq!((grant.key.id, grant.owner.map(|o| o.id)), (prom.id, Some(ops.id)));
    assert!(store.api_key_by_hash("hash-3").await.unwrap().is_none());
    let at = Utc::now();
    store.touch_api_key(prom.id, at).await.unwrap();
    let used = store.get_api_key(prom.id).await.unwrap().last_used_at.unwrap();
    assert!((used - at).num_milliseconds().abs() < 1);

    store.delete_api_key(ci.id, &sys()).await.unwrap();
    assert!(matches!(store.get_api_key(ci.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete_api_key(ci.id, &sys()).await, Err(StoreError::NotFound)));
    // A user's keys go with the user.
    store.delete_user(ops.id, &sys()).await.unwrap();
    assert!(store.api_key_by_hash("hash-1").await.unwrap().is_none());
    assert_eq!(audit_actions(store, "api_key").await, ["create", "create", "revoke"]);
    let log = store.list_audit(&AuditFilter::default(), page()).await.unwrap();
    assert!(!serde_json::to_string(&log.data).unwrap().contains("hash-1"), "no key hash in the audit log");
}
