//! Tests of the integration setup snippets and the alert, integration and
//! silence views against fixtures.

use super::*;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn server(url: &str) -> Url {
    Url::parse(url).unwrap()
}

fn setup(url: &str, kind: &str) -> String {
    integration_setup(&server(url), kind, "prometheus-prod", KEY)
}

#[test]
fn alertmanager_gets_a_webhook_and_a_pagerduty_receiver() {
    assert_eq!(
        setup("http://127.0.0.1:8080", "alertmanager"),
        "\
Alertmanager (alertmanager.yml): add a receiver and name it in a route.

receivers:
  - name: warroom-prometheus-prod
    webhook_configs:
      - url: http://127.0.0.1:8080/integrations/alertmanager/0123456789abcdef0123456789abcdef
        send_resolved: true

Or, through Alertmanager's PagerDuty integration:

receivers:
  - name: warroom-prometheus-prod
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
        url: http://127.0.0.1:8080/v2/enqueue
"
    );
}

#[test]
fn prometheus_gets_an_alertmanagers_entry() {
    assert_eq!(
        setup("http://127.0.0.1:8080", "prometheus"),
        "\
Prometheus (prometheus.yml): send alerts straight to Warroom, which takes
Alertmanager's place. Prometheus posts them to
  http://127.0.0.1:8080/integrations/prometheus/0123456789abcdef0123456789abcdef/api/v2/alerts

alerting:
  alertmanagers:
    - scheme: http
      path_prefix: /integrations/prometheus/0123456789abcdef0123456789abcdef/
      static_configs:
        - targets: ['127.0.0.1:8080']
"
    );
}

#[test]
fn a_server_under_a_path_keeps_its_prefix_and_default_port() {
    let text = setup("https://ops.example.com/warroom/?x=1#y", "prometheus");
    assert!(text.contains("    - scheme: https\n"), "{text}");
    assert!(
        text.contains(&format!(
            "path_prefix: /warroom/integrations/prometheus/{KEY}/\n"
        )),
        "{text}"
    );
    assert!(text.contains("targets: ['ops.example.com:443']"), "{text}");
    let text = setup("https://ops.example.com/warroom", "alertmanager");
    assert!(text.contains("url: https://ops.example.com/warroom/v2/enqueue\n"));
    let text = setup("http://[::1]:9000", "prometheus");
    assert!(text.contains("targets: ['[::1]:9000']"), "{text}");
}

#[test]
fn pagerduty_gets_a_curl_trigger() {
    assert_eq!(
        setup("http://127.0.0.1:8080", "pagerduty"),
        r#"PagerDuty Events API v2 senders: use this events URL and routing key.

  Events URL:  http://127.0.0.1:8080/v2/enqueue
  Routing key: 0123456789abcdef0123456789abcdef

Try it (send "event_action": "resolve" with the same dedup_key to resolve):

curl -sS -X POST 'http://127.0.0.1:8080/v2/enqueue' \
  -H 'Content-Type: application/json' \
  -d '{
  "routing_key": "0123456789abcdef0123456789abcdef",
  "event_action": "trigger",
  "dedup_key": "warroom-test",
  "payload": {"summary": "Test event from warroom", "source": "warroom-cli", "severity": "warning"}
}'
"#
    );
}

#[test]
fn other_kinds_get_their_url_and_a_curl_example() {
    assert_eq!(
        setup("http://127.0.0.1:8080", "grafana"),
        "\
Grafana: Alerting > Contact points > Add contact point, integration
Webhook, with this URL.

  URL: http://127.0.0.1:8080/integrations/grafana/0123456789abcdef0123456789abcdef

Try it with a body in Grafana's webhook format in alert.json:

curl -sS -X POST 'http://127.0.0.1:8080/integrations/grafana/0123456789abcdef0123456789abcdef' \\
  -H 'Content-Type: application/json' \\
  --data @alert.json
"
    );
    for kind in ["sentry", "uptimerobot", "generic", "nagios"] {
        let text = setup("http://127.0.0.1:8080", kind);
        let url = format!("'http://127.0.0.1:8080/integrations/{kind}/{KEY}'");
        assert!(
            text.contains(&format!("curl -sS -X POST {url} \\\n")),
            "{text}"
        );
    }
    assert_eq!(shell_quote("http://h/it's"), r"'http://h/it'\''s'");
}

#[test]
fn a_new_key_is_shown_before_the_setup() {
    let issued: IssuedIntegration = serde_json::from_str(&format!(
        r#"{{"id": "int_00aa", "service": "api", "name": "pd", "kind": "pagerduty",
            "key_hint": "012345", "config": {{}}, "created_at": "2026-11-25T14:03:00Z",
            "revoked_at": null, "key": "{KEY}", "endpoints": ["/v2/enqueue"]}}"#
    ))
    .unwrap();
    let text = issued_integration(&issued, &server("http://127.0.0.1:8080"));
    assert!(
        text.starts_with(&format!(
            "Created integration int_00aa: pd (pagerduty) for service api\n\n\
             Integration key (shown only this once; store it now):\n\n    {KEY}\n\n\
             PagerDuty Events API v2 senders:"
        )),
        "{text}"
    );
}

