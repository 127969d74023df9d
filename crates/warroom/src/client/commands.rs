//! What each `warroom incident` subcommand sends and what it prints.

use std::io::{Read as _, Write as _};

use anyhow::{bail, Context};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::http::{decode, Api};
use super::render::{self, clean};
use super::wire::{self, Event, Incident, Page, Timeline};
use super::{ClientArgs, DeclareArgs, IncidentCommand, ListArgs, Output, UpdateArgs};

/// The server's page size limit for timelines; a full page means ask again.
const TIMELINE_PAGE: usize = 1000;

pub(super) async fn run(args: &ClientArgs, cmd: IncidentCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        IncidentCommand::Declare(a) => declare(&api, json, *a).await,
        IncidentCommand::List(a) => list(&api, json, &a).await,
        IncidentCommand::Show { id } => show(&api, json, &id).await,
        IncidentCommand::Timeline { id } => {
            let events = timeline(&api, &id).await?;
            if json {
                return print_json(&serde_json::json!({ "events": events }));
            }
            let events = decode::<Vec<Event>>(Value::Array(events), "timeline")?;
            if events.is_empty() {
                return print(&format!("{id} has no timeline events.\n"));
            }
            print(&render::timeline(&events))
        }
        IncidentCommand::Ack { id } => {
            let body = wire::MessageRequest::default();
            let done = send(&api, Method::POST, &[&id, "acknowledge"], Some(&body)).await?;
            report(json, done, now_status)
        }
        IncidentCommand::Status {
            id,
            status,
            message,
        } => {
            let body = wire::StatusRequest { status, message };
            let done = send(&api, Method::POST, &[&id, "status"], Some(&body)).await?;
            report(json, done, now_status)
        }
        IncidentCommand::Severity {
            id,
            severity,
            reason,
        } => {
            let body = wire::SeverityRequest { severity, reason };
            let done = send(&api, Method::POST, &[&id, "severity"], Some(&body)).await?;
            report(json, done, |i| {
                format!("{} is now {}", clean(&i.id), clean(&i.severity))
            })
        }
        IncidentCommand::Update(a) => update(&api, json, *a).await,
        IncidentCommand::Note { id, text } => {
            let text = note_text(text)?;
            let done = send(
                &api,
                Method::POST,
                &[&id, "notes"],
                Some(&wire::NoteRequest { text }),
            )
            .await?;
            if json {
                return print_json(&done);
            }
            let event: Event = decode(done, "note")?;
            print(&format!("Added a note to {id} (event {})\n", event.seq))
        }
        IncidentCommand::Assign { id, role, assignee } => {
            let body = wire::AssignRequest { assignee };
            let done = send(&api, Method::PUT, &[&id, "roles", &role], Some(&body)).await?;
            report(json, done, |i| {
                match i.roles.iter().find(|r| r.role.eq_ignore_ascii_case(&role)) {
                    Some(r) => format!(
                        "{} is now {} of {}",
                        clean(&r.assignee),
                        clean(&r.role),
                        clean(&i.id)
                    ),
                    None => format!("Assigned {} on {}", clean(&role), clean(&i.id)),
                }
            })
        }
        IncidentCommand::Unassign { id, role } => {
            let done = send::<()>(&api, Method::DELETE, &[&id, "roles", &role], None).await?;
            if done.is_null() {
                return if json {
                    Ok(())
                } else {
                    print(&format!("{id} has no {role} now\n"))
                };
            }
            report(json, done, |i| {
                format!("{} has no {} now", clean(&i.id), clean(&role))
            })
        }
        IncidentCommand::Check {
            id,
            phase,
            item,
            undo,
        } => {
            let body = wire::ChecklistRequest { done: !undo };
            let n = item.to_string();
            let done = send(
                &api,
                Method::PUT,
                &[&id, "checklist", &phase, &n],
                Some(&body),
            )
            .await?;
            report(json, done, |i| checked(i, &phase, item, !undo))
        }
        IncidentCommand::Resolve { id, message } => {
            let body = wire::MessageRequest { message };
            let done = send(&api, Method::POST, &[&id, "resolve"], Some(&body)).await?;
            report(json, done, now_status)
        }
        IncidentCommand::Close { id } => {
            let body = wire::MessageRequest::default();
            let done = send(&api, Method::POST, &[&id, "close"], Some(&body)).await?;
            report(json, done, now_status)
        }
        IncidentCommand::Reopen {
            id,
            status,
            message,
        } => {
            let body = wire::ReopenRequest { status, message };
            let done = send(&api, Method::POST, &[&id, "reopen"], Some(&body)).await?;
            report(json, done, now_status)
        }
    }
}

