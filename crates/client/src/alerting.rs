//! `warroom integration|alert|silence ...`: integration keys, received alerts
//! and silences, through the Warroom HTTP API.

use anyhow::bail;
use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use super::alerting_render as render;
use super::alerting_wire::{Alert, Integration, IntegrationRequest, IssuedIntegration};
use super::alerting_wire::{Silence, SilenceRequest};
use super::args::{path_value, time};
use super::commands::{pretty, print};
use super::http::{decode, Api};
use super::render::{clean, TABLE_WIDTH};
use super::{ClientArgs, Output};

/// Kinds of integration the server accepts.
const KINDS: [&str; 7] = [
    "alertmanager",
    "prometheus",
    "pagerduty",
    "grafana",
    "sentry",
    "uptimerobot",
    "generic",
];
const ALERT_STATUSES: [&str; 4] = ["firing", "suppressed", "resolved", "all"];
/// How many alerts the server lists when no `limit` is given.
const SERVER_ALERT_PAGE: usize = 100;

const CREATE_INTEGRATION_HELP: &str = "\
Prints the key (shown only this once) and configuration to paste into the
sending tool.

Examples:
  warroom integration create --service api --name prometheus-prod \\
    --kind alertmanager --severity-map page=SEV-1 --severity-map ticket=SEV-3
  warroom integration create --service web --name uptime --kind uptimerobot";

const ALERT_LIST_HELP: &str = "\
Examples:
  warroom alert list
  warroom alert list --status suppressed --service api
  warroom alert list --status all --incident INC-2026-0001 --output json";

const CREATE_SILENCE_HELP: &str = "\
Matching alerts are still recorded, but page nobody and open no incident.
Matchers use Alertmanager syntax: = != =~ !~, comma-separated.

Examples:
  warroom silence create --matchers 'alertname=\"DiskFull\", instance=~\"db-.*\"' \\
    --duration 2h --comment \"Disk migration\"
  warroom silence create --matchers 'env=\"staging\"' \\
    --starts 2026-11-26T22:00:00Z --until 2026-11-27T02:00:00Z \\
    --comment \"Maintenance window\"";

/// Manage the keys monitoring tools send alerts with (admins only).
#[derive(Debug, clap::Subcommand)]
pub enum IntegrationCommand {
    /// Create an integration and print its key and setup
    #[command(after_help = CREATE_INTEGRATION_HELP)]
    Create(Box<CreateIntegrationArgs>),
    /// List integrations (never their keys)
    List,
    /// Give an integration a new key (printed once); the old key stops working at once
    #[command(
        after_help = "Examples:\n  warroom integration rotate prometheus-prod\n  warroom integration rotate int_0123456789abcdef"
    )]
    Rotate {
        /// Integration name or id (`warroom integration list`)
        #[arg(value_parser = path_value)]
        id: String,
    },
    /// Revoke an integration; its key stops working at once
    #[command(
        after_help = "Examples:\n  warroom integration revoke prometheus-prod\n  warroom integration revoke int_0123456789abcdef"
    )]
    Revoke {
        /// Integration name or id (`warroom integration list`)
        #[arg(value_parser = path_value)]
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct CreateIntegrationArgs {
    /// Service (id or name from the playbook) its alerts belong to
    #[arg(long)]
    pub service: String,
    /// A unique name: letters, digits, '-', '_', '.' or '@'
    #[arg(long)]
    pub name: String,
    /// What sends the alerts
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(KINDS))]
    pub kind: String,
    /// Map the source's severity word to a playbook severity; repeat for several
    #[arg(long = "severity-map", value_name = "WORD=SEVERITY", value_parser = severity_pair)]
    pub severity_map: Vec<(String, String)>,
    /// Further settings as a JSON object, e.g. '{"mapping": {...}}' for generic
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub config: Option<Map<String, Json>>,
}

/// Look at the alerts monitoring tools sent.
#[derive(Debug, clap::Subcommand)]
pub enum AlertCommand {
    /// List alerts, newest first
    #[command(after_help = ALERT_LIST_HELP)]
    List {
        /// Which alerts; suppressed ones fire but are silenced [server default: firing]
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ALERT_STATUSES))]
        status: Option<String>,
        /// Only this service's alerts
        #[arg(long)]
        service: Option<String>,
        /// Only alerts grouped into this incident, e.g. INC-2026-0001
        #[arg(long, value_name = "ID")]
        incident: Option<String>,
        /// At most this many, 1 to 500 [server default: 100]
        #[arg(long, short = 'n', value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: Option<u32>,
        /// Only alerts with a smaller id: the next page after that one
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(i64).range(1..))]
        before: Option<i64>,
    },
    /// Show one alert: every field, labels, details and links
    #[command(after_help = "Example:\n  warroom alert show 42")]
    Show {
        /// Alert id, as in `warroom alert list`
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
    },
}

