//! Paging lateness: with N open incidents whose first escalation steps fall
//! due uniformly over a window of M minutes, how late does each step fire?
//!
//! Not a criterion benchmark: the quantity is lateness, measured once per
//! step. For each backend (a SQLite file with the shipped durable settings,
//! a fresh PostgreSQL database) it:
//!
//! 1. syncs a playbook with three users, a schedule and a three-step policy
//!    (webhook contact methods to 127.0.0.1:9; nothing is delivered);
//! 2. declares N triggered incidents in large transactions and starts
//!    paging each with `paging::start`, its step-1 job due at its own
//!    instant of the window (setup is not measured);
//! 3. runs `Paging::run_once(clock.now())` in the loop the paging worker runs (`worker::run`)
//!    (again at once after a round that ran jobs, otherwise sleep until
//!    `next_job_at`), recording when each round returned;
//! 4. reads every incident's timeline: the `escalation_step` event's `at` is
//!    the `now` of the round that ran it, and the step was committed before
//!    that round returned. Lateness = round returned - job's `run_at`, an
//!    upper bound on commit time - due time.
//!
//! The paging clock is the system clock shifted by a constant, chosen after
//! setup so that the window starts 3 s after setup ends, however long setup
//! took. Every interval it measures is a real-time interval.
//!
//! `cargo bench -p warroom-engine --bench paging -- [--incidents 100000]
//! [--window-minutes 3] [--backend sqlite|postgres|all]`; `scripts/bench paging`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;
use warroom_domain::{Declaration, EventKind, Incident, Playbook};
use warroom_engine::paging::{self, AckLinks};
use warroom_engine::{Clock, Oncall, Paging, SystemClock};
use warroom_store::{IncidentTx, PgStore, Store, WriteTx};

/// The target: every step fires within this long of its due time.
const TARGET: SignedDuration = SignedDuration::from_secs(1);
/// Incidents declared per setup transaction.
const SETUP_TX: usize = 1000;
/// The window starts this long after setup ends.
const LEAD: SignedDuration = SignedDuration::from_secs(3);

struct Args {
    incidents: usize,
    window_minutes: i64,
    backends: Vec<&'static str>,
}

fn parse_args() -> Args {
    let mut args = Args {
        incidents: 100_000,
        window_minutes: 3,
        backends: vec!["sqlite", "postgres"],
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match arg.as_str() {
            "--incidents" => args.incidents = value("--incidents").parse().expect("a count"),
            "--window-minutes" => {
                args.window_minutes = value("--window-minutes").parse().expect("minutes")
            }
            "--backend" => {
                args.backends = match value("--backend").as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    "all" => vec!["sqlite", "postgres"],
                    other => panic!("unknown backend {other:?}: sqlite, postgres or all"),
                }
            }
            // What `cargo bench` passes to every bench target.
            "--bench" => {}
            other => panic!(
                "unknown argument {other:?}; use --incidents N, --window-minutes M, \
                 --backend sqlite|postgres|all"
            ),
        }
    }
    assert!(args.incidents > 0 && args.window_minutes > 0);
    args
}

/// The system clock shifted by a constant.
struct ShiftedClock(SignedDuration);

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        SystemClock.now() + self.0
    }
}

