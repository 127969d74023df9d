//! Silences and maintenance windows against real stores, with a manual
//! clock: create, list live ones, expire; windows resolve playbook services
//! and only end windows.

use std::sync::Arc;

use jiff::SignedDuration;
use warroom_domain::alerting::{parse_matchers, SilenceState};
use warroom_domain::{DomainError, Playbook};
use warroom_engine::maintenance::{window_services, Maintenance, NewWindow};
use warroom_engine::silences::{NewSilence, Silences};
use warroom_engine::ManualClock;
use warroom_store::{on_both_backends, Store, StoreError};

use crate::helpers::t;

on_both_backends!(
    silences_are_created_listed_and_expired,
    maintenance_windows_are_silences_on_services,
);

fn setup<S: Store>(store: S) -> (Silences<S>, Maintenance<S>, ManualClock) {
    let clock = ManualClock::new(t(0));
    let silences = Silences::new(store, Arc::new(clock.clone()));
    let maintenance = Maintenance::new(silences.clone(), Arc::new(Playbook::builtin()));
    (silences, maintenance, clock)
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn silence(matchers: &str, hours_long: i64) -> NewSilence {
    NewSilence {
        matchers: parse_matchers(matchers).unwrap(),
        starts_at: t(0),
        ends_at: t(0) + hours(hours_long),
        created_by: "alice".into(),
        comment: "disk migration".into(),
    }
}

async fn silences_are_created_listed_and_expired<S: Store>(store: S) {
    let (silences, _, clock) = setup(store);
    let now = silences.now();
    assert_eq!(now, t(0));
    let first = silences
        .create(silence("alertname=\"DiskFull\"", 2), now)
        .await
        .unwrap();
    assert!(first.id.starts_with("sil_"));
    assert_eq!(first.state(now), SilenceState::Active);
    let second = silences
        .create(silence("env=~\"prod|staging\"", 1), now)
        .await
        .unwrap();

    // A silence that would mute every alert is refused, and nothing is stored.
    let err = silences
        .create(silence("env=~\".*\"", 1), now)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Rejected(DomainError::Invalid { ref field, .. }) if field == "matchers"
    ));
    let ids = |list: Vec<warroom_domain::alerting::Silence>| {
        let mut ids: Vec<String> = list.into_iter().map(|s| s.id).collect();
        ids.sort();
        ids
    };
    let mut both = vec![first.id.clone(), second.id.clone()];
    both.sort();
    assert_eq!(ids(silences.list(Some(now)).await.unwrap()), both);

    clock.advance(hours(1) + SignedDuration::from_secs(1));
    let now = silences.now();
    assert_eq!(
        ids(silences.list(Some(now)).await.unwrap()),
        vec![first.id.clone()]
    );
    assert_eq!(ids(silences.list(None).await.unwrap()), both);

    let expired = silences.expire(&first.id, now).await.unwrap();
    assert_eq!(expired.ends_at, now);
    assert_eq!(expired.state(now), SilenceState::Expired);
    assert!(silences.list(Some(now)).await.unwrap().is_empty());
    let again = silences.expire(&first.id, now).await.unwrap_err();
    assert!(
        matches!(again, StoreError::Rejected(DomainError::Conflict(_))),
        "{again:?}"
    );
    let missing = silences.expire("sil_missing", now).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing:?}");
}

async fn maintenance_windows_are_silences_on_services<S: Store>(store: S) {
    let (silences, maintenance, _) = setup(store);
    let now = silences.now();
    let unknown = maintenance
        .services(&["api".into(), "nope".into()])
        .unwrap_err();
    assert_eq!(
        unknown,
        DomainError::invalid("services[1]", "unknown service `nope`")
    );
    assert_eq!(
        maintenance.services(&[]).unwrap_err(),
        DomainError::invalid("services", "name at least one service")
    );
    // By id or name; ids come back.
    let services = maintenance
        .services(&["Database".into(), " api ".into()])
        .unwrap();
    assert_eq!(services, ["database", "api"]);

    let window = maintenance
        .schedule(
            NewWindow {
                services,
                starts_at: now,
                ends_at: now + hours(2),
                created_by: "alice".into(),
                description: "Database upgrade".into(),
            },
            now,
        )
        .await
        .unwrap();
    assert!(window.id.starts_with("mw_"));
    assert_eq!(window_services(&window), ["database", "api"]);
    assert_eq!(window.comment, "Database upgrade");
    let ordinary = silences
        .create(silence("alertname=\"DiskFull\"", 2), now)
        .await
        .unwrap();

    let listed = maintenance.list(now).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, window.id);

    // An ordinary silence is not a window, so this route cannot end it.
    let err = maintenance.end(&ordinary.id, now).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        StoreError::NotFound(format!("maintenance window {}", ordinary.id)).to_string()
    );
    assert_eq!(silences.list(Some(now)).await.unwrap().len(), 2);

    let ended = maintenance.end(&window.id, now).await.unwrap();
    assert_eq!(ended.state(now), SilenceState::Expired);
    assert!(maintenance.list(now).await.unwrap().is_empty());
}
