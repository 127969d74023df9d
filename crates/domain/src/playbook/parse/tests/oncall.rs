//! Tests for the `oncall:` section, the `escalation_policy` of services and
//! the `urgency` of severities.

use jiff::civil::{date, time};
use jiff::SignedDuration;

use super::check;
use crate::oncall::schedule::Day;
use crate::oncall::{
    ContactKind, ContactMethod, EscalationPolicy, EscalationStep, Layer, NotificationRule,
    Restriction, Schedule, ShiftLength, Target, Team, TeamMode, Urgency, User, Vendor,
};
use crate::playbook::{OncallConfig, Playbook};

fn parse(yaml: &str) -> Playbook {
    Playbook::parse("p.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

#[test]
fn severity_urgency_is_high_unless_written_low() {
    let builtin = Playbook::builtin();
    let urgencies: Vec<_> = builtin.severities.iter().map(|s| s.urgency).collect();
    assert_eq!(
        urgencies,
        [Urgency::High, Urgency::High, Urgency::Low, Urgency::Low]
    );
    assert_eq!(builtin.urgency_for("sev-2"), Urgency::Low);
    assert_eq!(builtin.urgency_for("SEV-0"), Urgency::High);
    // A severity the playbook does not know pages at high urgency.
    assert_eq!(builtin.urgency_for("P9"), Urgency::High);

    let p = parse(
        "severities:\n  - {name: P1, label: High}\n  - {name: P2, label: Low, urgency: low}\n",
    );
    assert_eq!(p.urgency_for("P1"), Urgency::High);
    assert_eq!(p.urgency_for("P2"), Urgency::Low);
}

#[test]
fn bad_urgency_is_an_error() {
    check(
        "severities:\n  - name: P1\n    label: High\n    urgency: urgent\n",
        4,
        14,
        "severities[0].urgency",
        "\"urgent\" is not `high` or `low`",
    );
}

#[test]
fn absent_or_empty_means_nobody() {
    let default = OncallConfig::default();
    assert_eq!(default.ack_link_ttl, SignedDuration::from_hours(24));
    assert_eq!(Playbook::builtin().oncall, default);
    for yaml in [
        "",
        "oncall:\n",
        "oncall: {}\n",
        "oncall: null\n",
        "oncall:\n  users: []\n  teams:\n",
    ] {
        assert_eq!(parse(yaml).oncall, default, "{yaml}");
    }
    let p = Playbook::builtin();
    assert!(p.escalation_policy_for("api").is_none());
    assert!(p.services.iter().all(|s| s.escalation_policy.is_none()));
}

const FULL: &str = r#"
services:
  - id: api
    name: API
  - id: database
    name: Database
    escalation_policy: dba
oncall:
  users:
    - name: alice
      full_name: Alice Example
      email: alice@example.com
      time_zone: America/New_York
      role: Network Engineer
      contact_methods:
        - {id: phone, kind: sms, address: "+14155550100"}
        - {id: hook, kind: webhook, address: "https://hooks.example.com/alice", verified: false}
      notification_rules:
        - {urgency: high, contact_method: phone, delay_minutes: 0}
    - name: bob
      email: bob@example.com
  teams: [{name: dba, members: [alice]}]
  vendors: [{name: sip-trunk, provides: SIP Trunk Provider, support_phone: "+18005550199", account_number: "123", hours: 24/7}]
  schedules:
    - name: primary
      time_zone: America/New_York
      layers:
        - name: weekly
          users: [alice, bob]
          shift: {weeks: 1}
          start: 2026-01-05T09:00:00
          restrictions: [{days: [mon, tue], from: "09:00", to: "17:00"}]
  escalation_policies:
    - name: default
      repeat: 1
      steps:
        - delay_minutes: 5
          targets: [{type: schedule, name: primary}]
        - delay_minutes: 10
          targets: [{type: team, name: dba, mode: round_robin}]
    - name: dba
      steps:
        - delay_minutes: 1
          targets: [{type: user, name: bob}]
  default_escalation_policy: default
  acknowledge_timeout: 30m
  ack_link_ttl: 12h
"#;

#[test]
fn every_key_is_parsed() {
    let p = parse(FULL);
    let alice = User {
        name: "alice".into(),
        full_name: "Alice Example".into(),
        email: "alice@example.com".into(),
        time_zone: "America/New_York".into(),
        role: "Network Engineer".into(),
        contact_methods: vec![
            ContactMethod {
                id: "phone".into(),
                kind: ContactKind::Sms,
                address: "+14155550100".into(),
                verified: true,
            },
            // Written `verified: false`, verified all the same.
            ContactMethod {
                id: "hook".into(),
                kind: ContactKind::Webhook,
                address: "https://hooks.example.com/alice".into(),
                verified: true,
            },
        ],
        notification_rules: vec![NotificationRule {
            urgency: Urgency::High,
            contact_method: "phone".into(),
            delay_minutes: 0,
        }],
    };
    let bob = User {
        name: "bob".into(),
        full_name: String::new(),
        email: "bob@example.com".into(),
        time_zone: "UTC".into(),
        role: String::new(),
        contact_methods: vec![],
        notification_rules: vec![],
    };
    let default_policy = EscalationPolicy {
        name: "default".into(),
        description: String::new(),
        repeat: 1,
        steps: vec![
            EscalationStep {
                delay_minutes: 5,
                targets: vec![Target::Schedule {
                    name: "primary".into(),
                }],
            },
            EscalationStep {
                delay_minutes: 10,
                targets: vec![Target::Team {
                    name: "dba".into(),
                    mode: TeamMode::RoundRobin,
                }],
            },
        ],
    };
    let dba_policy = EscalationPolicy {
        name: "dba".into(),
        description: String::new(),
        repeat: 0,
        steps: vec![EscalationStep {
            delay_minutes: 1,
            targets: vec![Target::User { name: "bob".into() }],
        }],
    };
    assert_eq!(
        p.oncall,
        OncallConfig {
            users: vec![alice.clone(), bob],
            teams: vec![Team {
                name: "dba".into(),
                description: String::new(),
                members: vec!["alice".into()],
            }],
            vendors: vec![Vendor {
                name: "sip-trunk".into(),
                provides: "SIP Trunk Provider".into(),
                support_phone: "+18005550199".into(),
                support_email: String::new(),
                account_number: "123".into(),
                hours: "24/7".into(),
                notes: String::new(),
            }],
            schedules: vec![Schedule {
                name: "primary".into(),
                description: String::new(),
                time_zone: "America/New_York".into(),
                layers: vec![Layer {
                    name: "weekly".into(),
                    users: vec!["alice".into(), "bob".into()],
                    shift: ShiftLength::Weeks(1),
                    start: date(2026, 1, 5).at(9, 0, 0, 0),
                    end: None,
                    restrictions: vec![Restriction {
                        days: vec![Day::Mon, Day::Tue],
                        from: time(9, 0, 0, 0),
                        to: time(17, 0, 0, 0),
                    }],
                }],
            }],
            escalation_policies: vec![default_policy.clone(), dba_policy.clone()],
            default_escalation_policy: Some("default".into()),
            acknowledge_timeout: Some(SignedDuration::from_mins(30)),
            ack_link_ttl: SignedDuration::from_hours(12),
        }
    );
    assert_eq!(
        p.service("database").unwrap().escalation_policy.as_deref(),
        Some("dba")
    );
    assert!(alice.is_reachable());

    // Lookups.
    assert_eq!(p.user("ALICE"), Some(&alice));
    assert!(p.user("carol").is_none());
    assert_eq!(p.team("dba").unwrap().members, ["alice"]);
    assert_eq!(p.vendor("sip-trunk").unwrap().hours, "24/7");
    assert_eq!(p.schedule("primary").unwrap().layers.len(), 1);
    assert_eq!(p.escalation_policy("dba"), Some(&dba_policy));
    // A service's own policy, else the default one.
    assert_eq!(p.escalation_policy_for("database"), Some(&dba_policy));
    assert_eq!(p.escalation_policy_for("Database"), Some(&dba_policy));
    assert_eq!(p.escalation_policy_for("api"), Some(&default_policy));
    assert_eq!(p.escalation_policy_for("unknown"), Some(&default_policy));

    // Without a default, a service without a policy has none.
    let no_default = FULL.replace("  default_escalation_policy: default\n", "");
    let p = parse(&no_default);
    assert_eq!(p.escalation_policy_for("api"), None);
    assert_eq!(p.escalation_policy_for("database"), Some(&dba_policy));
}

/// The example in the comments of `examples/playbook.yaml`, uncommented.
fn documented_example() -> String {
    let builtin = include_str!("../../../../../../examples/playbook.yaml");
    let mut lines = builtin
        .lines()
        .skip_while(|line| *line != "# oncall:")
        .take_while(|line| line.starts_with('#'))
        .map(|line| {
            line.strip_prefix("# ")
                .unwrap_or(line.trim_start_matches('#'))
        })
        .peekable();
    assert!(
        lines.peek().is_some(),
        "no `# oncall:` example in the built-in playbook"
    );
    lines.collect::<Vec<_>>().join("\n") + "\n"
}

#[test]
fn documented_example_is_valid() {
    let example = documented_example();
    let p = parse(&format!(
        "{example}services:\n  - id: db\n    name: Database\n    escalation_policy: default\n"
    ));
    let o = &p.oncall;
    let names = |it: Vec<&str>| it.join(",");
    assert_eq!(
        names(o.users.iter().map(|u| u.name.as_str()).collect()),
        "alice,bob"
    );
    assert_eq!(
        names(o.teams.iter().map(|t| t.name.as_str()).collect()),
        "dba"
    );
    assert_eq!(
        names(o.vendors.iter().map(|v| v.name.as_str()).collect()),
        "sip-trunk"
    );
    assert_eq!(o.schedules[0].layers.len(), 2);
    assert_eq!(o.escalation_policies[0].steps.len(), 3);
    assert_eq!(o.default_escalation_policy.as_deref(), Some("default"));
    assert_eq!(o.acknowledge_timeout, Some(SignedDuration::from_mins(30)));
    assert_eq!(o.ack_link_ttl, SignedDuration::from_hours(24));
    assert!(o
        .users
        .iter()
        .flat_map(|u| &u.contact_methods)
        .all(|m| m.verified));
    assert_eq!(p.escalation_policy_for("db").unwrap().name, "default");
}

/// Two users, alice and bob (lines 1 to 6); what follows starts at line 7.
const USERS: &str = "oncall:\n  users:\n    - name: alice\n      email: alice@example.com\n    - name: bob\n      email: bob@example.com\n";

#[test]
fn bad_users_are_errors() {
    let user = |lines: &str| format!("oncall:\n  users:\n    - name: alice\n{lines}");
    check(
        &user("      email: alice.example.com\n"),
        4,
        14,
        "oncall.users[0].email",
        "\"alice.example.com\" is not an e-mail address",
    );
    check(
        "oncall:\n  users:\n    - name: Alice\n      email: a@example.com\n",
        3,
        13,
        "oncall.users[0].name",
        "is not a handle",
    );
    check(
        &user("      email: a@example.com\n      time_zone: Mars/Olympus\n"),
        5,
        18,
        "oncall.users[0].time_zone",
        "not an IANA time zone",
    );
    check(
        &user("      email: a@example.com\n      contact_methods:\n        - {id: phone, kind: sms, address: \"555\"}\n"),
        6,
        43,
        "oncall.users[0].contact_methods[0].address",
        "not an E.164 phone number",
    );
    check(
        &user("      email: a@example.com\n      contact_methods:\n        - {id: phone, kind: fax, address: x}\n"),
        6,
        29,
        "oncall.users[0].contact_methods[0].kind",
        "unknown variant `fax`",
    );
    check(
        &user("      email: a@example.com\n      notification_rules:\n        - {urgency: high, contact_method: pager}\n"),
        6,
        43,
        "oncall.users[0].notification_rules[0].contact_method",
        "\"pager\" is not one of this user's contact methods",
    );
    check(
        &user("      email: a@example.com\n      emial: a@example.com\n"),
        5,
        7,
        "oncall.users[0].emial",
        "unknown field `emial`",
    );
    check(
        "oncall:\n  users:\n    - name: alice\n",
        3,
        7,
        "oncall.users[0].email",
        "missing field `email`",
    );
    check(
        &format!("{USERS}    - name: alice\n      email: other@example.com\n"),
        7,
        13,
        "oncall.users[2].name",
        "\"alice\" is already used by oncall.users[0]",
    );
}

#[test]
fn bad_teams_and_vendors_are_errors() {
    check(
        &format!("{USERS}  teams:\n    - name: dba\n      members: [alice, carol]\n"),
        9,
        24,
        "oncall.teams[0].members[1]",
        "no user named \"carol\" in oncall.users",
    );
    check(
        &format!("{USERS}  teams:\n    - name: dba\n      members: [alice, alice]\n"),
        9,
        24,
        "oncall.teams[0].members[1]",
        "\"alice\" is listed twice",
    );
    check(
        &format!("{USERS}  teams:\n    - name: dba\n    - name: ops\n    - name: dba\n"),
        10,
        13,
        "oncall.teams[2].name",
        "\"dba\" is already used by oncall.teams[0]",
    );
    check(
        "oncall:\n  vendors:\n    - name: isp\n    - name: isp\n",
        4,
        13,
        "oncall.vendors[1].name",
        "already used by oncall.vendors[0]",
    );
    check(
        "oncall:\n  vendors:\n    - name: isp\n      phone: \"+1\"\n",
        4,
        7,
        "oncall.vendors[0].phone",
        "unknown field `phone`",
    );
}

/// A schedule of `users` after [`USERS`], with a layer's `shift`, `start` and
/// further lines (from line 15).
fn schedule(zone: &str, users: &str, shift: &str, start: &str, more: &str) -> String {
    format!(
        "{USERS}  schedules:\n    - name: primary\n      time_zone: {zone}\n      layers:\n        - name: weekly\n          users: {users}\n          shift: {shift}\n          start: {start}\n{more}"
    )
}

#[test]
fn bad_schedules_are_errors() {
    let start = "2026-01-05T09:00:00";
    let week = "{weeks: 1}";
    parse(&schedule("UTC", "[alice, bob]", week, start, ""));
    check(
        &schedule("Mars/Olympus", "[alice]", week, start, ""),
        9,
        18,
        "oncall.schedules[0].time_zone",
        "\"Mars/Olympus\" is not an IANA time zone",
    );
    check(
        &schedule("UTC", "[alice, carol]", week, start, ""),
        12,
        26,
        "oncall.schedules[0].layers[0].users[1]",
        "no user named \"carol\" in oncall.users",
    );
    check(
        &schedule("UTC", "[]", week, start, ""),
        12,
        18,
        "oncall.schedules[0].layers[0].users",
        "needs at least one user",
    );
    check(
        &schedule("UTC", "[alice]", "{months: 1}", start, ""),
        13,
        19,
        "oncall.schedules[0].layers[0].shift.months",
        "unknown variant `months`, expected one of hours, days, weeks",
    );
    check(
        &schedule("UTC", "[alice]", "{hours: 0}", start, ""),
        13,
        26,
        "oncall.schedules[0].layers[0].shift.hours",
        "must be from 1 to 8760 hours",
    );
    check(
        &schedule("UTC", "[alice]", "{weeks: 53}", start, ""),
        13,
        26,
        "oncall.schedules[0].layers[0].shift.weeks",
        "must be from 1 to 52 weeks",
    );
    check(
        &schedule("UTC", "[alice]", "{days: -1}", start, ""),
        13,
        25,
        "oncall.schedules[0].layers[0].shift.days",
        "expected a whole number",
    );
    check(
        &schedule("UTC", "[alice]", week, "2026-13-05T09:00:00", ""),
        14,
        18,
        "oncall.schedules[0].layers[0].start",
        "month",
    );
    check(
        &schedule(
            "UTC",
            "[alice]",
            week,
            start,
            "          end: 2026-01-05T09:00:00\n",
        ),
        15,
        16,
        "oncall.schedules[0].layers[0].end",
        "is not after the layer's start",
    );
    check(
        &schedule(
            "UTC",
            "[alice]",
            week,
            start,
            "          restrictions: [{days: [mon, tux], from: \"09:00\", to: \"17:00\"}]\n",
        ),
        15,
        39,
        "oncall.schedules[0].layers[0].restrictions[0].days[1]",
        "unknown variant `tux`",
    );
    check(
        &format!(
            "{USERS}  schedules:\n    - name: primary\n      time_zone: UTC\n      layers: []\n"
        ),
        10,
        15,
        "oncall.schedules[0].layers",
        "needs at least one layer",
    );
    let twice = schedule(
        "UTC",
        "[alice]",
        week,
        start,
        "    - name: primary\n      time_zone: UTC\n      layers: [{name: l, users: [bob], shift: {days: 1}, start: 2026-01-01T00:00:00}]\n",
    );
    check(
        &twice,
        15,
        13,
        "oncall.schedules[1].name",
        "\"primary\" is already used by oncall.schedules[0]",
    );
}

/// A policy with one step whose targets are `targets`, after [`USERS`], a
/// team `dba` and a schedule `primary` (the step is at line 21).
fn policy(delay: &str, targets: &str) -> String {
    let setup = schedule("UTC", "[alice]", "{weeks: 1}", "2026-01-05T09:00:00", "");
    format!(
        "{setup}  teams: [{{name: dba, members: [bob]}}]\n  escalation_policies:\n    - name: default\n      steps:\n        - delay_minutes: {delay}\n          targets: {targets}\n"
    )
}

#[test]
fn bad_policies_are_errors() {
    parse(&policy(
        "5",
        "[{type: schedule, name: primary}, {type: team, name: dba}, {type: user, name: bob}]",
    ));
    check(
        &policy("5", "[{type: schedule, name: secondary}]"),
        20,
        44,
        "oncall.escalation_policies[0].steps[0].targets[0].name",
        "no schedule named \"secondary\" in oncall.schedules",
    );
    check(
        &policy("5", "[{type: user, name: alice}, {type: team, name: dbas}]"),
        20,
        67,
        "oncall.escalation_policies[0].steps[0].targets[1].name",
        "no team named \"dbas\" in oncall.teams",
    );
    check(
        &policy("5", "[{type: user, name: carol}]"),
        20,
        40,
        "oncall.escalation_policies[0].steps[0].targets[0].name",
        "no user named \"carol\" in oncall.users",
    );
    check(
        &policy("5", "[{type: team, name: dba, mod: all}]"),
        20,
        45,
        "oncall.escalation_policies[0].steps[0].targets[0].mod",
        "unknown field `mod`",
    );
    check(
        &policy("5", "\n            - type: team\n              name: dba\n              mode: all\n              mod: all\n"),
        24,
        15,
        "oncall.escalation_policies[0].steps[0].targets[0].mod",
        "unknown field `mod`",
    );
    // Reported at the `type` key: serde reads a tagged mapping whole first.
    check(
        &policy("5", "[{type: pager, name: dba}]"),
        20,
        22,
        "oncall.escalation_policies[0].steps[0].targets[0].type",
        "unknown variant `pager`",
    );
    check(
        &policy("0", "[{type: user, name: bob}]"),
        19,
        26,
        "oncall.escalation_policies[0].steps[0].delay_minutes",
        "must be from 1 to 1440 minutes",
    );
    check(
        &policy("5", "[]"),
        20,
        20,
        "oncall.escalation_policies[0].steps[0].targets",
        "needs 1 to 20 targets",
    );
    check(
        &format!("{}    - name: default\n      steps: [{{delay_minutes: 1, targets: [{{type: user, name: bob}}]}}]\n", policy("5", "[{type: user, name: bob}]")),
        21,
        13,
        "oncall.escalation_policies[1].name",
        "\"default\" is already used by oncall.escalation_policies[0]",
    );
}

#[test]
fn bad_references_to_policies_are_errors() {
    check(
        &format!("{USERS}  default_escalation_policy: nobody\n"),
        7,
        30,
        "oncall.default_escalation_policy",
        "no escalation policy named \"nobody\" in oncall.escalation_policies",
    );
    // Without an `oncall:` section there are no policies at all.
    check(
        "services:\n  - id: api\n    name: API\n    escalation_policy: pager\n",
        4,
        24,
        "services[0].escalation_policy",
        "no escalation policy named \"pager\"",
    );
    let yaml = format!(
        "services:\n  - id: api\n    name: API\n  - id: db\n    name: DB\n    escalation_policy: dba\n{}",
        policy("5", "[{type: user, name: bob}]")
    );
    check(
        &yaml,
        6,
        24,
        "services[1].escalation_policy",
        "no escalation policy named \"dba\" in oncall.escalation_policies",
    );
}

#[test]
fn unknown_keys_and_bad_durations_are_errors() {
    check(
        "oncall:\n  user: []\n",
        2,
        3,
        "oncall.user",
        "unknown field `user`",
    );
    check(
        "oncall:\n  acknowledge_timeout: soon\n",
        2,
        24,
        "oncall.acknowledge_timeout",
        "not a duration",
    );
    check(
        "oncall:\n  ack_link_ttl: 0s\n",
        2,
        17,
        "oncall.ack_link_ttl",
        "must be positive",
    );
    check("oncall: []\n", 1, 9, "oncall", "expected a mapping");
}
