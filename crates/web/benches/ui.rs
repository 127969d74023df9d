//! Web UI pages, server-side: how long each page takes with 1,000
//! incidents in the database (issue 6: every page under 50 ms).
//!
//! For each backend (a SQLite file with the shipped settings, and a fresh
//! PostgreSQL database when one is reachable) it seeds, through the engine:
//!
//! - a playbook with an `oncall:` section (three users, two schedules, a
//!   two-step policy: the shape of `crates/warroom/tests/it/ui.rs`);
//! - 1,000 incidents declared with `Incidents::declare` over 30 days (mixed
//!   severities, services, categories), each taken through 10-20 changes
//!   with `Incidents::apply` (acknowledge, role, notes, checklist ticks,
//!   status changes, a stakeholder update); 900 end resolved, 100 stay open
//!   in every open status;
//! - an alert storm: 3,000 alerts for `database` ingested with
//!   `ingest::ingest_once` (one incident, a few thousand timeline events),
//!   1,000 of them resolved again; alerts for `api`, some silenced;
//! - two active and two expired silences;
//! - what the paging and delivery tasks would have done meanwhile: after each
//!   incident (and at the end, at the real now) `Paging::run_once` and
//!   `Delivery::deliver_once` run until nothing is due, over a channel that
//!   accepts every message (escalation steps, missed-update reminders), so
//!   `warroom serve` on the same database starts with no work to catch up;
//! - an admin account, signed in: every request carries its session cookie.
//!
//! Then it requests every page through `router.oneshot(..)` and reads the
//! whole body (everything but the network): first with criterion (groups
//! `sqlite`, `postgres`, one benchmark per page), then N = 200 sequential
//! requests per page timed with `Instant`, printed as a Markdown table with
//! the median, p99 and PASS/FAIL against 50 ms.
//!
//! `WARROOM_UI_BENCH_BACKEND=sqlite|postgres|all` (default all) picks the
//! backends. `WARROOM_UI_BENCH_DATA=DIR` keeps the SQLite database in
//! `DIR/warroom.db` and writes `DIR/playbook.yaml`, `DIR/session` (the cookie
//! secret) and `DIR/ids` (`typical=ID`, `storm=ID`);
//! `WARROOM_UI_BENCH_PAGES=DIR` writes every page's body (SQLite) to
//! `DIR/NAME.html`. `scripts/bench ui` serves the same database with
//! `warroom serve` and the same pages with nginx.
//!
//! `cargo bench -p warroom-web --bench ui`; `scripts/bench ui`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use criterion::Criterion;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use tower::ServiceExt;
use warroom_domain::alert::{AlertAction, AlertSignal};
use warroom_domain::{AccessRole, Declaration, Playbook, Status};
use warroom_engine::accounts::NewAccount;
use warroom_engine::delivery::{Channels, Delivery, SendError};
use warroom_engine::ingest::ingest_once;
use warroom_engine::{
    App, AppOptions, Clock, IncidentOp, Incidents, IngestRequest, IngestSource, ManualClock,
    SystemClock, Tokens,
};
use warroom_store::{MessageRecord, PgStore, SqliteStore, Store};
use warroom_web::{router, AppState};

/// The target: every page answers within this long, server-side.
const TARGET: Duration = Duration::from_millis(50);
/// Sequential requests per page for the table.
const N: usize = 200;
const INCIDENTS: usize = 1000;
const LEFT_OPEN: usize = 100;
const STORM_ALERTS: usize = 3000;
const STORM_RESOLVED: usize = 1000;
const PASSWORD: &str = "correct horse battery";

