//! API tokens: found by hash, revoked, the first one minted once, the last admin kept.

use warroom_domain::AccessRole;
use warroom_store::{on_both_backends, Store, StoreError};

use crate::helpers::at;

on_both_backends!(
    tokens_are_found_by_hash_and_revocable,
    first_token_is_minted_once,
    the_last_live_admin_token_cannot_be_revoked,
);

async fn tokens_are_found_by_hash_and_revocable<S: Store>(store: S) {
    let t = store
        .insert_token("ci", AccessRole::Viewer, "h1", at(0))
        .await
        .unwrap();
    assert_eq!(t.role, AccessRole::Viewer);
    assert!(matches!(
        store
            .insert_token("ci", AccessRole::Admin, "h2", at(0))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.find_token("h1").await.unwrap().unwrap().name, "ci");
    assert!(store.find_token("h2").await.unwrap().is_none());
    let revoked = store.revoke_token("ci", at(1)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(1)));
    assert!(store.find_token("h1").await.unwrap().is_none());
    assert!(matches!(
        store.revoke_token("ci", at(2)).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
}

async fn the_last_live_admin_token_cannot_be_revoked<S: Store>(store: S) {
    store
        .insert_token("root", AccessRole::Admin, "h1", at(0))
        .await
        .unwrap();
    store
        .insert_token("ci", AccessRole::Responder, "h2", at(0))
        .await
        .unwrap();
    let refused = store.revoke_token("root", at(1)).await;
    let Err(StoreError::Conflict(message)) = refused else {
        panic!("revoking the only admin token: {refused:?}");
    };
    assert!(
        message.contains("create another admin token first"),
        "{message}"
    );
    assert!(store.find_token("h1").await.unwrap().is_some());
    // Other roles go as before, and with two admins one may go.
    store.revoke_token("ci", at(1)).await.unwrap();
    store
        .insert_token("root2", AccessRole::Admin, "h3", at(1))
        .await
        .unwrap();
    store.revoke_token("root", at(2)).await.unwrap();
    assert!(matches!(
        store.revoke_token("root2", at(3)).await,
        Err(StoreError::Conflict(_))
    ));
    // Two admins revoked at once: one revoke wins, the other is refused.
    store
        .insert_token("root3", AccessRole::Admin, "h4", at(3))
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        store.revoke_token("root2", at(4)),
        store.revoke_token("root3", at(4))
    );
    assert_eq!(
        usize::from(a.is_ok()) + usize::from(b.is_ok()),
        1,
        "{a:?} {b:?}"
    );
    let live = store.list_tokens().await.unwrap();
    assert_eq!(
        live.iter()
            .filter(|t| t.role == AccessRole::Admin && t.revoked_at.is_none())
            .count(),
        1
    );
}

async fn first_token_is_minted_once<S: Store>(store: S) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert_first_token(
                        &format!("admin{i}"),
                        AccessRole::Admin,
                        &format!("h{i}"),
                        at(0),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut minted = 0;
    for t in tasks {
        minted += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(minted, 1);
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
}
