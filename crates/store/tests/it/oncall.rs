//! The on-call half of the conformance suite: the directory and who owns its
//! entries, overrides, calendar feeds, verification codes, server secrets,
//! escalations, paging jobs with leases, the outbox, and team cursors.

use std::collections::HashSet;

use warroom_domain::{Incident, Playbook};
use warroom_store::{
    on_both_backends, DirectoryEntry, DirectoryKind, EscalationRecord, EscalationState, FeedRecord,
    IncidentTx, JobKind, JobRecord, MessageState, MessageUpdate, NewJob, NewMessage,
    OverrideRecord, PagingTx, QueueDepths, QueueStore, Store, StoreError, TxStore,
    VerificationRecord, WriteTx, SOURCE_API, SOURCE_PLAYBOOK,
};

use crate::helpers::{at, decl};

on_both_backends!(
    directory_entries_insert_update_delete,
    playbook_entries_belong_to_the_playbook,
    overrides_are_listed_by_window,
    feeds_are_found_while_live,
    verification_codes_count_and_complete,
    the_first_server_secret_wins,
    escalations_round_trip,
    jobs_are_scheduled_once_and_leased,
    messages_are_queued_once_and_leased,
    team_cursors_count_per_team,
);

fn entry(kind: DirectoryKind, name: &str, doc: &str, source: &str, mins: i64) -> DirectoryEntry {
    DirectoryEntry {
        kind,
        name: name.into(),
        doc: doc.into(),
        source: source.into(),
        created_at: at(mins),
        updated_at: at(mins),
    }
}

/// Declares `n` incidents (ids `T-1`, `T-2`...) in one transaction, since
/// jobs and messages refer to incidents.
async fn incidents<S: Store>(store: &S, n: usize) -> Vec<String> {
    let pb = Playbook::builtin();
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let d = decl(&format!("incident {i}"), "SEV-3")
            .validate(&pb, at(0))
            .unwrap();
        let (incident, _) = tx
            .declare_incident("T", |seq| {
                Incident::open(&pb, d, format!("T-{seq}"), seq, "alice", at(0))
            })
            .await
            .unwrap();
        ids.push(incident.id);
    }
    tx.commit().await.unwrap();
    ids
}

fn job(incident: &str, position: i64, run_at_mins: i64) -> NewJob {
    NewJob {
        incident_id: incident.into(),
        kind: JobKind::Step,
        generation: 1,
        position,
        run_at: at(run_at_mins),
    }
}

fn message(key: &str, incident: &str, run_at_mins: i64) -> NewMessage {
    NewMessage {
        idempotency_key: key.into(),
        incident_id: Some(incident.into()),
        purpose: "page".into(),
        user_name: Some("alice".into()),
        contact_method: Some("hook".into()),
        channel: "webhook".into(),
        destination: "http://127.0.0.1:9/alice".into(),
        subject: "[SEV-3] T-1: incident".into(),
        body: r#"{"type":"page"}"#.into(),
        run_at: at(run_at_mins),
        created_at: at(0),
    }
}

fn job_ids(jobs: &[JobRecord]) -> Vec<i64> {
    jobs.iter().map(|j| j.id).collect()
}

