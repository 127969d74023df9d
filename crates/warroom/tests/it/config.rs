//! `warroom config check`: the shipped example passes; a typo names line and key.

use std::process::Command;

use crate::server::BIN;

fn check(path: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_example_playbook_passes() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/playbook.yaml");
    let (ok, out, err) = check(&example);
    assert!(ok, "{out}{err}");
    assert!(out.contains("4 severities"), "{out}");
}

#[test]
fn a_typo_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("playbook.yaml");
    std::fs::write(
        &path,
        "severities:\n  - name: SEV-1\n    label: Major\n    update_evry: 15m\n",
    )
    .unwrap();
    let (ok, out, err) = check(&path);
    assert!(!ok, "{out}");
    let expected = format!("{}:4:5: severities[0].update_evry", path.display());
    assert!(err.contains(&expected), "{err}");
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let (ok, _, err) = check(std::path::Path::new("/nonexistent/playbook.yaml"));
    assert!(!ok);
    assert!(
        err.contains("cannot read playbook /nonexistent/playbook.yaml"),
        "{err}"
    );
}

#[test]
fn a_template_with_an_unknown_variable_names_the_template_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("playbook.yaml");
    std::fs::write(
        &path,
        "notifications:\n  templates:\n    - kind: status_update\n      audience: stakeholders\n      subject: \"[UPDATE] {{ incident.id }}\"\n      text: |\n        Status: {{ incident.status }}\n        {{ incident.titel }}\n",
    )
    .unwrap();
    let (ok, out, err) = check(&path);
    assert!(!ok, "{out}");
    let expected = format!("{}:6:7: notifications.templates[0].text", path.display());
    assert!(err.contains(&expected), "{err}");
    assert!(err.contains("status_update/stakeholders"), "{err}");
    assert!(err.contains(", line 2:"), "{err}");
    assert!(err.contains("incident.titel"), "{err}");
}
