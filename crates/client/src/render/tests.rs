//! Tests of the table and timeline views against a fixture incident.

use super::*;
use crate::wire::{Event, Incident};

const INCIDENT: &str = r#"{
  "id": "INC-2026-0001",
  "title": "Database connection failures",
  "summary": "Primary refuses connections.\nReplica lag rising.",
  "severity": "SEV-1",
  "category": "Database",
  "services": ["api", "postgres"],
  "status": "acknowledged",
  "customer_facing": true,
  "users_affected": 1200,
  "roles": [
    {"role": "Incident Commander", "assignee": "alice", "since": "2026-11-25T14:05:00Z"},
    {"role": "Scribe", "assignee": "bob", "since": "2026-11-25T14:06:30Z"}
  ],
  "checklist": [
    {"id": "detection", "name": "Detection", "target": "5m", "done": 2, "total": 2, "items": [
      {"item": 1, "text": "Page on-call", "done": true, "done_by": "alice", "done_at": "2026-11-25T14:04:00Z"},
      {"item": 2, "text": "Open a channel", "done": true, "done_by": "alice", "done_at": "2026-11-25T14:04:30Z"}
    ]},
    {"id": "postmortem", "name": "Post-mortem", "target": null, "done": 1, "total": 2, "items": [
      {"item": 1, "text": "Write the timeline", "done": true, "done_by": "bob", "done_at": "2026-11-26T09:00:00Z"},
      {"item": 2, "text": "Hold the review", "done": false, "done_by": null, "done_at": null}
    ]}
  ],
  "declared_by": "alice",
  "impact_started_at": "2026-11-25T13:55:00Z",
  "detected_at": "2026-11-25T14:01:00Z",
  "declared_at": "2026-11-25T14:03:10Z",
  "acknowledged_at": "2026-11-25T14:05:10Z",
  "mitigated_at": null,
  "resolved_at": null,
  "closed_at": null,
  "updated_at": "2026-11-25T14:06:30Z",
  "some_future_field": {"ignored": true}
}"#;

fn fixture() -> Incident {
    serde_json::from_str(INCIDENT).unwrap()
}

fn with(id: &str, severity: &str, status: &str, title: &str) -> Incident {
    let mut i = fixture();
    (i.id, i.severity, i.status, i.title) =
        (id.into(), severity.into(), status.into(), title.into());
    i
}

#[test]
fn table_columns_line_up() {
    let incidents = [
        fixture(),
        with("INC-2026-0123", "SEV-0", "investigating", "Checkout down"),
    ];
    let table = incident_table(&incidents, TABLE_WIDTH);
    assert_eq!(
        table,
        "\
ID             SEV    STATUS         DECLARED          TITLE
INC-2026-0001  SEV-1  acknowledged   2026-11-25 14:03  Database connection failures
INC-2026-0123  SEV-0  investigating  2026-11-25 14:03  Checkout down
"
    );
}

#[test]
fn long_titles_are_cut_to_the_width_by_display_columns() {
    let long = "Payments ".repeat(20);
    let wide = "決済サービスの障害".repeat(10); // 2 columns a character
    let accents = "Cafe\u{301} ".repeat(40); // `e` + combining acute
    let incidents = [
        with("INC-1", "SEV-2", "triggered", &long),
        with("INC-2", "SEV-2", "triggered", &wide),
        with("INC-3", "SEV-2", "triggered", &accents),
    ];
    let table = incident_table(&incidents, 60);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4);
    let title_at = lines[0].find("TITLE").unwrap();
    for line in &lines[1..] {
        assert!(line.ends_with('…'), "{line}");
        assert!(
            text_width(line) <= 60,
            "{} columns: {line}",
            text_width(line)
        );
        assert!(
            text_width(line) >= 59,
            "{} columns: {line}",
            text_width(line)
        );
        let (before, _) = line.split_at(title_at);
        assert!(
            before.ends_with("  "),
            "title column starts at {title_at}: {line}"
        );
    }
    assert!(lines[3].contains("Cafe\u{301} Cafe\u{301}"));
}

#[test]
fn truncate_keeps_short_text_and_never_splits_characters() {
    assert_eq!(truncate("short", 10), "short");
    assert_eq!(truncate("exactly10!", 10), "exactly10!");
    assert_eq!(truncate("eleven char", 10), "eleven ch…");
    assert_eq!(truncate("日本語のタイトル", 7), "日本語…");
    assert_eq!(truncate("日本語のタイトル", 8), "日本語…");
    assert_eq!(truncate("🔥🔥🔥 fire", 6), "🔥🔥…");
}

#[test]
fn control_characters_cannot_reach_the_terminal() {
    let incidents = [with(
        "INC-1",
        "SEV-1",
        "triggered",
        "evil\u{1b}[2J title\nnext",
    )];
    let table = incident_table(&incidents, TABLE_WIDTH);
    assert!(!table.contains('\u{1b}'));
    assert_eq!(table.lines().count(), 2);
}

