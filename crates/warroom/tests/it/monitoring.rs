//! Real monitoring in front of Warroom: Debian's Prometheus scrapes a target
//! that is down, fires a rule, and Debian's Alertmanager delivers it to
//! Warroom through both `webhook_configs` and `pagerduty_configs`. An incident
//! opens; when the target comes back, its alerts resolve.
//!
//! Waiting here is polling external processes for a condition, with a
//! deadline; no test logic depends on a sleep.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::server::{http, Server};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// Kills the child process when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(program: &str, args: &[String], dir: &Path, log: &str) -> Process {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    Process(
        Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}")),
    )
}

/// A `/metrics` endpoint Prometheus can scrape, served until dropped.
struct Target {
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Target {
    async fn start(port: u16) -> Target {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(|| async { "# TYPE demo_up gauge\ndemo_up 1\n" }),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Target { shutdown: Some(tx) }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_and_alertmanager_open_and_resolve_an_incident() {
    if !Path::new(PROMETHEUS).exists() || !Path::new(ALERTMANAGER).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Prometheus/Alertmanager are not installed (scripts/test installs them)"
        );
        eprintln!("skipping: install prometheus and prometheus-alertmanager to run this test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("warroom.db").display());
    let server = Server::start(&url, dir.path());
    let token = server.first_token.clone().unwrap();
    let client = http();

    let created: Value = client
        .post(format!("{}/api/v1/integrations", server.url))
        .bearer_auth(&token)
        .json(&json!({"service": "api", "name": "alertmanager", "kind": "alertmanager"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["key"]
        .as_str()
        .expect("an integration key")
        .to_owned();

    let (target_port, am_port, am_cluster_port, prom_port) =
        (free_port(), free_port(), free_port(), free_port());
    std::fs::write(
        dir.path().join("rules.yml"),
        format!(
            "groups:\n- name: demo\n  rules:\n  - alert: TargetDown\n    expr: up{{job=\"demo\"}} == 0\n    for: 0s\n    labels:\n      severity: critical\n    annotations:\n      summary: demo target on port {target_port} is down\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['127.0.0.1:{am_port}']\nscrape_configs:\n- job_name: demo\n  scrape_timeout: 500ms\n  static_configs:\n  - targets: ['127.0.0.1:{target_port}']\n"
        ),
    )
    .unwrap();
    let warroom = server.url.clone();
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        format!(
            "route:\n  receiver: warroom\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: warroom\n  webhook_configs:\n  - url: {warroom}/integrations/alertmanager/{key}\n    send_resolved: true\n  pagerduty_configs:\n  - routing_key: {key}\n    url: {warroom}/v2/enqueue\n    send_resolved: true\n"
        ),
    )
    .unwrap();
    let _alertmanager = start(
        ALERTMANAGER,
        &[
            "--config.file=alertmanager.yml".into(),
            "--storage.path=am-data".into(),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            format!("--cluster.listen-address=127.0.0.1:{am_cluster_port}"),
            "--cluster.peer-timeout=1s".into(),
        ],
        dir.path(),
        "alertmanager.log",
    );
    let _prometheus = start(
        PROMETHEUS,
        &[
            "--config.file=prometheus.yml".into(),
            "--storage.tsdb.path=prom-data".into(),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        dir.path(),
        "prometheus.log",
    );

    let alerts = |status: &'static str| {
        let client = client.clone();
        let url = format!("{}/api/v1/alerts?status={status}", server.url);
        let token = token.clone();
        async move {
            let v: Value = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            Some(v.as_array()?.clone())
        }
    };
    // The target is down: both receivers deliver, into one incident.
    let firing = eventually(
        Duration::from_secs(90),
        "alerts from both receivers",
        || async {
            let list = alerts("firing").await?;
            let origins: Vec<&str> = list.iter().filter_map(|a| a["origin"].as_str()).collect();
            (origins.contains(&"alertmanager") && origins.contains(&"pagerduty")).then_some(list)
        },
    )
    .await;
    let incident_ids: Vec<&str> = firing
        .iter()
        .filter_map(|a| a["incident_id"].as_str())
        .collect();
    assert_eq!(
        incident_ids.len(),
        firing.len(),
        "every firing alert has an incident"
    );
    assert!(
        incident_ids.windows(2).all(|w| w[0] == w[1]),
        "one incident: {incident_ids:?}"
    );
    let incident_id = incident_ids[0].to_owned();
    let webhook_alert = firing
        .iter()
        .find(|a| a["origin"] == "alertmanager")
        .unwrap();
    assert_eq!(webhook_alert["labels"]["alertname"], "TargetDown");
    assert_eq!(webhook_alert["severity"], "SEV-1");
    assert!(webhook_alert["summary"]
        .as_str()
        .unwrap()
        .contains("is down"));

    // The target comes back: Prometheus resolves, Alertmanager tells Warroom.
    let _target = Target::start(target_port).await;
    eventually(Duration::from_secs(90), "the alerts to resolve", || async {
        let firing = alerts("firing").await?;
        let resolved = alerts("resolved").await?;
        (firing.is_empty() && resolved.len() >= 2).then_some(())
    })
    .await;
    let incident: Value = client
        .get(format!("{}/api/v1/incidents/{incident_id}", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(incident["status"], "resolved", "{incident}");
}
