//! PagerDuty fixtures (the API reference example, Alertmanager 0.25
//! `pagerduty_configs`), malformed events and response bodies.

use super::*;

fn now() -> Timestamp {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

/// The example event of PagerDuty's Events API v2 reference.
const DOCS_EXAMPLE: &str = r#"{
  "payload": {
    "summary": "DISK at 99% on machine prod-datapipe03.example.com",
    "timestamp": "2015-07-17T08:42:58.315+0000",
    "severity": "critical",
    "source": "prod-datapipe03.example.com",
    "component": "mysql",
    "group": "prod-datapipe",
    "class": "disk",
    "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75}
  },
  "routing_key": "e93facc04764012d7bfb002500d5d1a6",
  "dedup_key": "srv01/mysql",
  "event_action": "trigger",
  "client": "Sample Monitoring Service",
  "client_url": "https://monitoring.service.com",
  "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}],
  "images": [{
    "src": "https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,8,2,1&cht=lc&chds=a&chxt=y&chm=D,0033FF,0,0,5,1",
    "href": "https://google.com",
    "alt": "An example link with an image"
  }]
}"#;

#[test]
fn docs_example() {
    let event = parse(DOCS_EXAMPLE.as_bytes(), now()).unwrap();
    assert_eq!(event.routing_key, "e93facc04764012d7bfb002500d5d1a6");
    let s = event.signal;
    assert_eq!(s.action, AlertAction::Trigger);
    assert_eq!(s.dedup_key.as_deref(), Some("srv01/mysql"));
    assert_eq!(
        s.summary,
        "DISK at 99% on machine prod-datapipe03.example.com"
    );
    assert_eq!(s.severity.as_deref(), Some("critical"));
    assert_eq!(s.source, "prod-datapipe03.example.com");
    assert_eq!(s.labels["component"], "mysql");
    assert_eq!(s.labels["group"], "prod-datapipe");
    assert_eq!(s.labels["class"], "disk");
    assert_eq!(s.details["load avg"], 0.75);
    assert_eq!(
        s.starts_at,
        Some("2015-07-17T08:42:58.315Z".parse().unwrap())
    );
    let links: Vec<(&str, &str)> = s
        .links
        .iter()
        .map(|l| (l.href.as_str(), l.text.as_str()))
        .collect();
    assert_eq!(
        links[0],
        (
            "https://monitoring.service.com",
            "Sample Monitoring Service"
        )
    );
    assert_eq!(
        links[1],
        ("http://pagerduty.example.com", "An example link.")
    );
    assert!(links[2].0.starts_with("https://chart.googleapis.com/"));
    assert_eq!(links[2].1, "An example link with an image");
    assert_eq!(s.origin, "pagerduty");
}

/// Exactly what Alertmanager 0.25 `pagerduty_configs` (default templates,
/// `routing_key` set) sends: Go's encoder escapes `&` as `\u0026`, leaves
/// out empty class/component/group/links/images, sends the payload on
/// resolve too, and ends the body with a newline.
const ALERTMANAGER_TRIGGER: &str = "{\"routing_key\":\"0123456789abcdef0123456789abcdef\",\"dedup_key\":\"0c7b1f6e4d8a3f2b9e5d1c7a6b4f8e2d3a9c5b7e1f4d6a8c2b0e9f7d5c3a1b8e\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"[FIRING:1] HighLatency (api critical)\",\"source\":\"Alertmanager\",\"severity\":\"error\",\"custom_details\":{\"firing\":\"Labels:\\n - alertname = HighLatency\\n - job = api\\n - severity = critical\\nAnnotations:\\n - summary = p99 latency above 2s\\nSource: http://prometheus:9090/graph?g0.expr=histogram_quantile%280.99%2C+rate%28http_request_duration_seconds_bucket%5B5m%5D%29%29+%3E+2\\u0026g0.tab=1\\n\",\"num_firing\":\"1\",\"num_resolved\":\"0\",\"resolved\":\"\"}},\"client\":\"Alertmanager\",\"client_url\":\"http://alertmanager:9093/#/alerts?receiver=team-api-pager\"}\n";

#[test]
fn alertmanager_0_25_pagerduty_configs() {
    let event = parse(ALERTMANAGER_TRIGGER.as_bytes(), now()).unwrap();
    let s = &event.signal;
    assert_eq!(s.action, AlertAction::Trigger);
    assert_eq!(s.dedup_key.as_deref().map(str::len), Some(64));
    assert_eq!(s.summary, "[FIRING:1] HighLatency (api critical)");
    assert_eq!(s.severity.as_deref(), Some("error"));
    assert_eq!(s.source, "Alertmanager");
    assert!(s.labels.is_empty());
    assert_eq!(s.details["num_firing"], "1");
    assert!(s.details["firing"].as_str().unwrap().contains("&g0.tab=1"));
    assert_eq!(s.links[0].text, "Alertmanager");

    // When the group resolves, Alertmanager sends the same key and payload.
    let resolve = ALERTMANAGER_TRIGGER
        .replace("\"trigger\"", "\"resolve\"")
        .replace("[FIRING:1]", "[RESOLVED]");
    let resolved = parse(resolve.as_bytes(), now()).unwrap().signal;
    assert_eq!(resolved.action, AlertAction::Resolve);
    assert_eq!(resolved.dedup_key, s.dedup_key);
}

