//! The request log at its most verbose never shows the credentials some
//! paths carry: integration keys, acknowledge-link and calendar feed tokens.

use std::io;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jiff::SignedDuration;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use warroom_engine::paging::AckClaim;

use crate::helpers::{oncall_playbook, Api, NowForTests};

/// Log output, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

async fn post(api: &Api, uri: &str, body: &str) -> StatusCode {
    let request = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    api.raw(request).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_paths_never_reach_the_log() {
    let db = warroom_store::testing::sqlite().await;
    let api = Api::with_playbook(db.store.clone(), oncall_playbook()).await;
    let alertmanager = api.integration("alertmanager").await;
    let prometheus = api.integration("alertmanager").await;
    let incident = api.declare("Disk full", "SEV-2").await;
    let ack = api.links.sign(&AckClaim {
        incident_id: incident,
        user: "alice".into(),
        expires_at: api.clock.now_for_tests() + SignedDuration::from_hours(1),
    });
    let r = api
        .send(
            Method::POST,
            "/api/v1/oncall/feeds",
            Some(&api.admin),
            Some(&json!({"kind": "schedule", "name": "primary"}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let feed_path = r.body["url"]
        .as_str()
        .unwrap()
        .strip_prefix("http://localhost")
        .unwrap()
        .to_owned();
    let feed = feed_path
        .strip_prefix("/ical/")
        .unwrap()
        .strip_suffix(".ics")
        .unwrap()
        .to_owned();
    let query_secret = "q5ecret-in-a-query";

    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    {
        // This thread's requests only: the router runs on the test's task.
        let _logging = tracing::subscriber::set_default(subscriber);
        let webhook = json!({"version": "4", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "DiskFull"}, "annotations": {}}
        ]})
        .to_string();
        let status = post(
            &api,
            &format!("/integrations/alertmanager/{alertmanager}"),
            &webhook,
        )
        .await;
        assert!(status.is_success(), "{status}");
        let status = post(
            &api,
            &format!("/integrations/prometheus/{prometheus}/api/v2/alerts"),
            r#"[{"labels": {"alertname": "DiskFull"}}]"#,
        )
        .await;
        assert!(status.is_success(), "{status}");
        assert_eq!(
            api.page(Method::GET, &format!("/ack/{ack}")).await.status,
            StatusCode::OK
        );
        let page = api.page(Method::POST, &format!("/ack/{ack}")).await;
        assert!(page.status.is_success(), "{}", page.status);
        assert_eq!(
            api.page(Method::GET, &feed_path).await.status,
            StatusCode::OK
        );
        // Unknown secrets are kept out as well as live ones.
        let page = api.page(Method::GET, "/ack/not-a-live-token-zz9").await;
        assert!(page.status.is_client_error());
        let r = api
            .get(&format!(
                "/api/v1/alerts?token={query_secret}&status=firing"
            ))
            .await;
        assert!(
            r.status.is_client_error() || r.status.is_success(),
            "{}",
            r.status
        );
    }

    let text = logs.text();
    for secret in [
        alertmanager.as_str(),
        prometheus.as_str(),
        ack.as_str(),
        feed.as_str(),
        "not-a-live-token-zz9",
        query_secret,
    ] {
        assert!(!text.contains(secret), "{secret} is in the log:\n{text}");
    }
    for shown in [
        "uri=/integrations/alertmanager/***",
        "uri=/integrations/prometheus/***/api/v2/alerts",
        "uri=/ack/***",
        "uri=/ical/***",
        "uri=/api/v1/alerts?token=***&status=firing",
    ] {
        assert!(text.contains(shown), "no {shown} in the log:\n{text}");
    }
}
