use crate::{IngestStore, IngestTx, TxStore, WriteTx};

/// A run turns SQLite's fsync off on the writer; however the run ends,
/// the next transaction fsyncs its commits again (2 = FULL, 1 = NORMAL).
#[tokio::test]
async fn every_writer_after_a_run_syncs_its_commits() {
    let db = crate::testing::sqlite().await;
    let store = &db.store;
    let synchronous = |tx: &super::SqliteTx| -> i64 {
        tx.query_optional("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
            .unwrap()
    };
    let tx = store.begin().await.unwrap();
    assert_eq!(synchronous(&tx), 2);
    tx.commit().await.unwrap();
    let mut run = store.begin_run().await.unwrap();
    assert_eq!(synchronous(&run), 1, "NORMAL inside a run");
    assert!(run.commit_and_continue().await.unwrap());
    assert_eq!(synchronous(&run), 1, "NORMAL inside a run");
    run.commit().await.unwrap();
    let tx = store.begin().await.unwrap();
    assert_eq!(synchronous(&tx), 2);
    drop(tx);
    let run = store.begin_run().await.unwrap();
    drop(run);
    let tx = store.begin().await.unwrap();
    assert_eq!(synchronous(&tx), 2);
    drop(tx);
    store.sync_committed().unwrap();
}

/// Entries a version that journaled in the main file left in its
/// `ingest_journal` table move into `<database>-ingest` when the journal
/// is first opened, numbers kept, and leave the table.
#[tokio::test]
async fn opening_the_journal_moves_in_the_old_tables_entries() {
    use crate::IngestJournal;
    let db = crate::testing::sqlite().await;
    let store = &db.store;
    for (seq, body) in [(7_i64, "seven"), (8, "eight")] {
        sqlx::query("INSERT INTO ingest_journal (seq, body) VALUES (?, ?)")
            .bind(seq)
            .bind(body.as_bytes())
            .execute(&store.writer)
            .await
            .unwrap();
    }
    let mut journal = store.open_journal().await.unwrap();
    let moved = journal.entries().await.unwrap();
    assert_eq!(moved, [(7, b"seven".to_vec()), (8, b"eight".to_vec())]);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest_journal")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert!(super::ingest_journal::journal_path(&db.dir.path().join("warroom.db")).exists());
    // Opened again: nothing to move, nothing lost.
    let mut again = store.open_journal().await.unwrap();
    assert_eq!(again.entries().await.unwrap(), moved);
}

/// A run learns when another connection committed between two of its
/// transactions, so the writer rereads what it kept.
#[tokio::test]
async fn a_run_sees_when_another_connection_wrote() {
    let db = crate::testing::sqlite().await;
    let store = &db.store;
    let mut run = store.begin_run().await.unwrap();
    assert!(
        run.commit_and_continue().await.unwrap(),
        "nobody else wrote"
    );
    run.commit_in_run().unwrap();
    sqlx::query("INSERT INTO incident_sequences (scope, last_seq) VALUES ('x', 1)")
        .execute(&store.writer)
        .await
        .unwrap();
    assert!(!run.begin_in_run(), "the sqlx writer committed in between");
    assert!(
        run.commit_and_continue().await.unwrap(),
        "nobody else wrote"
    );
    run.commit().await.unwrap();
}

/// Committed pages reach the database file without the writer's own
/// automatic checkpoint (10,000 pages away here): the checkpointer
/// copies them.
#[tokio::test]
async fn the_checkpointer_copies_commits_into_the_database_file() {
    let db = crate::testing::sqlite().await;
    let store = &db.store;
    let file = store.wal.path().with_extension("db");
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let tx = store.begin().await.unwrap();
    for n in 0..2_000 {
        tx.execute(
            "INSERT INTO incident_sequences (scope, last_seq) VALUES (?1, 1)",
            [format!("scope-{n}-{}", "x".repeat(200))],
        )
        .unwrap();
    }
    tx.commit().await.unwrap();
    let before = size();
    // The checkpointer runs every 500 ms; allow it ten rounds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while size() <= before + 200_000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        size() > before + 200_000,
        "the database file stayed at {} bytes (was {before})",
        size()
    );
}

/// A transaction that never ends makes the next one fail after 30 s
/// instead of waiting forever (paused time skips the wait).
#[tokio::test]
async fn a_writer_held_too_long_is_an_error() {
    let db = crate::testing::sqlite().await;
    let held = db.store.begin().await.unwrap();
    tokio::time::pause();
    let err = db.store.begin().await.err().expect("the writer is held");
    assert!(
        matches!(&err, crate::StoreError::Unavailable(m) if m.contains("busy for 30 s")),
        "{err}"
    );
    drop(held);
    tokio::time::resume();
    db.store.begin().await.unwrap().commit().await.unwrap();
}