fn integration(id: &str, name: &str, revoked: Option<&str>) -> Integration {
    let revoked = revoked.map_or("null".to_owned(), |t| format!("{t:?}"));
    serde_json::from_str(&format!(
        r#"{{"id": "{id}", "service": "api", "name": "{name}", "kind": "alertmanager",
            "key_hint": "a1b2c3", "config": {{}}, "created_at": "2026-11-25T14:03:00Z",
            "revoked_at": {revoked}}}"#
    ))
    .unwrap()
}

#[test]
fn integration_table_shows_key_hints() {
    let rows = [
        integration("int_01", "prometheus-prod", None),
        integration("int_02", "old", Some("2026-11-26T09:30:00Z")),
    ];
    assert_eq!(
        integration_table(&rows, 100),
        "\
ID      SERVICE  NAME             KIND          KEY      CREATED           REVOKED
int_01  api      prometheus-prod  alertmanager  a1b2c3…  2026-11-25 14:03  -
int_02  api      old              alertmanager  a1b2c3…  2026-11-25 14:03  2026-11-26 09:30
"
    );
}

const ALERT: &str = r#"{
  "id": 42, "service": "api", "dedup_key": "9f3c", "status": "firing",
  "summary": "Disk 95% full on db-1", "severity": "SEV-2", "source_severity": "critical",
  "source": "db-1", "origin": "alertmanager",
  "labels": {"alertname": "DiskFull", "path": "C:\\data \"main\""},
  "details": {"description": "Only 5% left.\nGrowing 1%/h.", "value": 95.2},
  "links": [{"href": "https://runbooks/disk", "text": "Runbook"}, {"href": "https://graph"}],
  "generator_url": "http://prometheus:9090/graph", "incident_id": "INC-2026-0001",
  "suppressed_by": null, "event_count": 3,
  "starts_at": "2026-11-25T14:00:00Z", "ends_at": null,
  "first_seen_at": "2026-11-25T14:00:05Z", "last_seen_at": "2026-11-25T14:20:05Z",
  "acknowledged_at": null, "resolved_at": null, "some_future_field": 1
}"#;

fn alert() -> Alert {
    serde_json::from_str(ALERT).unwrap()
}

#[test]
fn alert_table_marks_suppressed_alerts_and_cuts_summaries() {
    let mut muted = alert();
    (muted.id, muted.incident_id, muted.event_count) = (7, None, 12);
    muted.suppressed_by = Some("silence:sil_0123456789abcdef".to_owned());
    muted.summary = "A very long summary that does not fit on the line at all".to_owned();
    assert_eq!(
        alert_table(&[alert(), muted], 100),
        "\
ID  SERVICE  SEV    STATUS                                     COUNT  INCIDENT       LAST SEEN         SUMMARY
42  api      SEV-2  firing                                     3      INC-2026-0001  2026-11-25 14:20  Disk 95% full o…
7   api      SEV-2  suppressed (silence:sil_0123456789abcdef)  12     -              2026-11-25 14:20  A very long sum…
"
    );
}

#[test]
fn alert_details_list_every_field_and_one_label_a_line() {
    assert_eq!(
        alert_details(&alert()),
        r#"Alert 42  Disk 95% full on db-1
  Service:      api
  Status:       firing
  Severity:     SEV-2 (source: critical)
  Incident:     INC-2026-0001
  Dedup key:    9f3c
  Source:       db-1
  Origin:       alertmanager
  Events:       3
  Starts:       2026-11-25 14:00 UTC
  First seen:   2026-11-25 14:00 UTC
  Last seen:    2026-11-25 14:20 UTC
  Generator:    http://prometheus:9090/graph

Labels:
  alertname="DiskFull"
  path="C:\\data \"main\""

Details:
  description: Only 5% left.
    Growing 1%/h.
  value: 95.2

Links:
  Runbook: https://runbooks/disk
  https://graph
"#
    );
}

fn silence(state: &str, comment: &str) -> Silence {
    serde_json::from_str(&format!(
        r#"{{"id": "sil_0123456789abcdef", "matchers": "alertname=\"DiskFull\"",
            "state": "{state}", "starts_at": "2026-11-25T14:00:00Z",
            "ends_at": "2026-11-25T16:30:00Z", "created_by": "alice", "comment": "{comment}"}}"#
    ))
    .unwrap()
}

#[test]
fn silence_views_show_the_window() {
    assert_eq!(
        created_silence(&silence("active", "Disk migration")),
        "\
Created silence sil_0123456789abcdef (active): alertname=\"DiskFull\"
  From:  2026-11-25 14:00 UTC
  Until: 2026-11-25 16:30 UTC (2h 30m)"
    );
    assert_eq!(
        silence_table(&[silence("expired", "Disk migration\\u001b[31m")], 80),
        "\
ID                    STATE    STARTS            ENDS              BY     MATCHERS              COMMENT
sil_0123456789abcdef  expired  2026-11-25 14:00  2026-11-25 16:30  alice  alertname=\"DiskFull\"  Disk migration …
"
    );
}
