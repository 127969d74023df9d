//! `warroom oncall ...`: who is on call, shifts, overrides, the warnings
//! that save pages, the directory (users, teams, vendors, schedules,
//! escalation policies), contact verification and calendar feeds.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::alerting::{answer, duration};
use super::args::{path_value, time};
use super::http::Api;
use super::render::{clean, minute};
use super::{ClientArgs, Output};

#[derive(Debug, clap::Subcommand)]
pub enum OncallCommand {
    /// Who is on call now (or at --at) on every schedule, or on one
    #[command(
        after_help = "Examples:\n  warroom oncall now\n  warroom oncall now --schedule primary --at 2026-12-24T22:00:00Z"
    )]
    Now {
        #[arg(long, value_parser = path_value)]
        schedule: Option<String>,
        #[arg(long, value_name = "TIME", value_parser = time)]
        at: Option<Timestamp>,
    },
    /// The shifts of a schedule, gaps included, or of a user on every schedule
    #[command(
        group = clap::ArgGroup::new("whose").required(true).args(["schedule", "user"]),
        after_help = "Examples:\n  warroom oncall shifts --schedule primary --from 2026-12-01 --to 2026-12-08\n  warroom oncall shifts --user alice --days 30"
    )]
    Shifts {
        #[arg(long, value_parser = path_value)]
        schedule: Option<String>,
        #[arg(long, value_parser = path_value)]
        user: Option<String>,
        /// Start of the range [default: now]
        #[arg(long, value_name = "TIME", value_parser = time)]
        from: Option<Timestamp>,
        /// End of the range [default: --days after --from]
        #[arg(long, value_name = "TIME", value_parser = time, conflicts_with = "days")]
        to: Option<Timestamp>,
        /// Length of the range in days
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Put someone on call in place of whoever the schedule says
    #[command(subcommand)]
    Override(OverrideCommand),
    /// Warnings that would make a page reach nobody; exits 1 when there are any
    Check,
    /// Users: `list`, `show NAME`, `create --file F`, `update --file F`, `delete NAME`
    #[command(subcommand)]
    User(DirectoryCommand),
    /// Teams of users, paged all at once or in turn
    #[command(subcommand)]
    Team(DirectoryCommand),
    /// External vendors and their support contacts
    #[command(subcommand)]
    Vendor(DirectoryCommand),
    /// Rotations with layers, restrictions and time zones
    #[command(subcommand)]
    Schedule(DirectoryCommand),
    /// Escalation policies: ordered steps of targets
    #[command(subcommand)]
    Policy(DirectoryCommand),
    /// Verify a contact method: without --code send a code to it, with --code confirm it
    #[command(
        after_help = "Example:\n  warroom oncall verify alice phone\n  warroom oncall verify alice phone --code 123456"
    )]
    Verify {
        #[arg(value_parser = path_value)]
        user: String,
        /// Contact method id
        #[arg(value_parser = path_value)]
        method: String,
        #[arg(long)]
        code: Option<String>,
    },
    /// Secret calendar (iCal) URLs of a schedule's or a user's shifts
    #[command(subcommand)]
    Feed(FeedCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum OverrideCommand {
    /// Create an override
    #[command(
        group = clap::ArgGroup::new("length").required(true).args(["end", "duration"]),
        after_help = "Example:\n  warroom oncall override create --schedule primary --user bob --start 2026-12-24T17:00:00Z --duration 16h"
    )]
    Create {
        #[arg(long, value_parser = path_value)]
        schedule: String,
        #[arg(long, value_parser = path_value)]
        user: String,
        /// When it starts [default: now]
        #[arg(long, value_name = "TIME", value_parser = time)]
        start: Option<Timestamp>,
        #[arg(long, value_name = "TIME", value_parser = time)]
        end: Option<Timestamp>,
        /// How long, e.g. 8h or 2d
        #[arg(long, value_parser = duration)]
        duration: Option<SignedDuration>,
    },
    /// List a schedule's overrides in the last 30 days and the next year
    List {
        #[arg(long, value_parser = path_value)]
        schedule: String,
    },
    /// Delete an override
    Delete {
        #[arg(long, value_parser = path_value)]
        schedule: String,
        #[arg(value_parser = path_value)]
        id: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum DirectoryCommand {
    /// List them, with where each was defined (playbook or api)
    List,
    /// Show one, field by field (`--output json` for the JSON)
    Show {
        #[arg(value_parser = path_value)]
        name: String,
    },
    /// Create from a YAML or JSON file (`-` for standard input), in the
    /// playbook's `oncall:` shape
    Create {
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Replace from a YAML or JSON file; the name in the file picks the entry
    Update {
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Delete one defined through the API (playbook entries change in the playbook)
    Delete {
        #[arg(value_parser = path_value)]
        name: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum FeedCommand {
    /// Create a feed and print its secret URL (shown this once)
    #[command(group = clap::ArgGroup::new("whose").required(true).args(["schedule", "user"]))]
    Create {
        #[arg(long, value_parser = path_value)]
        schedule: Option<String>,
        #[arg(long, value_parser = path_value)]
        user: Option<String>,
    },
    /// List feeds (never their URLs)
    List,
    /// Revoke a feed; its URL stops working at once
    Revoke {
        #[arg(value_parser = path_value)]
        id: String,
    },
}

#[derive(Debug, Deserialize)]
struct OnCallNow {
    schedule: String,
    user: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ShiftView {
    #[serde(default)]
    schedule: Option<String>,
    user: Option<String>,
    start: Timestamp,
    end: Timestamp,
    #[serde(default)]
    source: Option<Json>,
}

#[derive(Debug, Deserialize)]
struct OverrideView {
    id: String,
    user: String,
    start: Timestamp,
    end: Timestamp,
    created_by: String,
}

#[derive(Debug, Deserialize)]
struct WarningView {
    kind: String,
    subject: String,
    message: String,
}

fn source_label(source: &Option<Json>) -> String {
    match source {
        Some(s) if s["type"] == "override" => {
            format!("override {}", s["id"].as_str().unwrap_or("?"))
        }
        Some(s) if s["type"] == "layer" => format!("layer {}", s["name"].as_str().unwrap_or("?")),
        _ => String::new(),
    }
}

fn shift_line(s: &ShiftView) -> String {
    let who = s
        .user
        .as_deref()
        .map_or_else(|| "(nobody: gap)".to_owned(), clean);
    let schedule = s
        .schedule
        .as_deref()
        .map(|n| format!("{}  ", clean(n)))
        .unwrap_or_default();
    format!(
        "{schedule}{} -> {}  {:<16} {}",
        minute(s.start),
        minute(s.end),
        who,
        clean(&source_label(&s.source))
    )
}

/// `users`, `teams`, ... as the API names each directory kind.
fn kind_path(cmd: &OncallCommand) -> Option<(&'static str, &'static str)> {
    match cmd {
        OncallCommand::User(_) => Some(("users", "user")),
        OncallCommand::Team(_) => Some(("teams", "team")),
        OncallCommand::Vendor(_) => Some(("vendors", "vendor")),
        OncallCommand::Schedule(_) => Some(("schedules", "schedule")),
        OncallCommand::Policy(_) => Some(("escalation-policies", "escalation policy")),
        _ => None,
    }
}

/// Reads a YAML or JSON document (YAML is a superset of JSON).
fn read_document(path: &PathBuf) -> anyhow::Result<Json> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        text
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    if let Ok(json) = serde_json::from_str(&text) {
        return Ok(json);
    }
    serde_saphyr::from_str::<Json>(&text)
        .map_err(|e| anyhow::anyhow!("{}: not YAML or JSON: {e}", path.display()))
}

fn directory_line(entry: &Json) -> String {
    let name = entry["name"].as_str().unwrap_or("?");
    let source = entry["source"].as_str().unwrap_or("?");
    let detail = if let Some(email) = entry["email"].as_str() {
        let methods = entry["contact_methods"].as_array().map_or(0, Vec::len);
        let verified = entry["contact_methods"]
            .as_array()
            .map_or(0, |m| m.iter().filter(|m| m["verified"] == true).count());
        format!("{email}  {verified}/{methods} contact methods verified")
    } else if let Some(members) = entry["members"].as_array() {
        let names: Vec<&str> = members.iter().filter_map(Json::as_str).collect();
        format!("members: {}", names.join(", "))
    } else if let Some(layers) = entry["layers"].as_array() {
        format!(
            "{}  {} layer(s)",
            entry["time_zone"].as_str().unwrap_or("?"),
            layers.len()
        )
    } else if let Some(steps) = entry["steps"].as_array() {
        format!("{} step(s), repeat {}", steps.len(), entry["repeat"])
    } else {
        format!(
            "{}  {}",
            entry["provides"].as_str().unwrap_or(""),
            entry["support_phone"].as_str().unwrap_or("")
        )
    };
    format!("{:<24} {:<9} {}", clean(name), source, clean(&detail))
}

/// Runs one `warroom oncall` subcommand; `check` exits 1 when it warns.
/// `now` is where shifts and overrides start when no time is given.
pub async fn run_oncall(
    args: &ClientArgs,
    cmd: OncallCommand,
    now: fn() -> Timestamp,
) -> anyhow::Result<ExitCode> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    if let Some((kind, what)) = kind_path(&cmd) {
        let (OncallCommand::User(sub)
        | OncallCommand::Team(sub)
        | OncallCommand::Vendor(sub)
        | OncallCommand::Schedule(sub)
        | OncallCommand::Policy(sub)) = cmd
        else {
            unreachable!("kind_path only matches directory commands");
        };
        directory(&api, json, kind, what, sub).await?;
        return Ok(ExitCode::SUCCESS);
    }
    match cmd {
        OncallCommand::Now { schedule, at } => {
            let mut url = match &schedule {
                Some(s) => api.url(&["oncall", "schedules", s, "on-call"])?,
                None => api.url(&["oncall", "now"])?,
            };
            if let Some(at) = at {
                url.query_pairs_mut().append_pair("at", &at.to_string());
            }
            let body = api.get(url).await?;
            if schedule.is_some() {
                answer(json, &body, "on-call answer", |one: OnCallNow| {
                    now_line(&one)
                })?;
            } else {
                answer(json, &body, "on-call list", |all: Json| {
                    let rows: Vec<OnCallNow> =
                        serde_json::from_value(all["schedules"].clone()).unwrap_or_default();
                    if rows.is_empty() {
                        "No schedules defined.".to_owned()
                    } else {
                        rows.iter().map(now_line).collect::<Vec<_>>().join("\n")
                    }
                })?;
            }
        }
        OncallCommand::Shifts {
            schedule,
            user,
            from,
            to,
            days,
        } => {
            let from = from.unwrap_or_else(now);
            let to = to.unwrap_or(from + SignedDuration::from_hours(24 * i64::from(days)));
            let mut url = match (&schedule, &user) {
                (Some(s), _) => api.url(&["oncall", "schedules", s, "shifts"])?,
                (None, Some(u)) => api.url(&["oncall", "users", u, "shifts"])?,
                (None, None) => unreachable!("clap requires one"),
            };
            url.query_pairs_mut()
                .append_pair("from", &from.to_string())
                .append_pair("to", &to.to_string());
            let body = api.get(url).await?;
            answer(json, &body, "shifts", |all: Json| {
                let shifts: Vec<ShiftView> =
                    serde_json::from_value(all["shifts"].clone()).unwrap_or_default();
                if shifts.is_empty() {
                    "No shifts in that range.".to_owned()
                } else {
                    shifts.iter().map(shift_line).collect::<Vec<_>>().join("\n")
                }
            })?;
        }
        OncallCommand::Override(sub) => overrides(&api, json, sub, now).await?,
        OncallCommand::Check => {
            let body = api.get(api.url(&["oncall", "warnings"])?).await?;
            let all: Json = super::http::decode(&body, "warnings")?;
            let warnings: Vec<WarningView> =
                serde_json::from_value(all["warnings"].clone()).unwrap_or_default();
            if json {
                answer(json, &body, "warnings", |_: Json| String::new())?;
            } else if warnings.is_empty() {
                println!("No warnings: every schedule, team and policy reaches someone.");
            } else {
                for w in &warnings {
                    println!(
                        "{:<18} {:<28} {}",
                        clean(&w.kind),
                        clean(&w.subject),
                        clean(&w.message)
                    );
                }
                eprintln!("{} warning(s)", warnings.len());
            }
            return Ok(if warnings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        OncallCommand::Verify { user, method, code } => match code {
            None => {
                let url = api.url(&[
                    "oncall",
                    "users",
                    &user,
                    "contact-methods",
                    &method,
                    "verification",
                ])?;
                let sent = api.send::<()>(Method::POST, url, None).await?;
                answer(json, &sent, "verification", |v: Json| {
                    format!(
                            "Sent a code to {} (valid until {}). Confirm with: warroom oncall verify {user} {method} --code CODE",
                            clean(v["sent_to"].as_str().unwrap_or("?")),
                            clean(v["expires_at"].as_str().unwrap_or("?"))
                        )
                })?;
            }
            Some(code) => {
                let url = api.url(&[
                    "oncall",
                    "users",
                    &user,
                    "contact-methods",
                    &method,
                    "verify",
                ])?;
                let sent = api
                    .send(Method::POST, url, Some(&json!({ "code": code })))
                    .await?;
                answer(json, &sent, "user", |_: Json| {
                    format!("Verified {method} of {user}.")
                })?;
            }
        },
        OncallCommand::Feed(sub) => feeds(&api, json, sub).await?,
        OncallCommand::User(_)
        | OncallCommand::Team(_)
        | OncallCommand::Vendor(_)
        | OncallCommand::Schedule(_)
        | OncallCommand::Policy(_) => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A directory entry as a two-column table, one line per field: nested
/// fields by their path (`contact_methods[0].kind`), lists of plain values
/// joined with commas.
fn field_table(entry: &Json) -> String {
    fn flatten(path: String, value: &Json, rows: &mut Vec<(String, String)>) {
        match value {
            Json::Object(fields) => {
                for (key, v) in fields {
                    let path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    flatten(path, v, rows);
                }
            }
            Json::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                for (n, item) in items.iter().enumerate() {
                    flatten(format!("{path}[{n}]"), item, rows);
                }
            }
            Json::Array(items) => rows.push((
                path,
                items.iter().map(scalar).collect::<Vec<_>>().join(", "),
            )),
            Json::Null => {}
            other => rows.push((path, scalar(other))),
        }
    }
    fn scalar(value: &Json) -> String {
        match value {
            Json::String(s) => clean(s),
            other => other.to_string(),
        }
    }
    let mut rows = Vec::new();
    flatten(String::new(), entry, &mut rows);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{:<width$}  {v}", clean(k)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn now_line(one: &OnCallNow) -> String {
    format!(
        "{:<24} {}",
        clean(&one.schedule),
        one.user
            .as_deref()
            .map_or_else(|| "(nobody: gap)".to_owned(), clean)
    )
}

async fn directory(
    api: &Api,
    json: bool,
    kind: &str,
    what: &str,
    cmd: DirectoryCommand,
) -> anyhow::Result<()> {
    match cmd {
        DirectoryCommand::List => {
            let body = api.get(api.url(&["oncall", kind])?).await?;
            answer(json, &body, what, |all: Json| {
                let items = all["items"].as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    format!("No {kind} defined.")
                } else {
                    items
                        .iter()
                        .map(directory_line)
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            })
        }
        DirectoryCommand::Show { name } => {
            let body = api.get(api.url(&["oncall", kind, &name])?).await?;
            answer(json, &body, what, |entry: Json| field_table(&entry))
        }
        DirectoryCommand::Create { file } => {
            let doc = read_document(&file)?;
            let sent = api
                .send(Method::POST, api.url(&["oncall", kind])?, Some(&doc))
                .await?;
            answer(json, &sent, what, |e: Json| {
                format!(
                    "Created {what} {}",
                    clean(e["name"].as_str().unwrap_or("?"))
                )
            })
        }
        DirectoryCommand::Update { file } => {
            let doc = read_document(&file)?;
            let name = doc["name"]
                .as_str()
                .with_context(|| format!("{}: the document has no `name`", file.display()))?
                .to_owned();
            let sent = api
                .send(Method::PUT, api.url(&["oncall", kind, &name])?, Some(&doc))
                .await?;
            answer(json, &sent, what, |_: Json| {
                format!("Updated {what} {}", clean(&name))
            })
        }
        DirectoryCommand::Delete { name } => {
            api.send::<()>(Method::DELETE, api.url(&["oncall", kind, &name])?, None)
                .await?;
            if !json {
                println!("Deleted {what} {}", clean(&name));
            }
            Ok(())
        }
    }
}

async fn overrides(
    api: &Api,
    json: bool,
    cmd: OverrideCommand,
    now: fn() -> Timestamp,
) -> anyhow::Result<()> {
    match cmd {
        OverrideCommand::Create {
            schedule,
            user,
            start,
            end,
            duration,
        } => {
            let start = start.unwrap_or_else(now);
            let end = match (end, duration) {
                (Some(end), _) => end,
                (None, Some(d)) => start + d,
                (None, None) => unreachable!("clap requires one"),
            };
            let url = api.url(&["oncall", "schedules", &schedule, "overrides"])?;
            let body = json!({ "user": user, "start": start, "end": end });
            let sent = api.send(Method::POST, url, Some(&body)).await?;
            answer(json, &sent, "override", |o: OverrideView| {
                format!(
                    "Created override {}: {} on call on {} from {} to {}",
                    clean(&o.id),
                    clean(&o.user),
                    clean(&schedule),
                    minute(o.start),
                    minute(o.end)
                )
            })
        }
        OverrideCommand::List { schedule } => {
            let url = api.url(&["oncall", "schedules", &schedule, "overrides"])?;
            let body = api.get(url).await?;
            answer(json, &body, "overrides", |all: Json| {
                let list: Vec<OverrideView> =
                    serde_json::from_value(all["overrides"].clone()).unwrap_or_default();
                if list.is_empty() {
                    "No overrides.".to_owned()
                } else {
                    list.iter()
                        .map(|o| {
                            format!(
                                "{}  {} -> {}  {:<16} by {}",
                                clean(&o.id),
                                minute(o.start),
                                minute(o.end),
                                clean(&o.user),
                                clean(&o.created_by)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            })
        }
        OverrideCommand::Delete { schedule, id } => {
            let url = api.url(&["oncall", "schedules", &schedule, "overrides", &id])?;
            api.send::<()>(Method::DELETE, url, None).await?;
            if !json {
                println!("Deleted override {}", clean(&id));
            }
            Ok(())
        }
    }
}

async fn feeds(api: &Api, json: bool, cmd: FeedCommand) -> anyhow::Result<()> {
    match cmd {
        FeedCommand::Create { schedule, user } => {
            let body = match (schedule, user) {
                (Some(s), _) => json!({ "kind": "schedule", "name": s }),
                (None, Some(u)) => json!({ "kind": "user", "name": u }),
                (None, None) => unreachable!("clap requires one"),
            };
            let sent = api
                .send(Method::POST, api.url(&["oncall", "feeds"])?, Some(&body))
                .await?;
            answer(json, &sent, "feed", |f: Json| {
                format!(
                    "{}\nCalendar feed {} created; subscribe to the URL above. It is shown only now.",
                    clean(f["url"].as_str().unwrap_or("?")),
                    clean(f["id"].as_str().unwrap_or("?"))
                )
            })
        }
        FeedCommand::List => {
            let body = api.get(api.url(&["oncall", "feeds"])?).await?;
            answer(json, &body, "feeds", |all: Json| {
                let feeds = all["feeds"]
                    .as_array()
                    .or(all["items"].as_array())
                    .cloned()
                    .unwrap_or_default();
                if feeds.is_empty() {
                    "No calendar feeds.".to_owned()
                } else {
                    feeds
                        .iter()
                        .map(|f| {
                            format!(
                                "{}  {} {}  {}",
                                clean(f["id"].as_str().unwrap_or("?")),
                                clean(f["kind"].as_str().unwrap_or("?")),
                                clean(f["name"].as_str().unwrap_or("?")),
                                if f["revoked_at"].is_null() {
                                    "live"
                                } else {
                                    "revoked"
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            })
        }
        FeedCommand::Revoke { id } => {
            api.send::<()>(Method::DELETE, api.url(&["oncall", "feeds", &id])?, None)
                .await?;
            if !json {
                println!("Revoked calendar feed {}", clean(&id));
            }
            Ok(())
        }
    }
}
