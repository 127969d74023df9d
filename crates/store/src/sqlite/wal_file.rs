//! `WalFile`: the database's `-wal` file, kept open for
//! `Store::sync_committed`, which `fdatasync`s it on the caller's thread.
//!
//! Opening the file for each sync and handing the call to tokio's blocking
//! pool and back costs more than the `fdatasync` itself on a busy machine:
//! every hop between threads is a wake-up on the latency path of each alert
//! request.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::StoreError;

pub(super) struct WalFile {
    path: PathBuf,
    /// Opened at the first sync after a commit has created the file, then
    /// kept: SQLite deletes the WAL only when the last connection to the
    /// database closes, and the store's own writer connection stays open
    /// as long as the store, so the file is never replaced under it.
    file: OnceLock<File>,
}

impl WalFile {
    pub(super) fn new(path: &Path) -> WalFile {
        WalFile {
            path: path.to_owned(),
            file: OnceLock::new(),
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// One `fdatasync` of the WAL: every frame written before this call is
    /// on disk when it returns. Blocks.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        let failed = |e: std::io::Error| {
            StoreError::Unavailable(format!(
                "cannot sync the SQLite WAL {}: {e}",
                self.path.display()
            ))
        };
        let file = match self.file.get() {
            Some(file) => file,
            None => match File::open(&self.path) {
                // Two first syncs at once each open it; one file is kept.
                Ok(opened) => self.file.get_or_init(|| opened),
                // No WAL yet: nothing has been committed through it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(failed(e)),
            },
        };
        file.sync_data().map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_before_and_after_the_wal_exists() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.db-wal");
        let wal = WalFile::new(&path);
        // No WAL yet: nothing was committed through it.
        wal.sync().expect("nothing to sync");
        std::fs::write(&path, b"frames").expect("write");
        wal.sync().expect("synced");
        wal.sync().expect("synced again, on the file kept open");
    }

    #[test]
    fn a_wal_path_that_cannot_be_opened_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A path under a plain file: opening it fails with ENOTDIR.
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").expect("write");
        let err = WalFile::new(&file.join("w.db-wal"))
            .sync()
            .expect_err("not a directory");
        assert!(
            err.to_string().contains("cannot sync the SQLite WAL"),
            "{err}"
        );
    }
}
