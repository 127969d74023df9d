//! The web UI half of the conformance suite: accounts (unique lower-cased
//! emails, the first account created once, updates), sessions (found with
//! their account, touched, deleted one, per account and when expired), and
//! the live feed's poll for changed incidents.

use warroom_domain::{AccessRole, EventKind, NewEvent, Status};
use warroom_store::{
    on_both_backends, AccountUpdate, IncidentTx, NewAccountRecord, SessionRecord, Store,
    StoreError, WriteTx,
};

use crate::helpers::{at, decl, declare};

on_both_backends!(
    accounts_have_unique_emails,
    first_account_is_created_once,
    accounts_update_only_given_fields,
    sessions_are_found_with_their_account,
    sessions_are_deleted_by_account_and_expiry,
    incidents_changed_since_lists_in_update_order,
);

fn new(email: &str, role: AccessRole) -> NewAccountRecord {
    NewAccountRecord {
        email: email.into(),
        name: format!("Name of {email}"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

fn session(hash: &str, account_id: i64, mins: i64) -> SessionRecord {
    SessionRecord {
        secret_hash: hash.into(),
        account_id,
        csrf_token: format!("csrf-{hash}"),
        created_at: at(mins),
        last_seen_at: at(mins),
        expires_at: at(mins + 60),
    }
}

async fn accounts_have_unique_emails<S: Store>(store: S) {
    let a = store
        .insert_account(&new("Alice@Example.com", AccessRole::Admin), at(0))
        .await
        .unwrap();
    assert_eq!(a.email, "alice@example.com");
    assert_eq!((a.role, a.disabled), (AccessRole::Admin, false));
    assert_eq!((a.created_at, a.updated_at), (at(0), at(0)));
    let err = store
        .insert_account(&new("ALICE@example.com", AccessRole::Viewer), at(1))
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict(message) => assert!(message.starts_with("email:"), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let b = store
        .insert_account(&new("bob@example.com", AccessRole::Viewer), at(2))
        .await
        .unwrap();
    assert!(b.id > a.id);
    assert_eq!(store.get_account(a.id).await.unwrap(), a);
    assert_eq!(
        store
            .find_account_by_email("ALICE@EXAMPLE.COM")
            .await
            .unwrap(),
        Some(a.clone())
    );
    assert!(store
        .find_account_by_email("carol@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        store.get_account(b.id + 100).await,
        Err(StoreError::NotFound(_))
    ));
    let all = store.list_accounts().await.unwrap();
    assert_eq!(all, [a, b]);
}

async fn first_account_is_created_once<S: Store>(store: S) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert_first_account(
                        &new(&format!("admin{i}@localhost"), AccessRole::Admin),
                        at(0),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(created, 1);
    assert_eq!(store.list_accounts().await.unwrap().len(), 1);
}

async fn accounts_update_only_given_fields<S: Store>(store: S) {
    let a = store
        .insert_account(&new("a@example.com", AccessRole::Viewer), at(0))
        .await
        .unwrap();
    let renamed = store
        .update_account(
            a.id,
            &AccountUpdate {
                name: Some("Ann".into()),
                ..Default::default()
            },
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Ann");
    assert_eq!(renamed.role, AccessRole::Viewer);
    assert_eq!(renamed.updated_at, at(1));
    let changed = store
        .update_account(
            a.id,
            &AccountUpdate {
                role: Some(AccessRole::Responder),
                disabled: Some(true),
                password_hash: Some("new-hash".into()),
                ..Default::default()
            },
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.name.as_str(), changed.role, changed.disabled),
        ("Ann", AccessRole::Responder, true)
    );
    assert_eq!(changed.password_hash, "new-hash");
    assert_eq!(changed.created_at, at(0));
    assert_eq!(store.get_account(a.id).await.unwrap(), changed);
    assert!(matches!(
        store
            .update_account(a.id + 1, &AccountUpdate::default(), at(3))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn sessions_are_found_with_their_account<S: Store>(store: S) {
    let a = store
        .insert_account(&new("a@example.com", AccessRole::Responder), at(0))
        .await
        .unwrap();
    let s = session("h1", a.id, 0);
    store.insert_session(&s).await.unwrap();
    assert_eq!(
        store.find_session("h1").await.unwrap(),
        Some((s.clone(), a.clone()))
    );
    assert!(store.find_session("h2").await.unwrap().is_none());
    store.touch_session("h1", at(5)).await.unwrap();
    let (touched, _) = store.find_session("h1").await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, at(5));
    assert_eq!(touched.expires_at, s.expires_at);
    // The joined account is the current one.
    store
        .update_account(
            a.id,
            &AccountUpdate {
                disabled: Some(true),
                ..Default::default()
            },
            at(6),
        )
        .await
        .unwrap();
    let (_, account) = store.find_session("h1").await.unwrap().unwrap();
    assert!(account.disabled);
    store.delete_session("h1").await.unwrap();
    assert!(store.find_session("h1").await.unwrap().is_none());
    store.delete_session("h1").await.unwrap();
    store.touch_session("h1", at(7)).await.unwrap();
}

async fn sessions_are_deleted_by_account_and_expiry<S: Store>(store: S) {
    let a = store
        .insert_account(&new("a@example.com", AccessRole::Admin), at(0))
        .await
        .unwrap();
    let b = store
        .insert_account(&new("b@example.com", AccessRole::Viewer), at(0))
        .await
        .unwrap();
    for (hash, id) in [("a1", a.id), ("a2", a.id), ("a3", a.id), ("b1", b.id)] {
        store.insert_session(&session(hash, id, 0)).await.unwrap();
    }
    assert_eq!(
        store
            .delete_account_sessions(a.id, Some("a2"))
            .await
            .unwrap(),
        2
    );
    assert!(store.find_session("a1").await.unwrap().is_none());
    assert!(store.find_session("a2").await.unwrap().is_some());
    assert_eq!(store.delete_account_sessions(a.id, None).await.unwrap(), 1);
    assert!(store.find_session("b1").await.unwrap().is_some());

    // Expiry: absolute end (at(60) for sessions made at 0) or idle.
    store
        .insert_session(&session("old", b.id, 0))
        .await
        .unwrap();
    store
        .insert_session(&session("idle", b.id, 30))
        .await
        .unwrap();
    store
        .insert_session(&session("live", b.id, 30))
        .await
        .unwrap();
    store.touch_session("live", at(70)).await.unwrap();
    // now = at(75): "b1" and "old" passed expires_at; "idle" was last seen
    // at(30), before the idle cut-off at(40).
    assert_eq!(
        store.delete_expired_sessions(at(75), at(40)).await.unwrap(),
        3
    );
    assert!(store.find_session("live").await.unwrap().is_some());
    assert!(store.find_session("idle").await.unwrap().is_none());
}

async fn incidents_changed_since_lists_in_update_order<S: Store>(store: S) {
    let a = declare(&store, decl("first", "SEV-2"), at(0)).await;
    let b = declare(&store, decl("second", "SEV-2"), at(1)).await;
    store
        .modify_incident(&a.id, |i| i.acknowledge("bob", at(2)))
        .await
        .unwrap();
    let all = store.incidents_changed_since(0, 100).await.unwrap();
    let order: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(order, [b.id.as_str(), a.id.as_str()]);
    assert_eq!(all[1].status, Status::Acknowledged);
    assert_eq!(all[1].last_event_seq, 2);
    assert_eq!(all[1].updated_at, at(2));
    assert_eq!(all[0].last_event_seq, 1);
    let since_b = store
        .incidents_changed_since(at(1).as_millisecond(), 100)
        .await
        .unwrap();
    assert_eq!(since_b.len(), 1);
    assert_eq!(since_b[0].id, a.id);
    assert_eq!(store.incidents_changed_since(0, 1).await.unwrap().len(), 1);
    assert!(store
        .incidents_changed_since(at(2).as_millisecond(), 100)
        .await
        .unwrap()
        .is_empty());
    // A worker's event (a page delivered) leaves the incident row as it was
    // and still counts as a change.
    let mut tx = store.begin().await.unwrap();
    let unchanged = tx.lock_incident(&b.id).await.unwrap();
    let event = NewEvent {
        at: at(5),
        actor: "engine".into(),
        kind: EventKind::Note {
            text: "page delivered".into(),
        },
    };
    tx.save_incident(&unchanged, vec![event]).await.unwrap();
    tx.commit().await.unwrap();
    let later = store
        .incidents_changed_since(at(4).as_millisecond(), 100)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(
        (later[0].id.as_str(), later[0].last_event_seq),
        (b.id.as_str(), 2)
    );
    assert_eq!(later[0].updated_at, at(5));
}
