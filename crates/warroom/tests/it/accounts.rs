//! Sign-in accounts end to end: the first start creates an admin account
//! and prints its password once, and `warroom user ...` manages accounts
//! through a served binary.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::server::{cli, Server, BIN};
use warroom_store::on_both_backends;

on_both_backends!(url; first_start_admin_and_user_commands);

/// Runs the CLI with `input` on standard input.
fn cli_stdin(server: &Server, token: &str, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("WARROOM_SERVER", &server.url)
        .env("WARROOM_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run warroom");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn first_start_admin_and_user_commands(url: &str, dir: &std::path::Path) {
    let server = Server::start_with(url, dir, &["--admin-email", "Root@Example.com"]);
    let token = server
        .first_token
        .clone()
        .expect("first start prints a token");
    let password = server
        .first_password
        .clone()
        .expect("first start prints the admin password");
    assert_eq!(password.len(), 20);

    let (ok, out, err) = cli(
        &server,
        &token,
        &[
            "user",
            "create",
            "--email",
            "alice@example.com",
            "--name",
            "Alice",
            "--role",
            "viewer",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Created account 2 Alice <alice@example.com> (viewer)"),
        "{out}"
    );
    let generated = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Password: "))
        .expect("a generated password");
    assert_eq!(generated.len(), 20);
    assert!(out.contains("Change it after signing in."), "{out}");

    let (ok, out, err) = cli_stdin(
        &server,
        &token,
        &[
            "user",
            "create",
            "--email",
            "bob@example.com",
            "--name",
            "Bob",
            "--admin",
            "--password-stdin",
        ],
        "a chosen passphrase\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("(admin)"), "{out}");
    assert!(!out.contains("Password:"), "{out}");

    let (ok, _, err) = cli(
        &server,
        &token,
        &[
            "user",
            "create",
            "--email",
            "ALICE@example.com",
            "--name",
            "Alice 2",
        ],
    );
    assert!(!ok);
    assert!(err.contains("HTTP 409: email: "), "{err}");

    let (ok, out, err) = cli(
        &server,
        &token,
        &["user", "update", "2", "--disable", "--name", "Alice A."],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "Updated account 2 Alice A. <alice@example.com> (viewer, disabled)"
    );
    let (ok, _, err) = cli(&server, &token, &["user", "update", "2"]);
    assert!(!ok, "an update needs a change");
    assert!(err.contains("--name"), "{err}");

    let (ok, out, err) = cli(&server, &token, &["user", "list"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("ID"), "{out}");
    assert!(
        lines[1].contains("root@example.com") && lines[1].contains("admin"),
        "{out}"
    );
    assert!(
        lines[2].contains("alice@example.com") && lines[2].contains("disabled"),
        "{out}"
    );
    assert!(
        lines[3].contains("bob@example.com") && lines[3].contains("active"),
        "{out}"
    );

    let (ok, out, err) = cli(&server, &token, &["user", "reset-password", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("Password: "), "{out}");
    let (ok, out, err) = cli_stdin(
        &server,
        &token,
        &["user", "reset-password", "3", "--password-stdin"],
        "another passphrase\n",
    );
    assert!(ok, "{err}");
    assert!(!out.contains("Password:"), "{out}");
    let (ok, out, err) = cli(&server, &token, &["user", "list", "--output", "json"]);
    assert!(ok, "{err}");
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);

    // A restart creates no second admin and prints no password.
    server.kill9();
    let again = Server::start(url, dir);
    assert!(again.first_password.is_none());
    assert!(again.first_token.is_none());
}
