//! Accounts and sessions against real stores, with a manual clock: creation
//! and its checks, sign-in, idle and absolute expiry, password changes and
//! resets ending sessions, disabling, and the first-start admin.

use std::sync::Arc;

use jiff::SignedDuration;
use warroom_domain::{AccessRole, DomainError};
use warroom_engine::accounts::{
    AccountChange, Accounts, NewAccount, SignedIn, SESSION_IDLE, SESSION_MAX,
};
use warroom_engine::ManualClock;
use warroom_store::{Store, StoreError};

use crate::helpers::t;
use warroom_store::on_both_backends;

on_both_backends!(
    create_checks_fields_and_generates_passwords,
    sign_in_needs_the_right_password_and_an_enabled_account,
    sessions_end_when_idle_or_too_old,
    change_password_keeps_this_session_and_ends_the_others,
    reset_password_and_disable_end_every_session,
    the_last_admin_stays_an_admin,
    bootstrap_creates_one_admin_once,
);

const PASSWORD: &str = "correct horse battery";

fn setup<S: Store>(store: S) -> (Accounts<S>, ManualClock) {
    let clock = ManualClock::new(t(0));
    (Accounts::new(store, Arc::new(clock.clone())), clock)
}

fn new(email: &str, role: AccessRole, password: Option<&str>) -> NewAccount {
    NewAccount {
        email: email.into(),
        name: "Alice Example".into(),
        role,
        password: password.map(str::to_owned),
    }
}

