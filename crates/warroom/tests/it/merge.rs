//! `warroom incident merge` against a real server: the line it prints, the
//! duplicate closed, and the server's refusals passed on.

use serde_json::{json, Value};

use crate::server::{cli, http, Server};

async fn declare(server: &Server, token: &str, title: &str) -> String {
    let created: Value = http()
        .post(format!("{}/api/v1/incidents", server.url))
        .bearer_auth(token)
        .json(&json!({"title": title, "severity": "SEV-2"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().expect("an incident id").to_owned()
}

#[tokio::test]
async fn merge_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&warroom_store::testing::sqlite_url(dir.path()), dir.path());
    let token = server.first_token.clone().expect("a first token");
    let dup = declare(&server, &token, "Checkout errors").await;
    let survivor = declare(&server, &token, "Payments outage").await;

    let (ok, out, err) = cli(
        &server,
        &token,
        &["incident", "merge", &dup, "--into", &survivor],
    );
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.trim(),
        format!(
            "Merged {dup} into {survivor}: {dup} is closed as a duplicate, {survivor} is triggered"
        )
    );
    let (ok, out, err) = cli(
        &server,
        &token,
        &["incident", "merge", &survivor, "--into", &dup],
    );
    assert!(!ok, "{out}");
    assert!(err.contains(&format!("{dup} is closed")), "{err}");
    let (ok, _, err) = cli(&server, &token, &["incident", "merge", &survivor]);
    assert!(!ok);
    assert!(err.contains("--into"), "{err}");
}