/// Alice is on call on `primary`; the policy pages it, then Bob, then Carol
/// (the playbook of `tests/it/paging.rs`).
fn playbook() -> Playbook {
    let hook = "http://127.0.0.1:9";
    let yaml = format!(
        r#"
oncall:
  users:
    - name: alice
      email: alice@example.com
      contact_methods:
        - {{id: hook, kind: webhook, address: "{hook}/alice"}}
    - name: bob
      email: bob@example.com
      contact_methods:
        - {{id: hook, kind: webhook, address: "{hook}/bob"}}
    - name: carol
      email: carol@example.com
      contact_methods:
        - {{id: hook, kind: webhook, address: "{hook}/carol"}}
  schedules:
    - name: primary
      time_zone: America/New_York
      layers:
        - name: daily
          users: [alice]
          shift: {{days: 1}}
          start: 2026-01-01T09:00:00
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 5
          targets: [{{type: schedule, name: primary}}]
        - delay_minutes: 10
          targets: [{{type: user, name: bob}}]
        - delay_minutes: 10
          targets: [{{type: user, name: carol}}]
  default_escalation_policy: default
"#
    );
    Playbook::parse("bench.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// One step job to measure: its incident and when it is due.
struct Due {
    incident: String,
    run_at: Timestamp,
}

/// Declares `n` triggered incidents and starts paging each, with step 1
/// due at `base + window * i / n`.
async fn setup<S: Store>(
    store: &S,
    playbook: &Arc<Playbook>,
    n: usize,
    base: Timestamp,
    window: SignedDuration,
) -> Vec<Due> {
    let now = SystemClock.now();
    let format = playbook.incident_id_format.clone();
    let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let scope = format.scope_key(date);
    let window_ms = window.as_millis() as i64;
    let mut due = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let mut tx = store.begin().await.expect("begin");
        for _ in 0..SETUP_TX.min(n - i) {
            let decl = Declaration {
                title: format!("bench incident {i}"),
                summary: "paging benchmark".into(),
                severity: "SEV-1".into(),
                ..Default::default()
            }
            .validate(playbook, now)
            .expect("valid declaration");
            let format = format.clone();
            let (incident, _) = tx
                .declare_incident(&scope, |seq| {
                    let id = format.render(date, u64::try_from(seq).unwrap_or_default());
                    Incident::open(playbook, decl, id, seq, "bench", now)
                })
                .await
                .expect("declare");
            let offset = window_ms * i as i64 / n as i64;
            let run_at = base + SignedDuration::from_millis(offset);
            let events = paging::start(&mut tx, playbook, &incident, None, run_at)
                .await
                .expect("start paging");
            assert!(!events.is_empty(), "the default policy applies");
            tx.save_incident(&incident, events)
                .await
                .expect("save incident");
            due.push(Due {
                incident: incident.id,
                run_at,
            });
            i += 1;
        }
        tx.commit().await.expect("commit");
    }
    due
}

struct Round {
    /// The `now` the round ran with (its events' `at`).
    now: Timestamp,
    /// When `run_once` returned: everything it ran was committed by then.
    returned: Timestamp,
    ran: usize,
}

/// The paging worker's loop (`worker::run`), recording each round, until `n` jobs ran or
/// `give_up` passes.
async fn run<S: Store>(
    paging: &Paging<S>,
    clock: &ShiftedClock,
    n: usize,
    give_up: Timestamp,
) -> (Vec<Round>, usize) {
    let mut rounds = Vec::new();
    let mut failed_rounds = 0;
    let mut ran_total = 0;
    while ran_total < n && clock.now() < give_up {
        let now = clock.now();
        let ran = match paging.run_once(now).await {
            Ok(ran) => ran,
            Err(e) => {
                eprintln!("paging round failed: {e}");
                failed_rounds += 1;
                0
            }
        };
        if ran > 0 {
            rounds.push(Round {
                now,
                returned: clock.now(),
                ran,
            });
            ran_total += ran;
            continue;
        }
        // Nothing was due: sleep until the next job is, as the task does.
        let wait = match paging.store().next_job_at().await {
            Ok(Some(due)) => due.duration_since(clock.now()),
            Ok(None) => SignedDuration::from_secs(10),
            Err(_) => SignedDuration::from_secs(1),
        };
        let wait = wait.clamp(SignedDuration::ZERO, SignedDuration::from_secs(10));
        tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    }
    (rounds, failed_rounds)
}

/// Each job's round `now` from its incident's timeline.
async fn step_times<S: Store>(store: &S, due: &[Due]) -> Vec<Option<Timestamp>> {
    let ids: Arc<Vec<String>> = Arc::new(due.iter().map(|d| d.incident.clone()).collect());
    let workers = 4;
    let chunk = ids.len().div_ceil(workers);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        let ids = Arc::clone(&ids);
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for id in ids.iter().skip(w * chunk).take(chunk) {
                let timeline = store.timeline(id, 0, 100).await.expect("timeline");
                out.push(timeline.iter().find_map(|e| match &e.kind {
                    EventKind::EscalationStep { step: 1, .. } => Some(e.at),
                    _ => None,
                }));
            }
            out
        }));
    }
    let mut all = Vec::with_capacity(ids.len());
    for t in tasks {
        all.extend(t.await.expect("reader task"));
    }
    all
}

