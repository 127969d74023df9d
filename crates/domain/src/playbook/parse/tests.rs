//! Tests for playbook parsing: the built-in file, defaults, and every kind of error.

use jiff::SignedDuration;

use super::*;
use crate::id_format::SeqScope;

mod alerting;
mod notifications;
mod oncall;

fn mins(n: i64) -> Option<SignedDuration> {
    Some(SignedDuration::from_mins(n))
}

fn hours(n: i64) -> Option<SignedDuration> {
    Some(SignedDuration::from_hours(n))
}

#[test]
fn builtin_playbook_has_the_seeded_defaults() {
    let p = Playbook::builtin();
    assert_eq!(p.incident_id_format.as_str(), "INC-{year}-{seq:04}");

    let names: Vec<_> = p.severities.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["SEV-0", "SEV-1", "SEV-2", "SEV-3"]);
    let sev0 = &p.severities[0];
    assert_eq!(sev0.label, "Critical");
    assert_eq!(
        sev0.description,
        "Complete system outage affecting all users"
    );
    assert_eq!(
        (sev0.response_target, sev0.resolution_target),
        (mins(5), hours(1))
    );
    assert_eq!(
        (sev0.update_every, sev0.escalate_every),
        (mins(15), mins(30))
    );
    let management = sev0.notify.iter().find(|n| n.audience == "management");
    assert_eq!(management.unwrap().within, SignedDuration::from_mins(15));
    let sev1 = p.severity("sev-1").unwrap();
    assert_eq!(sev1.label, "Major");
    assert_eq!(
        (sev1.response_target, sev1.resolution_target),
        (mins(15), hours(4))
    );
    assert_eq!(
        (sev1.update_every, sev1.escalate_every),
        (mins(15), hours(2))
    );
    let management = sev1.notify.iter().find(|n| n.audience == "management");
    assert_eq!(management.unwrap().within, SignedDuration::from_mins(30));
    let sev2 = &p.severities[2];
    assert_eq!(
        (sev2.response_target, sev2.resolution_target),
        (hours(1), hours(24))
    );
    assert_eq!(
        (sev2.update_every, sev2.escalate_every),
        (hours(1), hours(4))
    );
    let sev3 = &p.severities[3];
    assert_eq!(
        (sev3.response_target, sev3.resolution_target),
        (hours(24), hours(7 * 24))
    );
    assert_eq!((sev3.update_every, sev3.escalate_every), (None, None));

    let categories: Vec<_> = p.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        categories,
        [
            "Infrastructure",
            "Application",
            "Database",
            "Security",
            "Third-party",
            "Human Error"
        ]
    );
    let roles: Vec<_> = p.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        roles,
        [
            "Incident Commander",
            "Technical Lead",
            "Communications Coordinator",
            "Subject Matter Expert",
            "Scribe"
        ]
    );
    assert!(p.role("scribe").unwrap().description.contains("timeline"));
    assert_eq!(p.service("api").unwrap().name, "API");
    assert_eq!(p.service("Website").unwrap().id, "web");

    let phases: Vec<_> = p
        .phases
        .iter()
        .map(|ph| (ph.id.as_str(), ph.target.as_deref(), ph.items[0].as_str()))
        .collect();
    assert_eq!(
        phases,
        [
            (
                "detection",
                Some("0-5 min"),
                "Confirm the incident is real (not false alarm)"
            ),
            (
                "notification",
                Some("5-10 min"),
                "Create PagerDuty incident"
            ),
            (
                "containment",
                Some("10-20 min"),
                "Stop the damage from spreading"
            ),
            (
                "recovery",
                Some("20-60 min"),
                "Execute appropriate recovery procedure"
            ),
            (
                "verification",
                Some("60-75 min"),
                "Test critical user flows"
            ),
            (
                "communication",
                Some("75-90 min"),
                "Notify users of resolution"
            ),
            (
                "post-mortem",
                Some("24-48 hours"),
                "Schedule post-mortem meeting"
            ),
        ]
    );
    assert_eq!(
        p.phase("notification").unwrap().items[2],
        "Post to Slack #incidents"
    );
    assert_eq!(p.phase("post-mortem").unwrap().items.len(), 5);
}