async fn declare(api: &Api, json: bool, a: DeclareArgs) -> anyhow::Result<()> {
    let mut roles = std::collections::BTreeMap::new();
    for (role, assignee) in a.roles {
        if roles.insert(role.clone(), assignee).is_some() {
            bail!("--role `{role}` is given twice");
        }
    }
    let body = wire::DeclareRequest {
        title: a.title,
        severity: a.severity,
        summary: a.summary,
        category: a.category,
        services: a.services,
        status: a.status,
        customer_facing: a.customer_facing,
        users_affected: a.users_affected,
        impact_started_at: a.impact_started,
        detected_at: a.detected,
        roles,
    };
    let done = api
        .send(Method::POST, api.url(&["incidents"])?, Some(&body))
        .await?;
    report(json, done, |i| {
        let (id, sev, status) = (clean(&i.id), clean(&i.severity), clean(&i.status));
        format!("Declared {id} ({sev}, {status}): {}", clean(&i.title))
    })
}

async fn list(api: &Api, json: bool, a: &ListArgs) -> anyhow::Result<()> {
    let mut url = api.url(&["incidents"])?;
    {
        let mut query = url.query_pairs_mut();
        let lists = [
            ("status", a.status.join(",")),
            ("severity", a.severity.join(",")),
        ];
        for (key, value) in lists.iter().filter(|(_, v)| !v.is_empty()) {
            query.append_pair(key, value);
        }
        let times = [("from", a.from), ("until", a.until)];
        for (key, at) in times.iter().filter_map(|(k, t)| Some((k, (*t)?))) {
            query.append_pair(key, &at.to_string());
        }
        let texts = [
            ("service", &a.service),
            ("category", &a.category),
            ("q", &a.search),
        ];
        for (key, value) in texts.iter().filter_map(|(k, v)| Some((k, v.as_deref()?))) {
            query.append_pair(key, value);
        }
        if let Some(limit) = a.limit {
            query.append_pair("limit", &limit.to_string());
        }
    }
    let mut incidents = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_url = url.clone();
        if let Some(cursor) = &cursor {
            page_url.query_pairs_mut().append_pair("cursor", cursor);
        }
        let page: Page = decode(api.get(page_url).await?, "incident list")?;
        incidents.extend(page.incidents);
        cursor = page.next_cursor.filter(|c| !c.is_empty());
        if !a.all || cursor.is_none() {
            break;
        }
    }
    if json {
        let body = serde_json::json!({ "incidents": incidents, "next_cursor": cursor });
        return print_json(&body);
    }
    let incidents = decode::<Vec<Incident>>(Value::Array(incidents), "incident list")?;
    if incidents.is_empty() {
        return print("No incidents match.\n");
    }
    print(&render::incident_table(&incidents, render::TABLE_WIDTH))?;
    if cursor.is_some() {
        eprintln!("(more incidents match; add --all to list them all)");
    }
    Ok(())
}

async fn show(api: &Api, json: bool, id: &str) -> anyhow::Result<()> {
    let incident = api.get(api.url(&["incidents", id])?).await?;
    let events = timeline(api, id).await?;
    if json {
        return print_json(&serde_json::json!({ "incident": incident, "events": events }));
    }
    let incident: Incident = decode(incident, "incident")?;
    let events = decode::<Vec<Event>>(Value::Array(events), "timeline")?;
    let mut text = render::incident_details(&incident);
    if !events.is_empty() {
        text.push_str("\nTimeline:\n");
        text.push_str(&render::timeline(&events));
    }
    print(&text)
}

