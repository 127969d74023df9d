//! The README's promises, on both backends: declare with the CLI, see it in
//! the API, survive `kill -9` and restart; concurrent declares number
//! consecutively; the first admin token is printed exactly once.

use serde_json::{json, Value};

use crate::server::{cli, http, Server};
use warroom_store::on_both_backends;

on_both_backends!(url;
    declare_with_cli_survives_kill_9,
    fifty_concurrent_declares_are_consecutive,
    token_revoke_keeps_the_last_admin_token,
);

async fn declare_with_cli_survives_kill_9(url: &str, dir: &std::path::Path) {
    let server = Server::start(url, dir);
    let token = server
        .first_token
        .clone()
        .expect("first start prints an admin token");
    let (ok, out, err) = cli(
        &server,
        &token,
        &[
            "incident",
            "declare",
            "Database connection failures",
            "--severity",
            "SEV-1",
            "--service",
            "api",
        ],
    );
    assert!(ok, "declare failed: {out}{err}");
    assert!(out.contains("INC-"), "{out}");
    let (ok, out, err) = cli(&server, &token, &["incident", "ack", &id_in(&out)]);
    assert!(ok, "{out}{err}");

    // Acknowledged writes, then kill -9 straight after the last 2xx.
    let client = http();
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let r = client
            .post(format!("{}/api/v1/incidents", server.url))
            .bearer_auth(&token)
            .json(&json!({"title": format!("burst {i}"), "severity": "SEV-3"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        acknowledged.push(body["id"].as_str().unwrap().to_owned());
    }
    server.kill9();

    let server = Server::start(url, dir);
    assert!(
        server.first_token.is_none(),
        "the admin token is printed only once"
    );
    let list: Value = client
        .get(format!("{}/api/v1/incidents?limit=100", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 21);
    for id in &acknowledged {
        assert!(ids.contains(&id.as_str()), "{id} lost after kill -9");
    }
    let first = list["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Database connection failures")
        .expect("the CLI-declared incident survived");
    assert_eq!(first["status"], "acknowledged");
    assert_eq!(first["services"], json!(["api"]));

    let (ok, out, _) = cli(&server, &token, &["incident", "list"]);
    assert!(ok);
    assert!(out.contains("Database connection failures"), "{out}");
}

fn id_in(out: &str) -> String {
    out.split_whitespace()
        .find(|w| w.starts_with("INC-"))
        .unwrap()
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .to_owned()
}

async fn fifty_concurrent_declares_are_consecutive(url: &str, dir: &std::path::Path) {
    let server = Server::start(url, dir);
    let token = server.first_token.clone().unwrap();
    let client = http();
    let requests = (0..50).map(|i| {
        let client = client.clone();
        let url = format!("{}/api/v1/incidents", server.url);
        let token = token.clone();
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"title": format!("storm {i}"), "severity": "SEV-2"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let body: Value = r.json().await.unwrap();
            body["id"].as_str().unwrap().to_owned()
        }
    });
    let mut ids = futures::future::join_all(requests).await;
    ids.sort();
    let year = &ids[0][4..8];
    let expected: Vec<String> = (1..=50).map(|n| format!("INC-{year}-{n:04}")).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn token_create_and_viewer_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let url = warroom_store::testing::sqlite_url(dir.path());
    let server = Server::start(&url, dir.path());
    let out = std::process::Command::new(crate::server::BIN)
        .args(["token", "create", "--name", "watcher", "--role", "viewer"])
        .env("WARROOM_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let viewer = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(viewer.starts_with("wr_"));
    let (ok, out, _) = cli(&server, &viewer, &["incident", "list"]);
    assert!(ok, "{out}");
    let (ok, _, err) = cli(
        &server,
        &viewer,
        &["incident", "declare", "x", "--severity", "SEV-1"],
    );
    assert!(!ok);
    assert!(err.contains("403") || err.contains("read-only"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    let (ok, _, err) = cli(&server, "wr_wrong", &["incident", "list"]);
    assert!(!ok);
    assert!(err.contains("WARROOM_TOKEN"), "{err}");
}

/// `warroom token ...` on the database directly; (success, stdout, stderr).
fn token_cmd(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(crate::server::BIN)
        .arg("token")
        .args(args)
        .env("WARROOM_DATABASE_URL", url)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn token_revoke_keeps_the_last_admin_token(url: &str, _dir: &std::path::Path) {
    // `token` works on an existing database; `migrate` makes one.
    let made = std::process::Command::new(crate::server::BIN)
        .arg("migrate")
        .env("WARROOM_DATABASE_URL", url)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let (ok, _, err) = token_cmd(url, &["create", "--name", "root", "--role", "admin"]);
    assert!(ok, "{err}");
    let (ok, _, err) = token_cmd(url, &["revoke", "root"]);
    assert!(!ok, "the last admin token was revoked");
    assert!(err.contains("create another admin token first"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    let (ok, _, err) = token_cmd(url, &["create", "--name", "root2", "--role", "admin"]);
    assert!(ok, "{err}");
    let (ok, out, err) = token_cmd(url, &["revoke", "root"]);
    assert!(ok, "{err}");
    assert!(out.contains("revoked token \"root\""), "{out}");
}

#[test]
fn unreachable_server_is_one_clear_line() {
    let out = std::process::Command::new(crate::server::BIN)
        .args(["incident", "list", "--server", "http://127.0.0.1:9"])
        .env("WARROOM_TOKEN", "wr_x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach Warroom"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
