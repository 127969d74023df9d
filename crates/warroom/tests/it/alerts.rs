//! The alert path end to end: `kill -9` during a load of PagerDuty events
//! loses none that were answered 2xx; malformed payloads get 4xx, never 5xx.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::server::{http, Server};

async fn integration(server: &Server, token: &str, kind: &str) -> String {
    let created: Value = http()
        .post(format!("{}/api/v1/integrations", server.url))
        .bearer_auth(token)
        .json(&json!({"service": "api", "name": format!("{kind}-test"), "kind": kind}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["key"].as_str().unwrap().to_owned()
}

pub(crate) async fn all_alert_keys(server: &Server, token: &str) -> Vec<String> {
    let client = http();
    let mut keys = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut url = format!("{}/api/v1/alerts?status=all&limit=500", server.url);
        if let Some(b) = before {
            url.push_str(&format!("&before={b}"));
        }
        let page: Vec<Value> = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            return keys;
        }
        before = page.last().and_then(|a| a["id"].as_i64());
        keys.extend(
            page.iter()
                .map(|a| a["dedup_key"].as_str().unwrap().to_owned()),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_alert_load_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("warroom.db").display());
    let server = Server::start(&url, dir.path());
    let token = server.first_token.clone().unwrap();
    let key = integration(&server, &token, "pagerduty").await;

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let client = http();
    let senders: Vec<_> = (0..16)
        .map(|worker| {
            let client = client.clone();
            let url = format!("{}/v2/enqueue", server.url);
            let key = key.clone();
            let acknowledged = Arc::clone(&acknowledged);
            tokio::spawn(async move {
                for n in 0.. {
                    let dedup = format!("w{worker}-n{n}");
                    let event = json!({
                        "routing_key": key,
                        "event_action": "trigger",
                        "dedup_key": dedup,
                        "payload": {"summary": format!("load {dedup}"), "source": "load", "severity": "warning"}
                    });
                    match client.post(&url).json(&event).send().await {
                        Ok(r) if r.status() == 202 => acknowledged.lock().unwrap().push(dedup),
                        // The server is gone: stop.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    // Let the load run until a few hundred events are acknowledged, then kill -9 mid-flight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if acknowledged.lock().unwrap().len() >= 2000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the load never reached 2000 acknowledged events"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill9();
    for s in senders {
        let _ = s.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let server = Server::start(&url, dir.path());
    let stored = all_alert_keys(&server, &token).await;
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|k| !stored.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged alerts lost: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_payloads_get_4xx_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("warroom.db").display());
    let server = Server::start(&url, dir.path());
    let token = server.first_token.clone().unwrap();
    let pd = integration(&server, &token, "pagerduty").await;
    let am = integration(&server, &token, "alertmanager").await;
    let client = http();
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let huge = format!(
        r#"{{"routing_key":"{pd}","event_action":"trigger","payload":{{"summary":"{}","source":"s","severity":"info"}}}}"#,
        "x".repeat(2000)
    );
    let cases: Vec<(String, Vec<u8>)> = vec![
        ("/v2/enqueue".into(), b"not json".to_vec()),
        ("/v2/enqueue".into(), vec![0xff, 0xfe, b'{']),
        ("/v2/enqueue".into(), deep.clone().into_bytes()),
        ("/v2/enqueue".into(), huge.into_bytes()),
        ("/v2/enqueue".into(), format!(r#"{{"routing_key":"{pd}","event_action":"explode"}}"#).into_bytes()),
        ("/v2/enqueue".into(), format!(r#"{{"routing_key":"{pd}","event_action":"trigger"}}"#).into_bytes()),
        ("/v2/enqueue".into(), format!(r#"{{"routing_key":"{pd}","event_action":"trigger","payload":{{"summary":5,"source":"s","severity":"info"}}}}"#).into_bytes()),
        ("/v2/enqueue".into(), r#"{"routing_key":"nope","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info"}}"#.as_bytes().to_vec()),
        (format!("/integrations/alertmanager/{am}"), b"{}".to_vec()),
        (format!("/integrations/alertmanager/{am}"), br#"{"version":"4","alerts":[{"status":"firing","labels":7}]}"#.to_vec()),
        (format!("/integrations/alertmanager/{am}"), deep.into_bytes()),
        (format!("/integrations/prometheus/{am}/api/v2/alerts"), br#"[{"labels":{}}]"#.to_vec()),
        (format!("/integrations/prometheus/{am}/api/v2/alerts"), br#"{"labels":{"a":"b"}}"#.to_vec()),
        ("/integrations/alertmanager/wrongkey".into(), b"{}".to_vec()),
    ];
    let post_json = |path: &str, body: Vec<u8>| {
        client
            .post(format!("{}{path}", server.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (path, body) in cases {
        let r = post_json(&path, body.clone()).await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        assert!(status.is_client_error(), "{path} {shown}: {status} {text}");
        assert!(!text.is_empty(), "{path} {shown}: an explanation");
    }
    // Over the 512 KiB limit: 413 with the limit named, as JSON (in
    // PagerDuty's shape on its endpoint), not axum's plain-text rejection.
    let oversize = format!(
        r#"{{"routing_key":"{pd}","event_action":"trigger","payload":{{"summary":"s","source":"s","severity":"info","custom_details":{{"x":"{}"}}}}}}"#,
        "x".repeat(600 * 1024)
    );
    for (path, shape) in [
        ("/v2/enqueue".to_owned(), "errors"),
        (
            format!("/integrations/prometheus/{am}/api/v2/alerts"),
            "error",
        ),
        (format!("/integrations/alertmanager/{am}"), "error"),
    ] {
        let r = post_json(&path, oversize.clone().into_bytes())
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body.get(shape).is_some(), "{path}: {body}");
        assert!(body.to_string().contains("512 KiB"), "{path}: {body}");
    }
    // Nothing malformed was stored.
    assert!(all_alert_keys(&server, &token).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_10000_alerts_opens_one_incident_and_keeps_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("warroom.db").display());
    let server = Server::start(&url, dir.path());
    let token = server.first_token.clone().unwrap();
    let key = integration(&server, &token, "prometheus").await;
    let client = http();
    let started = std::time::Instant::now();
    let requests = (0..100).map(|r| {
        let client = client.clone();
        let url = format!("{}/integrations/prometheus/{key}/api/v2/alerts", server.url);
        async move {
            let body: Vec<Value> = (0..100)
                .map(|i| {
                    json!({
                        "labels": {"alertname": "InstanceDown", "instance": format!("node-{r}-{i}"), "severity": "critical"},
                        "annotations": {"summary": format!("node-{r}-{i} is down")},
                    })
                })
                .collect();
            let response = client.post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
    });
    futures::future::join_all(requests).await;
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 60, "10,000 alerts took {elapsed:?}");
    assert_eq!(all_alert_keys(&server, &token).await.len(), 10_000);
    let incidents: Value = client
        .get(format!("{}/api/v1/incidents?limit=100", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let count = incidents["incidents"].as_array().unwrap().len();
    assert!((1..=3).contains(&count), "{count} incidents for one storm");
}
