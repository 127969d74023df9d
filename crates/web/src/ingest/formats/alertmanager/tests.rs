//! Alertmanager webhook and API v2 fixtures, fingerprints and malformed bodies.

use super::*;

fn now() -> Timestamp {
    "2023-02-06T14:00:00Z".parse().unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn fingerprint_matches_prometheus_common_vectors() {
    // prometheus/common model/signature_test.go
    assert_eq!(
        u64::from_str_radix(&fingerprint(&BTreeMap::new()), 16).unwrap(),
        14_695_981_039_346_656_037
    );
    let briggs = labels(&[("name", "garland, briggs"), ("fear", "love is not enough")]);
    assert_eq!(
        u64::from_str_radix(&fingerprint(&briggs), 16).unwrap(),
        5_799_056_148_416_392_346
    );
    let single = labels(&[("first-label", "first-label-value")]);
    assert_eq!(
        u64::from_str_radix(&fingerprint(&single), 16).unwrap(),
        5_146_282_821_936_882_169
    );
    assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
}

/// A webhook body as Alertmanager sends it (the sample payload of the
/// `alertmanager-webhook-types` crate; its host names were anonymized, so
/// its fingerprint no longer matches its labels).
const WEBHOOK: &str = r#"{
  "receiver": "sms",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "ProbeFailure",
        "instance": "https://server.example.org",
        "job": "http_checks",
        "monitor": "master",
        "severity": "critical"
      },
      "annotations": {
        "description": "Instance https://server.example.org has been down for over 5m. Job: http_checks",
        "summary": "BlackBox Probe Failure: https://server.example.org"
      },
      "startsAt": "2023-02-06T13:08:45.828Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0\u0026g0.tab=1",
      "fingerprint": "1a30ba71cca2921f"
    }
  ],
  "groupLabels": {"alertname": "ProbeFailure"},
  "commonLabels": {"alertname": "ProbeFailure", "severity": "critical"},
  "commonAnnotations": {},
  "externalURL": "http://prometheus.example.org:9093",
  "version": "4",
  "groupKey": "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}",
  "truncatedAlerts": 0
}"#;

#[test]
fn webhook_fixture() {
    let signals = parse_webhook(WEBHOOK.as_bytes(), now()).unwrap();
    assert_eq!(signals.len(), 1);
    let s = &signals[0];
    assert_eq!(s.action, AlertAction::Trigger);
    assert_eq!(s.dedup_key.as_deref(), Some("1a30ba71cca2921f"));
    assert_eq!(
        s.summary,
        "BlackBox Probe Failure: https://server.example.org"
    );
    assert_eq!(s.severity.as_deref(), Some("critical"));
    assert_eq!(s.source, "https://server.example.org");
    assert_eq!(
        s.group_key.as_deref(),
        Some("{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}")
    );
    assert_eq!(
        s.starts_at,
        Some("2023-02-06T13:08:45.828Z".parse().unwrap())
    );
    assert_eq!(s.ends_at, None);
    assert!(s.generator_url.as_deref().unwrap().contains("&g0.tab=1"));
    assert_eq!(
        s.details["description"],
        "Instance https://server.example.org has been down for over 5m. Job: http_checks"
    );
    assert_eq!(s.origin, "alertmanager");
}

/// Labels of an alert in a webhook captured from a real Alertmanager,
/// which gave it the fingerprint `fbab788ec4c1018b`.
const CAPTURED_LABELS: &str = r#"{
    "alertname": "Deployment",
    "app_kubernetes_io_instance": "eric-oss-common-base",
    "app_kubernetes_io_managed_by": "Helm",
    "app_kubernetes_io_name": "eric-pm-kube-state-metrics",
    "app_kubernetes_io_version": "2.1.0_10",
    "chart": "eric-pm-kube-state-metrics-2.1.0_10",
    "deployment": "eric-log-transformer",
    "instance": "192.168.69.53:8080",
    "job": "eric-pm-kube-state-metrics",
    "kubernetes_name": "eric-pm-kube-state-metrics",
    "kubernetes_namespace": "eric-eo-cm-ci406",
    "namespace": "eric-eo-cm-ci406",
    "severity": "Warning"
}"#;

