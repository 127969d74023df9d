//! On call end to end: paging survives `kill -9` (an overdue step runs once,
//! at once, after a restart), pages reach a webhook and carry a working
//! acknowledge link, and the CLI manages schedules whose iCal feed parses
//! with Python's `icalendar` and shows the API's shifts.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use serde_json::Value;

use crate::server::{cli, http, Server};
use warroom_store::on_both_backends;

on_both_backends!(url; an_overdue_step_runs_once_at_once_after_kill_9);
on_both_backends!(url; a_playbook_never_takes_over_a_user_made_through_the_api);

/// Records every POST by path.
#[derive(Clone, Default)]
pub(crate) struct Receiver(Arc<Mutex<Vec<(String, Value)>>>);

impl Receiver {
    /// The distinct pages `who` received. Delivery is at least once: a page
    /// on the wire when the server is killed is sent again with the same
    /// idempotency key, which a receiver handles once.
    pub(crate) fn to(&self, who: &str) -> Vec<Value> {
        let seen = self.0.lock().unwrap();
        let mut distinct: Vec<Value> = Vec::new();
        for (_, body) in seen.iter().filter(|(path, _)| path == who) {
            let key = &body["idempotency_key"];
            if !distinct.iter().any(|b| &b["idempotency_key"] == key) {
                distinct.push(body.clone());
            }
        }
        distinct
    }
}

