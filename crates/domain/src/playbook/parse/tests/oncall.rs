//! Tests for the `oncall:` section, the `escalation_policy` of services and
//! the `urgency` of severities.

use super::check;
use crate::oncall::Urgency;
use crate::playbook::Playbook;

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