/// Mute alerts that match, for a while.
#[derive(Debug, clap::Subcommand)]
pub enum SilenceCommand {
    /// Silence alerts matching the matchers
    #[command(after_help = CREATE_SILENCE_HELP)]
    Create(Box<CreateSilenceArgs>),
    /// List live silences (pending and active), newest first
    List {
        /// Include expired silences
        #[arg(long)]
        all: bool,
    },
    /// End a silence now
    #[command(after_help = "Example:\n  warroom silence expire sil_0123456789abcdef")]
    Expire {
        /// Silence id, e.g. sil_0123456789abcdef
        #[arg(value_parser = path_value)]
        id: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("end").required(true).args(["duration", "until"]))]
pub struct CreateSilenceArgs {
    /// Which alerts, in Alertmanager syntax, e.g. 'alertname="DiskFull"'
    #[arg(long)]
    pub matchers: String,
    /// How long from the start, e.g. 30m, 2h, 1d
    #[arg(long, value_parser = duration)]
    pub duration: Option<SignedDuration>,
    /// When it ends (RFC 3339, or a date for midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub until: Option<Timestamp>,
    /// When it starts [default: now]
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub starts: Option<Timestamp>,
    /// Why; shown with the silence
    #[arg(long)]
    pub comment: String,
}

/// Runs one `warroom integration` subcommand against the server in `args`.
/// Errors are single lines meant for `error: {err:#}`.
pub async fn run_integration(args: &ClientArgs, cmd: IntegrationCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        IntegrationCommand::Create(a) => {
            let config = integration_config(a.config, a.severity_map)?;
            let body = IntegrationRequest {
                service: a.service,
                name: a.name,
                kind: a.kind,
                config,
            };
            let url = api.url(&["integrations"])?;
            let sent = api.send(Method::POST, url, Some(&body)).await?;
            answer(json, &sent, "integration", |i: IssuedIntegration| {
                render::issued_integration(&i, &args.server)
            })
        }
        IntegrationCommand::List => {
            let body = api.get(api.url(&["integrations"])?).await?;
            answer(json, &body, "integration list", |all: Vec<Integration>| {
                if all.is_empty() {
                    "No integrations yet; `warroom integration create` makes one.".to_owned()
                } else {
                    render::integration_table(&all, TABLE_WIDTH)
                }
            })
        }
        IntegrationCommand::Rotate { id } => {
            let id = integration_id(&api, &id).await?;
            let url = api.url(&["integrations", &id, "rotate"])?;
            let sent = api.send::<()>(Method::POST, url, None).await?;
            answer(json, &sent, "integration", |i: IssuedIntegration| {
                render::issued_integration(&i, &args.server)
            })
        }
        IntegrationCommand::Revoke { id } => {
            let id = integration_id(&api, &id).await?;
            let url = api.url(&["integrations", &id])?;
            let sent = api.send::<()>(Method::DELETE, url, None).await?;
            answer(json, &sent, "integration", |i: Integration| {
                let (id, name) = (clean(&i.id), clean(&i.name));
                format!("Revoked integration {id} ({name}); its key no longer works.")
            })
        }
    }
}

/// The id of the integration `name_or_id` names: its id, else its name
/// (among live integrations when a revoked one had the same name).
async fn integration_id(api: &Api, name_or_id: &str) -> anyhow::Result<String> {
    let body = api.get(api.url(&["integrations"])?).await?;
    let all: Vec<Integration> = decode(&body, "integration list")?;
    if all.iter().any(|i| i.id == name_or_id) {
        return Ok(name_or_id.to_owned());
    }
    let named: Vec<&Integration> = all.iter().filter(|i| i.name == name_or_id).collect();
    let live: Vec<&Integration> = named
        .iter()
        .copied()
        .filter(|i| i.revoked_at.is_none())
        .collect();
    if named.is_empty() {
        bail!(
            "no integration has the name or id {:?}; `warroom integration list` shows them",
            clean(name_or_id)
        );
    }
    match (named.as_slice(), live.as_slice()) {
        ([one], _) => Ok(one.id.clone()),
        (_, [one]) => Ok(one.id.clone()),
        _ => bail!(
            "{} integrations are named {:?}; give the id (`warroom integration list`)",
            named.len(),
            clean(name_or_id)
        ),
    }
}