#[test]
fn same_alert_same_key_by_webhook_and_api_v2() {
    let labels: BTreeMap<String, String> = serde_json::from_str(CAPTURED_LABELS).unwrap();
    assert_eq!(fingerprint(&labels), "fbab788ec4c1018b");

    let webhook = format!(
        r#"{{"version": "4", "status": "resolved", "receiver": "web\\.hook",
           "groupKey": "{{}}:{{alertname=\"Deployment\"}}", "alerts": [{{
             "status": "resolved", "labels": {CAPTURED_LABELS},
             "annotations": {{"summary": "Kubernetes Deployment Replicas Mismatch"}},
             "startsAt": "2022-07-29T11:13:27.3Z", "endsAt": "2022-07-29T11:17:27.3Z",
             "generatorURL": "/metrics/viewer/graph?g0.tab=1",
             "fingerprint": "fbab788ec4c1018b"}}]}}"#
    );
    let by_webhook = &parse_webhook(webhook.as_bytes(), now()).unwrap()[0];
    assert_eq!(by_webhook.action, AlertAction::Resolve);
    assert_eq!(by_webhook.severity.as_deref(), Some("Warning"));
    assert_eq!(by_webhook.source, "192.168.69.53:8080");

    // Prometheus also sends labels with empty values, which Alertmanager drops.
    let with_empty = CAPTURED_LABELS.replacen('{', r#"{"pod": "","#, 1);
    let api = format!(
        r#"[{{"labels": {with_empty}, "startsAt": "2022-07-29T11:13:27.3Z",
            "endsAt": "2022-07-29T11:17:27.3Z"}}]"#
    );
    let by_api = &parse_api_v2(api.as_bytes(), now()).unwrap()[0];
    assert_eq!(by_api.action, AlertAction::Resolve);
    assert_eq!(by_api.dedup_key, by_webhook.dedup_key);
}

#[test]
fn webhook_resolved_and_fallbacks() {
    let body = r#"{"version": "4", "groupKey": "", "alerts": [{
        "status": "resolved",
        "labels": {"alertname": "Test", "dc": "eu-west-1", "job": "prometheus24"},
        "annotations": null,
        "startsAt": "2018-08-03T09:52:26.739266876+02:00",
        "endsAt": "2018-08-03T10:02:26.739266876+02:00",
        "generatorURL": ""}]}"#;
    let s = &parse_webhook(body.as_bytes(), now()).unwrap()[0];
    assert_eq!(s.action, AlertAction::Resolve);
    assert_eq!(s.summary, "Test (job=prometheus24)");
    assert_eq!(s.source, "prometheus24");
    assert_eq!(s.severity, None);
    assert_eq!(s.group_key, None);
    assert_eq!(s.generator_url, None);
    assert_eq!(
        s.ends_at,
        Some("2018-08-03T08:02:26.739266876Z".parse().unwrap())
    );
    assert_eq!(
        s.dedup_key.as_deref(),
        Some(fingerprint(&s.labels).as_str())
    );
}

/// What Prometheus posts to `/api/v2/alerts`.
const API_V2: &str = r#"[
  {
    "labels": {"alertname": "ProbeFailure", "instance": "https://server.example.org",
               "job": "http_checks", "monitor": "master", "severity": "critical", "empty": ""},
    "annotations": {"summary": "BlackBox Probe Failure: https://server.example.org"},
    "startsAt": "2023-02-06T13:08:45.828Z",
    "endsAt": "2023-02-06T14:12:45.828Z",
    "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1"
  },
  {
    "labels": {"alertname": "DiskFull"},
    "startsAt": "2023-02-06T12:00:00Z",
    "endsAt": "2023-02-06T13:30:00Z"
  },
  {"labels": {"alertname": "NoTimes"}}
]"#;

#[test]
fn api_v2_fixture() {
    let signals = parse_api_v2(API_V2.as_bytes(), now()).unwrap();
    let [firing, resolved, untimed] = &signals[..] else {
        panic!("{signals:?}")
    };
    assert!(!firing.labels.contains_key("empty"));
    assert_eq!(firing.dedup_key, Some(fingerprint(&firing.labels)));
    assert_eq!(
        firing.summary,
        "BlackBox Probe Failure: https://server.example.org"
    );
    assert_eq!(firing.action, AlertAction::Trigger);
    assert_eq!(firing.ends_at, None);
    assert_eq!(firing.group_key, None);
    assert_eq!(firing.origin, "prometheus");
    assert_eq!(resolved.action, AlertAction::Resolve);
    assert_eq!(resolved.summary, "DiskFull");
    assert_eq!(resolved.source, "prometheus");
    assert_eq!(
        resolved.ends_at,
        Some("2023-02-06T13:30:00Z".parse().unwrap())
    );
    assert_eq!(untimed.action, AlertAction::Trigger);
    assert_eq!(untimed.starts_at, Some(now()));
}

#[test]
fn a_blank_alertname_still_gives_a_summary() {
    // Found by fuzzing: a trigger needs a title for the incident it may open.
    let body = r#"[{"labels": {"alertname": "  ", "job": "api"}}]"#;
    let signals = parse_api_v2(body.as_bytes(), now()).unwrap();
    assert_eq!(signals[0].summary, "Alert (alertname=  , job=api)");
}

fn webhook_err(body: &str) -> FormatError {
    parse_webhook(body.as_bytes(), now()).unwrap_err()
}

fn api_err(body: &str) -> FormatError {
    parse_api_v2(body.as_bytes(), now()).unwrap_err()
}