async fn directory_entries_insert_update_delete<S: Store>(store: S) {
    let bob = entry(DirectoryKind::User, "bob", r#"{"v":1}"#, SOURCE_API, 0);
    store.insert_directory(&bob).await.unwrap();
    // The same name of another kind is another entry.
    let team = entry(DirectoryKind::Team, "bob", "{}", SOURCE_API, 0);
    store.insert_directory(&team).await.unwrap();
    let again = entry(DirectoryKind::User, "bob", r#"{"v":9}"#, SOURCE_API, 1);
    assert!(matches!(
        store.insert_directory(&again).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .get_directory(DirectoryKind::User, "bob")
            .await
            .unwrap(),
        Some(bob.clone()),
        "a refused insert changes nothing"
    );

    let updated = DirectoryEntry {
        doc: r#"{"v":2}"#.into(),
        updated_at: at(5),
        ..bob.clone()
    };
    store.update_directory(&updated).await.unwrap();
    let stored = store
        .get_directory(DirectoryKind::User, "bob")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.doc, r#"{"v":2}"#);
    assert_eq!(stored.created_at, at(0));
    assert_eq!(stored.updated_at, at(5));

    let ghost = entry(DirectoryKind::User, "ghost", "{}", SOURCE_API, 0);
    assert!(matches!(
        store.update_directory(&ghost).await,
        Err(StoreError::NotFound(_))
    ));

    let alice = entry(DirectoryKind::User, "alice", "{}", SOURCE_API, 0);
    store.insert_directory(&alice).await.unwrap();
    let names =
        |entries: Vec<DirectoryEntry>| entries.into_iter().map(|e| e.name).collect::<Vec<String>>();
    assert_eq!(
        names(store.list_directory(DirectoryKind::User).await.unwrap()),
        ["alice", "bob"]
    );
    assert_eq!(
        names(store.list_directory(DirectoryKind::Team).await.unwrap()),
        ["bob"]
    );

    store
        .delete_directory(DirectoryKind::User, "bob")
        .await
        .unwrap();
    assert!(matches!(
        store.delete_directory(DirectoryKind::User, "bob").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .get_directory(DirectoryKind::User, "bob")
            .await
            .unwrap(),
        None
    );
    assert!(store
        .get_directory(DirectoryKind::Team, "bob")
        .await
        .unwrap()
        .is_some());
}

async fn playbook_entries_belong_to_the_playbook<S: Store>(store: S) {
    let pb_alice = entry(
        DirectoryKind::User,
        "alice",
        r#"{"pb":1}"#,
        SOURCE_PLAYBOOK,
        0,
    );
    let pb_primary = entry(DirectoryKind::Schedule, "primary", "{}", SOURCE_PLAYBOOK, 0);
    store
        .sync_playbook_directory(&[pb_alice.clone(), pb_primary.clone()])
        .await
        .unwrap();

    // The API may neither change nor delete a playbook entry.
    let edit = DirectoryEntry {
        doc: r#"{"api":1}"#.into(),
        source: SOURCE_API.into(),
        updated_at: at(1),
        ..pb_alice.clone()
    };
    assert!(matches!(
        store.update_directory(&edit).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.delete_directory(DirectoryKind::User, "alice").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.insert_directory(&edit).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .get_directory(DirectoryKind::User, "alice")
            .await
            .unwrap(),
        Some(pb_alice.clone())
    );

    // API entries: one the playbook will take over, one it leaves alone.
    let api_bob = entry(
        DirectoryKind::User,
        "bob",
        r#"{"api":"bob"}"#,
        SOURCE_API,
        2,
    );
    let api_carol = entry(DirectoryKind::User, "carol", "{}", SOURCE_API, 2);
    store.insert_directory(&api_bob).await.unwrap();
    store.insert_directory(&api_carol).await.unwrap();

    // The next start: alice and the schedule are gone from the playbook, bob is in it.
    let pb_bob = entry(
        DirectoryKind::User,
        "bob",
        r#"{"pb":"bob"}"#,
        SOURCE_PLAYBOOK,
        10,
    );
    store
        .sync_playbook_directory(std::slice::from_ref(&pb_bob))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_directory(DirectoryKind::User, "alice")
            .await
            .unwrap(),
        None,
        "a playbook entry no longer listed is removed"
    );
    assert_eq!(
        store
            .get_directory(DirectoryKind::Schedule, "primary")
            .await
            .unwrap(),
        None
    );
    let bob = store
        .get_directory(DirectoryKind::User, "bob")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.source, SOURCE_PLAYBOOK, "the playbook takes over bob");
    assert_eq!(bob.doc, r#"{"pb":"bob"}"#);
    assert_eq!(bob.updated_at, at(10));
    assert_eq!(
        store
            .get_directory(DirectoryKind::User, "carol")
            .await
            .unwrap(),
        Some(api_carol),
        "API entries outside the playbook stay"
    );
    assert!(matches!(
        store.delete_directory(DirectoryKind::User, "bob").await,
        Err(StoreError::Conflict(_))
    ));

    // Syncing the same list again changes nothing.
    store
        .sync_playbook_directory(std::slice::from_ref(&pb_bob))
        .await
        .unwrap();
    assert_eq!(
        store
            .list_directory(DirectoryKind::User)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn overrides_are_listed_by_window<S: Store>(store: S) {
    let make = |id: &str, schedule: &str, user: &str, from: i64, to: i64| OverrideRecord {
        id: id.into(),
        schedule: schedule.into(),
        user: user.into(),
        starts_at: at(from),
        ends_at: at(to),
        created_by: "admin".into(),
        created_at: at(0),
    };
    let morning = make("ov1", "primary", "bob", 0, 60);
    let noon = make("ov2", "primary", "carol", 60, 120);
    let later = make("ov3", "primary", "dave", 120, 180);
    let other = make("ov4", "secondary", "erin", 0, 180);
    for o in [&later, &morning, &other, &noon] {
        store.insert_override(o).await.unwrap();
    }
    assert!(matches!(
        store.insert_override(&morning).await,
        Err(StoreError::Conflict(_))
    ));
    let listed = |from: i64, to: i64| {
        let store = store.clone();
        async move {
            store
                .list_overrides("primary", at(from), at(to))
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.id)
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(listed(30, 90).await, ["ov1", "ov2"]);
    // Windows are half-open: an override ending at `from` or starting at `to` is out.
    assert_eq!(listed(60, 120).await, ["ov2"]);
    assert_eq!(listed(0, 1000).await, ["ov1", "ov2", "ov3"]);
    assert!(listed(180, 240).await.is_empty());
    assert!(listed(-60, 0).await.is_empty());
    assert_eq!(
        store
            .list_overrides("primary", at(59), at(61))
            .await
            .unwrap(),
        [morning.clone(), noon.clone()]
    );

    // Inside a transaction, the same window.
    let mut tx = store.begin().await.unwrap();
    let inside = tx.overrides_in("primary", at(30), at(90)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(inside, [morning, noon]);

    store.delete_override("primary", "ov2").await.unwrap();
    assert_eq!(listed(30, 90).await, ["ov1"]);
    assert!(matches!(
        store.delete_override("primary", "ov2").await,
        Err(StoreError::NotFound(_))
    ));
    // The id must belong to that schedule.
    assert!(matches!(
        store.delete_override("primary", "ov4").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn feeds_are_found_while_live<S: Store>(store: S) {
    let feed = |id: &str, name: &str| FeedRecord {
        id: id.into(),
        kind: "schedule".into(),
        name: name.into(),
        created_at: at(0),
        revoked_at: None,
    };
    store
        .insert_feed(&feed("f1", "primary"), "hash1")
        .await
        .unwrap();
    store
        .insert_feed(&feed("f2", "secondary"), "hash2")
        .await
        .unwrap();
    assert_eq!(
        store.find_feed("hash1").await.unwrap(),
        Some(feed("f1", "primary"))
    );
    assert_eq!(store.find_feed("nope").await.unwrap(), None);

    store.revoke_feed("f1", at(3)).await.unwrap();
    assert_eq!(store.find_feed("hash1").await.unwrap(), None);
    assert!(store.find_feed("hash2").await.unwrap().is_some());
    assert!(matches!(
        store.revoke_feed("f1", at(4)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.revoke_feed("unknown", at(4)).await,
        Err(StoreError::NotFound(_))
    ));
    let all = store.list_feeds().await.unwrap();
    assert_eq!(all.len(), 2, "revoked feeds are still listed");
    let revoked = all.iter().find(|f| f.id == "f1").unwrap();
    assert_eq!(
        revoked.revoked_at,
        Some(at(3)),
        "the first revocation stands"
    );
}

async fn verification_codes_count_and_complete<S: Store>(store: S) {
    let user = entry(
        DirectoryKind::User,
        "alice",
        r#"{"verified":false}"#,
        SOURCE_API,
        0,
    );
    store.insert_directory(&user).await.unwrap();
    let code = VerificationRecord {
        user_name: "alice".into(),
        method_id: "phone".into(),
        code_hash: "c1".into(),
        expires_at: at(10),
        attempts: 0,
    };
    store.put_verification(&code).await.unwrap();
    store
        .count_verification_attempt("alice", "phone")
        .await
        .unwrap();
    store
        .count_verification_attempt("alice", "phone")
        .await
        .unwrap();
    let stored = store
        .get_verification("alice", "phone")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.attempts, 2);
    // A new code replaces the old one and resets the count.
    let fresh = VerificationRecord {
        code_hash: "c2".into(),
        expires_at: at(20),
        ..code.clone()
    };
    store.put_verification(&fresh).await.unwrap();
    assert_eq!(
        store.get_verification("alice", "phone").await.unwrap(),
        Some(fresh)
    );
    store
        .complete_verification("alice", "phone", r#"{"verified":true}"#, at(5))
        .await
        .unwrap();
    assert_eq!(
        store.get_verification("alice", "phone").await.unwrap(),
        None
    );
    let alice = store
        .get_directory(DirectoryKind::User, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.doc, r#"{"verified":true}"#);
    assert_eq!(alice.updated_at, at(5));
}

async fn the_first_server_secret_wins<S: Store>(store: S) {
    assert_eq!(store.server_secret("ack", "first").await.unwrap(), "first");
    assert_eq!(store.server_secret("ack", "second").await.unwrap(), "first");
    assert_eq!(store.server_secret("other", "x").await.unwrap(), "x");
    // Nodes starting together all end up with one value.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .server_secret("race", &format!("candidate{i}"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap());
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
}

async fn escalations_round_trip<S: Store>(store: S) {
    let ids = incidents(&store, 1).await;
    assert_eq!(store.get_escalation(&ids[0]).await.unwrap(), None);
    let first = EscalationRecord {
        incident_id: ids[0].clone(),
        policy: "default".into(),
        policy_doc: r#"{"name":"default"}"#.into(),
        urgency: "high".into(),
        generation: 1,
        position: -1,
        state: EscalationState::Active,
        updated_at: at(0),
    };
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.escalation(&ids[0]).await.unwrap(), None);
    tx.put_escalation(&first).await.unwrap();
    assert_eq!(tx.escalation(&ids[0]).await.unwrap(), Some(first.clone()));
    tx.commit().await.unwrap();
    let second = EscalationRecord {
        generation: 2,
        position: 3,
        state: EscalationState::Acknowledged,
        urgency: "low".into(),
        updated_at: at(7),
        ..first
    };
    let mut tx = store.begin().await.unwrap();
    tx.put_escalation(&second).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.get_escalation(&ids[0]).await.unwrap(), Some(second));
    // A rolled-back change leaves nothing behind.
    let mut tx = store.begin().await.unwrap();
    tx.schedule_job(&job(&ids[0], 0, 0)).await.unwrap();
    drop(tx);
    assert!(store.pending_jobs(&ids[0]).await.unwrap().is_empty());
}

async fn jobs_are_scheduled_once_and_leased<S: Store>(store: S) {
    let ids = incidents(&store, 2).await;
    let (a, b) = (&ids[0], &ids[1]);
    assert_eq!(store.next_job_at().await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    tx.schedule_job(&job(a, 0, 0)).await.unwrap();
    // The same (incident, kind, generation, position) again, even at another time: ignored.
    tx.schedule_job(&job(a, 0, 3)).await.unwrap();
    tx.schedule_job(&job(a, 1, 5)).await.unwrap();
    tx.schedule_job(&NewJob {
        generation: 2,
        ..job(a, 1, 6)
    })
    .await
    .unwrap();
    tx.schedule_job(&NewJob {
        kind: JobKind::AckTimeout,
        ..job(a, 0, 7)
    })
    .await
    .unwrap();
    tx.schedule_job(&job(b, 0, 2)).await.unwrap();
    tx.commit().await.unwrap();
    let pending = store.pending_jobs(a).await.unwrap();
    assert_eq!(pending.len(), 4);
    assert_eq!(pending[0].run_at, at(0), "the first schedule stands");
    assert_eq!(
        pending
            .iter()
            .map(|j| (j.kind.as_str(), j.generation, j.position))
            .collect::<Vec<_>>(),
        [
            ("step", 1, 0),
            ("step", 1, 1),
            ("step", 2, 1),
            ("ack_timeout", 1, 0)
        ]
    );
    assert_eq!(store.next_job_at().await.unwrap(), Some(at(0)));
    // The paging worker's queue: jobs due by then and not done.
    let store = &store;
    let jobs_due = |n| async move { store.queue_depths(at(n)).await.unwrap() };
    assert_eq!(jobs_due(-1).await, QueueDepths::default());
    assert_eq!(jobs_due(2).await.jobs, 2);
    assert_eq!(
        jobs_due(7).await,
        QueueDepths {
            jobs: 5,
            messages: 0
        }
    );

    // Only due jobs, earliest first.
    assert!(store
        .claim_jobs(at(-1), at(0), 10)
        .await
        .unwrap()
        .is_empty());
    let claimed = store.claim_jobs(at(2), at(12), 10).await.unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|j| (j.incident_id.as_str(), j.run_at))
            .collect::<Vec<_>>(),
        [(a.as_str(), at(0)), (b.as_str(), at(2))]
    );
    // Leased: a claim before the lease lapses gets none of them, only
    // jobs that became due since.
    let during = store.claim_jobs(at(5), at(15), 10).await.unwrap();
    assert_eq!(during.iter().map(|j| j.run_at).collect::<Vec<_>>(), [at(5)]);
    let during = store.claim_jobs(at(11), at(21), 10).await.unwrap();
    assert_eq!(
        during.iter().map(|j| j.run_at).collect::<Vec<_>>(),
        [at(6), at(7)]
    );
    // Every job is leased; the next is due when the earliest lease lapses.
    assert_eq!(store.next_job_at().await.unwrap(), Some(at(12)));
    // After the lease lapses they are claimed again, earliest first, within the limit.
    let lapsed = store.claim_jobs(at(12), at(22), 1).await.unwrap();
    assert_eq!(job_ids(&lapsed), [claimed[0].id]);
    let lapsed = store.claim_jobs(at(12), at(22), 10).await.unwrap();
    assert_eq!(job_ids(&lapsed), [claimed[1].id]);
    assert_eq!(store.next_job_at().await.unwrap(), Some(at(15)));

    let mut tx = store.begin().await.unwrap();
    for j in &claimed {
        tx.finish_job(j.id, at(12)).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert!(store.pending_jobs(b).await.unwrap().is_empty());
    assert_eq!(store.pending_jobs(a).await.unwrap().len(), 3);
    assert_eq!(jobs_due(100).await.jobs, 3);
    // Done jobs never come back, even after the lease would have lapsed.
    let rest = store.claim_jobs(at(100), at(110), 10).await.unwrap();
    assert!(rest.iter().all(|j| !job_ids(&claimed).contains(&j.id)));
    assert_eq!(rest.len(), 3);
    let mut tx = store.begin().await.unwrap();
    for j in &rest {
        tx.finish_job(j.id, at(100)).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(store.next_job_at().await.unwrap(), None);
    assert_eq!(jobs_due(999).await.jobs, 0);
    assert!(store
        .claim_jobs(at(999), at(1000), 10)
        .await
        .unwrap()
        .is_empty());
}

async fn messages_are_queued_once_and_leased<S: Store>(store: S) {
    let ids = incidents(&store, 1).await;
    let inc = &ids[0];
    assert_eq!(store.next_message_at().await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    let first = tx
        .queue_message(&message("k1", inc, 0))
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(
        tx.queue_message(&message("k1", inc, 1)).await.unwrap(),
        None,
        "a repeated idempotency key queues nothing"
    );
    let later = tx
        .queue_message(&message("k2", inc, 10))
        .await
        .unwrap()
        .expect("queued");
    tx.commit().await.unwrap();
    let queued = store.get_message(first).await.unwrap();
    assert_eq!(queued.state, MessageState::Queued);
    assert_eq!(queued.attempts, 0);
    assert_eq!(queued.run_at, at(0));
    assert_eq!(queued.destination, "http://127.0.0.1:9/alice");
    assert_eq!(store.next_message_at().await.unwrap(), Some(at(0)));
    // The delivery worker's queue: messages due by then, leased ones too.
    assert_eq!(store.queue_depths(at(-1)).await.unwrap().messages, 0);
    assert_eq!(store.queue_depths(at(1)).await.unwrap().messages, 1);
    assert_eq!(store.queue_depths(at(10)).await.unwrap().messages, 2);
    assert!(matches!(
        store.get_message(first + later + 1000).await,
        Err(StoreError::NotFound(_))
    ));

    // Only due messages; claimed ones are `sending` and leased.
    let claimed = store.claim_messages(at(1), at(2), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| m.id).collect::<Vec<_>>(), [first]);
    assert_eq!(claimed[0].state, MessageState::Sending);
    assert_eq!(
        store.get_message(first).await.unwrap().state,
        MessageState::Sending
    );
    assert!(store
        .claim_messages(at(1), at(2), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.queue_depths(at(1)).await.unwrap().messages, 1);
    assert_eq!(store.next_message_at().await.unwrap(), Some(at(2)));
    // A sender that died: the lease lapses and the message is claimed again.
    let again = store.claim_messages(at(2), at(3), 10).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), [first]);

    // A temporary failure is retried at its new run_at.
    let mut tx = store.begin().await.unwrap();
    tx.update_message(&MessageUpdate {
        id: first,
        state: MessageState::Failed,
        attempts: 1,
        run_at: at(5),
        last_error: Some("connection refused".into()),
        provider_answer: None,
        sent_at: None,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let failed = store.get_message(first).await.unwrap();
    assert_eq!(
        (failed.state, failed.attempts, failed.run_at),
        (MessageState::Failed, 1, at(5))
    );
    assert_eq!(failed.last_error.as_deref(), Some("connection refused"));
    assert!(store
        .claim_messages(at(4), at(6), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.next_message_at().await.unwrap(), Some(at(5)));
    let retry = store.claim_messages(at(5), at(6), 10).await.unwrap();
    assert_eq!(retry.iter().map(|m| m.id).collect::<Vec<_>>(), [first]);

    // Sent and dead messages are never claimed again.
    let mut tx = store.begin().await.unwrap();
    tx.update_message(&MessageUpdate {
        id: first,
        state: MessageState::Sent,
        attempts: 2,
        run_at: at(5),
        last_error: None,
        provider_answer: Some("202 Accepted".into()),
        sent_at: Some(at(5)),
    })
    .await
    .unwrap();
    tx.update_message(&MessageUpdate {
        id: later,
        state: MessageState::Dead,
        attempts: 5,
        run_at: at(10),
        last_error: Some("410 Gone".into()),
        provider_answer: Some("410".into()),
        sent_at: None,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let sent = store.get_message(first).await.unwrap();
    assert_eq!(sent.state, MessageState::Sent);
    assert_eq!(sent.sent_at, Some(at(5)));
    assert_eq!(sent.provider_answer.as_deref(), Some("202 Accepted"));
    assert!(store
        .claim_messages(at(1000), at(1001), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.next_message_at().await.unwrap(), None);
    let listed = store.list_messages(inc).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|m| (m.idempotency_key.as_str(), m.state))
            .collect::<Vec<_>>(),
        [("k1", MessageState::Sent), ("k2", MessageState::Dead)]
    );
}

async fn team_cursors_count_per_team<S: Store>(store: S) {
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.next_team_index("dba").await.unwrap(), 0);
    assert_eq!(tx.next_team_index("dba").await.unwrap(), 1);
    assert_eq!(tx.next_team_index("sre").await.unwrap(), 0);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.next_team_index("dba").await.unwrap(), 2);
    assert_eq!(tx.next_team_index("sre").await.unwrap(), 1);
    drop(tx); // rolled back: the cursors do not move
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.next_team_index("sre").await.unwrap(), 1);
    tx.commit().await.unwrap();
}

/// PostgreSQL only: nodes claiming at once never get the same job, and
/// between them get every due one (`FOR UPDATE SKIP LOCKED`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_split_the_jobs_on_postgres() {
    let Some(store) = warroom_store::testing::postgres().await else {
        return;
    };
    let ids = incidents(&store, 200).await;
    let mut tx = store.begin().await.unwrap();
    for (i, id) in ids.iter().enumerate() {
        tx.schedule_job(&job(id, 0, -(i as i64 % 7))).await.unwrap();
    }
    tx.commit().await.unwrap();

    // One round of two concurrent claims that could each take everything.
    let (one, two) = (store.clone(), store.clone());
    let (x, y) = tokio::join!(
        one.claim_jobs(at(0), at(10), 200),
        two.claim_jobs(at(0), at(10), 200)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    check_split(&[x, y], 200);

    // Then two nodes claiming small batches in a loop until nothing is due.
    let claim_all = |store: warroom_store::PgStore| async move {
        let mut got = Vec::new();
        loop {
            let batch = store.claim_jobs(at(20), at(30), 7).await.unwrap();
            if batch.is_empty() {
                return got;
            }
            got.extend(batch);
            tokio::task::yield_now().await;
        }
    };
    let (x, y) = tokio::join!(claim_all(store.clone()), claim_all(store.clone()));
    check_split(&[x, y], 200);
}

fn check_split(claims: &[Vec<JobRecord>], total: usize) {
    let mut seen = HashSet::new();
    for job in claims.iter().flatten() {
        assert!(seen.insert(job.id), "job {} was claimed twice", job.id);
    }
    assert_eq!(
        seen.len(),
        total,
        "claims of {:?} jobs",
        claims.iter().map(Vec::len).collect::<Vec<_>>()
    );
}