/// Runs one `warroom alert` subcommand against the server in `args`.
/// Errors are single lines meant for `error: {err:#}`.
pub async fn run_alert(args: &ClientArgs, cmd: AlertCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        AlertCommand::List {
            status,
            service,
            incident,
            limit,
            before,
        } => {
            let mut url = api.url(&["alerts"])?;
            {
                let mut query = url.query_pairs_mut();
                let texts = [
                    ("status", status),
                    ("service", service),
                    ("incident", incident),
                ];
                for (key, value) in texts {
                    if let Some(value) = value {
                        query.append_pair(key, &value);
                    }
                }
                let numbers = [("limit", limit.map(i64::from)), ("before", before)];
                for (key, value) in numbers {
                    if let Some(value) = value {
                        query.append_pair(key, &value.to_string());
                    }
                }
            }
            let body = api.get(url).await?;
            let mut next = None;
            answer(json, &body, "alert list", |alerts: Vec<Alert>| {
                if alerts.len() == limit.map_or(SERVER_ALERT_PAGE, |n| n as usize) {
                    next = alerts.last().map(|a| a.id);
                }
                if alerts.is_empty() {
                    "No alerts match.".to_owned()
                } else {
                    render::alert_table(&alerts, TABLE_WIDTH)
                }
            })?;
            if let Some(id) = next {
                eprintln!("(there may be more; add --before {id} for the next page)");
            }
            Ok(())
        }
        AlertCommand::Show { id } => {
            let body = api.get(api.url(&["alerts", &id.to_string()])?).await?;
            answer(json, &body, "alert", |a: Alert| render::alert_details(&a))
        }
    }
}

/// Runs one `warroom silence` subcommand against the server in `args`.
/// Errors are single lines meant for `error: {err:#}`.
pub async fn run_silence(args: &ClientArgs, cmd: SilenceCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        SilenceCommand::Create(a) => {
            let body = SilenceRequest {
                matchers: a.matchers,
                starts_at: a.starts,
                ends_at: a.until,
                // Whole seconds, which every server version parses.
                duration: a.duration.map(|d| format!("{}s", d.as_secs())),
                comment: a.comment,
            };
            let url = api.url(&["silences"])?;
            let sent = api.send(Method::POST, url, Some(&body)).await?;
            answer(json, &sent, "silence", |s: Silence| {
                render::created_silence(&s)
            })
        }
        SilenceCommand::List { all } => {
            let mut url = api.url(&["silences"])?;
            if all {
                url.query_pairs_mut().append_pair("all", "true");
            }
            let body = api.get(url).await?;
            answer(
                json,
                &body,
                "silence list",
                |silences: Vec<Silence>| match (silences.is_empty(), all) {
                    (true, true) => "No silences.".to_owned(),
                    (true, false) => "No live silences.".to_owned(),
                    (false, _) => render::silence_table(&silences, TABLE_WIDTH),
                },
            )
        }
        SilenceCommand::Expire { id } => {
            let url = api.url(&["silences", &id])?;
            let sent = api.send::<()>(Method::DELETE, url, None).await?;
            answer(json, &sent, "silence", |s: Silence| {
                format!("Expired silence {} ({})", clean(&s.id), clean(&s.matchers))
            })
        }
    }
}

/// Prints the server's answer: as it came, pretty-printed, with `json`;
/// else decoded as `T` and shown by `view`.
pub(super) fn answer<T: DeserializeOwned>(
    json: bool,
    body: &str,
    what: &str,
    view: impl FnOnce(T) -> String,
) -> anyhow::Result<()> {
    if json {
        return print(&pretty(&decode::<Json>(body, "answer")?));
    }
    print(view(decode(body, what)?).trim_end())
}

/// `--config` with the `--severity-map` pairs added as `severity_map`.
fn integration_config(
    config: Option<Map<String, Json>>,
    severity_map: Vec<(String, String)>,
) -> anyhow::Result<Map<String, Json>> {
    let mut config = config.unwrap_or_default();
    if severity_map.is_empty() {
        return Ok(config);
    }
    if config.contains_key("severity_map") {
        bail!("give the severity map with --severity-map or in --config, not both");
    }
    let map = severity_map
        .into_iter()
        .map(|(word, severity)| (word, Json::String(severity)))
        .collect();
    config.insert("severity_map".to_owned(), Json::Object(map));
    Ok(config)
}

/// `page=SEV-1` as (source word, playbook severity).
fn severity_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((word, sev)) if !word.trim().is_empty() && !sev.trim().is_empty() => {
            Ok((word.trim().to_owned(), sev.trim().to_owned()))
        }
        _ => Err("expected WORD=SEVERITY, e.g. page=SEV-1".to_owned()),
    }
}

fn json_object(text: &str) -> Result<Map<String, Json>, String> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(
            "must be a JSON object, e.g. '{\"severity_map\": {\"page\": \"SEV-1\"}}'".to_owned(),
        ),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// A positive duration such as `90m`, `2h` or `1d 12h`; a day is 24 hours.
pub(super) fn duration(text: &str) -> Result<SignedDuration, String> {
    let hint = "expected a duration such as 30m, 2h or 1d";
    let span: Span = text.trim().parse().map_err(|_| hint.to_owned())?;
    match span.to_duration(SpanRelativeTo::days_are_24_hours()) {
        Ok(d) if d.is_positive() => Ok(d),
        Ok(_) => Err("must be longer than zero".to_owned()),
        Err(_) => Err(format!("{hint}; months and years vary in length")),
    }
}

#[cfg(test)]
mod tests;