fn invalid_field(err: StoreError) -> String {
    match err {
        StoreError::Rejected(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

async fn sign_in<S: Store>(accounts: &Accounts<S>, email: &str, password: &str) -> SignedIn {
    accounts
        .sign_in(email, password)
        .await
        .unwrap()
        .expect("signed in")
}

async fn create_checks_fields_and_generates_passwords<S: Store>(store: S) {
    let (accounts, _) = setup(store);
    let (alice, generated) = accounts
        .create(new(
            "Alice@Example.com",
            AccessRole::Responder,
            Some(PASSWORD),
        ))
        .await
        .unwrap();
    assert_eq!(generated, None);
    assert_eq!(alice.email, "alice@example.com");
    assert_eq!((alice.role, alice.disabled), (AccessRole::Responder, false));
    assert_eq!(alice.created_at, t(0));
    assert_eq!(accounts.get(alice.id).await.unwrap(), alice);

    let (bob, generated) = accounts
        .create(new("bob@example.com", AccessRole::Viewer, None))
        .await
        .unwrap();
    let generated = generated.expect("a generated password");
    assert_eq!(generated.len(), 20);
    sign_in(&accounts, "bob@example.com", &generated).await;

    let err = accounts
        .create(new("ALICE@example.com", AccessRole::Viewer, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.starts_with("email:")),
        "{err:?}"
    );
    for (bad, field) in [
        (new("no-at-sign", AccessRole::Viewer, None), "email"),
        (new("a b@example.com", AccessRole::Viewer, None), "email"),
        (new("a@b@example.com", AccessRole::Viewer, None), "email"),
        (new("@example.com", AccessRole::Viewer, None), "email"),
        (
            new("c@example.com", AccessRole::Viewer, Some("short")),
            "password",
        ),
        (
            NewAccount {
                name: " ".into(),
                ..new("c@example.com", AccessRole::Viewer, None)
            },
            "name",
        ),
    ] {
        assert_eq!(
            invalid_field(accounts.create(bad).await.unwrap_err()),
            field
        );
    }
    let too_long = "x".repeat(257);
    assert_eq!(
        invalid_field(
            accounts
                .create(new("c@example.com", AccessRole::Viewer, Some(&too_long)))
                .await
                .unwrap_err()
        ),
        "password"
    );
    let listed = accounts.list().await.unwrap();
    assert_eq!(listed, [alice, bob]);
}

async fn sign_in_needs_the_right_password_and_an_enabled_account<S: Store>(store: S) {
    let (accounts, _) = setup(store);
    let (alice, _) = accounts
        .create(new("alice@example.com", AccessRole::Admin, Some(PASSWORD)))
        .await
        .unwrap();
    accounts
        .create(new("bob@example.com", AccessRole::Viewer, Some(PASSWORD)))
        .await
        .unwrap();
    let signed = sign_in(&accounts, " Alice@Example.COM", PASSWORD).await;
    assert_eq!(signed.secret.len(), 64);
    assert_eq!(signed.session.csrf_token.len(), 64);
    assert_ne!(signed.secret, signed.session.csrf_token);
    assert_eq!(signed.session.account, alice);
    assert_eq!(signed.session.expires_at, t(0) + SESSION_MAX);
    let found = accounts.session(&signed.secret).await.unwrap().unwrap();
    assert_eq!(found, signed.session);

    assert!(accounts
        .sign_in("alice@example.com", "wrong password!")
        .await
        .unwrap()
        .is_none());
    assert!(accounts
        .sign_in("nobody@example.com", PASSWORD)
        .await
        .unwrap()
        .is_none());
    assert!(accounts.session("not a secret").await.unwrap().is_none());
    assert!(accounts.session(&"0".repeat(64)).await.unwrap().is_none());

    let bob = accounts.list().await.unwrap()[1].id;
    accounts
        .update(
            bob,
            AccountChange {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(accounts
        .sign_in("bob@example.com", PASSWORD)
        .await
        .unwrap()
        .is_none());

    accounts.sign_out(&signed.secret).await.unwrap();
    assert!(accounts.session(&signed.secret).await.unwrap().is_none());
    accounts.sign_out(&signed.secret).await.unwrap();
}

async fn sessions_end_when_idle_or_too_old<S: Store>(store: S) {
    let (accounts, clock) = setup(store);
    accounts
        .create(new("alice@example.com", AccessRole::Viewer, Some(PASSWORD)))
        .await
        .unwrap();
    // Idle: just under the limit is fine and counts as use.
    let idle = sign_in(&accounts, "alice@example.com", PASSWORD).await;
    clock.advance(SESSION_IDLE - SignedDuration::from_secs(1));
    assert!(accounts.session(&idle.secret).await.unwrap().is_some());
    clock.advance(SESSION_IDLE - SignedDuration::from_secs(1));
    assert!(accounts.session(&idle.secret).await.unwrap().is_some());
    clock.advance(SESSION_IDLE);
    assert!(accounts.session(&idle.secret).await.unwrap().is_none());

    // Absolute: used every few hours, it still ends SESSION_MAX after sign-in.
    let busy = sign_in(&accounts, "alice@example.com", PASSWORD).await;
    let start = clock_now(&clock);
    let mut used = SignedDuration::ZERO;
    while used + SignedDuration::from_hours(6) < SESSION_MAX {
        used += SignedDuration::from_hours(6);
        clock.set(start + used);
        assert!(accounts.session(&busy.secret).await.unwrap().is_some());
    }
    clock.set(start + SESSION_MAX);
    assert!(accounts.session(&busy.secret).await.unwrap().is_none());
    assert_eq!(
        accounts.purge_expired().await.unwrap(),
        0,
        "both already gone"
    );
}

fn clock_now(clock: &ManualClock) -> jiff::Timestamp {
    use warroom_engine::Clock;
    clock.now()
}

async fn change_password_keeps_this_session_and_ends_the_others<S: Store>(store: S) {
    let (accounts, _) = setup(store);
    let (alice, _) = accounts
        .create(new("alice@example.com", AccessRole::Viewer, Some(PASSWORD)))
        .await
        .unwrap();
    let here = sign_in(&accounts, "alice@example.com", PASSWORD).await;
    let elsewhere = sign_in(&accounts, "alice@example.com", PASSWORD).await;
    let new_password = "a much better passphrase";

    let wrong = accounts
        .change_password(alice.id, "not my password", new_password, &here.secret)
        .await
        .unwrap_err();
    assert_eq!(invalid_field(wrong), "current_password");
    let short = accounts
        .change_password(alice.id, PASSWORD, "short", &here.secret)
        .await
        .unwrap_err();
    assert_eq!(invalid_field(short), "new_password");
    assert!(accounts.session(&elsewhere.secret).await.unwrap().is_some());

    accounts
        .change_password(alice.id, PASSWORD, new_password, &here.secret)
        .await
        .unwrap();
    assert!(accounts.session(&here.secret).await.unwrap().is_some());
    assert!(accounts.session(&elsewhere.secret).await.unwrap().is_none());
    assert!(accounts
        .sign_in("alice@example.com", PASSWORD)
        .await
        .unwrap()
        .is_none());
    sign_in(&accounts, "alice@example.com", new_password).await;
}

async fn reset_password_and_disable_end_every_session<S: Store>(store: S) {
    let (accounts, _) = setup(store);
    let (alice, _) = accounts
        .create(new(
            "alice@example.com",
            AccessRole::Responder,
            Some(PASSWORD),
        ))
        .await
        .unwrap();
    let first = sign_in(&accounts, "alice@example.com", PASSWORD).await;
    let generated = accounts
        .reset_password(alice.id, None)
        .await
        .unwrap()
        .expect("generated");
    assert!(accounts.session(&first.secret).await.unwrap().is_none());
    let second = sign_in(&accounts, "alice@example.com", &generated).await;
    assert_eq!(
        accounts
            .reset_password(alice.id, Some(PASSWORD.into()))
            .await
            .unwrap(),
        None
    );
    assert!(accounts.session(&second.secret).await.unwrap().is_none());
    assert_eq!(
        invalid_field(
            accounts
                .reset_password(alice.id, Some("short".into()))
                .await
                .unwrap_err()
        ),
        "password"
    );
    assert!(matches!(
        accounts.reset_password(alice.id + 1, None).await,
        Err(StoreError::NotFound(_))
    ));

    let third = sign_in(&accounts, "alice@example.com", PASSWORD).await;
    let changed = accounts
        .update(
            alice.id,
            AccountChange {
                name: Some("Alice B.".into()),
                role: Some(AccessRole::Viewer),
                disabled: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.name.as_str(), changed.role, changed.disabled),
        ("Alice B.", AccessRole::Viewer, true)
    );
    assert!(accounts.session(&third.secret).await.unwrap().is_none());
    let enabled = accounts
        .update(
            alice.id,
            AccountChange {
                disabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!enabled.disabled);
    sign_in(&accounts, "alice@example.com", PASSWORD).await;
}

async fn the_last_admin_stays_an_admin<S: Store>(store: S) {
    let (accounts, _) = setup(store);
    let (root, _) = accounts
        .create(new("root@example.com", AccessRole::Admin, None))
        .await
        .unwrap();
    for change in [
        AccountChange {
            disabled: Some(true),
            ..Default::default()
        },
        AccountChange {
            role: Some(AccessRole::Viewer),
            ..Default::default()
        },
    ] {
        let err = accounts.update(root.id, change).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Rejected(DomainError::Conflict(_))),
            "{err:?}"
        );
    }
    let (other, _) = accounts
        .create(new("other@example.com", AccessRole::Admin, None))
        .await
        .unwrap();
    let demoted = accounts
        .update(
            root.id,
            AccountChange {
                role: Some(AccessRole::Responder),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(demoted.role, AccessRole::Responder);
    assert!(accounts
        .update(
            other.id,
            AccountChange {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .is_err());
}

async fn bootstrap_creates_one_admin_once<S: Store>(store: S) {
    let (accounts, _) = setup(store);
    assert_eq!(
        invalid_field(accounts.bootstrap_admin("not an email").await.unwrap_err()),
        "email"
    );
    let (admin, password) = accounts
        .bootstrap_admin("Admin@Localhost")
        .await
        .unwrap()
        .expect("the first admin");
    assert_eq!(admin.email, "admin@localhost");
    assert_eq!(admin.role, AccessRole::Admin);
    assert_eq!(password.len(), 20);
    sign_in(&accounts, "admin@localhost", &password).await;
    assert!(accounts
        .bootstrap_admin("admin@localhost")
        .await
        .unwrap()
        .is_none());
    assert!(accounts
        .bootstrap_admin("someone@localhost")
        .await
        .unwrap()
        .is_none());
    assert_eq!(accounts.list().await.unwrap().len(), 1);
}
