//! Sentry fixtures from Sentry's documentation and a captured legacy webhook,
//! and malformed bodies.

use super::*;

fn now() -> Timestamp {
    "2019-08-20T00:00:00Z".parse().unwrap()
}

fn parse_str(body: &str) -> Result<AlertSignal, FormatError> {
    parse(body.as_bytes(), now())
}

/// A legacy WebHooks plugin body (as captured in alerta-contrib's Sentry
/// webhook README; the stack trace is shortened).
const LEGACY: &str = r#"{
  "project": "alerta5",
  "project_name": "alerta5",
  "culprit": "raven.scripts.runner in main",
  "project_slug": "alerta5",
  "url": "https://sentry.io/alertaio/alerta5/issues/541485531/",
  "logger": null,
  "level": "error",
  "message": "This is an example Python exception",
  "id": "541485531",
  "triggering_rules": ["Send a notification for new issues"],
  "event": {
    "received": 1525248430,
    "sentry.interfaces.User": {"username": "sentry", "id": "1", "ip_address": "127.0.0.1"},
    "sentry.interfaces.Message": {"message": "This is an example Python exception"},
    "errors": [],
    "extra": {"emptyList": [], "unauthorized": false, "emptyMap": {}, "results": [1, 2, 3, 4, 5],
              "length": 10837790, "session": {"foo": "bar"}},
    "event_id": "0476467adf8f499ea795a48fcc4bf290",
    "fingerprint": ["{{ default }}"],
    "id": 19293981000,
    "version": "5",
    "_ref_version": 2,
    "_ref": 153768,
    "type": "default",
    "sentry.interfaces.Stacktrace": {"frames": [{
      "function": "main",
      "abs_path": "/home/ubuntu/.virtualenvs/getsentry/src/raven/raven/scripts/runner.py",
      "vars": {"'args'": ["'test'"], "'client'": "<raven.base.Client object at 0x107bb8210>"},
      "module": "raven.scripts.runner",
      "filename": "raven/scripts/runner.py",
      "lineno": 112,
      "in_app": false,
      "context_line": "    send_test_message(client, opts.__dict__)"
    }]},
    "tags": [["browser", "Chrome 28.0"], ["level", "error"], ["os", "Windows 8"]],
    "metadata": {"title": "This is an example Python exception"}
  }
}"#;

#[test]
fn legacy_webhook() {
    let s = parse_str(LEGACY).unwrap();
    assert_eq!(s.action, AlertAction::Trigger);
    assert_eq!(s.dedup_key.as_deref(), Some("sentry-541485531"));
    assert_eq!(s.summary, "This is an example Python exception");
    assert_eq!(s.severity.as_deref(), Some("error"));
    assert_eq!(s.source, "alerta5");
    assert_eq!(s.labels["project"], "alerta5");
    assert_eq!(s.details["culprit"], "raven.scripts.runner in main");
    assert_eq!(s.details["event_id"], "0476467adf8f499ea795a48fcc4bf290");
    assert_eq!(
        s.details["triggering_rules"][0],
        "Send a notification for new issues"
    );
    assert_eq!(s.details["tags"][0][0], "browser");
    assert_eq!(
        s.links[0].href,
        "https://sentry.io/alertaio/alerta5/issues/541485531/"
    );
    assert_eq!(s.origin, "sentry");
}