/// The `oncall:` section of `crates/warroom/tests/it/ui.rs`'s playbook; the
/// rest is the built-in playbook's.
const PLAYBOOK: &str = r#"
oncall:
  users:
    - name: alice
      full_name: Alice Moreau
      email: alice@example.com
      contact_methods: [{id: mail, kind: email, address: alice@example.com}]
    - name: bob
      full_name: Bob Chen
      email: bob@example.com
      contact_methods: [{id: phone, kind: sms, address: "+14155550101"}]
    - name: carol
      email: carol@example.com
  schedules:
    - name: primary
      time_zone: UTC
      layers:
        - name: daily
          users: [alice, bob]
          shift: {days: 1}
          start: 2026-01-05T09:00:00
    - name: secondary
      time_zone: Europe/London
      layers:
        - name: weekdays
          users: [carol, bob]
          shift: {weeks: 1}
          start: 2026-01-05T09:00:00
          restrictions: [{days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00"}]
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 5
          targets: [{type: schedule, name: primary}]
        - delay_minutes: 10
          targets: [{type: schedule, name: secondary}]
  default_escalation_policy: default
"#;

/// A small deterministic generator (xorshift), so every run seeds the same data.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SERVICES: [&str; 3] = ["api", "web", "database"];
const CATEGORIES: [&str; 5] = [
    "Infrastructure",
    "Application",
    "Database",
    "Third-party",
    "Human Error",
];
const PEOPLE: [&str; 3] = ["alice", "bob", "carol"];
const TITLES: [&str; 8] = [
    "Checkout fails for card payments",
    "Elevated 5xx on the public API",
    "Replication lag on the primary database",
    "Login page times out for some users",
    "Search results are stale",
    "Webhook deliveries delayed",
    "Disk filling up on the log cluster",
    "Certificate expiry warnings on the edge",
];
const NOTES: [&str; 8] = [
    "Looking at the dashboards now; error rate started climbing at 14:02.",
    "Rolled back the last deploy of the payment service, watching the graphs.",
    "Customer support reports about 40 tickets so far, mostly from the EU.",
    "The database primary shows long-running queries from the reporting job.",
    "Paged the network team; the load balancer health checks look fine.",
    "Error rate back under 1%, keeping it in monitoring for half an hour.",
    "Root cause looks like a config change that removed the connection limit.",
    "Status page updated; next update in 30 minutes.",
];
/// Each phase of the built-in checklist and how many items it has.
const PHASES: [(&str, usize); 7] = [
    ("detection", 4),
    ("notification", 5),
    ("containment", 4),
    ("recovery", 3),
    ("verification", 3),
    ("communication", 3),
    ("post-mortem", 3),
];

/// A page of the UI to time: its name in the reports and its path.
struct PageSpec {
    name: &'static str,
    uri: String,
}

/// The app over one seeded backend.
struct Seeded {
    app: Router,
    cookie: String,
    typical: String,
    storm: String,
    storm_events: usize,
    typical_events: usize,
}

fn main() {
    // `cargo test --all-targets` (CI) runs bench targets without `--bench`:
    // seeding takes minutes and timings mean nothing in a debug build, so it
    // only runs under `cargo bench` (scripts/bench ui).
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "ui bench: run it with `scripts/bench ui` (cargo bench); skipped under cargo test"
        );
        return;
    }
    let backends = match std::env::var("WARROOM_UI_BENCH_BACKEND").as_deref() {
        Ok("sqlite") => vec!["sqlite"],
        Ok("postgres") => vec!["postgres"],
        Ok("all") | Err(_) => vec!["sqlite", "postgres"],
        Ok(other) => panic!("WARROOM_UI_BENCH_BACKEND={other:?}: use sqlite, postgres or all"),
    };
    let out = std::env::var_os("WARROOM_UI_BENCH_DATA").map(PathBuf::from);
    let pages_out = std::env::var_os("WARROOM_UI_BENCH_PAGES").map(PathBuf::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut criterion = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut tables = Vec::new();
    // Temporary directories live until the end.
    let mut temp_dirs = Vec::new();
    for backend in backends {
        let started = Instant::now();
        let seeded = match backend {
            "sqlite" => {
                let dir = match &out {
                    Some(dir) => dir.clone(),
                    None => {
                        let tmp = tempfile::tempdir().expect("temporary directory");
                        let path = tmp.path().to_owned();
                        temp_dirs.push(tmp);
                        path
                    }
                };
                std::fs::create_dir_all(&dir).expect("create the output directory");
                let db = dir.join("warroom.db");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                }
                let url = format!("sqlite://{}", db.display());
                eprintln!("sqlite: {url}");
                let store = runtime.block_on(async {
                    let store = SqliteStore::connect(&url).await.expect("open SQLite");
                    store.migrate().await.expect("migrate SQLite");
                    store
                });
                let seeded = runtime.block_on(seed(store));
                if let Some(dir) = &out {
                    write_out(dir, &seeded);
                }
                seeded
            }
            _ => {
                let Some(url) = runtime.block_on(warroom_store::testing::pg_database()) else {
                    tables.push("## postgres\n\nskipped: PostgreSQL unreachable\n".to_owned());
                    continue;
                };
                let name = url.rsplit('/').next().unwrap_or_default().to_owned();
                eprintln!("postgres database: {name}");
                let store = runtime.block_on(async {
                    let store = PgStore::connect(&url).await.expect("connect to PostgreSQL");
                    store.migrate().await.expect("migrate PostgreSQL");
                    store
                });
                runtime.block_on(seed(store))
            }
        };
        eprintln!(
            "{backend}: seeded in {:.0} s ({INCIDENTS} incidents; workspace {} with {} events, storm incident {} with {} events)",
            started.elapsed().as_secs_f64(),
            seeded.typical,
            seeded.typical_events,
            seeded.storm,
            seeded.storm_events
        );
        let pages = pages(&seeded);
        // Every page must answer 200 before it is timed.
        for page in &pages {
            let (status, body) = runtime.block_on(fetch(&seeded.app, &page.uri, &seeded.cookie));
            assert_eq!(status, StatusCode::OK, "{} {}: {body}", page.name, page.uri);
            if let (Some(dir), "sqlite") = (&pages_out, backend) {
                std::fs::create_dir_all(dir).expect("create the pages directory");
                std::fs::write(dir.join(format!("{}.html", page.name)), &body)
                    .expect("write a page");
            }
        }
        let mut group = criterion.benchmark_group(backend);
        for page in &pages {
            group.bench_function(page.name, |b| {
                b.iter(|| runtime.block_on(fetch(&seeded.app, &page.uri, &seeded.cookie)))
            });
        }
        group.finish();
        tables.push(table(backend, &runtime, &seeded, &pages));
    }
    criterion.final_summary();
    println!();
    println!("# Web UI pages, server-side (router.oneshot + body), N = {N} sequential requests per page, target {} ms", TARGET.as_millis());
    println!();
    for t in tables {
        println!("{t}");
    }
}

