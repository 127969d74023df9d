//! Generic mapping fixtures (an Uptime Kuma webhook, a batch array) and
//! malformed bodies and mappings.

use super::*;

fn now() -> Timestamp {
    "2024-05-01T00:00:00Z".parse().unwrap()
}

/// What Uptime Kuma's webhook notification posts (`status` 0 is down, 1 up).
const UPTIME_KUMA: &str = r#"{
  "heartbeat": {"monitorID": 7, "status": 0, "time": "2024-04-30 23:58:12.345",
                "msg": "timeout of 48000ms exceeded", "important": true, "duration": 0},
  "monitor": {"id": 7, "name": "Shop API", "url": "https://shop.example.com/api/health",
              "type": "http", "tags": {"team": "payments", "tier": 1}},
  "msg": "[Shop API] [🔴 Down] timeout of 48000ms exceeded"
}"#;

fn kuma() -> GenericMapping {
    GenericMapping {
        status: Some("/heartbeat/status".into()),
        resolved_values: vec!["1".into()],
        source: Some("uptime-kuma/{/monitor/name}".into()),
        labels: Some("/monitor/tags".into()),
        details: Some("/heartbeat".into()),
        url: Some("/monitor/url".into()),
        ..GenericMapping::new("/monitor/id", "{/monitor/name} is down: {/heartbeat/msg}")
    }
}

#[test]
fn uptime_kuma_by_mapping() {
    let signals = parse(UPTIME_KUMA.as_bytes(), &kuma(), now()).unwrap();
    let [s] = &signals[..] else {
        panic!("{signals:?}")
    };
    assert_eq!(s.action, AlertAction::Trigger);
    assert_eq!(s.dedup_key.as_deref(), Some("7"));
    assert_eq!(s.summary, "Shop API is down: timeout of 48000ms exceeded");
    assert_eq!(s.source, "uptime-kuma/Shop API");
    assert_eq!(s.labels["team"], "payments");
    assert_eq!(s.labels["tier"], "1");
    assert_eq!(s.details["msg"], "timeout of 48000ms exceeded");
    assert_eq!(s.links[0].href, "https://shop.example.com/api/health");
    assert_eq!(s.origin, "generic");

    let up = UPTIME_KUMA.replace(r#""status": 0"#, r#""status": 1"#);
    let s = &parse(up.as_bytes(), &kuma(), now()).unwrap()[0];
    assert_eq!(s.action, AlertAction::Resolve);
}

#[test]
fn arrays_defaults_and_pointer_summaries() {
    let mapping = GenericMapping {
        severity: Some("/level".into()),
        status: Some("/state".into()),
        ..GenericMapping::new("/id", "/title")
    };
    let body = r#"[
      {"id": "a-1", "title": "Queue backlog", "level": "warning", "state": "firing"},
      {"id": 2, "title": "Disk full", "state": "RESOLVED"},
      {"id": "a-3", "title": "No state"}
    ]"#;
    let signals = parse(body.as_bytes(), &mapping, now()).unwrap();
    assert_eq!(signals.len(), 3);
    assert_eq!(signals[0].severity.as_deref(), Some("warning"));
    assert_eq!(signals[0].action, AlertAction::Trigger);
    assert_eq!(signals[0].source, "generic");
    assert_eq!(signals[0].details["title"], "Queue backlog");
    assert_eq!(signals[1].dedup_key.as_deref(), Some("2"));
    assert_eq!(signals[1].action, AlertAction::Resolve);
    assert_eq!(signals[2].action, AlertAction::Trigger);
    assert!(parse(b"[]", &mapping, now()).unwrap().is_empty());
}