/// The issue alert (`Sentry-Hook-Resource: event_alert`) example of Sentry's
/// integration platform docs, with the stack trace shortened.
const EVENT_ALERT: &str = r##"{
  "action": "triggered",
  "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
  "data": {
    "event": {
      "_ref": 1,
      "_ref_version": 2,
      "contexts": {"browser": {"name": "Chrome", "type": "browser", "version": "75.0.3770"}},
      "culprit": "?(<anonymous>)",
      "datetime": "2019-08-19T21:06:17.677000Z",
      "dist": null,
      "event_id": "e4874d664c3540c1a32eab185f12c5ab",
      "exception": {"values": [{
        "mechanism": {"data": {"message": "heck is not defined", "mode": "stack", "name": "ReferenceError"},
                      "handled": false, "type": "onerror"},
        "stacktrace": {"frames": [{"abs_path": "<anonymous>", "colno": 5, "filename": "<anonymous>",
                                   "function": null, "in_app": false, "lineno": 3}]},
        "type": "ReferenceError",
        "value": "heck is not defined"
      }]},
      "fingerprint": ["{{ default }}"],
      "hashes": ["29f7ffc4903a8a990408b80a3b4c95a2"],
      "issue_url": "https://sentry.io/api/0/issues/1117540176/",
      "issue_id": "1117540176",
      "key_id": "667532",
      "level": "error",
      "location": "<anonymous>",
      "logger": "",
      "message": "",
      "metadata": {"filename": "<anonymous>", "type": "ReferenceError", "value": "heck is not defined"},
      "platform": "javascript",
      "project": 1,
      "received": 1566248777.677,
      "release": null,
      "sdk": {"name": "sentry.javascript.browser", "version": "5.5.0"},
      "tags": [["browser", "Chrome 75.0.3770"], ["handled", "no"], ["level", "error"]],
      "time_spent": null,
      "timestamp": 1566248777.677,
      "title": "ReferenceError: heck is not defined",
      "type": "error",
      "url": "https://sentry.io/api/0/projects/test-org/front-end/events/e4874d664c3540c1a32eab185f12c5ab/",
      "user": {"ip_address": "162.218.85.90"},
      "version": "7",
      "web_url": "https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/"
    },
    "triggered_rule": "Very Important Alert Rule!",
    "issue_alert": {"title": "Very Important Alert Rule!", "settings": [{"name": "channel", "value": "#general"}]}
  },
  "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}
}"##;

#[test]
fn integration_platform_issue_alert() {
    let s = parse_str(EVENT_ALERT).unwrap();
    assert_eq!(s.action, AlertAction::Trigger);
    assert_eq!(s.dedup_key.as_deref(), Some("sentry-1117540176"));
    assert_eq!(s.summary, "ReferenceError: heck is not defined");
    assert_eq!(s.severity.as_deref(), Some("error"));
    assert_eq!(s.source, "sentry");
    assert_eq!(s.details["triggered_rule"], "Very Important Alert Rule!");
    assert_eq!(s.details["platform"], "javascript");
    assert!(!s.details.contains_key("release"));
    assert_eq!(
        s.starts_at,
        Some("2019-08-19T21:06:17.677Z".parse().unwrap())
    );
    assert!(s.links[0].href.contains("/issues/1117540176/events/"));

    // Without `issue_id` the id comes from `issue_url`.
    let no_id = EVENT_ALERT.replace(r#""issue_id": "1117540176","#, "");
    let s = parse_str(&no_id).unwrap();
    assert_eq!(s.dedup_key.as_deref(), Some("sentry-1117540176"));
}

/// The issue webhook (`Sentry-Hook-Resource: issue`) example of Sentry's docs.
const ISSUE: &str = r#"{
  "action": "created",
  "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
  "data": {
    "issue": {
      "annotations": [],
      "assignedTo": null,
      "count": "1",
      "culprit": "?(runner)",
      "firstSeen": "2019-08-19T20:58:37.391000Z",
      "hasSeen": false,
      "id": "1170820242",
      "isBookmarked": false,
      "isPublic": false,
      "isSubscribed": false,
      "lastSeen": "2019-08-19T20:58:37.391000Z",
      "level": "error",
      "logger": null,
      "metadata": {"filename": "/runner", "type": "ReferenceError", "value": "blooopy is not defined"},
      "numComments": 0,
      "permalink": null,
      "platform": "javascript",
      "project": {"id": "1", "name": "front-end", "platform": "", "slug": "front-end"},
      "shareId": null,
      "shortId": "FRONT-END-9",
      "status": "unresolved",
      "statusDetails": {},
      "subscriptionDetails": null,
      "substatus": "escalating",
      "title": "ReferenceError: blooopy is not defined",
      "type": "error",
      "userCount": 1
    }
  },
  "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}
}"#;

