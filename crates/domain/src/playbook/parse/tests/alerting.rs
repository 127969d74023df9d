//! Tests for the `alerting:` section and `when_alerts_resolve` of services.

use jiff::SignedDuration;

use super::check;
use crate::alerting::{parse_matchers, GroupBy, GroupingRule, InhibitRule};
use crate::playbook::{AlertingConfig, AlertsResolved, Playbook};

fn alerting(yaml: &str) -> AlertingConfig {
    Playbook::parse("p.yaml", yaml)
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"))
        .alerting
}

#[test]
fn defaults_when_absent() {
    let default = AlertingConfig::default();
    assert_eq!(
        default,
        AlertingConfig {
            grouping: GroupingRule {
                by: GroupBy::Service,
                window: SignedDuration::from_mins(5),
            },
            max_open_alerts_per_service: 10_000,
            resolve_timeout: SignedDuration::from_mins(5),
            inhibit_rules: vec![],
        }
    );
    // The built-in file spells out the same defaults.
    assert_eq!(Playbook::builtin().alerting, default);
    for yaml in ["", "alerting:\n", "alerting: {}\n", "alerting: null\n"] {
        assert_eq!(alerting(yaml), default, "{yaml}");
    }
    // Each key left out keeps its default.
    let only_cap = alerting("alerting:\n  max_open_alerts_per_service: 3\n");
    assert_eq!(
        only_cap,
        AlertingConfig {
            max_open_alerts_per_service: 3,
            ..AlertingConfig::default()
        }
    );
    let only_by = alerting("alerting:\n  group_by: group_key\n");
    assert_eq!(only_by.grouping.window, default.grouping.window);
    assert_eq!(only_by.resolve_timeout, default.resolve_timeout);
    assert_eq!(alerting("alerting:\n  inhibit_rules:\n").inhibit_rules, []);
}

