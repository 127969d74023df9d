//! Fuzzes the playbook loader (YAML to `Playbook`): no panic; a refused
//! playbook's error has a 1-based position; an accepted one keeps the rules
//! `Playbook::parse` and the playbook types document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_domain::playbook::AlertingConfig;
use warroom_domain::{IdFormat, Playbook};

fn check(playbook: &Playbook) {
    assert!(!playbook.severities.is_empty(), "a playbook without severities");
    for (i, level) in playbook.severities.iter().enumerate() {
        assert_eq!(
            playbook.severity_rank(&level.name),
            Some(i),
            "severity {} is not unique",
            level.name
        );
    }
    let format = playbook.incident_id_format.as_str();
    assert_eq!(
        IdFormat::parse(format).as_ref(),
        Ok(&playbook.incident_id_format)
    );
    let alerting = &playbook.alerting;
    assert!(
        (1..=AlertingConfig::MAX_OPEN_ALERTS_LIMIT).contains(&alerting.max_open_alerts_per_service)
    );
    assert!(alerting.resolve_timeout.is_positive());
    for rule in &alerting.inhibit_rules {
        assert!(!rule.source.is_empty() && !rule.target.is_empty());
    }
    let oncall = &playbook.oncall;
    for policy in &oncall.escalation_policies {
        policy.validate().expect("a parsed policy is valid");
    }
    let named = playbook
        .services
        .iter()
        .filter_map(|s| s.escalation_policy.as_deref());
    for name in named.chain(oncall.default_escalation_policy.as_deref()) {
        assert!(
            playbook.escalation_policy(name).is_some(),
            "the policy {name} is named but not defined"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(yaml) = std::str::from_utf8(data) else {
        return;
    };
    match Playbook::parse("fuzz.yaml", yaml) {
        Ok(playbook) => check(&playbook),
        Err(err) => {
            assert!(err.line.is_none_or(|line| line >= 1), "{err}");
            assert!(err.column.is_none_or(|column| column >= 1), "{err}");
            assert!(!err.message.is_empty(), "an error without a message");
        }
    }
});