fn pages(s: &Seeded) -> Vec<PageSpec> {
    let page = |name, uri: &str| PageSpec {
        name,
        uri: uri.to_owned(),
    };
    vec![
        page("now", "/"),
        page("incidents", "/incidents"),
        page("incidents-search", "/incidents?q=database"),
        page(
            "incidents-filtered",
            "/incidents?status=resolved&severity=SEV-2&service=api",
        ),
        page("incidents-new", "/incidents/new"),
        page("workspace", &format!("/incidents/{}", s.typical)),
        page("workspace-storm", &format!("/incidents/{}", s.storm)),
        page("alerts-firing", "/alerts?tab=firing"),
        page("alerts-suppressed", "/alerts?tab=suppressed"),
        page("alerts-resolved", "/alerts?tab=resolved"),
        page("silences", "/silences"),
        page("oncall", "/oncall"),
        page("services", "/services"),
        page("people", "/people"),
        page("playbook", "/playbook"),
        page("account", "/account"),
    ]
}

/// One GET with the session cookie, the whole body read.
async fn fetch(app: &Router, uri: &str, cookie: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// N sequential requests per page: median, p99 and max, as a Markdown table.
fn table(
    backend: &str,
    runtime: &tokio::runtime::Runtime,
    s: &Seeded,
    pages: &[PageSpec],
) -> String {
    let mut out = format!(
        "## {backend}\n\n| page | path | body | median | p99 | max | under {} ms |\n|---|---|---:|---:|---:|---:|---|\n",
        TARGET.as_millis()
    );
    let mut failed = Vec::new();
    for page in pages {
        let mut times = Vec::with_capacity(N);
        let mut bytes = 0;
        for _ in 0..N {
            let started = Instant::now();
            let (_, body) = runtime.block_on(fetch(&s.app, &page.uri, &s.cookie));
            times.push(started.elapsed());
            bytes = body.len();
        }
        times.sort();
        let median = times[N / 2];
        let p99 = times[(N * 99).div_ceil(100) - 1];
        let max = times[N - 1];
        let pass = p99 < TARGET;
        if !pass {
            failed.push(page.name);
        }
        out.push_str(&format!(
            "| {} | `{}` | {:.0} KiB | {} | {} | {} | {} |\n",
            page.name,
            page.uri,
            bytes as f64 / 1024.0,
            ms(median),
            ms(p99),
            ms(max),
            if pass { "PASS" } else { "**FAIL**" }
        ));
    }
    out.push_str(&format!(
        "\n{}: {} of {} pages under {} ms at p99{}\n",
        backend,
        pages.len() - failed.len(),
        pages.len(),
        TARGET.as_millis(),
        if failed.is_empty() {
            String::new()
        } else {
            format!("; over: {}", failed.join(", "))
        }
    ));
    out
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn write_out(dir: &Path, s: &Seeded) {
    std::fs::write(dir.join("playbook.yaml"), PLAYBOOK).expect("write the playbook");
    let secret = s.cookie.trim_start_matches("warroom_session=");
    std::fs::write(dir.join("session"), format!("{secret}\n")).expect("write the session");
    std::fs::write(
        dir.join("ids"),
        format!("typical={}\nstorm={}\n", s.typical, s.storm),
    )
    .expect("write the incident ids");
}

/// Seeds the store (see the module comment) and builds the router over it.
async fn seed<S: Store>(store: S) -> Seeded {
    let playbook = Arc::new(Playbook::parse("playbook.yaml", PLAYBOOK).expect("the playbook"));
    // The incidents span the 30 days before now; the session is signed in
    // at the real now, so `warroom serve` on the same database accepts it.
    let real_now = SystemClock.now();
    let start = real_now - SignedDuration::from_hours(30 * 24);
    let clock = ManualClock::new(start);
    let built = App::build(
        store.clone(),
        Arc::clone(&playbook),
        Arc::new(clock.clone()),
        AppOptions::new(Sent),
    );
    let incidents = built.incidents.clone();
    let rules = Arc::clone(&built.rules);
    let state = AppState::new(&built);
    state
        .oncall
        .sync_playbook()
        .await
        .expect("sync the playbook");
    let app = router(state.clone());

    let delivery = built.delivery.clone();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let step = SignedDuration::from_secs(30 * 24 * 3600 / (INCIDENTS as i64 + 10));
    let mut typical = String::new();
    for n in 0..INCIDENTS {
        clock.set(start + step * n as i32);
        let id = seed_incident(&incidents, &clock, &mut rng, n).await;
        run_workers(&state, &delivery, clock.now()).await;
        // An open incident being investigated.
        if n == INCIDENTS - LEFT_OPEN + 2 {
            typical = id;
        }
    }

    // Silences: two live, two that ended days ago (the page lists a week).
    let token = Tokens::create(&store, "seed", AccessRole::Admin, clock.now())
        .await
        .expect("a token")
        .secret;
    clock.set(real_now - SignedDuration::from_hours(4 * 24));
    for matchers in [r#"env="staging""#, r#"alertname="CertExpiry""#] {
        silence(&app, &token, matchers, "1h").await;
    }
    clock.set(real_now - SignedDuration::from_hours(2));
    for matchers in [r#"alertname="DiskFull""#, r#"service="web",env="canary""#] {
        silence(&app, &token, matchers, "72h").await;
    }

    // The storm: 3,000 alerts for `database` within the group window, all
    // in one incident; then 1,000 of them resolve.
    let source = |service: &str| IngestSource {
        integration_id: None,
        integration_name: "prometheus".to_owned(),
        service: service.to_owned(),
        severity_overrides: BTreeMap::new(),
        routes: Vec::new(),
        actor: None,
    };
    let mut storm = String::new();
    for (action, count) in [
        (AlertAction::Trigger, STORM_ALERTS),
        (AlertAction::Resolve, STORM_RESOLVED),
    ] {
        for batch in 0..count / 100 {
            clock.advance(SignedDuration::from_secs(1));
            let signals = (0..100)
                .map(|i| {
                    let key = format!("db-{}", batch * 100 + i);
                    signal(action, "ReplicationLag", &key, "critical")
                })
                .collect();
            let request = IngestRequest {
                source: source("database"),
                signals,
            };
            let results = ingest_once(&store, &rules, clock.now(), &request)
                .await
                .expect("ingest the storm");
            if let Some(id) = results.iter().find_map(|r| r.incident_id.clone()) {
                storm = id;
            }
        }
    }
    // Some alerts for `api`: 60 latency alerts (one incident) and 40 disk
    // alerts the DiskFull silence suppresses.
    clock.advance(SignedDuration::from_secs(60));
    let signals = (0..100)
        .map(|n| {
            let name = if n < 60 { "HighLatency" } else { "DiskFull" };
            signal(AlertAction::Trigger, name, &format!("api-{n}"), "warning")
        })
        .collect();
    ingest_once(
        &store,
        &rules,
        clock.now(),
        &IngestRequest {
            source: source("api"),
            signals,
        },
    )
    .await
    .expect("ingest api alerts");
    for text in NOTES.iter().take(5) {
        clock.advance(SignedDuration::from_secs(30));
        incidents
            .apply(
                &storm,
                "alice",
                IncidentOp::Note {
                    text: (*text).to_owned(),
                },
            )
            .await
            .expect("a note on the storm incident");
    }
    clock.set(real_now);
    run_workers(&state, &delivery, real_now).await;
    let typical_events = store
        .timeline(&typical, 0, 100_000)
        .await
        .expect("a timeline")
        .len();
    let storm_events = store
        .timeline(&storm, 0, 100_000)
        .await
        .expect("the storm timeline")
        .len();

    // The account every request signs in as, at the real now.
    state
        .accounts
        .create(NewAccount {
            email: "ada@example.com".to_owned(),
            name: "ada".to_owned(),
            role: AccessRole::Admin,
            password: Some(PASSWORD.to_owned()),
        })
        .await
        .expect("an account");
    let signed = state
        .accounts
        .sign_in("ada@example.com", PASSWORD)
        .await
        .expect("sign in")
        .expect("the password is right");
    Seeded {
        app,
        cookie: format!("warroom_session={}", signed.secret),
        typical,
        storm,
        storm_events,
        typical_events,
    }
}

/// Declares incident `n` and takes it through 10-20 changes; the last
/// `LEFT_OPEN` stay open in various statuses, the others end resolved.
async fn seed_incident<S: Store>(
    incidents: &Incidents<S>,
    clock: &ManualClock,
    rng: &mut Rng,
    n: usize,
) -> String {
    let severity = match rng.below(10) {
        0 => "SEV-0",
        1 | 2 => "SEV-1",
        3..=6 => "SEV-2",
        _ => "SEV-3",
    };
    let mut services = vec![rng.pick(&SERVICES).to_string()];
    if rng.below(4) == 0 {
        let other = rng.pick(&SERVICES).to_string();
        if other != services[0] {
            services.push(other);
        }
    }
    let actor = *rng.pick(&PEOPLE);
    let declaration = Declaration {
        title: format!("{} ({})", rng.pick(&TITLES), n + 1),
        summary: format!(
            "{} affected; first seen by monitoring on {}.",
            services.join(" and "),
            services[0]
        ),
        severity: severity.to_owned(),
        category: Some(rng.pick(&CATEGORIES).to_string()),
        services,
        customer_facing: rng.below(3) == 0,
        ..Declaration::default()
    };
    let (incident, _) = incidents
        .declare(actor, declaration)
        .await
        .expect("declare");
    let id = incident.id;
    // Where this incident stops: resolved, or one of the open statuses.
    let open_at = n.checked_sub(INCIDENTS - LEFT_OPEN);
    let last = match open_at.map(|k| k % 5) {
        None => Status::Resolved,
        Some(0) => Status::Triggered,
        Some(1) => Status::Acknowledged,
        Some(2) => Status::Investigating,
        Some(3) => Status::Identified,
        Some(_) => Status::Monitoring,
    };
    let mut ops = Vec::new();
    if last != Status::Triggered {
        ops.push(IncidentOp::Acknowledge);
        ops.push(IncidentOp::AssignRole {
            role: "Incident Commander".to_owned(),
            assignee: rng.pick(&PEOPLE).to_string(),
        });
    }
    for _ in 0..3 + rng.below(5) {
        ops.push(IncidentOp::Note {
            text: rng.pick(&NOTES).to_string(),
        });
    }
    for _ in 0..2 + rng.below(4) {
        let (phase, items) = *rng.pick(&PHASES);
        ops.push(IncidentOp::Checklist {
            phase: phase.to_owned(),
            item: 1 + rng.below(items),
            done: true,
        });
    }
    for to in [
        Status::Investigating,
        Status::Identified,
        Status::Monitoring,
    ] {
        if last == Status::Triggered || last == Status::Acknowledged {
            break;
        }
        ops.push(IncidentOp::Status {
            to,
            message: Some(rng.pick(&NOTES).to_string()),
        });
        if to == Status::Identified {
            ops.push(IncidentOp::PostUpdate {
                status: None,
                message: rng.pick(&NOTES).to_string(),
            });
        }
        if to == last {
            break;
        }
    }
    if last == Status::Resolved {
        ops.push(IncidentOp::Resolve {
            message: Some("Fixed; monitoring shows normal levels.".to_owned()),
        });
    }
    for op in ops {
        clock.advance(SignedDuration::from_secs(60 + rng.below(240) as i64));
        let who = *rng.pick(&PEOPLE);
        incidents
            .apply(&id, who, op)
            .await
            .unwrap_or_else(|e| panic!("change {id}: {e}"));
    }
    id
}

/// A channel that accepts every message, as if it were sent.
struct Sent;

impl Channels for Sent {
    async fn send(&self, _message: &MessageRecord) -> Result<String, SendError> {
        Ok("bench".to_owned())
    }
}

/// Runs the paging and delivery work due at `now` until none is left.
async fn run_workers<S: Store>(state: &AppState<S>, delivery: &Delivery<S, Sent>, now: Timestamp) {
    while state.paging.run_once(now).await.expect("paging") > 0 {}
    while delivery.deliver_once(now).await.expect("delivery") > 0 {}
}

fn signal(action: AlertAction, alertname: &str, key: &str, severity: &str) -> AlertSignal {
    let labels = BTreeMap::from([
        ("alertname".to_owned(), alertname.to_owned()),
        ("instance".to_owned(), key.to_owned()),
        ("env".to_owned(), "production".to_owned()),
    ]);
    AlertSignal {
        action,
        dedup_key: Some(key.to_owned()),
        summary: format!("{alertname} on {key}"),
        severity: Some(severity.to_owned()),
        source: key.to_owned(),
        labels,
        details: serde_json::Map::new(),
        links: vec![],
        starts_at: None,
        ends_at: None,
        generator_url: None,
        group_key: None,
        origin: "alertmanager".to_owned(),
    }
}

/// Creates a silence through the API, starting at the clock's now.
async fn silence(app: &Router, token: &str, matchers: &str, duration: &str) {
    let body = serde_json::json!({
        "matchers": matchers, "duration": duration, "comment": "planned work",
    });
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/silences")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "silence {matchers}: {}",
        String::from_utf8_lossy(&bytes)
    );
}