#[test]
fn integration_platform_issue_changes() {
    let s = parse_str(ISSUE).unwrap();
    assert_eq!(s.action, AlertAction::Trigger);
    assert_eq!(s.dedup_key.as_deref(), Some("sentry-1170820242"));
    assert_eq!(s.summary, "ReferenceError: blooopy is not defined");
    assert_eq!(s.source, "front-end");
    assert_eq!(s.details["short_id"], "FRONT-END-9");
    assert_eq!(s.details["substatus"], "escalating");
    assert_eq!(
        s.starts_at,
        Some("2019-08-19T20:58:37.391Z".parse().unwrap())
    );
    assert!(s.links.is_empty());
    for (action, expected) in [
        ("unresolved", AlertAction::Trigger),
        ("assigned", AlertAction::Acknowledge),
        ("resolved", AlertAction::Resolve),
        ("archived", AlertAction::Resolve),
        ("ignored", AlertAction::Resolve),
    ] {
        let body = ISSUE.replace(
            r#""action": "created""#,
            &format!(r#""action": "{action}""#),
        );
        assert_eq!(parse_str(&body).unwrap().action, expected, "{action}");
    }
}

#[test]
fn malformed_bodies_name_the_field() {
    let long_title = "t".repeat(limits::SUMMARY + 1);
    let cases = [
        ("<html>".to_string(), ""),
        ("[1, 2]".to_string(), ""),
        (r#"{"hello": "world"}"#.to_string(), ""),
        (format!("{}{}", "[".repeat(33), "]".repeat(33)), ""),
        (r#"{"id": {"no": 1}}"#.to_string(), "id"),
        (
            r#"{"id": "1", "level": "catastrophic"}"#.to_string(),
            "level",
        ),
        (
            r#"{"id": "1", "event": {"datetime": "noonish"}}"#.to_string(),
            "event.datetime",
        ),
        (
            format!(r#"{{"id": "1", "message": "{long_title}"}}"#),
            "message",
        ),
        (
            format!(r#"{{"id": "{}"}}"#, "9".repeat(limits::DEDUP_KEY)),
            "id",
        ),
        (r#"{"id": ""}"#.to_string(), "id"),
        (r#"{"action": "triggered"}"#.to_string(), "data"),
        (r#"{"action": "triggered", "data": {}}"#.to_string(), "data"),
        (
            r#"{"data": {"event": {"issue_id": "1"}}}"#.to_string(),
            "action",
        ),
        (
            r#"{"action": "explode", "data": {"event": {"issue_id": "1"}}}"#.to_string(),
            "action",
        ),
        (
            r#"{"action": "triggered", "data": {"event": {"title": "t"}}}"#.to_string(),
            "data.event.issue_id",
        ),
        (
            r#"{"action": "triggered", "data": {"event": {"issue_id": "1", "level": 3}}}"#
                .to_string(),
            "data.event.level",
        ),
        (
            format!(
                r#"{{"action": "triggered", "data": {{"event": {{"issue_id": "1", "title": "{long_title}"}}}}}}"#
            ),
            "data.event.title",
        ),
        (
            r#"{"action": "exploded", "data": {"issue": {"id": "1"}}}"#.to_string(),
            "action",
        ),
        (
            r#"{"action": "created", "data": {"issue": {"title": "t"}}}"#.to_string(),
            "data.issue.id",
        ),
        (
            r#"{"action": "created", "data": {"issue": {"id": "1", "firstSeen": 5}}}"#.to_string(),
            "data.issue.firstSeen",
        ),
        (
            format!(
                r#"{{"action": "created", "data": {{"issue": {{"id": "1", "web_url": "https://{}"}}}}}}"#,
                "u".repeat(limits::URL)
            ),
            "data.issue.web_url",
        ),
    ];
    for (body, field) in cases {
        let err = parse_str(&body).unwrap_err();
        assert_eq!(err.field, field, "{body}: {err}");
    }
    assert!(parse(b"{\"id\": \"\xff\"}", now())
        .unwrap_err()
        .message
        .contains("UTF-8"));
}

/// A metric alert as Sentry's integration platform documents it
/// (`Sentry-Hook-Resource: metric_alert`; the triggers are shortened).
const METRIC_ALERT: &str = r#"{
  "action": "critical",
  "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
  "data": {
    "description_text": "1000 events in the last 10 minutes\nFilter: level:error",
    "description_title": "Critical: Too many errors",
    "metric_alert": {
      "alert_rule": {
        "aggregate": "count()",
        "created_by": null,
        "dataset": "events",
        "date_created": "2021-02-11T22:38:37.917728Z",
        "date_modified": "2021-02-11T22:38:37.917728Z",
        "environment": null,
        "id": "14",
        "include_all_projects": false,
        "name": "Too many errors",
        "organization_id": "5",
        "projects": ["earth"],
        "query": "level:error",
        "resolution": 1,
        "resolve_threshold": null,
        "status": 0,
        "threshold_period": 1,
        "threshold_type": 0,
        "time_window": 10,
        "triggers": [{"alert_threshold": 1000, "label": "critical", "actions": []}]
      },
      "date_closed": null,
      "date_created": "2021-02-11T22:48:00.917728Z",
      "date_detected": "2021-02-11T22:47:00Z",
      "date_started": "2021-02-11T22:47:00Z",
      "id": "4",
      "identifier": "4",
      "organization_id": "5",
      "projects": ["earth"],
      "status": 2,
      "status_method": 3,
      "title": "Too many errors",
      "type": 2
    },
    "web_url": "https://sentry.io/organizations/example/alerts/1/"
  },
  "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}
}"#;

fn hook(resource: &str, body: &str) -> Result<AlertSignal, FormatError> {
    parse_hook(body.as_bytes(), Some(resource), now())
}

#[test]
fn metric_alerts_trigger_change_severity_and_resolve() {
    let critical = hook("metric_alert", METRIC_ALERT).unwrap();
    assert_eq!(critical.action, AlertAction::Trigger);
    assert_eq!(critical.dedup_key.as_deref(), Some("sentry-metric-4"));
    assert_eq!(critical.summary, "Critical: Too many errors");
    assert_eq!(critical.severity.as_deref(), Some("critical"));
    assert_eq!(critical.source, "earth");
    assert_eq!(critical.labels["project"], "earth");
    assert_eq!(
        critical.details["description"],
        "1000 events in the last 10 minutes\nFilter: level:error"
    );
    assert_eq!(critical.details["alert_rule"], "Too many errors");
    assert_eq!(
        critical.links[0].href,
        "https://sentry.io/organizations/example/alerts/1/"
    );
    assert_eq!(
        critical.starts_at,
        Some("2021-02-11T22:47:00Z".parse().unwrap())
    );
    // The same shape is recognised without the header, too.
    assert_eq!(parse_str(METRIC_ALERT).unwrap(), critical);

    let warning = hook(
        "metric_alert",
        &METRIC_ALERT
            .replace(r#""action": "critical""#, r#""action": "warning""#)
            .replace("Critical: Too", "Warning: Too"),
    )
    .unwrap();
    assert_eq!(warning.action, AlertAction::Trigger);
    assert_eq!(warning.dedup_key, critical.dedup_key);
    assert_eq!(warning.severity.as_deref(), Some("warning"));

    let resolved = hook(
        "metric_alert",
        &METRIC_ALERT.replace(r#""action": "critical""#, r#""action": "resolved""#),
    )
    .unwrap();
    assert_eq!(resolved.action, AlertAction::Resolve);
    assert_eq!(resolved.dedup_key, critical.dedup_key);
    assert_eq!(resolved.severity, None);
}

#[test]
fn the_resource_header_decides_and_other_resources_are_refused() {
    // Documented resources that raise no alert are refused by name.
    for resource in [
        "installation",
        "error",
        "comment",
        "activity_alert",
        "seer",
        "preprod_artifact",
    ] {
        let err = hook(resource, r#"{"action": "created", "data": {}}"#).unwrap_err();
        assert_eq!(err.field, RESOURCE_HEADER, "{resource}");
        assert!(
            err.message
                .starts_with(&format!("resource `{resource}` is not supported")),
            "{err}"
        );
    }
    // The header names what the body must hold.
    for (resource, field) in [
        ("event_alert", "data.event"),
        ("metric_alert", "data.metric_alert"),
        ("issue", "data.issue"),
    ] {
        let err = hook(resource, r#"{"action": "created", "data": {}}"#).unwrap_err();
        assert_eq!(err.field, field, "{resource}: {err}");
    }
    assert_eq!(
        hook("issue", ISSUE).unwrap(),
        parse_str(ISSUE).unwrap(),
        "the header agrees with the shape"
    );
    assert_eq!(
        hook("event_alert", EVENT_ALERT).unwrap(),
        parse_str(EVENT_ALERT).unwrap()
    );
    let err = hook(
        "metric_alert",
        &METRIC_ALERT.replace(r#""action": "critical""#, r#""action": "exploded""#),
    )
    .unwrap_err();
    assert_eq!(err.field, "action");
    let err = hook(
        "metric_alert",
        &METRIC_ALERT.replace(r#""id": "4""#, r#""id": """#),
    )
    .unwrap_err();
    assert_eq!(err.field, "data.metric_alert.id");
}
