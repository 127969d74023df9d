//! `WalSyncer`: a thread of its own that `fdatasync`s the WAL for
//! `Store::sync_committed`, on a file it keeps open. Requests that arrive
//! while a sync runs share the next one.
//!
//! Through tokio's blocking pool, each sync also paid for opening and
//! closing the file and for handing the call to a pool thread and back,
//! which on a loaded 2-core machine tripled the ~110 µs of the
//! `fdatasync` itself.

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::StoreError;

type Waiter = oneshot::Sender<Result<(), String>>;

pub(super) struct WalSyncer {
    requests: mpsc::Sender<Waiter>,
}

impl WalSyncer {
    /// Starts the thread; it ends when the syncer is dropped.
    pub(super) fn start(wal_path: PathBuf) -> Result<WalSyncer, StoreError> {
        let (requests, incoming) = mpsc::channel::<Waiter>();
        std::thread::Builder::new()
            .name("warroom-wal-sync".into())
            .spawn(move || run(&wal_path, &incoming))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the WAL sync thread: {e}")))?;
        Ok(WalSyncer { requests })
    }

    /// Returns once an `fdatasync` of the WAL that began after this call
    /// has returned.
    pub(super) async fn sync(&self) -> Result<(), StoreError> {
        let (done, synced) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the WAL sync thread has stopped".into());
        self.requests.send(done).map_err(|_| stopped())?;
        synced
            .await
            .map_err(|_| stopped())?
            .map_err(|e| StoreError::Unavailable(format!("cannot sync the SQLite WAL: {e}")))
    }
}

fn run(wal_path: &std::path::Path, incoming: &mpsc::Receiver<Waiter>) {
    // Opened at the first sync, when a commit has created the file, and kept:
    // SQLite deletes the WAL only when the last connection to the database
    // closes, and the store's own writer connection stays open as long as
    // this thread runs, so the file is never replaced under it.
    let mut wal: Option<File> = None;
    let mut waiting = Vec::new();
    while let Ok(first) = incoming.recv() {
        waiting.push(first);
        waiting.extend(incoming.try_iter());
        let result = sync(wal_path, &mut wal).map_err(|e| e.to_string());
        for waiter in waiting.drain(..) {
            let _ = waiter.send(result.clone());
        }
    }
}

fn sync(wal_path: &std::path::Path, wal: &mut Option<File>) -> std::io::Result<()> {
    if wal.is_none() {
        match File::open(wal_path) {
            Ok(file) => *wal = Some(file),
            // No WAL yet: nothing has been committed through it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    match wal {
        Some(file) => file.sync_data(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn syncs_answer_every_caller_before_and_after_the_wal_exists() {
        let dir = tempfile::tempdir().expect("temp dir");
        let wal = dir.path().join("w.db-wal");
        let syncer = Arc::new(WalSyncer::start(wal.clone()).expect("starts"));
        // No WAL yet: nothing was committed through it.
        syncer.sync().await.expect("nothing to sync");
        std::fs::write(&wal, b"frames").expect("write");
        let calls: Vec<_> = (0..64)
            .map(|_| {
                let syncer = syncer.clone();
                tokio::spawn(async move { syncer.sync().await })
            })
            .collect();
        for call in calls {
            call.await.expect("joined").expect("synced");
        }
    }

    #[tokio::test]
    async fn a_wal_path_that_cannot_be_opened_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A path under a plain file: opening it fails with ENOTDIR.
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").expect("write");
        let syncer = WalSyncer::start(file.join("w.db-wal")).expect("starts");
        let err = syncer.sync().await.expect_err("not a directory");
        assert!(err.to_string().contains("cannot sync the SQLite WAL"), "{err}");
    }
}