#[test]
fn acknowledge_needs_only_key_and_action() {
    let body = r#"{"routing_key": "k", "event_action": "acknowledge", "dedup_key": "srv01/mysql"}"#;
    let s = parse(body.as_bytes(), now()).unwrap().signal;
    assert_eq!(s.action, AlertAction::Acknowledge);
    assert_eq!(s.summary, "");
    assert_eq!(s.severity, None);
}

#[test]
fn trigger_without_dedup_key_and_odd_details() {
    let body = r#"{"routing_key": "k", "event_action": "trigger",
        "payload": {"summary": "s", "source": "h", "severity": "info", "custom_details": "just text"}}"#;
    let s = parse(body.as_bytes(), now()).unwrap().signal;
    assert_eq!(s.dedup_key, None);
    assert_eq!(s.details["details"], "just text");
}

#[test]
fn malformed_events_name_the_field() {
    let trigger = |payload: &str| {
        format!(
            r#"{{"routing_key": "k", "event_action": "trigger", "dedup_key": "d", "payload": {payload}}}"#
        )
    };
    let ok = r#""summary": "s", "source": "h", "severity": "info""#;
    let with = |extra: &str| trigger(&format!("{{{ok}, {extra}}}"));
    let long = "s".repeat(limits::SUMMARY + 1);
    let links: String = (0..=limits::LINKS)
        .map(|i| format!(r#"{{"href": "http://x/{i}"}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let cases = [
        ("nope".to_string(), ""),
        (r#"{"event_action": "trigger"}"#.to_string(), "routing_key"),
        (
            r#"{"routing_key": "", "event_action": "trigger"}"#.to_string(),
            "routing_key",
        ),
        (
            format!(
                r#"{{"routing_key": "{}", "event_action": "trigger"}}"#,
                "k".repeat(65)
            ),
            "routing_key",
        ),
        (
            r#"{"routing_key": 7, "event_action": "trigger"}"#.to_string(),
            "routing_key",
        ),
        (r#"{"routing_key": "k"}"#.to_string(), "event_action"),
        (
            r#"{"routing_key": "k", "event_action": "explode"}"#.to_string(),
            "event_action",
        ),
        (
            r#"{"routing_key": "k", "event_action": "resolve"}"#.to_string(),
            "dedup_key",
        ),
        (
            format!(
                r#"{{"routing_key": "k", "event_action": "resolve", "dedup_key": "{}"}}"#,
                "d".repeat(256)
            ),
            "dedup_key",
        ),
        (
            r#"{"routing_key": "k", "event_action": "trigger"}"#.to_string(),
            "payload",
        ),
        (
            trigger(r#"{"source": "h", "severity": "info"}"#),
            "payload.summary",
        ),
        (
            trigger(r#"{"summary": "", "source": "h", "severity": "info"}"#),
            "payload.summary",
        ),
        (
            trigger(&format!(
                r#"{{"summary": "{long}", "source": "h", "severity": "info"}}"#
            )),
            "payload.summary",
        ),
        (
            trigger(r#"{"summary": "s", "severity": "info"}"#),
            "payload.source",
        ),
        (
            trigger(r#"{"summary": "s", "source": "h"}"#),
            "payload.severity",
        ),
        (
            trigger(r#"{"summary": "s", "source": "h", "severity": "page"}"#),
            "payload.severity",
        ),
        (
            trigger(r#"{"summary": ["s"], "source": "h", "severity": "info"}"#),
            "payload.summary",
        ),
        (with(r#""timestamp": "last tuesday""#), "payload.timestamp"),
        (
            with(&format!(
                r#""component": "{}""#,
                "c".repeat(limits::LABEL_VALUE + 1)
            )),
            "payload.component",
        ),
        (with(r#""group": {}"#), "payload.group"),
        (
            trigger(&format!("{{{ok}}}, \"links\": [{{\"text\": \"t\"}}]")),
            "links[0].href",
        ),
        (
            trigger(&format!("{{{ok}}}, \"links\": [{{\"href\": \"\"}}]")),
            "links[0].href",
        ),
        (
            trigger(&format!("{{{ok}}}, \"images\": [{{\"alt\": \"a\"}}]")),
            "images[0].src",
        ),
        (trigger(&format!("{{{ok}}}, \"links\": [{links}]")), "links"),
        (
            trigger(&format!(
                "{{{ok}}}, \"client_url\": \"http://{}\"",
                "u".repeat(limits::URL)
            )),
            "client_url",
        ),
        (format!("{}{}", "[".repeat(33), "]".repeat(33)), ""),
    ];
    for (body, field) in cases {
        let err = parse(body.as_bytes(), now()).unwrap_err();
        assert_eq!(err.field, field, "{body}: {err}");
    }
    let bad_utf8 = parse(b"{\"routing_key\": \"\xff\"}", now()).unwrap_err();
    assert!(bad_utf8.message.contains("UTF-8"), "{bad_utf8}");
}

#[test]
fn response_bodies_match_pagerduty() {
    let json = |r: &EnqueueResponse| serde_json::to_string(r).unwrap();
    assert_eq!(
        json(&EnqueueResponse::accepted("srv01/HTTP")),
        r#"{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}"#
    );
    let err = parse(br#"{"routing_key": "k", "event_action": "explode"}"#, now()).unwrap_err();
    let body = json(&EnqueueResponse::from(&err));
    assert!(
        body.starts_with(r#"{"status":"invalid event","message":"Event object is invalid","errors":["event_action: unknown variant `explode`"#),
        "{body}"
    );
    assert_eq!(
        json(&EnqueueResponse::throttled()),
        r#"{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}"#
    );
}