fn percentile(sorted: &[SignedDuration], p: f64) -> SignedDuration {
    if sorted.is_empty() {
        return SignedDuration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: SignedDuration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn bench<S: Store>(backend: &str, store: S, args: &Args) -> bool {
    let n = args.incidents;
    let window = SignedDuration::from_mins(args.window_minutes);
    let playbook = Arc::new(playbook());
    let system: Arc<dyn Clock> = Arc::new(SystemClock);
    Oncall::new(store.clone(), Arc::clone(&playbook), Arc::clone(&system))
        .sync_playbook()
        .await
        .expect("sync playbook");

    // Steps are due from `base` on in the paging clock's time; the shift is
    // fixed once setup is over.
    let base = SystemClock.now() + SignedDuration::from_hours(24);
    let started = Instant::now();
    let due = setup(&store, &playbook, n, base, window).await;
    let setup_time = started.elapsed();
    eprintln!(
        "{backend}: set up {n} incidents in {:.1} s",
        setup_time.as_secs_f64()
    );

    let shift = (base - LEAD).duration_since(SystemClock.now());
    let clock = Arc::new(ShiftedClock(shift));
    let shared: Arc<dyn Clock> = Arc::new(ShiftedClock(shift));
    let secret = store
        .server_secret("bench-ack-links", "0123456789abcdef0123456789abcdef")
        .await
        .expect("secret");
    let paging = Paging::new(
        store.clone(),
        Arc::clone(&playbook),
        shared,
        AckLinks::new(secret.into_bytes()),
        "http://127.0.0.1:9",
        Arc::new(Notify::new()),
    );
    // Give up well after the window: a run that slow has failed anyway, and
    // step 2 (due 5 minutes after step 1) must not mix in.
    let give_up = base + window + SignedDuration::from_mins(4);
    let (rounds, failed_rounds) = run(&paging, &clock, n, give_up).await;

    let returned: HashMap<Timestamp, Timestamp> = {
        let mut map = HashMap::new();
        for r in &rounds {
            let e = map.entry(r.now).or_insert(r.returned);
            *e = (*e).max(r.returned);
        }
        map
    };
    let times = step_times(&store, &due).await;
    let mut lateness = Vec::with_capacity(n);
    let mut pickup = Vec::with_capacity(n);
    let mut missing = 0;
    for (d, at) in due.iter().zip(&times) {
        match at.and_then(|at| returned.get(&at).map(|r| (at, *r))) {
            Some((at, done)) => {
                lateness.push(done.duration_since(d.run_at));
                pickup.push(at.duration_since(d.run_at));
            }
            None => missing += 1,
        }
    }
    lateness.sort();
    pickup.sort();
    let within = lateness.iter().filter(|l| **l <= TARGET).count();
    let first_due = due.first().map(|d| d.run_at).unwrap_or(base);
    let last_done = rounds.last().map(|r| r.returned).unwrap_or(first_due);
    let busy: SignedDuration = rounds
        .iter()
        .map(|r| r.returned.duration_since(r.now))
        .sum();
    let ran: usize = rounds.iter().map(|r| r.ran).sum();
    let span = last_done.duration_since(first_due).as_secs_f64();
    let met = missing == 0 && within == n;

    println!("## {backend}");
    println!();
    println!("- incidents (step-1 jobs): {n}, due uniformly over {window:#}, setup {:.1} s (not measured)", setup_time.as_secs_f64());
    println!(
        "- ran: {ran} jobs in {} rounds ({:.1} jobs/round); failed rounds: {failed_rounds}; steps not found: {missing}",
        rounds.len(),
        ran as f64 / rounds.len().max(1) as f64
    );
    println!(
        "- throughput: {:.0} steps/s offered (N / window), {:.0} steps/s from first due to last commit, capacity {:.0} steps/s (jobs / time inside run_once)",
        n as f64 / window.as_secs_f64(),
        ran as f64 / span.max(0.001),
        ran as f64 / busy.as_secs_f64().max(0.001)
    );
    println!(
        "- lateness (round returned - run_at): p50 {}, p99 {}, p99.9 {}, max {}",
        ms(percentile(&lateness, 50.0)),
        ms(percentile(&lateness, 99.0)),
        ms(percentile(&lateness, 99.9)),
        ms(lateness.last().copied().unwrap_or_default())
    );
    println!(
        "- pickup (round now - run_at): p50 {}, p99 {}, max {}",
        ms(percentile(&pickup, 50.0)),
        ms(percentile(&pickup, 99.0)),
        ms(pickup.last().copied().unwrap_or_default())
    );
    println!(
        "- within {TARGET:#}: {within} of {n} ({:.3}%): **{}**",
        100.0 * within as f64 / n as f64,
        if met { "target met" } else { "target missed" }
    );
    println!();
    met
}

fn main() {
    // `cargo test --all-targets` (CI) runs bench targets without `--bench`:
    // the measurement takes minutes and means nothing in a debug build, so
    // it only runs under `cargo bench` (scripts/bench paging).
    if !std::env::args().any(|a| a == "--bench") {
        println!("paging bench: run it with `scripts/bench paging` (cargo bench); skipped under cargo test");
        return;
    }
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        println!(
            "# Paging lateness: {} incidents, steps due over {} min, target: every step within {TARGET:#}",
            args.incidents, args.window_minutes
        );
        println!();
        let mut all_met = true;
        for backend in &args.backends {
            match *backend {
                "sqlite" => {
                    let db = warroom_store::testing::sqlite().await;
                    eprintln!("sqlite: {}", db.url);
                    all_met &= bench("sqlite", db.store.clone(), &args).await;
                }
                _ => {
                    let Some(url) = warroom_store::testing::pg_database().await else {
                        println!("## postgres\n\nskipped: PostgreSQL unreachable\n");
                        continue;
                    };
                    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
                    // scripts/bench drops this database afterwards.
                    eprintln!("postgres database: {name}");
                    let store = PgStore::connect(&url).await.expect("connect");
                    store.migrate().await.expect("migrate");
                    all_met &= bench("postgres", store.clone(), &args).await;
                    store.close().await;
                }
            }
        }
        println!(
            "every step within {TARGET:#} on every backend run: {}",
            if all_met { "yes" } else { "no" }
        );
    });
}