#[test]
fn builtin_spells_out_every_section() {
    // Parsed without defaults, so a section missing from the file would fail here.
    parse_with(BUILTIN_FILE, BUILTIN_YAML, None).unwrap();
}

#[test]
fn alternative_id_format_parses() {
    let p = Playbook::parse(
        "p.yaml",
        "incident_id_format: \"INCIDENT-{date}-{seq:03}\"\n",
    )
    .unwrap();
    assert_eq!(p.incident_id_format.as_str(), "INCIDENT-{date}-{seq:03}");
    assert_eq!(p.incident_id_format.scope(), SeqScope::Day);
}

#[test]
fn missing_sections_take_the_builtin_and_empty_ones_mean_none() {
    let yaml = "services:\n  - id: payments\n    name: Payments\nroles: []\ncategories:\n";
    let p = Playbook::parse("p.yaml", yaml).unwrap();
    let builtin = Playbook::builtin();
    assert_eq!(p.severities, builtin.severities);
    assert_eq!(p.phases, builtin.phases);
    assert_eq!(p.incident_id_format, builtin.incident_id_format);
    assert_eq!(p.services.len(), 1);
    assert_eq!(p.services[0].description, "");
    assert!(p.roles.is_empty());
    assert!(p.categories.is_empty());

    let empty = Playbook::parse("p.yaml", "").unwrap();
    assert_eq!(empty.severities, builtin.severities);
}

#[test]
fn optional_fields_default() {
    let yaml = "severities:\n  - name: P1\n    label: High\n    update_every:\n";
    let p = Playbook::parse("p.yaml", yaml).unwrap();
    let p1 = &p.severities[0];
    assert_eq!(p1.description, "");
    assert_eq!((p1.response_target, p1.update_every), (None, None));
    assert!(p1.notify.is_empty());
}

/// One severity, for tests that need a valid `severities` section first (5 lines).
const SEV: &str = "severities:\n  - name: SEV-1\n    label: High\n    update_every: 15m\n    response_target: 5m\n";

/// Parses `yaml` and checks the error's line, column, field and message.
fn check(yaml: &str, line: usize, column: usize, field: &str, message: &str) {
    let err = Playbook::parse("playbook.yaml", yaml).expect_err(yaml);
    assert_eq!(
        (err.line, err.column, err.field.as_str()),
        (Some(line), Some(column), field),
        "{err}\n{yaml}"
    );
    assert!(err.message.contains(message), "{err}\n{yaml}");
    assert_eq!(err.file, "playbook.yaml");
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    check(
        "severites:\n  - name: a\n",
        1,
        1,
        "severites",
        "unknown field `severites`",
    );
    check(
        "severities:\n  - name: SEV-1\n    label: High\n    update_evry: 15m\n",
        4,
        5,
        "severities[0].update_evry",
        "unknown field `update_evry`, expected one of",
    );
    check(
        "severities:\n  - update_evry: 15m\n    name: SEV-1\n",
        2,
        5,
        "severities[0].update_evry",
        "unknown field `update_evry`",
    );
    check(
        &format!("{SEV}    notify:\n      - audience: management\n        withn: 5m\n"),
        8,
        9,
        "severities[0].notify[0].withn",
        "unknown field `withn`",
    );
    check(
        "phases:\n  - id: a\n    name: A\n    item:\n      - x\n",
        4,
        5,
        "phases[0].item",
        "unknown field `item`",
    );
    check(
        "services:\n  - id: a\n    name: A\n  - id: b\n    name: B\n    owner: me\n",
        6,
        5,
        "services[1].owner",
        "unknown field `owner`",
    );
}

