//! What a new user meets first: `config check` saying what `serve` would
//! refuse, a refused start that stores nothing and prints no panic, the
//! first-start banner naming the address really bound, and `token`
//! commands that never make a new empty database.

use std::path::Path;
use std::process::{Command, Output};

use crate::server::{Server, BIN};
use warroom_store::on_both_backends;

on_both_backends!(url;
    a_refused_start_stores_no_token_and_prints_no_panic,
    token_revoke_takes_the_name_or_the_id,
);

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("WARROOM_DATABASE_URL")
        .env_remove("WARROOM_SECRET_FILE")
        .envs(envs.iter().copied())
        .output()
        .expect("run warroom")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A playbook with a Slack channel whose webhook URL is read from `var`.
fn playbook_with_slack_from(dir: &Path, var: &str) -> std::path::PathBuf {
    let path = dir.join("playbook.yaml");
    std::fs::write(
        &path,
        format!(
            "notifications:\n  channels:\n    - name: ops\n      type: slack\n      webhook_url: {{env: {var}}}\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn config_check_warns_of_a_secret_serve_could_not_read_and_summarises_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let var = "WARROOM_TEST_UNSET_SLACK_HOOK";
    let playbook = playbook_with_slack_from(dir.path(), var);
    let path = playbook.to_str().unwrap();

    // Away from the server: a warning, and the summary.
    let out = run(&["config", "check", path], &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("warning:"), "{stderr}");
    assert!(stderr.contains("notifications.channels[0]"), "{stderr}");
    assert!(stderr.contains(var), "{stderr}");
    assert!(
        stderr.contains("`warroom serve` refuses to start"),
        "{stderr}"
    );
    for section in [
        "incidents:",
        "services:",
        "alerting:",
        "on call:",
        "notifications: 1 channels",
    ] {
        assert!(stdout.contains(section), "no {section:?} in {stdout}");
    }

    // Where the server runs: an error.
    let out = run(&["config", "check", "--strict", path], &[]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "--strict passed: {stderr}");
    assert!(
        stderr.contains(var) && !stderr.contains("warning:"),
        "{stderr}"
    );

    // With the secret set, but not a URL: what serve refuses is an error
    // even without --strict.
    let out = run(&["config", "check", path], &[(var, "not a url")]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "a bad webhook URL passed: {stderr}");
    assert!(stderr.contains("not an http(s) URL"), "{stderr}");

    let out = run(
        &["config", "check", "--strict", path],
        &[(var, "https://hooks.slack.com/services/T0/B0/x")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

/// `warroom serve` on `url` with `extra` arguments, expected to refuse.
fn refused_start(url: &str, dir: &Path, extra: &[&str]) -> String {
    let secret = dir.join("server.secret");
    if !secret.exists() {
        std::fs::write(&secret, warroom_engine::ServerSecrets::generate()).unwrap();
    }
    let listen: &[&str] = if extra.contains(&"--listen") {
        &[]
    } else {
        &["--listen", "127.0.0.1:0"]
    };
    let out = Command::new(BIN)
        .arg("serve")
        .args(listen)
        .args(extra)
        .env("WARROOM_DATABASE_URL", url)
        .env("WARROOM_SECRET_FILE", &secret)
        .env("WARROOM_LOG", "warn")
        .env_remove("WARROOM_PLAYBOOK")
        .current_dir(dir)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "serve started: {stdout}{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "a panic after the error: {stderr}"
    );
    assert!(
        !stdout.contains("WARROOM_TOKEN=") && !stdout.contains("WARROOM_ADMIN_PASSWORD="),
        "a refused start printed credentials: {stdout}"
    );
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error:"),
        "the error is not the last thing printed: {stderr}"
    );
    stderr
}

async fn a_refused_start_stores_no_token_and_prints_no_panic(url: &str, dir: &Path) {
    let var = "WARROOM_TEST_UNSET_SLACK_HOOK";
    let playbook = playbook_with_slack_from(dir, var);
    let err = refused_start(url, dir, &["--playbook", playbook.to_str().unwrap()]);
    assert!(err.contains(var), "{err}");
    let err = refused_start(url, dir, &["--admin-email", "not an address"]);
    assert!(err.contains("--admin-email"), "{err}");
    // Taken: the start is refused after the database is opened.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let err = refused_start(url, dir, &["--listen", &taken]);
    assert!(err.contains(&format!("cannot listen on {taken}")), "{err}");

    // Nothing was stored: the next start is still the first.
    let server = Server::start(url, dir);
    assert!(
        server.first_token.is_some() && server.first_password.is_some(),
        "a refused start kept the first admin token or password: {:?}",
        server.banner
    );
}

#[test]
fn the_first_start_banner_names_the_address_really_bound() {
    let dir = tempfile::tempdir().unwrap();
    let url = warroom_store::testing::sqlite_url(dir.path());
    let server = Server::start(&url, dir.path());
    let banner = server.banner.join("\n");
    assert!(!server.url.ends_with(":0"), "{}", server.url);
    assert!(
        banner.contains(&format!("{}/api/v1/incidents", server.url)),
        "the curl line does not use {}: {banner}",
        server.url
    );
    assert!(
        banner.contains(&format!("export WARROOM_SERVER={}", server.url)),
        "no WARROOM_SERVER for a server off the default address: {banner}"
    );
    assert!(!banner.contains(":0/"), "{banner}");
}

#[test]
fn token_commands_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        &["token", "list"][..],
        &["token", "create", "--name", "ci", "--role", "viewer"],
        &["token", "revoke", "ci"],
    ] {
        let out = run(args, &[("WARROOM_DATABASE_URL", &url)]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(&missing.display().to_string()) && stderr.contains("--database-url"),
            "{args:?}: {stderr}"
        );
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
    // The default URL too, in a directory with no database.
    let out = Command::new(BIN)
        .args(["token", "list"])
        .env_remove("WARROOM_DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("warroom.db"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("warroom.db").exists());
}

async fn token_revoke_takes_the_name_or_the_id(url: &str, dir: &Path) {
    // `token` needs the server's database: the server makes it.
    drop(Server::start(url, dir));
    let token = |args: &[&str]| {
        let mut all = vec!["token"];
        all.extend_from_slice(args);
        let out = run(&all, &[("WARROOM_DATABASE_URL", url)]);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    token(&["create", "--name", "grafana", "--role", "viewer"]);
    token(&["create", "--name", "ci", "--role", "viewer"]);
    let list = token(&["list"]);
    assert!(list.starts_with("ID "), "{list}");
    let id = list
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("grafana"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no grafana in {list}"))
        .to_owned();
    let out = token(&["revoke", &id]);
    assert!(out.contains("revoked token \"grafana\""), "{out}");
    let out = token(&["revoke", "ci"]);
    assert!(out.contains("revoked token \"ci\""), "{out}");
}

#[test]
fn show_prints_a_table_and_integrations_go_by_name_or_id() {
    let dir = tempfile::tempdir().unwrap();
    let url = warroom_store::testing::sqlite_url(dir.path());
    let playbook = dir.path().join("playbook.yaml");
    std::fs::write(
        &playbook,
        "oncall:\n  users:\n    - name: alice\n      email: alice@example.com\n      contact_methods:\n        - {id: mail, kind: email, address: alice@example.com}\n",
    )
    .unwrap();
    let server = Server::start_with(
        &url,
        dir.path(),
        &["--playbook", playbook.to_str().unwrap()],
    );
    let token = server.first_token.clone().unwrap();
    let cli = |args: &[&str]| {
        let (ok, out, err) = crate::server::cli(&server, &token, args);
        assert!(ok, "{args:?}: {out}{err}");
        out
    };

    let table = cli(&["oncall", "user", "show", "alice"]);
    assert!(
        !table.trim_start().starts_with('{'),
        "JSON without --output json: {table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("email ") && l.contains("alice@example.com")),
        "{table}"
    );
    assert!(table.contains("contact_methods[0].kind"), "{table}");
    let json = cli(&["oncall", "user", "show", "alice", "--output", "json"]);
    assert!(json.trim_start().starts_with('{'), "{json}");

    cli(&[
        "integration",
        "create",
        "--service",
        "api",
        "--kind",
        "pagerduty",
        "--name",
        "pd-prod",
    ]);
    cli(&[
        "integration",
        "create",
        "--service",
        "api",
        "--kind",
        "pagerduty",
        "--name",
        "pd-stage",
    ]);
    let out = cli(&["integration", "rotate", "pd-prod"]);
    assert!(out.contains("pd-prod") || out.contains("key"), "{out}");
    let out = cli(&["integration", "revoke", "pd-prod"]);
    assert!(
        out.contains("Revoked integration") && out.contains("pd-prod"),
        "{out}"
    );
    let list = cli(&["integration", "list", "--output", "json"]);
    let all: serde_json::Value = serde_json::from_str(&list).unwrap();
    let items = all
        .as_array()
        .cloned()
        .unwrap_or_else(|| all["integrations"].as_array().cloned().unwrap());
    let stage = items.iter().find(|i| i["name"] == "pd-stage").unwrap();
    let out = cli(&["integration", "revoke", stage["id"].as_str().unwrap()]);
    assert!(out.contains("pd-stage"), "{out}");
    let (ok, _, err) = crate::server::cli(&server, &token, &["integration", "revoke", "no-such"]);
    assert!(!ok);
    assert!(err.contains("no integration has the name or id"), "{err}");
}

/// `psql` against the test server; its output, or `None` when it cannot run.
fn psql(sql: &str) -> Option<String> {
    let out = Command::new("psql")
        .args([&warroom_store::testing::pg_admin_url(), "-Atqc", sql])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn scripts_test_drops_only_the_databases_of_its_own_run() {
    if psql("SELECT 1").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and psql cannot reach PostgreSQL"
        );
        eprintln!("skipped: psql cannot reach PostgreSQL");
        return;
    }
    let pid = std::process::id();
    let (mine, theirs) = (format!("ra{pid}"), format!("rb{pid}"));
    let names = [
        format!("warroom_t_{mine}_1_1"),
        format!("warroom_t_{mine}_1_2"),
        format!("warroom_t_{theirs}_1_1"),
        format!("warroom_t_{pid}_9_9"),
    ];
    for name in &names {
        psql(&format!("CREATE DATABASE {name}")).expect("CREATE DATABASE");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-databases");
    let out = Command::new(&script)
        .args(["drop", &mine])
        .env(
            "WARROOM_TEST_DATABASE_URL",
            warroom_store::testing::pg_admin_url(),
        )
        .output()
        .unwrap();
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let left = psql(&format!(
        "SELECT datname FROM pg_database WHERE datname IN ({})",
        quoted.join(", ")
    ))
    .unwrap();
    for name in &names[2..] {
        psql(&format!("DROP DATABASE IF EXISTS {name}"));
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("dropped 2 test databases of run {mine}")),
        "{}",
        text(&out.stdout)
    );
    let mut left: Vec<&str> = left.lines().collect();
    left.sort_unstable();
    let mut kept = vec![names[2].as_str(), names[3].as_str()];
    kept.sort_unstable();
    assert_eq!(left, kept, "only run {mine}'s databases go");
    // A run id that could reach other databases is refused.
    let out = Command::new(&script).args(["drop", "%"]).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn git_ignores_every_file_serve_makes_beside_its_database() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for made in [
        "warroom.db",
        "warroom.db-wal",
        "warroom.db-shm",
        "warroom.db-ingest",
        "warroom.db-ingest-wal",
        "warroom.db-ingest-shm",
        "warroom.db.secret",
    ] {
        let out = Command::new("git")
            .args(["check-ignore", "--no-index", "-q", made])
            .current_dir(&repo)
            .output()
            .expect("git runs");
        assert!(out.status.success(), ".gitignore does not cover {made}");
    }
}