#[test]
fn details_show_what_a_responder_needs() {
    let text = incident_details(&fixture(), false);
    for expected in [
        "INC-2026-0001  Database connection failures\n",
        "  Status:       acknowledged\n",
        "  Severity:     SEV-1\n",
        "  Services:     api, postgres\n",
        "  Category:     Database\n",
        "  Impact:       customer-facing, 1200 users affected\n",
        "  Impact began: 2026-11-25 13:55 UTC\n",
        "  Declared:     2026-11-25 14:03 UTC by alice\n",
        "  Acknowledged: 2026-11-25 14:05 UTC (declared +2m)\n",
        "\nSummary:\n  Primary refuses connections.\n  Replica lag rising.\n",
        "  Incident Commander  alice  since 2026-11-25 14:05\n",
        "  Scribe              bob    since 2026-11-25 14:06\n",
        "  Detection 2/2  (target 5m)\n",
        "  Post-mortem [postmortem] 1/2\n",
        "    [x]  1. Write the timeline  (bob, 2026-11-26 09:00)\n",
        "    [ ]  2. Hold the review\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        !text.contains("Page on-call"),
        "finished phases stay short:\n{text}"
    );
    assert!(
        !text.contains("Resolved:"),
        "absent times are left out:\n{text}"
    );
    let all = incident_details(&fixture(), true);
    assert!(
        all.contains("    [x]  1. Page on-call  (alice, 2026-11-25 14:04)\n"),
        "{all}"
    );
}

fn event(at: &str, actor: &str, kind: &str, data: serde_json::Value) -> Event {
    let mut value = data;
    let object = value.as_object_mut().unwrap();
    object.insert("incident_id".into(), "INC-2026-0001".into());
    object.insert("seq".into(), 1.into());
    object.insert("at".into(), at.into());
    object.insert("actor".into(), actor.into());
    object.insert("kind".into(), kind.into());
    serde_json::from_value(value).unwrap()
}

#[test]
fn timeline_has_one_line_per_event() {
    use serde_json::json;
    let events = [
        event(
            "2026-11-25T14:03:10Z",
            "alice",
            "declared",
            json!({"title": "DB down", "severity": "SEV-1", "status": "triggered"}),
        ),
        event(
            "2026-11-25T14:05:10Z",
            "alice",
            "status_changed",
            json!({"from": "triggered", "to": "acknowledged"}),
        ),
        event(
            "2026-11-25T14:06:00Z",
            "pagerbot",
            "severity_changed",
            json!({"from": "SEV-1", "to": "SEV-0", "direction": "raised", "reason": "checkout too"}),
        ),
        event(
            "2026-11-25T14:07:00Z",
            "bob",
            "field_changed",
            json!({"field": "category", "from": null, "to": "Database"}),
        ),
        event(
            "2026-11-25T14:08:00Z",
            "bob",
            "role_handed_off",
            json!({"role": "Scribe", "from": "bob", "to": "carol"}),
        ),
        event(
            "2026-11-25T14:09:00Z",
            "bob",
            "checklist_item",
            json!({"phase": "detection", "item": 2, "text": "Open a channel", "done": true}),
        ),
        event(
            "2026-11-26T00:10:00Z",
            "carol",
            "note",
            json!({"text": "Restarted pgbouncer.\nError rate falling."}),
        ),
        event(
            "2026-11-26T00:11:00Z",
            "carol",
            "future_kind",
            json!({"whatever": 1}),
        ),
    ];
    assert_eq!(
        timeline(&events),
        "\
2026-11-25 (UTC)
14:03:10 alice     declared SEV-1 triggered: DB down
14:05:10 alice     status_changed triggered -> acknowledged
14:06:00 pagerbot  severity_changed SEV-1 -> SEV-0 (raised): checkout too
14:07:00 bob       field_changed category: (none) -> \"Database\"
14:08:00 bob       role_handed_off Scribe: bob -> carol
14:09:00 bob       checklist_item detection 2 done: Open a channel
2026-11-26 (UTC)
00:10:00 carol     note: Restarted pgbouncer.
                   Error rate falling.
00:11:00 carol     future_kind
"
    );
}

#[test]
fn alert_events_show_each_alert_they_list() {
    use serde_json::json;
    let alert = |key: &str, summary: &str| json!({"alert_id": 1, "dedup_key": key, "summary": summary, "severity": "SEV-2", "origin": "prometheus"});
    let events = [
        event(
            "2026-11-25T14:03:10Z",
            "integration:prom",
            "alert_triggered",
            json!({"alerts": [alert("db-1", "Disk full"), alert("db-2", "Disk full\nsecond line")]}),
        ),
        event(
            "2026-11-25T14:04:00Z",
            "integration:prom",
            "alert_resolved",
            json!({"alerts": [{"alert_id": 1, "dedup_key": "db-1", "summary": "Disk full"}]}),
        ),
        // A server from before events listed their alerts.
        event(
            "2026-11-25T14:05:00Z",
            "integration:pd",
            "alert_acknowledged",
            json!({"alert_id": 2, "dedup_key": "db-2"}),
        ),
    ];
    assert_eq!(
        timeline(&events),
        "\
2026-11-25 (UTC)
14:03:10 integration:prom  alert_triggered 2 alerts
                           db-1 SEV-2 from prometheus: Disk full
                           db-2 SEV-2 from prometheus: Disk full
14:04:00 integration:prom  alert_resolved db-1: Disk full
14:05:00 integration:pd    alert_acknowledged db-2
"
    );
}

#[test]
fn long_field_values_are_cut() {
    let summary = "word ".repeat(40);
    let events = [event(
        "2026-11-25T14:07:00Z",
        "bob",
        "field_changed",
        serde_json::json!({"field": "summary", "from": "", "to": summary}),
    )];
    let text = timeline(&events);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("field_changed summary: \"\" -> \"word word"),
        "{text}"
    );
    assert!(text.trim_end().ends_with('…'), "{text}");
}

#[test]
fn elapsed_reads_naturally() {
    let cases = [
        (42, "42s"),
        (120, "2m"),
        (3 * 3600 + 5 * 60, "3h 05m"),
        (2 * 86_400 + 4 * 3600, "2d 4h"),
        (-5, "0s"),
    ];
    for (secs, text) in cases {
        assert_eq!(elapsed(SignedDuration::from_secs(secs)), text);
    }
}
