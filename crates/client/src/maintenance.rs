//! `warroom maintenance ...`: planned windows during which a service's alerts
//! are stored but page no one.

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::alerting::{answer, duration};
use super::args::{path_value, time};
use super::http::Api;
use super::render::clean;
use super::{ClientArgs, Output};

#[derive(Debug, clap::Subcommand)]
pub enum MaintenanceCommand {
    /// Schedule a maintenance window for one or more services
    #[command(
        after_help = "Example:\n  warroom maintenance create --service database --duration 2h --description \"Upgrade to PostgreSQL 16\""
    )]
    Create(Box<CreateMaintenanceArgs>),
    /// List windows that have not ended
    List,
    /// End a window now
    #[command(after_help = "Example:\n  warroom maintenance end mw_0123456789abcdef")]
    End {
        /// Window id, e.g. mw_0123456789abcdef
        #[arg(value_parser = path_value)]
        id: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("end").required(true).args(["duration", "until"]))]
pub struct CreateMaintenanceArgs {
    /// Service id or name from the playbook; repeat for several
    #[arg(long = "service", required = true)]
    pub services: Vec<String>,
    /// How long from the start, e.g. 30m, 2h, 1d
    #[arg(long, value_parser = duration)]
    pub duration: Option<SignedDuration>,
    /// When it ends (RFC 3339, or a date for midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub until: Option<Timestamp>,
    /// When it starts [default: now]
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub starts: Option<Timestamp>,
    /// What is being done
    #[arg(long)]
    pub description: String,
}

#[derive(Debug, Serialize)]
struct MaintenanceRequest {
    services: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    starts_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ends_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
    description: String,
}

#[derive(Debug, Deserialize)]
struct Window {
    id: String,
    services: Vec<String>,
    state: String,
    starts_at: Timestamp,
    ends_at: Timestamp,
    description: String,
}

fn minute(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn line(w: &Window) -> String {
    format!(
        "{}  {}  {} -> {}  {} ({})",
        clean(&w.id),
        clean(&w.services.join(",")),
        minute(w.starts_at),
        minute(w.ends_at),
        clean(&w.description),
        clean(&w.state)
    )
}

/// Runs one `warroom maintenance` subcommand against the server in `args`.
pub async fn run_maintenance(args: &ClientArgs, cmd: MaintenanceCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        MaintenanceCommand::Create(a) => {
            let body = MaintenanceRequest {
                services: a.services,
                starts_at: a.starts,
                ends_at: a.until,
                // Whole seconds, which the server's duration parser takes.
                duration: a.duration.map(|d| format!("{}s", d.as_secs())),
                description: a.description,
            };
            let sent = api
                .send(Method::POST, api.url(&["maintenance"])?, Some(&body))
                .await?;
            answer(json, &sent, "maintenance window", |w: Window| {
                format!("Scheduled maintenance {}", line(&w))
            })
        }
        MaintenanceCommand::List => {
            let body = api.get(api.url(&["maintenance"])?).await?;
            answer(json, &body, "maintenance list", |all: Vec<Window>| {
                if all.is_empty() {
                    "No maintenance windows scheduled.".to_owned()
                } else {
                    all.iter().map(line).collect::<Vec<_>>().join("\n")
                }
            })
        }
        MaintenanceCommand::End { id } => {
            let url = api.url(&["maintenance", &id])?;
            let sent = api.send::<()>(Method::DELETE, url, None).await?;
            // The server answers with the underlying silence.
            answer(json, &sent, "maintenance window", |s: serde_json::Value| {
                format!(
                    "Ended maintenance window {}",
                    clean(s["id"].as_str().unwrap_or(&id))
                )
            })
        }
    }
}