#[test]
fn yaml_shape_errors_name_the_field() {
    check(
        "severities:\n  - name: SEV-1\n",
        2,
        5,
        "severities[0].label",
        "missing field `label`",
    );
    check(
        "phases:\n  - id: a\n    name: A\n    items: do it\n",
        4,
        12,
        "phases[0].items",
        "expected a list",
    );
    check("roles:\n  name: x\n", 2, 3, "roles", "expected a list");
    check(
        "severities:\n  - name: [a]\n    label: High\n",
        2,
        11,
        "severities[0].name",
        "expected text",
    );
    check(
        &format!("{SEV}    notify:\n      - {{audience: management}}\n"),
        7,
        10,
        "severities[0].notify[0].within",
        "missing field `within`",
    );
    check(
        "categories:\n  - name: a\n    name: b\n",
        3,
        5,
        "categories[0].name",
        "duplicate",
    );
    let err = Playbook::parse("p.yaml", "roles: [\n").unwrap_err();
    assert!(err.line.is_some() && err.field.is_empty(), "{err}");
}

#[test]
fn bad_durations_are_errors() {
    let sev = |key: &str, value: &str| {
        format!("severities:\n  - name: SEV-1\n    label: High\n    {key}: {value}\n")
    };
    check(
        &sev("update_every", "soon"),
        4,
        19,
        "severities[0].update_every",
        "not a duration",
    );
    check(
        &sev("response_target", "-5m"),
        4,
        22,
        "severities[0].response_target",
        "must be positive",
    );
    check(
        &sev("escalate_every", "0s"),
        4,
        21,
        "severities[0].escalate_every",
        "must be positive",
    );
    check(
        &sev("resolution_target", "1 month"),
        4,
        24,
        "severities[0].resolution_target",
        "no fixed length",
    );
    check(
        &format!("{SEV}    notify:\n      - audience: management\n        within: 15\n"),
        8,
        17,
        "severities[0].notify[0].within",
        "not a duration",
    );
}

#[test]
fn duplicate_names_are_errors() {
    check(
        &format!("{SEV}  - name: sev-1\n    label: Again\n"),
        6,
        11,
        "severities[1].name",
        "\"sev-1\" is already used by severities[0]",
    );
    check(
        "categories:\n  - name: Database\n  - name: Network\n  - name: database\n",
        4,
        11,
        "categories[2].name",
        "already used by categories[0]",
    );
    check(
        "roles:\n  - name: Scribe\n  - name: Scribe\n",
        3,
        11,
        "roles[1].name",
        "already used by roles[0]",
    );
    check(
        "services:\n  - id: api\n    name: API\n  - id: api\n    name: Other\n",
        4,
        9,
        "services[1].id",
        "already used by services[0]",
    );
    check(
        "services:\n  - id: api\n    name: API\n  - id: db\n    name: api\n",
        5,
        11,
        "services[1].name",
        "already used by services[0]",
    );
    check(
        "services:\n  - id: db\n    name: Database\n  - id: pg\n    name: DB\n",
        5,
        11,
        "services[1].name",
        "is the id of services[0]",
    );
    check(
        "phases:\n  - id: a\n    name: A\n  - id: a\n    name: B\n",
        4,
        9,
        "phases[1].id",
        "already used by phases[0]",
    );
}

#[test]
fn bad_slugs_are_errors() {
    for id in [
        "API",
        "-api",
        "pay ments",
        "\"\"",
        "caf\u{e9}",
        &"a".repeat(65),
    ] {
        check(
            &format!("services:\n  - id: {id}\n    name: Thing\n"),
            2,
            9,
            "services[0].id",
            "is not a valid id",
        );
    }
    check(
        "phases:\n  - id: Post Mortem\n    name: Post-Mortem\n",
        2,
        9,
        "phases[0].id",
        "is not a valid id",
    );
    let ok = format!("services:\n  - id: {}\n    name: Long\n", "a-1".repeat(21));
    Playbook::parse("p.yaml", &ok).unwrap();
}

