//! An alert's runbook (the `runbook_url` annotation), its
//! generator URL and its service's playbook links are on the Alerts page and
//! in the incident's workspace, as links a phone can open.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use warroom_domain::Playbook;
use warroom_store::on_both_backends;

use super::{people, sign_in};
use crate::helpers::Api;

on_both_backends!(setup = crate::ui::links::links_api; alert_links_are_on_the_alert_and_in_the_workspace);

pub(crate) async fn links_api<S: warroom_store::Store>(store: S) -> Api {
    let playbook = Playbook::parse(
        "links.yaml",
        "services:\n  - id: api\n    name: API\n    links:\n      runbook: https://wiki.example.com/runbooks/api\n      dashboard: https://grafana.example.com/d/api\n",
    )
    .unwrap();
    Api::with_playbook(store, playbook).await
}

async fn alert_links_are_on_the_alert_and_in_the_workspace(api: Api) {
    people(&api).await;
    let key = api.integration("alertmanager").await;
    let body = serde_json::json!({
        "version": "4", "status": "firing", "receiver": "warroom",
        "groupKey": "{}:{alertname=\"DiskFull\"}",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "db-1"},
            "annotations": {
                "summary": "Disk full on db-1",
                "runbook_url": "https://runbooks.example.com/disk-full"
            },
            "startsAt": "2026-11-25T13:59:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=disk"
        }, {
            "status": "firing",
            "labels": {"alertname": "Sneaky", "instance": "db-2"},
            "annotations": {"summary": "Sneaky", "runbook_url": "javascript:alert(1)"},
            "startsAt": "2026-11-25T13:59:00Z"
        }]
    });
    let r = api
        .raw(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/integrations/alertmanager/{key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let incident = r.body["alerts"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ada = sign_in(&api, "ada@example.com").await;
    for path in ["/alerts".to_owned(), format!("/incidents/{incident}")] {
        let page = ada.get(&api, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        // minijinja escapes `/` in attributes; browsers read it back.
        let html = &page.body.replace("&#x2f;", "/").replace("&amp;", "&");
        for (href, text) in [
            ("https://runbooks.example.com/disk-full", "Runbook"),
            (
                "http://prometheus.example.com:9090/graph?g0.expr=disk",
                "Prometheus graph",
            ),
            ("https://wiki.example.com/runbooks/api", "runbook"),
            ("https://grafana.example.com/d/api", "dashboard"),
        ] {
            let link = format!(
                "<a href=\"{href}\" rel=\"noopener noreferrer\" target=\"_blank\">{text}</a>"
            );
            assert!(html.contains(&link), "{path}: no {link}\n{html}");
        }
        // In the DiskFull alert's links, its runbook comes before the service's.
        let runbook = html.find("https://runbooks.example.com/disk-full").unwrap();
        let span_start = html[..runbook].rfind("alert-links").unwrap();
        let span = &html[span_start..span_start + html[span_start..].find("</span>").unwrap()];
        let service = span.find("https://wiki.example.com/runbooks/api").unwrap();
        assert!(
            span.find("https://runbooks.example.com").unwrap() < service,
            "{span}"
        );
        assert!(!html.contains("javascript:alert"), "{path}");
    }
}
