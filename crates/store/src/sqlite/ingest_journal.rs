//! `SqliteJournal`: the ingest journal in a SQLite file of its own,
//! `<database>-ingest`, so that an append takes that file's write lock and
//! never waits while the alert writer holds the main database's.
//!
//! Appends commit without SQLite's own fsync (`synchronous = NORMAL`) and
//! then `fdatasync` the journal's WAL, as the main writer does
//! (`wal_file.rs`): one sync per append, on the appender's thread.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use super::wal_file::WalFile;
use crate::{IngestJournal, StoreError};

pub struct SqliteJournal {
    conn: Connection,
    wal: WalFile,
}

/// The journal's file for the database at `db`: beside it, named after it.
pub(super) fn journal_path(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push("-ingest");
    PathBuf::from(path)
}

impl SqliteJournal {
    /// Opens the journal of the database at `db`, whose `ingest_applied`
    /// names it `database`, creating it if missing. A journal file written
    /// for another database (the one at `db` was replaced, say restored or
    /// deleted to start afresh) is moved aside, not applied.
    pub(super) fn open(db: &Path, database: &str) -> Result<SqliteJournal, StoreError> {
        let path = journal_path(db);
        let conn = Self::connect(&path)?;
        let owner: Option<String> = conn
            .query_row("SELECT database FROM owner", [], |r| r.get(0))
            .optional()?;
        let conn = match owner {
            Some(owner) if owner != database => {
                drop(conn);
                let aside = set_aside(&path, &owner)?;
                tracing::warn!(
                    journal = %path.display(),
                    moved_to = %aside.display(),
                    "the ingest journal beside the database was written for another database; moved it aside, its alerts are not applied here"
                );
                Self::connect(&path)?
            }
            _ => conn,
        };
        conn.execute(
            "INSERT OR IGNORE INTO owner (id, database) VALUES (1, ?1)",
            [database],
        )?;
        let mut wal = path.into_os_string();
        wal.push("-wal");
        Ok(SqliteJournal {
            conn,
            wal: WalFile::new(Path::new(&wal)),
        })
    }

    fn connect(path: &Path) -> Result<Connection, StoreError> {
        let cannot = |e: rusqlite::Error| {
            StoreError::Unavailable(format!(
                "cannot open the ingest journal {}: {e}",
                path.display()
            ))
        };
        let conn = Connection::open(path).map_err(cannot)?;
        conn.busy_timeout(super::BUSY_TIMEOUT).map_err(cannot)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, body BLOB NOT NULL); \
             CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY CHECK (id = 1), database TEXT NOT NULL);",
        )
        .map_err(cannot)?;
        Ok(conn)
    }

    /// Takes in entries the main database's `ingest_journal` table held
    /// (written before the journal had a file of its own), durably; the
    /// caller then deletes them there. One already here is kept as is.
    pub(super) fn adopt(&mut self, rows: &[(i64, Vec<u8>)]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert =
                tx.prepare("INSERT OR IGNORE INTO entries (seq, body) VALUES (?1, ?2)")?;
            for (seq, body) in rows {
                insert.execute(rusqlite::params![seq, body])?;
            }
        }
        tx.commit()?;
        self.wal.sync()
    }
}

impl IngestJournal for SqliteJournal {
    async fn append(&mut self, seq: i64, body: &[u8]) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO entries (seq, body) VALUES (?1, ?2)")?
            .execute(rusqlite::params![seq, body])?;
        self.wal.sync()
    }

    async fn forget_through(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM entries WHERE seq <= ?1")?
            .execute([seq])?;
        Ok(())
    }

    async fn entries(&mut self) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, body FROM entries ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Renames the journal at `path` (closed, so its WAL is checkpointed and
/// gone) to `<path>.<owner>`, out of the way; returns the new name.
fn set_aside(path: &Path, owner: &str) -> Result<PathBuf, StoreError> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".{owner}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot move the ingest journal {} of another database aside: {e}",
            path.display()
        ))
    })?;
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn entries_survive_reopening_and_forgotten_ones_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("w.db");
        let mut journal = SqliteJournal::open(&db, "d1").expect("opened");
        block_on(async {
            journal.append(1, b"one").await.unwrap();
            journal.append(2, b"two").await.unwrap();
            journal.append(3, b"three").await.unwrap();
            journal.forget_through(1).await.unwrap();
        });
        assert!(journal_path(&db).exists());
        let mut again = SqliteJournal::open(&db, "d1").expect("opened again");
        let entries = block_on(again.entries()).unwrap();
        assert_eq!(
            entries,
            [(2, b"two".to_vec()), (3, b"three".to_vec())],
            "a second connection reads what the first appended"
        );
        let err = block_on(journal.append(3, b"again")).expect_err("seq 3 is taken");
        assert!(err.to_string().contains("UNIQUE"), "{err}");
    }

    #[test]
    fn adopting_keeps_entries_already_there() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("w.db");
        let mut journal = SqliteJournal::open(&db, "d1").expect("opened");
        block_on(journal.append(2, b"mine")).unwrap();
        journal
            .adopt(&[(1, b"old".to_vec()), (2, b"theirs".to_vec())])
            .unwrap();
        let entries = block_on(journal.entries()).unwrap();
        assert_eq!(entries, [(1, b"old".to_vec()), (2, b"mine".to_vec())]);
    }

    #[test]
    fn a_journal_of_another_database_is_moved_aside_not_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("w.db");
        let mut journal = SqliteJournal::open(&db, "old").expect("opened");
        block_on(journal.append(1, b"old alert")).unwrap();
        drop(journal);
        let mut fresh = SqliteJournal::open(&db, "new").expect("opened for the new database");
        assert_eq!(block_on(fresh.entries()).unwrap(), []);
        let aside = SqliteJournal::connect(&dir.path().join("w.db-ingest.old")).unwrap();
        let kept: i64 = aside
            .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1, "kept aside, not lost");
        drop(aside);
        drop(fresh);
        let mut same = SqliteJournal::open(&db, "new").expect("opened again");
        block_on(same.append(2, b"new alert")).unwrap();
        assert_eq!(block_on(same.entries()).unwrap().len(), 1);
    }
}