#[test]
fn empty_severities_and_blank_text_are_errors() {
    check(
        "severities: []\n",
        1,
        13,
        "severities",
        "at least one severity",
    );
    check(
        "severities:\n",
        1,
        11,
        "severities",
        "at least one severity",
    );
    check(
        "severities:\n  - name: \" \"\n    label: High\n",
        2,
        11,
        "severities[0].name",
        "must not be empty",
    );
    check(
        "phases:\n  - id: a\n    name: A\n    items:\n      - ''\n",
        5,
        9,
        "phases[0].items[0]",
        "must not be empty",
    );
}

#[test]
fn bad_id_format_is_an_error() {
    check(
        "incident_id_format: \"INC-{year}\"\n",
        1,
        21,
        "incident_id_format",
        "exactly one {seq}",
    );
    check(
        &format!("{SEV}incident_id_format: INC/{{seq}}\n"),
        6,
        21,
        "incident_id_format",
        "'/'",
    );
}

#[test]
fn display_reads_file_line_column_field_message() {
    let yaml = "severities:\n  - name: SEV-1\n    label: High\n    update_evry: 15m\n";
    let err = Playbook::parse("playbook.yaml", yaml).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("playbook.yaml:4:5: severities[0].update_evry: unknown field `update_evry`, expected one of "),
        "{err}"
    );
}

#[test]
fn service_links_keep_their_order_and_name_the_bad_one() {
    let yaml = "services:\n  - id: db\n    name: Database\n    links:\n      runbook: https://wiki.example.com/db\n      dashboard: \" https://grafana.example.com/d/pg \"\n      Status board: http://status.internal/\n  - id: api\n    name: API\n";
    let p = Playbook::parse("p.yaml", yaml).unwrap();
    let links: Vec<(&str, &str)> = p.services[0]
        .links
        .iter()
        .map(|l| (l.name.as_str(), l.url.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            ("runbook", "https://wiki.example.com/db"),
            ("dashboard", "https://grafana.example.com/d/pg"),
            ("Status board", "http://status.internal/"),
        ]
    );
    assert!(p.services[1].links.is_empty());

    let service = "services:\n  - id: db\n    name: Database\n    links:\n";
    check(
        &format!("{service}      runbook: wiki/db\n"),
        5,
        16,
        "services[0].links.runbook",
        "\"wiki/db\" is not an http(s) URL",
    );
    check(
        &format!("{service}      runbook: javascript:alert(1)\n"),
        5,
        16,
        "services[0].links.runbook",
        "is not an http(s) URL",
    );
    check(
        &format!("{service}      - https://wiki\n"),
        5,
        7,
        "services[0].links",
        "expected a mapping",
    );
    let many: String = (0..11)
        .map(|i| format!("      l{i}: https://x/{i}\n"))
        .collect();
    let err = Playbook::parse("p.yaml", &format!("{service}{many}")).unwrap_err();
    assert_eq!(err.field, "services[0].links", "{err}");
    assert!(err.message.contains("at most 10"), "{err}");
}

#[test]
fn a_severity_gives_incidents_a_bridge_and_chat_channel() {
    let yaml = "severities:\n  - name: SEV-1\n    label: High\n    bridge_url: https://meet.example.com/sev1\n    chat_url: \"https://chat.example.com/c/sev1\"\n  - name: SEV-2\n    label: Low\n";
    let playbook = Playbook::parse("playbook.yaml", yaml).unwrap();
    let bridge = &playbook.severities[0].bridge;
    assert_eq!(
        bridge.bridge_url.as_deref(),
        Some("https://meet.example.com/sev1")
    );
    assert_eq!(
        bridge.chat_url.as_deref(),
        Some("https://chat.example.com/c/sev1")
    );
    assert_eq!(playbook.severities[1].bridge, Default::default());
    let sev = |key: &str, value: &str| {
        format!("severities:\n  - name: SEV-1\n    label: High\n    {key}: {value}\n")
    };
    check(
        &sev("bridge_url", "meet.example.com/room"),
        4,
        17,
        "severities[0].bridge_url",
        "is not an http(s) URL",
    );
    check(
        &sev("chat_url", "https://"),
        4,
        15,
        "severities[0].chat_url",
        "has no host",
    );
}
