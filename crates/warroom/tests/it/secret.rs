//! The server secret file: acknowledge links are signed with a key derived
//! from it, survive a rotation, cannot be forged from the database, and
//! PostgreSQL refuses to start without one.

use std::path::{Path, PathBuf};

use serde_json::Value;
use warroom_engine::paging::ack_link::ACK_LINK_LABEL;
use warroom_engine::paging::{AckClaim, AckLinks};
use warroom_engine::ServerSecrets;
use warroom_store::{PgStore, SqliteStore, Store, TokenStore};

use crate::oncall::{eventually, receiver, write_playbook, Receiver};
use crate::server::{cli, http, Server, BIN};
use warroom_store::on_both_backends;

on_both_backends!(url; ack_links_survive_a_rotation_and_the_database_cannot_forge_them);

/// A key as an old Warroom stored it in `server_secrets`.
const DB_KEY: &str = "abababababababababababababababababababababababababababababababab";

async fn store_db_key(url: &str) {
    if url.starts_with("sqlite") {
        let store = SqliteStore::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        store.server_secret("ack_link_key", DB_KEY).await.unwrap();
        store.close().await;
    } else {
        let store = PgStore::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        store.server_secret("ack_link_key", DB_KEY).await.unwrap();
    }
}

/// Declares an incident and returns its id and the token of the
/// acknowledge link alice's page carries.
async fn page_alice(server: &Server, token: &str, rx: &Receiver, title: &str) -> (String, String) {
    let (ok, out, err) = cli(
        server,
        token,
        &[
            "incident",
            "declare",
            title,
            "--severity",
            "SEV-3",
            "--output",
            "json",
        ],
    );
    assert!(ok, "{out}{err}");
    let incident: Value = serde_json::from_str(&out).unwrap();
    let id = incident["id"].as_str().unwrap().to_owned();
    let page = eventually("alice's page", async || {
        rx.to("alice")
            .into_iter()
            .find(|p| p["incident"]["id"] == id.as_str())
    })
    .await;
    let link = page["acknowledge_url"].as_str().unwrap();
    (id, link.rsplit_once("/ack/").unwrap().1.to_owned())
}

async fn open_link(server: &Server, token: &str) -> u16 {
    let url = format!("{}/ack/{token}", server.url);
    http().get(url).send().await.unwrap().status().as_u16()
}

/// Whether the keys of secret file `text` signed `token` (checked at the
/// Unix epoch, before any link expires).
fn signed_by(text: &str, token: &str) -> bool {
    AckLinks::from_secrets(&ServerSecrets::parse(text).unwrap())
        .verify(token, jiff::Timestamp::UNIX_EPOCH)
        .is_ok()
}

async fn ack_links_survive_a_rotation_and_the_database_cannot_forge_them(url: &str, dir: &Path) {
    store_db_key(url).await;
    let (rx, hook) = receiver().await;
    let playbook = write_playbook(dir, &hook);
    let server = Server::start_with(url, dir, &["--playbook", &playbook]);
    let token = server.first_token.clone().unwrap();
    let secret_file: PathBuf = if url.starts_with("sqlite") {
        // SQLite's default: beside the database, made on first start, private.
        let path = dir.join("warroom.db.secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        path
    } else {
        dir.join("server.secret")
    };
    let first_secret = std::fs::read_to_string(&secret_file).unwrap();

    let (id, sent) = page_alice(&server, &token, &rx, "PBX down").await;
    assert!(signed_by(&first_secret, &sent));
    // A link signed with the key in the database is refused.
    let claim = AckClaim {
        incident_id: id.clone(),
        user: "alice".into(),
        expires_at: jiff::Timestamp::from_second(4_000_000_000).unwrap(),
    };
    let forged = AckLinks::new(hex::decode(DB_KEY).unwrap()).sign(&claim);
    assert_eq!(open_link(&server, &forged).await, 403);
    assert_eq!(open_link(&server, &sent).await, 200);
    server.kill9();

    // Rotate: a new first line, the old one kept.
    let out = std::process::Command::new(BIN)
        .args(["secret", "rotate", "--secret-file"])
        .arg(&secret_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated = std::fs::read_to_string(&secret_file).unwrap();
    assert_eq!(rotated.lines().count(), 2, "{rotated}");
    assert_eq!(rotated.lines().nth(1).unwrap(), first_secret.trim());

    let server = Server::start_with(url, dir, &["--playbook", &playbook]);
    assert_eq!(
        open_link(&server, &sent).await,
        200,
        "a link sent before the rotation"
    );
    let (_, fresh) = page_alice(&server, &token, &rx, "PBX down again").await;
    assert!(signed_by(&rotated, &fresh));
    assert!(!signed_by(&first_secret, &fresh), "the new secret signs");
    assert_eq!(open_link(&server, &forged).await, 403);
    drop(server);

    // Nothing derived from the secrets is in the database.
    let secrets = ServerSecrets::parse(&rotated).unwrap();
    let mut needles: Vec<Vec<u8>> = rotated.lines().map(|l| l.as_bytes().to_vec()).collect();
    for key in secrets.derive(ACK_LINK_LABEL) {
        needles.push(key.to_vec());
        needles.push(hex::encode(key).into_bytes());
    }
    let stored = stored_secrets(url, dir).await;
    assert_eq!(stored, [format!("ack_link_key={DB_KEY}")]);
    for blob in database_bytes(url, dir) {
        for needle in &needles {
            assert!(
                !blob.windows(needle.len()).any(|w| w == needle.as_slice()),
                "the database holds secret material"
            );
        }
    }
}

/// Every `server_secrets` row as `name=value`.
async fn stored_secrets(url: &str, _dir: &Path) -> Vec<String> {
    let sql = "SELECT name || '=' || value FROM server_secrets ORDER BY name";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    }
}

/// The bytes of every SQLite database file (main, WAL, ingest journal).
fn database_bytes(url: &str, dir: &Path) -> Vec<Vec<u8>> {
    if !url.starts_with("sqlite") {
        return Vec::new();
    }
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("warroom.db") && !name.ends_with(".secret")
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn postgres_without_a_secret_file_refuses_to_start() {
    let out = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "WARROOM_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/none",
        )
        .env_remove("WARROOM_SECRET_FILE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warroom secret generate"), "{err}");
    assert!(err.contains("--secret-file"), "{err}");
}
