//! The examples in README.md and docs/*.md work as written: every YAML
//! block that is (part of) a playbook, and the commented examples of
//! examples/playbook.yaml once uncommented, pass `config check`; every
//! README shell line runs against a fresh server (only the set-up lines,
//! which build or test this repository, are not run); the error shown is
//! the error printed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server::{Server, BIN};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fenced block: where it starts, its language and its lines.
struct Block {
    at: String,
    lang: String,
    lines: Vec<String>,
}

fn blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    at: format!("{name}:{}", n + 1),
                    lang: lang.trim().to_owned(),
                    lines: Vec::new(),
                });
            }
            (Some(block), Some(_)) => found.push(block),
            (Some(mut block), None) => {
                block.lines.push(line.to_owned());
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{name}: a code block is never closed");
    found
}

/// The top-level sections of a playbook.
const PLAYBOOK_KEYS: &[&str] = &[
    "incident_id_format",
    "severities",
    "categories",
    "roles",
    "services",
    "phases",
    "alerting",
    "oncall",
    "notifications",
];

/// Runs `config check` on `yaml`; panics with `at` and the output if it fails.
fn config_check(at: &str, yaml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("playbook.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{at}: the example fails `config check`:\n{}\n{yaml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_playbook_example_in_the_docs_passes_config_check() {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut checked = 0;
    for file in files {
        for block in blocks(&file).into_iter().filter(|b| b.lang == "yaml") {
            let keys: Vec<&str> = block
                .lines
                .iter()
                .filter(|l| !l.starts_with([' ', '#', '-']) && !l.trim().is_empty())
                .filter_map(|l| l.split(':').next())
                .collect();
            // Other tools' configuration (Alertmanager's receivers) is theirs to check.
            if keys.is_empty() || !keys.iter().all(|k| PLAYBOOK_KEYS.contains(k)) {
                continue;
            }
            config_check(&block.at, &block.lines.join("\n"));
            checked += 1;
        }
    }
    assert!(checked > 0, "no playbook example found in the docs");
}

/// The commented `# <key>:` example of examples/playbook.yaml, uncommented.
fn commented_example(playbook: &str, key: &str) -> String {
    let start = format!("# {key}:");
    let lines: Vec<&str> = playbook
        .lines()
        .skip_while(|l| *l != start)
        .take_while(|l| l.starts_with('#'))
        .collect();
    assert!(!lines.is_empty(), "no commented `{key}:` example");
    lines
        .iter()
        .map(|l| l.strip_prefix("# ").unwrap_or(l.trim_start_matches('#')))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_commented_examples_of_the_example_playbook_pass_config_check() {
    let playbook = std::fs::read_to_string(repo().join("examples/playbook.yaml")).unwrap();
    for key in ["oncall", "notifications"] {
        let example = commented_example(&playbook, key);
        config_check(&format!("examples/playbook.yaml `{key}:`"), &example);
    }
}

/// The README's shell lines, `\`-continued lines joined, comments kept
/// (the shell drops them); with the block they are in.
fn readme_shell_lines() -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for block in blocks(&repo().join("README.md"))
        .into_iter()
        .filter(|b| b.lang == "sh")
    {
        let mut pending = String::new();
        for line in &block.lines {
            match line.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(line);
                    if !pending.trim().is_empty() {
                        lines.push((block.at.clone(), std::mem::take(&mut pending)));
                    }
                    pending.clear();
                }
            }
        }
    }
    lines
}

/// Set-up lines: they build or test this repository, or say where the
/// server and token are (the test sets both).
fn is_set_up(line: &str) -> bool {
    let line = line.trim_start();
    [
        "cargo ",
        "scripts/",
        "alias warroom=",
        "export WARROOM_TOKEN=",
        "export WARROOM_SERVER=",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// Runs `line` with `sh`, `warroom` being this build, against `server`.
fn shell(server: &Server, token: &str, bin_dir: &Path, line: &str) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .args(["-c", line])
        .env("PATH", path)
        .env("WARROOM_SERVER", &server.url)
        .env("WARROOM_TOKEN", token)
        .output()
        .unwrap()
}

#[test]
fn every_readme_command_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let url = warroom_store::testing::sqlite_url(dir.path());
    let server = Server::start(&url, dir.path());
    let token = server.first_token.clone().unwrap();
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("warroom")).unwrap();
    // The README's IDs are this year's; the server numbers in its own year.
    let year = warroom_engine::Clock::now(&warroom_engine::SystemClock)
        .strftime("%Y")
        .to_string();

    let mut ran = 0;
    for (at, line) in readme_shell_lines() {
        if is_set_up(&line) {
            continue;
        }
        assert!(
            line.trim_start().starts_with("warroom ") || line.trim_start().starts_with("curl "),
            "{at}: a README command this test does not know how to run: {line}"
        );
        let line = line.replace("INC-2026-", &format!("INC-{year}-"));
        let out = shell(&server, &token, &bin_dir, &line);
        assert!(
            out.status.success(),
            "{at}: `{line}` failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} README commands ran");

    // The error example: `$ command` and then what it prints.
    let example = blocks(&repo().join("README.md"))
        .into_iter()
        .find(|b| b.lang.is_empty() && b.lines.first().is_some_and(|l| l.starts_with("$ ")))
        .expect("the README shows an error");
    let command = example.lines[0].strip_prefix("$ ").unwrap();
    let out = shell(&server, &token, &bin_dir, command);
    assert!(
        !out.status.success(),
        "{}: `{command}` succeeded",
        example.at
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        example.lines[1..].join("\n").trim_end(),
        "{}: the error printed is not the one shown",
        example.at
    );
}