/// Every event of an incident's timeline, following `after` past full pages.
async fn timeline(api: &Api, id: &str) -> anyhow::Result<Vec<Value>> {
    let mut events: Vec<Value> = Vec::new();
    loop {
        let mut url = api.url(&["incidents", id, "timeline"])?;
        let last_seq = events
            .last()
            .and_then(|e| e.get("seq"))
            .and_then(Value::as_i64);
        if let Some(seq) = last_seq {
            url.query_pairs_mut().append_pair("after", &seq.to_string());
        }
        let page: Timeline = decode(api.get(url).await?, "timeline")?;
        let full = page.events.len() >= TIMELINE_PAGE;
        events.extend(page.events);
        let new_last = events
            .last()
            .and_then(|e| e.get("seq"))
            .and_then(Value::as_i64);
        // Stop on a short page, or if the server ignored `after`.
        if !full || new_last <= last_seq {
            return Ok(events);
        }
    }
}

async fn update(api: &Api, json: bool, a: UpdateArgs) -> anyhow::Result<()> {
    let body = wire::UpdateRequest {
        title: a.title,
        summary: a.summary,
        category: if a.clear_category {
            Some(None)
        } else {
            a.category.map(Some)
        },
        services: if a.clear_services {
            Some(Vec::new())
        } else {
            Some(a.services).filter(|s| !s.is_empty())
        },
        customer_facing: a.customer_facing,
        users_affected: if a.clear_users_affected {
            Some(None)
        } else {
            a.users_affected.map(Some)
        },
        impact_started_at: if a.clear_impact_started {
            Some(None)
        } else {
            a.impact_started.map(Some)
        },
        detected_at: a.detected,
    };
    let fields = body.fields();
    if fields.is_empty() {
        bail!("nothing to update; give at least one option, e.g. --title or --users-affected (see --help)");
    }
    let done = send(api, Method::PATCH, &[&a.id], Some(&body)).await?;
    report(json, done, |i| {
        format!("Updated {}: {}", clean(&i.id), fields.join(", "))
    })
}

/// `/api/v1/incidents/{id}/{rest...}` with `body`.
async fn send<B: Serialize>(
    api: &Api,
    method: Method,
    segments: &[&str],
    body: Option<&B>,
) -> anyhow::Result<Value> {
    let mut path = vec!["incidents"];
    path.extend_from_slice(segments);
    api.send(method, api.url(&path)?, body).await
}

/// Prints the response body (json) or a confirmation built from the
/// incident it returns (table).
fn report(json: bool, body: Value, line: impl FnOnce(&Incident) -> String) -> anyhow::Result<()> {
    if json {
        return print_json(&body);
    }
    let incident: Incident = decode(body, "incident")?;
    print(&format!("{}\n", line(&incident)))
}

fn now_status(i: &Incident) -> String {
    format!("{} is now {}", clean(&i.id), clean(&i.status))
}

/// `Checked detection 2 of INC-1: "Page on-call" (Detection 2/4)`.
fn checked(i: &Incident, phase: &str, item: u64, done: bool) -> String {
    let verb = if done { "Checked" } else { "Unchecked" };
    let found = i
        .checklist
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(phase));
    let Some(p) = found else {
        return format!("{verb} {} {item} of {}", clean(phase), clean(&i.id));
    };
    let text = p
        .items
        .iter()
        .find(|it| it.item as u64 == item)
        .map(|it| format!(": \"{}\"", clean(&it.text)))
        .unwrap_or_default();
    let (id, name) = (clean(&i.id), clean(&p.name));
    format!(
        "{verb} {} {item} of {id}{text} ({name} {}/{})",
        clean(&p.id),
        p.done,
        p.total
    )
}

/// The note's words joined, or standard input for `-`.
fn note_text(words: Vec<String>) -> anyhow::Result<String> {
    let text = if words == ["-"] {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the note from standard input")?;
        text
    } else {
        words.join(" ")
    };
    if text.trim().is_empty() {
        bail!("the note is empty");
    }
    Ok(text.trim_end().to_owned())
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot format JSON")?;
    print(&format!("{text}\n"))
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}
