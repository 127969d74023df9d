//! Integration keys and API tokens against real stores, with a manual
//! clock: create with the playbook's checks, authenticate by key or secret,
//! rotate and revoke.

use std::sync::Arc;

use serde_json::json;
use warroom_domain::{AccessRole, DomainError, Playbook};
use warroom_engine::{ApiTokens, Integrations, ManualClock};
use warroom_store::{on_both_backends, Store, StoreError};

use crate::helpers::t;

on_both_backends!(
    integrations_are_created_found_rotated_and_revoked,
    api_tokens_are_minted_found_and_revoked,
);

fn invalid_field(err: StoreError) -> String {
    match err {
        StoreError::Rejected(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

async fn integrations_are_created_found_rotated_and_revoked<S: Store>(store: S) {
    let clock = ManualClock::new(t(0));
    let integrations = Integrations::new(
        store,
        Arc::new(Playbook::builtin()),
        Arc::new(clock.clone()),
    );
    let create = |service: &'static str, name: &'static str, kind: &'static str| {
        integrations.create(
            service,
            name,
            kind,
            json!({"severity_map": {"page": "SEV-1"}}),
        )
    };
    assert_eq!(
        invalid_field(create("nope", "prom", "prometheus").await.unwrap_err()),
        "service"
    );
    assert_eq!(
        invalid_field(create("api", "bad name", "prometheus").await.unwrap_err()),
        "name"
    );
    assert_eq!(
        invalid_field(create("api", "prom", "nagios").await.unwrap_err()),
        "kind"
    );
    let not_object = integrations
        .create("api", "prom", "prometheus", json!([]))
        .await
        .unwrap_err();
    assert_eq!(invalid_field(not_object), "config");
    assert!(integrations.list().await.unwrap().is_empty());

    // By name, the service's id is stored; the key is 32 hex digits.
    let issued = create("API", "prom", "prometheus").await.unwrap();
    assert_eq!(issued.integration.service, "api");
    assert_eq!(issued.integration.created_at, t(0));
    assert_eq!(issued.key.len(), 32);
    assert_eq!(issued.integration.key_hint, issued.key[..6]);
    let found = integrations.authenticate(&issued.key).await.unwrap();
    assert_eq!(found.as_ref().map(|i| &i.id), Some(&issued.integration.id));
    assert_eq!(
        found.unwrap().config,
        json!({"severity_map": {"page": "SEV-1"}})
    );
    assert_eq!(integrations.authenticate("").await.unwrap(), None);
    assert_eq!(
        integrations.authenticate(&"a".repeat(129)).await.unwrap(),
        None
    );

    let rotated = integrations.rotate(&issued.integration.id).await.unwrap();
    assert_ne!(rotated.key, issued.key);
    assert_eq!(integrations.authenticate(&issued.key).await.unwrap(), None);
    assert!(integrations
        .authenticate(&rotated.key)
        .await
        .unwrap()
        .is_some());

    clock.advance(jiff::SignedDuration::from_secs(60));
    let revoked = integrations.revoke(&issued.integration.id).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(60)));
    assert_eq!(integrations.authenticate(&rotated.key).await.unwrap(), None);
    let listed = integrations.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(t(60)));
    let again = integrations
        .revoke(&issued.integration.id)
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::NotFound(_)), "{again:?}");
}

async fn api_tokens_are_minted_found_and_revoked<S: Store>(store: S) {
    let clock = ManualClock::new(t(0));
    let tokens = ApiTokens::new(store, Arc::new(clock.clone()));
    let admin = tokens.create("admin", AccessRole::Admin).await.unwrap();
    let ci = tokens.create("ci", AccessRole::Responder).await.unwrap();
    assert_eq!(ci.token.created_at, t(0));
    assert_eq!(
        invalid_field(
            tokens
                .create("no spaces", AccessRole::Viewer)
                .await
                .unwrap_err()
        ),
        "name"
    );
    let found = tokens.authenticate(&ci.secret).await.unwrap().unwrap();
    assert_eq!(
        (found.name.as_str(), found.role),
        ("ci", AccessRole::Responder)
    );
    assert_eq!(tokens.authenticate("not-a-token").await.unwrap(), None);

    // The last live admin token stays.
    let last = tokens.revoke("admin").await.unwrap_err();
    assert!(matches!(last, StoreError::Conflict(_)), "{last:?}");
    clock.advance(jiff::SignedDuration::from_secs(5));
    let revoked = tokens.revoke("ci").await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(5)));
    assert_eq!(tokens.authenticate(&ci.secret).await.unwrap(), None);
    assert!(tokens.authenticate(&admin.secret).await.unwrap().is_some());
    let names: Vec<_> = tokens
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"admin".to_owned()) && names.contains(&"ci".to_owned()));
}
