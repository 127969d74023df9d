//! `warroom ingest dead-letters ...` (accepted alerts that could not be
//! applied: list, show, retry, drop) and `warroom doctor`, which checks a
//! running server and says what to do about each problem it finds.

use std::process::ExitCode;

use jiff::Timestamp;
use reqwest::Method;
use serde::Deserialize;

use super::alerting::answer;
use super::http::{decode, Api};
use super::render::clean;
use super::{ClientArgs, Output};

#[derive(Debug, clap::Subcommand)]
pub enum IngestCommand {
    /// Accepted alert requests the server could not apply. They paged
    /// nobody: look at each, then retry it or drop it
    #[command(subcommand, name = "dead-letters")]
    DeadLetters(DeadLetterCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum DeadLetterCommand {
    /// List dead letters, oldest first
    List,
    /// Show one, with the request it holds
    #[command(after_help = "Example:\n  warroom ingest dead-letters show 3")]
    Show { id: i64 },
    /// Apply its alerts again now; on success it is deleted
    #[command(after_help = "Example:\n  warroom ingest dead-letters retry 3")]
    Retry { id: i64 },
    /// Forget it for good
    #[command(after_help = "Example:\n  warroom ingest dead-letters drop 3")]
    Drop { id: i64 },
}

#[derive(Debug, Deserialize)]
struct DeadLetter {
    id: i64,
    accepted_at: Timestamp,
    integration: String,
    alerts: i64,
    error: String,
    #[serde(default)]
    request: Option<String>,
}

fn line(d: &DeadLetter) -> String {
    format!(
        "{:<6} {}  {:<20} {:>3} alerts  {}",
        d.id,
        d.accepted_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        clean(&d.integration),
        d.alerts,
        clean(&d.error)
    )
}

/// Runs one `warroom ingest` subcommand against the server in `args`.
pub async fn run_ingest(args: &ClientArgs, cmd: IngestCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    let IngestCommand::DeadLetters(cmd) = cmd;
    match cmd {
        DeadLetterCommand::List => {
            let body = api.get(api.url(&["ingest", "dead-letters"])?).await?;
            answer(json, &body, "dead letters", |all: Vec<DeadLetter>| {
                if all.is_empty() {
                    return "No dead letters: every accepted alert was applied.".to_owned();
                }
                let mut out = format!(
                    "{:<6} {:<23}  {:<20} {:>10}  ERROR\n",
                    "ID", "ACCEPTED", "INTEGRATION", ""
                );
                for d in &all {
                    out.push_str(&line(d));
                    out.push('\n');
                }
                out.push_str("\nRetry one with `warroom ingest dead-letters retry ID`, or drop it with `... drop ID`.");
                out
            })
        }
        DeadLetterCommand::Show { id } => {
            let body = api
                .get(api.url(&["ingest", "dead-letters", &id.to_string()])?)
                .await?;
            answer(json, &body, "dead letter", |d: DeadLetter| {
                format!(
                    "{}\n\nrequest:\n{}",
                    line(&d),
                    clean(d.request.as_deref().unwrap_or(""))
                )
            })
        }
        DeadLetterCommand::Retry { id } => {
            let url = api.url(&["ingest", "dead-letters", &id.to_string(), "retry"])?;
            let sent = api.send::<()>(Method::POST, url, None).await?;
            answer(json, &sent, "retry result", |r: serde_json::Value| {
                let n = r["results"].as_array().map_or(0, Vec::len);
                format!("Applied dead letter {id} ({n} alerts); it is gone.")
            })
        }
        DeadLetterCommand::Drop { id } => {
            let url = api.url(&["ingest", "dead-letters", &id.to_string()])?;
            api.send::<()>(Method::DELETE, url, None).await?;
            if json {
                println!("{{}}");
            } else {
                println!("Dropped dead letter {id}.");
            }
            Ok(())
        }
    }
}

#[derive(Debug, Deserialize)]
struct ServerStatus {
    version: String,
    ingest: IngestStatus,
    alerts: AlertStatus,
}

#[derive(Debug, Deserialize)]
struct IngestStatus {
    dead_letters: i64,
}

#[derive(Debug, Deserialize)]
struct AlertStatus {
    firing: i64,
    suppressed: i64,
}

/// `warroom doctor`: checks the server at `args.server` and prints one line
/// per check; exits 1 if any check found a problem.
pub async fn run_doctor(args: &ClientArgs) -> anyhow::Result<ExitCode> {
    let mut problems = 0;
    let mut report = |ok: bool, text: String| {
        if !ok {
            problems += 1;
        }
        println!("{} {text}", if ok { "ok  " } else { "FAIL" });
    };
    let api = Api::new(&args.server, args.token.as_deref())?;
    let status = match api.get(api.url(&["status"])?).await {
        Ok(body) => decode::<ServerStatus>(&body, "server status")?,
        Err(err) => {
            report(false, format!("{err:#}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    report(
        true,
        format!(
            "server {} answers (version {}), the token is valid and the database reachable",
            args.server.as_str().trim_end_matches('/'),
            clean(&status.version)
        ),
    );
    let dead = status.ingest.dead_letters;
    report(
        dead == 0,
        if dead == 0 {
            "every accepted alert was applied (no dead letters)".to_owned()
        } else {
            format!(
                "{dead} accepted alert requests could not be applied and paged nobody: \
                 see `warroom ingest dead-letters list`, then retry or drop each"
            )
        },
    );
    report(
        true,
        format!(
            "{} alerts firing, {} suppressed",
            status.alerts.firing, status.alerts.suppressed
        ),
    );
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
