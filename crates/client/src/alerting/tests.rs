//! Tests of the command lines of `warroom integration|alert|silence`.

use clap::{CommandFactory, Parser};

use super::*;

/// The shape `main.rs` gives `warroom integration|alert|silence`.
#[derive(Debug, Parser)]
enum Cli {
    Integration {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: IntegrationCommand,
    },
    Alert {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: AlertCommand,
    },
    Silence {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        cmd: SilenceCommand,
    },
}

fn parse(line: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("warroom").chain(line.iter().copied()))
}

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn stays_small_enough_to_embed_in_mains_command_enum() {
    let client = std::mem::size_of::<ClientArgs>();
    for size in [
        std::mem::size_of::<IntegrationCommand>(),
        std::mem::size_of::<AlertCommand>(),
        std::mem::size_of::<SilenceCommand>(),
    ] {
        assert!(client + size <= 224, "{size}");
    }
}

#[test]
fn integration_create_takes_a_severity_map() {
    let cli = parse(&[
        "integration",
        "create",
        "--service",
        "api",
        "--name",
        "prom",
        "--kind",
        "alertmanager",
        "--severity-map",
        "page=SEV-1",
        "--severity-map",
        "ticket = SEV-3",
    ])
    .unwrap();
    let Cli::Integration {
        cmd: IntegrationCommand::Create(a),
        ..
    } = cli
    else {
        panic!("{cli:?}")
    };
    assert_eq!(a.severity_map[1], ("ticket".to_owned(), "SEV-3".to_owned()));
    let base = ["integration", "create", "--service", "api", "--name", "x"];
    for bad in [
        &["--kind", "nagios"][..],
        &["--kind", "generic", "--severity-map", "page"],
        &["--kind", "generic", "--config", "[1]"],
    ] {
        assert!(parse(&[&base[..], bad].concat()).is_err(), "{bad:?}");
    }
}

#[test]
fn silence_create_needs_exactly_one_end() {
    let base = [
        "silence",
        "create",
        "--matchers",
        "a=\"b\"",
        "--comment",
        "c",
    ];
    let with = |more: &[&str]| parse(&[&base[..], more].concat());
    assert!(with(&["--duration", "2h"]).is_ok());
    for (text, secs) in [("90m", 5400), ("1d 12h", 129_600), ("PT2H", 7200)] {
        assert_eq!(duration(text).unwrap().as_secs(), secs, "{text}");
    }
    assert!(with(&["--duration", "1mo"]).is_err());
    assert!(with(&["--until", "2026-11-27T02:00:00Z", "--starts", "2026-11-26"]).is_ok());
    assert!(with(&[]).is_err());
    assert!(with(&["--duration", "2h", "--until", "2026-11-27"]).is_err());
    assert!(with(&["--duration", "0s"]).is_err());
    assert!(with(&["--duration", "soon"]).is_err());
}

#[test]
fn alert_filters_are_checked() {
    assert!(parse(&["alert", "list", "--status", "suppressed", "-n", "5"]).is_ok());
    assert!(parse(&["alert", "list", "--status", "open"]).is_err());
    assert!(parse(&["alert", "list", "--limit", "501"]).is_err());
    assert!(parse(&["alert", "show", "0"]).is_err());
    assert!(parse(&["silence", "expire", ".."]).is_err());
}

#[test]
fn severity_map_pairs_join_the_config() {
    let config = json_object(r#"{"mapping": {"summary": "title"}}"#).unwrap();
    let pairs = vec![("page".to_owned(), "SEV-1".to_owned())];
    let joined = integration_config(Some(config), pairs.clone()).unwrap();
    assert_eq!(
        Json::Object(joined),
        serde_json::json!({"mapping": {"summary": "title"}, "severity_map": {"page": "SEV-1"}})
    );
    let both = json_object(r#"{"severity_map": {}}"#).unwrap();
    assert!(integration_config(Some(both), pairs).is_err());
    assert!(integration_config(None, Vec::new()).unwrap().is_empty());
}