#[test]
fn malformed_webhooks_name_the_field() {
    // A valid first alert, then a second one made of `fields`.
    let alert = |fields: &str| {
        format!(
            r#"{{"alerts": [{{"status": "firing", "labels": {{"alertname": "A"}}}}, {{"status": "firing", {fields}}}]}}"#
        )
    };
    let b = |extra: &str| alert(&format!(r#""labels": {{"alertname": "B"}}, {extra}"#));
    let long = "x".repeat(limits::SUMMARY + 1);
    let many: String = (0..=limits::LABELS)
        .map(|i| format!(r#","l{i}": "v""#))
        .collect();
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    let cases = [
        ("{".to_string(), ""),
        ("[]".to_string(), ""),
        (r#"{"alerts": {}}"#.to_string(), "alerts"),
        ("{}".to_string(), "alerts"),
        (deep, ""),
        (r#"{"version": "1", "alerts": []}"#.to_string(), "version"),
        (
            r#"{"alerts": [{"labels": {}}]}"#.to_string(),
            "alerts[0].status",
        ),
        (
            r#"{"alerts": [{"status": "exploded", "labels": {}}]}"#.to_string(),
            "alerts[0].status",
        ),
        (
            r#"{"alerts": [{"status": "firing"}]}"#.to_string(),
            "alerts[0].labels",
        ),
        (alert(r#""labels": {"a": 1}"#), "alerts[1].labels.a"),
        (b(r#""startsAt": "yesterday""#), "alerts[1].startsAt"),
        (
            b(r#""annotations": {"summary": 5}"#),
            "alerts[1].annotations.summary",
        ),
        (
            b(&format!(r#""annotations": {{"summary": "{long}"}}"#)),
            "alerts[1].annotations.summary",
        ),
        (
            b(&format!(r#""fingerprint": "{}""#, "f".repeat(256))),
            "alerts[1].fingerprint",
        ),
        (
            b(&format!(
                r#""generatorURL": "http://{}""#,
                "u".repeat(limits::URL)
            )),
            "alerts[1].generatorURL",
        ),
        (
            format!(r#"{{"alerts": [{{"status": "firing", "labels": {{"a": "b"{many}}}}}]}}"#),
            "alerts[0].labels",
        ),
        (
            format!(
                r#"{{"alerts": [{{"status": "firing", "labels": {{"instance": "{}"}}}}]}}"#,
                "i".repeat(256)
            ),
            "alerts[0].labels.instance",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(webhook_err(&body).field, field, "{body}");
    }
    assert!(
        webhook_err(r#"{"alerts": [{"status": "exploded", "labels": {}}]}"#)
            .message
            .contains("unknown variant `exploded`")
    );
}

#[test]
fn malformed_api_v2_bodies_name_the_field() {
    let cases = [
        ("not json", ""),
        (r#"{"labels": {"a": "b"}}"#, ""),
        (r#"[{}]"#, "[0].labels"),
        (r#"[{"labels": {"a": "b"}}, {"labels": {}}]"#, "[1].labels"),
        (r#"[{"labels": {"a": ""}}]"#, "[0].labels"),
        (r#"[{"labels": {"": "b"}}]"#, "[0].labels"),
        (r#"[{"labels": ["a"]}]"#, "[0].labels"),
        (
            r#"[{"labels": {"a": "b"}, "annotations": {"": "x"}}]"#,
            "[0].annotations",
        ),
        (r#"[{"labels": {"a": "b"}, "startsAt": 5}]"#, "[0].startsAt"),
        (
            r#"[{"labels": {"a": "b"}, "startsAt": "2023-02-06T13:00:00Z", "endsAt": "2023-02-06T12:00:00Z"}]"#,
            "[0].endsAt",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(api_err(body).field, field, "{body}");
    }
    assert_eq!(
        api_err(r#"[{"labels": {}}]"#).to_string(),
        "[0].labels: at least one label pair required"
    );
}

#[test]
fn label_names_follow_prometheus() {
    let body = |name: &str| {
        format!(
            r#"[{{"labels": {{"alertname": "X", "{name}": "v"}}, "startsAt": "2023-02-06T13:00:00Z"}}]"#
        )
    };
    let err = api_err(&body("bad name!"));
    assert_eq!(err.field, "[0].labels");
    assert!(
        err.message
            .contains("\"bad name!\" is not a valid label name"),
        "{err}"
    );
    for bad in ["9lives", "a-b", "é"] {
        assert!(parse_api_v2(body(bad).as_bytes(), now()).is_err(), "{bad}");
    }
    for good in ["_x", "a9", "Instance_2"] {
        assert!(parse_api_v2(body(good).as_bytes(), now()).is_ok(), "{good}");
    }
}

#[test]
fn control_characters_in_text_become_replacement_characters() {
    let body = r#"{"version": "4", "status": "firing", "receiver": "r", "groupKey": "g\u0000",
        "alerts": [{"status": "firing", "labels": {"alertname": "A\u0000B", "job": "j\u001b"},
        "annotations": {"summary": "s\u0000"}, "startsAt": "2023-02-06T13:00:00Z"}]}"#;
    let signals = parse_webhook(body.as_bytes(), now()).unwrap();
    let signal = &signals[0];
    assert_eq!(signal.labels["alertname"], "A\u{FFFD}B");
    assert_eq!(signal.source, "j\u{FFFD}");
    assert!(!format!("{signal:?}").contains('\0'));
}