#[test]
fn mapping_is_strict_json() {
    let mapping: GenericMapping =
        serde_json::from_str(r#"{"dedup_key": "/id", "summary": "{/name} down"}"#).unwrap();
    assert_eq!(mapping, GenericMapping::new("/id", "{/name} down"));
    assert_eq!(
        mapping.resolved_values,
        ["resolved", "ok", "up", "recovered"]
    );
    let unknown = serde_json::from_str::<GenericMapping>(
        r#"{"dedup_key": "/id", "summary": "/s", "sumary": "/t"}"#,
    );
    assert!(unknown
        .unwrap_err()
        .to_string()
        .contains("unknown field `sumary`"));
}

#[test]
fn validate_names_the_mapping_field() {
    let cases = [
        (GenericMapping::new("id", "/s"), "dedup_key"),
        (GenericMapping::new("/id~2", "/s"), "dedup_key"),
        (GenericMapping::new("/id", "{/name is down"), "summary"),
        (GenericMapping::new("/id", "{/a~x}"), "summary"),
        (
            GenericMapping {
                labels: Some("tags".into()),
                ..GenericMapping::new("/id", "/s")
            },
            "labels",
        ),
        (
            GenericMapping {
                source: Some("{/host".into()),
                ..GenericMapping::new("/id", "/s")
            },
            "source",
        ),
    ];
    for (mapping, field) in cases {
        let err = mapping.validate().unwrap_err();
        assert_eq!(err.field, field, "{mapping:?}: {err}");
        assert_eq!(parse(b"{}", &mapping, now()).unwrap_err().field, field);
    }
    assert!(kuma().validate().is_ok());
    assert!(GenericMapping::new("/a~0b/c~1d", "literal text")
        .validate()
        .is_ok());
}

#[test]
fn malformed_bodies_name_the_pointer() {
    let mapping = GenericMapping {
        severity: Some("/sev".into()),
        labels: Some("/tags".into()),
        url: Some("/url".into()),
        source: Some("/host".into()),
        ..GenericMapping::new("/id", "/title")
    };
    let many: Vec<String> = (0..=limits::LABELS)
        .map(|i| format!(r#""l{i}": "v""#))
        .collect();
    let cases = [
        ("{".to_string(), ""),
        (format!("{}{}", "[".repeat(33), "]".repeat(33)), ""),
        (r#"{"title": "t"}"#.to_string(), "/id"),
        (r#"{"id": null, "title": "t"}"#.to_string(), "/id"),
        (r#"{"id": "", "title": "t"}"#.to_string(), "/id"),
        (r#"{"id": {"x": 1}, "title": "t"}"#.to_string(), "/id"),
        (
            r#"[{"id": 1, "title": "t"}, {"title": "t"}]"#.to_string(),
            "/1/id",
        ),
        (
            format!(r#"{{"id": "{}", "title": "t"}}"#, "i".repeat(256)),
            "/id",
        ),
        (r#"{"id": 1}"#.to_string(), "/title"),
        (r#"{"id": 1, "title": " "}"#.to_string(), "/title"),
        (
            format!(
                r#"{{"id": 1, "title": "{}"}}"#,
                "t".repeat(limits::SUMMARY + 1)
            ),
            "/title",
        ),
        (
            r#"{"id": 1, "title": "t", "sev": ["high"]}"#.to_string(),
            "/sev",
        ),
        (
            r#"{"id": 1, "title": "t", "tags": "a,b"}"#.to_string(),
            "/tags",
        ),
        (
            r#"{"id": 1, "title": "t", "tags": {"a/b": {"deep": 1}}}"#.to_string(),
            "/tags/a~1b",
        ),
        (
            format!(
                r#"{{"id": 1, "title": "t", "tags": {{{}}}}}"#,
                many.join(",")
            ),
            "/tags",
        ),
        (r#"{"id": 1, "title": "t", "url": 5}"#.to_string(), "/url"),
        (
            format!(
                r#"{{"id": 1, "title": "t", "url": "https://{}"}}"#,
                "u".repeat(limits::URL)
            ),
            "/url",
        ),
        (
            format!(
                r#"{{"id": 1, "title": "t", "host": "{}"}}"#,
                "h".repeat(limits::SOURCE + 1)
            ),
            "/host",
        ),
    ];
    for (body, field) in cases {
        let err = parse(body.as_bytes(), &mapping, now()).unwrap_err();
        assert_eq!(err.field, field, "{body}: {err}");
    }
    let template = GenericMapping::new("/id", "{/name}{/missing}");
    let err = parse(br#"{"id": 1}"#, &template, now()).unwrap_err();
    assert_eq!(err.field, "/name");
    assert!(parse(b"{\"id\": \"\xff\"}", &mapping, now())
        .unwrap_err()
        .message
        .contains("UTF-8"));
}