pub(crate) async fn receiver() -> (Receiver, String) {
    let rx = Receiver::default();
    let state = rx.clone();
    let app = axum::Router::new().route(
        "/{who}",
        post(
            move |axum::extract::Path(who): axum::extract::Path<String>, body: String| {
                let state = state.clone();
                async move {
                    let json = serde_json::from_str(&body).unwrap_or_default();
                    state.0.lock().unwrap().push((who, json));
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (rx, url)
}

pub(crate) fn write_playbook(dir: &Path, hook: &str) -> String {
    let yaml = format!(
        r#"
oncall:
  users:
    - name: alice
      email: alice@example.com
      contact_methods: [{{id: hook, kind: webhook, address: "{hook}/alice"}}]
    - name: bob
      email: bob@example.com
      contact_methods: [{{id: hook, kind: webhook, address: "{hook}/bob"}}]
  schedules:
    - name: primary
      time_zone: Europe/London
      layers:
        - name: weekly
          users: [alice, bob]
          shift: {{weeks: 1}}
          start: 2026-01-05T09:00:00
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 5
          targets: [{{type: user, name: alice}}]
        - delay_minutes: 5
          targets: [{{type: user, name: bob}}]
  default_escalation_policy: default
"#
    );
    let path = dir.join("playbook.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

/// Polls `check` every 50 ms for up to 20 s: for work that is due now
/// (a delivery, an overdue step), never for an escalation delay.
pub(crate) async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn get(server: &Server, token: &str, path: &str) -> Value {
    http()
        .get(format!("{}{path}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn steps(timeline: &Value) -> Vec<(i64, Value)> {
    timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "escalation_step")
        .map(|e| (e["step"].as_i64().unwrap(), e.clone()))
        .collect()
}

async fn an_overdue_step_runs_once_at_once_after_kill_9(url: &str, dir: &Path) {
    let (rx, hook) = receiver().await;
    let playbook = write_playbook(dir, &hook);
    let server = Server::start_with(url, dir, &["--playbook", &playbook]);
    let token = server.first_token.clone().unwrap();
    let (ok, out, err) = cli(
        &server,
        &token,
        &[
            "incident",
            "declare",
            "PBX down",
            "--severity",
            "SEV-3",
            "--output",
            "json",
        ],
    );
    assert!(ok, "{out}{err}");
    let incident: Value = serde_json::from_str(&out).unwrap();
    let id = incident["id"].as_str().unwrap().to_owned();
    let declared_at: jiff::Timestamp = incident["declared_at"].as_str().unwrap().parse().unwrap();

    // Step 1 pages Alice at once, and her webhook gets the page.
    let page = eventually("alice's page", async || rx.to("alice").into_iter().next()).await;
    assert_eq!(page["incident"]["id"], id.as_str());
    assert!(rx.to("bob").is_empty());
    server.kill9();

    // Restart six minutes "later": step 2 was due at +5 and runs at once.
    let server = Server::start_with(url, dir, &["--playbook", &playbook, "--clock-offset", "6m"]);
    let timeline_path = format!("/api/v1/incidents/{id}/timeline");
    let step2 = eventually("step 2 after the restart", async || {
        let timeline = get(&server, &token, &timeline_path).await;
        steps(&timeline)
            .into_iter()
            .find(|(n, _)| *n == 2)
            .map(|(_, e)| e)
    })
    .await;
    let ran_at: jiff::Timestamp = step2["at"].as_str().unwrap().parse().unwrap();
    let due = declared_at + jiff::SignedDuration::from_mins(5);
    let late = ran_at.duration_since(due);
    // The restarted server's clock reads declared + ~6 min: it ran at once.
    assert!(
        late < jiff::SignedDuration::from_secs(90),
        "ran {late:?} after due"
    );
    eventually("bob's page", async || rx.to("bob").into_iter().next()).await;

    // Killed and restarted again: nothing is pending, nothing runs twice.
    server.kill9();
    let server = Server::start_with(url, dir, &["--playbook", &playbook, "--clock-offset", "7m"]);
    let escalation = get(
        &server,
        &token,
        &format!("/api/v1/incidents/{id}/escalation"),
    )
    .await;
    assert_eq!(
        escalation["pending_jobs"],
        serde_json::json!([]),
        "{escalation}"
    );
    assert_eq!(escalation["state"], "exhausted");
    let timeline = get(&server, &token, &timeline_path).await;
    let counted: Vec<i64> = steps(&timeline).into_iter().map(|(n, _)| n).collect();
    assert_eq!(counted, [1, 2], "each step ran exactly once");
    let messages = get(&server, &token, &format!("/api/v1/incidents/{id}/messages")).await;
    let sent: Vec<(&str, &str)> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(sent, [("alice", "sent"), ("bob", "sent")]);
    assert_eq!(rx.to("alice").len(), 1);
    assert_eq!(rx.to("bob").len(), 1);

    // Bob acknowledges from the link in his page: GET shows, POST acknowledges.
    let sent_link = rx.to("bob")[0]["acknowledge_url"]
        .as_str()
        .unwrap()
        .to_owned();
    // Sent by the previous process; any node checks it (the key comes from
    // the secret file they share).
    let token_part = sent_link.rsplit_once("/ack/").unwrap().1;
    let link = format!("{}/ack/{token_part}", server.url);
    let shown = http().get(&link).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.unwrap();
    assert!(html.contains(&id) && html.contains("<form"), "{html}");
    let status = get(&server, &token, &format!("/api/v1/incidents/{id}")).await["status"].clone();
    assert_eq!(status, "triggered", "GET must not acknowledge");
    let done = http().post(&link).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let incident = get(&server, &token, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(incident["status"], "acknowledged");
}

/// A user made through the API and then defined by a playbook too is never
/// silently replaced: the start is refused, naming the user, and nothing
/// changes.
async fn a_playbook_never_takes_over_a_user_made_through_the_api(url: &str, dir: &Path) {
    let server = Server::start(url, dir);
    let token = server.first_token.clone().unwrap();
    std::fs::write(
        dir.join("bob.yaml"),
        "name: bob\nemail: bob@api.example.com\n",
    )
    .unwrap();
    let bob_file = dir.join("bob.yaml").display().to_string();
    let (ok, out, err) = cli(
        &server,
        &token,
        &["oncall", "user", "create", "--file", &bob_file],
    );
    assert!(ok, "{out}{err}");
    drop(server);

    let playbook = write_playbook(dir, "http://127.0.0.1:9");
    let refused = Server::refused(url, dir, &["--playbook", &playbook]);
    assert!(
        refused.contains(r#"user "bob""#) && refused.contains("created through the API"),
        "{refused}"
    );
    assert!(
        refused.contains("warroom oncall user delete bob") && !refused.contains(r#"user "alice""#),
        "{refused}"
    );

    // Nothing changed: bob is still the API's, and the server starts without the playbook.
    let server = Server::start(url, dir);
    let bob = get(&server, &token, "/api/v1/oncall/users/bob").await;
    assert_eq!(bob["email"], "bob@api.example.com", "{bob}");
    assert_eq!(bob["source"], "api", "{bob}");
    let users = get(&server, &token, "/api/v1/oncall/users").await;
    assert!(!users.to_string().contains("alice"), "{users}");

    // Once the API's bob is deleted, the playbook starts and owns bob.
    let (ok, out, err) = cli(&server, &token, &["oncall", "user", "delete", "bob"]);
    assert!(ok, "{out}{err}");
    drop(server);
    let server = Server::start_with(url, dir, &["--playbook", &playbook]);
    let bob = get(&server, &token, "/api/v1/oncall/users/bob").await;
    assert_eq!(bob["email"], "bob@example.com", "{bob}");
    assert_eq!(bob["source"], "playbook", "{bob}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_schedules_and_the_ical_feed_parses() {
    let dir = tempfile::tempdir().unwrap();
    let url = warroom_store::testing::sqlite_url(dir.path());
    let server = Server::start(&url, dir.path());
    let token = server.first_token.clone().unwrap();
    let run = |args: &[&str]| {
        let (ok, out, err) = cli(&server, &token, args);
        assert!(ok, "warroom {}: {out}{err}", args.join(" "));
        out
    };
    for (file, body) in [
        ("alice.yaml", "name: alice\nemail: alice@example.com\ntime_zone: America/New_York\n"),
        ("bob.yaml", "name: bob\nemail: bob@example.com\n"),
        (
            "primary.yaml",
            "name: primary\ntime_zone: America/New_York\nlayers:\n  - name: daily\n    users: [alice, bob]\n    shift: {days: 1}\n    start: 2026-03-01T09:00:00\n",
        ),
    ] {
        std::fs::write(dir.path().join(file), body).unwrap();
    }
    let path = |f: &str| dir.path().join(f).display().to_string();
    run(&["oncall", "user", "create", "--file", &path("alice.yaml")]);
    run(&["oncall", "user", "create", "--file", &path("bob.yaml")]);
    run(&[
        "oncall",
        "schedule",
        "create",
        "--file",
        &path("primary.yaml"),
    ]);
    // Across the spring-forward night: 09:00 New York is 14:00Z, then 13:00Z.
    let shifts = run(&[
        "oncall",
        "shifts",
        "--schedule",
        "primary",
        "--from",
        "2026-03-07T14:00:00Z",
        "--to",
        "2026-03-09T13:00:00Z",
    ]);
    let lines: Vec<&str> = shifts.lines().collect();
    assert_eq!(lines.len(), 2, "{shifts}");
    assert!(
        lines[0].starts_with("2026-03-07 14:00 -> 2026-03-08 13:00"),
        "{shifts}"
    );
    assert!(
        lines[1].starts_with("2026-03-08 13:00 -> 2026-03-09 13:00"),
        "{shifts}"
    );
    let now = run(&[
        "oncall",
        "now",
        "--schedule",
        "primary",
        "--at",
        "2026-03-07T20:00:00Z",
    ]);
    let first = now.split_whitespace().nth(1).unwrap().to_owned();
    run(&[
        "oncall",
        "override",
        "create",
        "--schedule",
        "primary",
        "--user",
        if first == "alice" { "bob" } else { "alice" },
        "--start",
        "2026-03-07T18:00:00Z",
        "--duration",
        "4h",
    ]);
    let now = run(&[
        "oncall",
        "now",
        "--schedule",
        "primary",
        "--at",
        "2026-03-07T20:00:00Z",
    ]);
    assert_ne!(now.split_whitespace().nth(1).unwrap(), first, "{now}");
    // Alice and Bob have no verified contact method: `check` says so and exits 1.
    let (ok, out, _) = cli(&server, &token, &["oncall", "check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("unreachable_user") && out.contains("user:alice"),
        "{out}"
    );

    // The calendar feed parses with a real calendar library and matches the API.
    let feed = run(&[
        "oncall",
        "feed",
        "create",
        "--schedule",
        "primary",
        "--output",
        "json",
    ]);
    let feed: Value = serde_json::from_str(&feed).unwrap();
    let ics = http()
        .get(feed["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ics.status(), 200);
    assert!(ics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = ics.bytes().await.unwrap();
    let script = "import sys, icalendar\n\
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())\n\
for e in cal.walk('VEVENT'):\n    \
print(e['SUMMARY'], e.decoded('DTSTART').isoformat(), e.decoded('DTEND').isoformat())\n";
    // Debian's interpreter, which has Debian's python3-icalendar (a pyenv
    // or venv python3 earlier on PATH may not).
    let python3 = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut python = std::process::Command::new(python3)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (Debian's python3-icalendar; scripts/test installs it)");
    use std::io::Write as _;
    python.stdin.take().unwrap().write_all(&ics).unwrap();
    let parsed = python.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "python icalendar failed: {:?}",
        parsed
    );
    let parsed = String::from_utf8(parsed.stdout).unwrap();
    let events: Vec<(String, jiff::Timestamp, jiff::Timestamp)> = parsed
        .lines()
        .map(|l| {
            let mut parts = l.rsplitn(3, ' ');
            let end = parts.next().unwrap().parse().unwrap();
            let start = parts.next().unwrap().parse().unwrap();
            (parts.next().unwrap().to_owned(), start, end)
        })
        .collect();
    assert!(!events.is_empty(), "{parsed}");
    // The feed reaches 400 days ahead, more than the API answers at once:
    // compare the events of the first 400 days.
    let from = events[0].1;
    let limit = from + jiff::SignedDuration::from_hours(400 * 24);
    let mut events = events;
    events.retain(|e| e.2 <= limit);
    let to = events.last().unwrap().2;
    let api = get(
        &server,
        &token,
        &format!("/api/v1/oncall/schedules/primary/shifts?from={from}&to={to}"),
    )
    .await;
    let api: Vec<(String, jiff::Timestamp, jiff::Timestamp)> = api["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["user"].is_null())
        .map(|s| {
            (
                format!("On call: {} (primary)", s["user"].as_str().unwrap()),
                s["start"].as_str().unwrap().parse().unwrap(),
                s["end"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(events, api);
}

/// `oncall verify` says a code could not be sent when no channel can carry
/// it, instead of queueing a message that can only fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_no_channel_can_carry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = warroom_store::testing::sqlite_url(dir.path());
    let server = Server::start(&url, dir.path());
    let token = server.first_token.clone().unwrap();
    let file = dir.path().join("carol.yaml");
    std::fs::write(
        &file,
        "name: carol\nemail: carol@example.com\ncontact_methods:\n  - {id: phone, kind: sms, address: \"+14155550101\"}\n  - {id: hook, kind: webhook, address: \"http://127.0.0.1:9/hook\"}\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let (ok, out, err) = cli(
        &server,
        &token,
        &["oncall", "user", "create", "--file", &file],
    );
    assert!(ok, "{out}{err}");

    let (ok, out, err) = cli(&server, &token, &["oncall", "verify", "carol", "phone"]);
    assert!(!ok, "{out}{err}");
    assert!(
        err.contains("no channel can carry a code to carol's sms contact method phone")
            && err.contains("twilio"),
        "{err}"
    );
    // A webhook needs no configured channel: its code goes out.
    let (ok, out, err) = cli(&server, &token, &["oncall", "verify", "carol", "hook"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Sent a code"), "{out}");
}