#[test]
fn every_key_is_parsed() {
    let yaml = r#"
alerting:
  group_by: [alertname, "service.name"]
  group_window: 10m
  max_open_alerts_per_service: 1000000
  resolve_timeout: 1h 30m
  inhibit_rules:
    - source: 'severity="critical"'
      target: 'severity=~"warning|info"'
      equal: [alertname, service]
    - source: '{alertname="DatacenterDown", env!=""}'
      target: env=prod
"#;
    let matchers = |text: &str| parse_matchers(text).unwrap();
    assert_eq!(
        alerting(yaml),
        AlertingConfig {
            grouping: GroupingRule {
                by: GroupBy::Labels(vec!["alertname".into(), "service.name".into()]),
                window: SignedDuration::from_mins(10),
            },
            max_open_alerts_per_service: 1_000_000,
            resolve_timeout: SignedDuration::from_mins(90),
            inhibit_rules: vec![
                InhibitRule {
                    source: matchers(r#"severity="critical""#),
                    target: matchers(r#"severity=~"warning|info""#),
                    equal: vec!["alertname".into(), "service".into()],
                },
                InhibitRule {
                    source: matchers(r#"alertname="DatacenterDown", env!="""#),
                    target: matchers("env=prod"),
                    equal: vec![],
                },
            ],
        }
    );
    let by = |value: &str| {
        alerting(&format!("alerting:\n  group_by: {value}\n"))
            .grouping
            .by
    };
    assert_eq!(by("service"), GroupBy::Service);
    assert_eq!(by("group_key"), GroupBy::GroupKey);
    assert_eq!(
        by("\n    - env\n    - region"),
        GroupBy::Labels(vec!["env".into(), "region".into()])
    );
    assert_eq!(
        alerting("alerting:\n  max_open_alerts_per_service: 1\n").max_open_alerts_per_service,
        1
    );
}

#[test]
fn when_alerts_resolve_per_service() {
    let yaml = "services:\n  - id: api\n    name: API\n  - id: db\n    name: Database\n    when_alerts_resolve: monitor\n  - id: web\n    name: Web\n    when_alerts_resolve: resolve\n";
    let p = Playbook::parse("p.yaml", yaml).unwrap();
    let policy: Vec<_> = p.services.iter().map(|s| s.when_alerts_resolve).collect();
    assert_eq!(
        policy,
        [
            AlertsResolved::Resolve,
            AlertsResolved::Monitor,
            AlertsResolved::Resolve
        ]
    );
    assert_eq!(p.when_alerts_resolve("db"), AlertsResolved::Monitor);
    assert_eq!(p.when_alerts_resolve("DB"), AlertsResolved::Monitor);
    assert_eq!(p.when_alerts_resolve("api"), AlertsResolved::Resolve);
    assert_eq!(p.when_alerts_resolve("unknown"), AlertsResolved::Resolve);

    let builtin = Playbook::builtin();
    assert_eq!(
        builtin.when_alerts_resolve("database"),
        AlertsResolved::Monitor
    );
    assert_eq!(builtin.when_alerts_resolve("api"), AlertsResolved::Resolve);
    for policy in [AlertsResolved::Resolve, AlertsResolved::Monitor] {
        assert_eq!(AlertsResolved::parse(policy.as_str()), Some(policy));
    }
}

/// `alerting:` with one inhibit rule whose lines are `rule` (4 spaces in);
/// the rule's first key is on line 3, column 7.
fn rule(rule: &str) -> String {
    format!("alerting:\n  inhibit_rules:\n    - {rule}\n")
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    check(
        "alerting:\n  group_by: service\n  group_windw: 5m\n",
        3,
        3,
        "alerting.group_windw",
        "unknown field `group_windw`, expected one of",
    );
    check(
        &rule("source: a=b\n      target: c=d\n      equals: [alertname]"),
        5,
        7,
        "alerting.inhibit_rules[0].equals",
        "unknown field `equals`",
    );
    check(
        &rule("source_matchers: ['a=\"b\"']"),
        3,
        7,
        "alerting.inhibit_rules[0].source_matchers",
        "unknown field `source_matchers`",
    );
    check(
        "services:\n  - id: api\n    name: API\n    when_alert_resolve: monitor\n",
        4,
        5,
        "services[0].when_alert_resolve",
        "unknown field `when_alert_resolve`",
    );
    check(
        &rule("source: a=b"),
        3,
        7,
        "alerting.inhibit_rules[0].target",
        "missing field `target`",
    );
}

#[test]
fn bad_matchers_are_errors() {
    check(
        &rule("source: 'severity=\"critical'\n      target: a=b"),
        3,
        15,
        "alerting.inhibit_rules[0].source",
        "bad matcher",
    );
    check(
        &rule("source: a=b\n      target: 'severity=~\"(warning\"'"),
        4,
        15,
        "alerting.inhibit_rules[0].target",
        "invalid regex",
    );
    check(
        &rule("source: a=b\n      target: '9a=b'"),
        4,
        15,
        "alerting.inhibit_rules[0].target",
        "expected a label name",
    );
    check(
        &rule("source: ''\n      target: a=b"),
        3,
        15,
        "alerting.inhibit_rules[0].source",
        "at least one matcher",
    );
    check(
        &rule("source: '{}'\n      target: a=b"),
        3,
        15,
        "alerting.inhibit_rules[0].source",
        "at least one matcher",
    );
    check(
        &rule("source: a=b\n      target: c=d\n      equal: [alertname, '']"),
        5,
        26,
        "alerting.inhibit_rules[0].equal[1]",
        "must not be empty",
    );
    let err =
        Playbook::parse("playbook.yaml", &rule("source: a=\"b\n      target: c=d")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("playbook.yaml:3:15: alerting.inhibit_rules[0].source: bad matcher "),
        "{err}"
    );
}

#[test]
fn bad_durations_and_caps_are_errors() {
    let key = |key: &str, value: &str| format!("alerting:\n  {key}: {value}\n");
    check(
        &key("group_window", "soon"),
        2,
        17,
        "alerting.group_window",
        "not a duration",
    );
    check(
        &key("group_window", "0s"),
        2,
        17,
        "alerting.group_window",
        "must be positive",
    );
    check(
        &key("resolve_timeout", "1 month"),
        2,
        20,
        "alerting.resolve_timeout",
        "no fixed length",
    );
    check(
        &key("resolve_timeout", "-5m"),
        2,
        20,
        "alerting.resolve_timeout",
        "must be positive",
    );
    for cap in ["0", "-1", "1000001", "99999999999"] {
        check(
            &key("max_open_alerts_per_service", cap),
            2,
            32,
            "alerting.max_open_alerts_per_service",
            "out of range: write a number from 1 to 1000000",
        );
    }
    for not_a_number in ["lots", "1.5"] {
        check(
            &key("max_open_alerts_per_service", not_a_number),
            2,
            32,
            "alerting.max_open_alerts_per_service",
            "expected a whole number",
        );
    }
}

#[test]
fn bad_group_by_and_policy_are_errors() {
    let by = |value: &str| format!("alerting:\n  group_by: {value}\n");
    check(
        &by("labels"),
        2,
        13,
        "alerting.group_by",
        "\"labels\" is not `service` or `group_key`",
    );
    check(
        &by("[]"),
        2,
        13,
        "alerting.group_by",
        "at least one label name",
    );
    check(
        &by("[env, '']"),
        2,
        19,
        "alerting.group_by[1]",
        "must not be empty",
    );
    check(
        &by("{env: prod}"),
        2,
        13,
        "alerting.group_by",
        "expected `service`, `group_key` or a list of label names",
    );
    check(
        &by("5"),
        2,
        13,
        "alerting.group_by",
        "\"5\" is not `service` or `group_key`",
    );
    check(
        "services:\n  - id: api\n    name: API\n    when_alerts_resolve: close\n",
        4,
        26,
        "services[0].when_alerts_resolve",
        "\"close\" is not `resolve` or `monitor`",
    );
    check(
        "alerting: [group_by]\n",
        1,
        11,
        "alerting",
        "expected a mapping",
    );
}
