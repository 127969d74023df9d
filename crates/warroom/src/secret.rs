//! The server secret file: finding it, creating it beside a SQLite database
//! on first start, and `warroom secret generate|rotate`.
//!
//! The file lives outside the database so that a copy of the database
//! (a backup, a dump shared to debug) cannot forge acknowledge links.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use warroom_engine::ServerSecrets;

/// How to make a secret file, for messages.
const HOW_TO_CREATE: &str = "create one with `warroom secret generate > /etc/warroom/secret && \
     chmod 600 /etc/warroom/secret` and pass `--secret-file /etc/warroom/secret` \
     (or WARROOM_SECRET_FILE)";

/// Where the default secret of a SQLite database lives: `<database>.secret`.
pub fn beside(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".secret");
    PathBuf::from(name)
}

/// The secrets of a SQLite server: from `explicit` if given, else from
/// `<database>.secret`, created (mode 0600) on first start.
pub fn for_sqlite(explicit: Option<&Path>, database: &Path) -> anyhow::Result<ServerSecrets> {
    if let Some(path) = explicit {
        return load(path);
    }
    let path = beside(database);
    if create_new(&path, &format!("{}\n", ServerSecrets::generate()))? {
        println!(
            "First start: created the server secret {} (it signs acknowledge links; keep it \
             with backups of the database, but apart from them)",
            path.display()
        );
    }
    load(&path)
}

/// The secrets of a PostgreSQL server: every node must share them, so the
/// file is required and never made up here.
pub fn for_postgres(explicit: Option<&Path>) -> anyhow::Result<ServerSecrets> {
    match explicit {
        Some(path) => load(path),
        None => anyhow::bail!(
            "PostgreSQL needs a server secret file that every node shares: {HOW_TO_CREATE}"
        ),
    }
}

/// Reads and checks a secret file.
pub fn load(path: &Path) -> anyhow::Result<ServerSecrets> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!(
                "server secret file {} does not exist: {HOW_TO_CREATE}",
                path.display()
            )
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read server secret {}", path.display()))
        }
    };
    warn_if_readable_by_others(path);
    ServerSecrets::parse(&text).with_context(|| format!("server secret {}", path.display()))
}

/// `warroom secret rotate`: puts a new secret on the first line and keeps
/// the others after it (still accepted), replacing the file atomically.
pub fn rotate(path: &Path) -> anyhow::Result<()> {
    let old = load(path)?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read server secret {}", path.display()))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    create_new(&tmp, &format!("{}\n{text}", ServerSecrets::generate()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot replace {} with {}", path.display(), tmp.display()))?;
    eprintln!(
        "{}: a new current secret, {} previous ones kept; restart every server to sign with it, \
         and delete old lines once links signed with them have expired (oncall.ack_link_ttl)",
        path.display(),
        old.len()
    );
    Ok(())
}

/// Creates `path` holding `text`, readable by its owner only; `false` if
/// it already exists.
fn create_new(path: &Path, text: &str) -> anyhow::Result<bool> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "the server secret file is readable by other users; chmod 600 it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
