//! What each `warroom incident` subcommand sends and what it prints.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

use anyhow::{bail, Context};
use jiff::Timestamp;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::http::{decode, Api};
use super::notify::{comms_details, update_posted_line, Comms};
use super::render::{self, clean};
use super::wire::{self, Event, Incident, Page, Seq, Timeline};
use super::{ClientArgs, DeclareArgs, IncidentCommand, ListArgs, Output, ReassignArgs, UpdateArgs};
use serde_json::{json, Value as Json};

/// The server's largest timeline page; a full page means there may be more.
const TIMELINE_PAGE: usize = 1000;

pub(super) async fn run(
    args: &ClientArgs,
    cmd: IncidentCommand,
    now: fn() -> Timestamp,
) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    let post = Method::POST;
    match cmd {
        IncidentCommand::Declare(a) => declare(&api, json, *a).await,
        IncidentCommand::List(a) => list(&api, json, &a).await,
        IncidentCommand::Show { id, checklist } => show(&api, json, &id, checklist).await,
        IncidentCommand::Timeline { id } => show_timeline(&api, json, &id).await,
        IncidentCommand::Ack { id } => {
            let body = wire::MessageRequest::default();
            let sent = on(&api, post, &[&id, "acknowledge"], Some(&body)).await?;
            report(json, &sent, now_status)
        }
        IncidentCommand::Escalate { id, to_step } => {
            let body = json!({ "to_step": to_step });
            let sent = on(&api, post, &[&id, "escalate"], Some(&body)).await?;
            paging_report(json, &sent)
        }
        IncidentCommand::Reassign(a) => {
            let ReassignArgs {
                id,
                user,
                schedule,
                team,
                policy,
            } = *a;
            let body = match policy {
                Some(policy) => json!({ "policy": policy }),
                None => {
                    let targets: Vec<Json> = user
                        .iter()
                        .map(|n| json!({"type": "user", "name": n}))
                        .chain(
                            schedule
                                .iter()
                                .map(|n| json!({"type": "schedule", "name": n})),
                        )
                        .chain(team.iter().map(|n| json!({"type": "team", "name": n})))
                        .collect();
                    json!({ "targets": targets })
                }
            };
            let sent = on(&api, post, &[&id, "reassign"], Some(&body)).await?;
            paging_report(json, &sent)
        }
        IncidentCommand::Pages { id } => list_pages(&api, json, &id).await,
        IncidentCommand::Comms { id } => comms(&api, json, &id, now).await,
        IncidentCommand::Status {
            id,
            status,
            message,
        } => {
            let body = wire::StatusRequest { status, message };
            let sent = on(&api, post, &[&id, "status"], Some(&body)).await?;
            report(json, &sent, now_status)
        }
        IncidentCommand::Severity {
            id,
            severity,
            reason,
        } => {
            let body = wire::SeverityRequest { severity, reason };
            let sent = on(&api, post, &[&id, "severity"], Some(&body)).await?;
            report(json, &sent, |i| {
                format!("{} is now {}", clean(&i.id), clean(&i.severity))
            })
        }
        IncidentCommand::Update(a) => update(&api, json, *a, now).await,
        IncidentCommand::Note { id, text } => note(&api, json, &id, text).await,
        IncidentCommand::Assign { id, role, assignee } => {
            let body = wire::AssignRequest { assignee };
            let sent = on(&api, Method::PUT, &[&id, "roles", &role], Some(&body)).await?;
            report(json, &sent, |i| assigned(i, &role))
        }
        IncidentCommand::Unassign { id, role } => {
            let sent = on::<()>(&api, Method::DELETE, &[&id, "roles", &role], None).await?;
            report(json, &sent, |i| {
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
            let path = [id.as_str(), "checklist", &phase, &item.to_string()];
            let sent = on(&api, Method::PUT, &path, Some(&body)).await?;
            report(json, &sent, |i| checked(i, &phase, item, !undo))
        }
        IncidentCommand::Resolve { id, message } => {
            let body = wire::MessageRequest { message };
            let sent = on(&api, post, &[&id, "resolve"], Some(&body)).await?;
            report(json, &sent, now_status)
        }
        IncidentCommand::Close { id } => {
            let body = wire::MessageRequest::default();
            let sent = on(&api, post, &[&id, "close"], Some(&body)).await?;
            report(json, &sent, now_status)
        }
        IncidentCommand::Merge { id, into } => {
            let body = json!({ "into": into });
            let sent = on(&api, post, &[&id, "merge"], Some(&body)).await?;
            merge_report(json, &sent)
        }
        IncidentCommand::Reopen {
            id,
            status,
            message,
        } => {
            let body = wire::ReopenRequest { status, message };
            let sent = on(&api, post, &[&id, "reopen"], Some(&body)).await?;
            report(json, &sent, now_status)
        }
    }
}

async fn declare(api: &Api, json: bool, a: DeclareArgs) -> anyhow::Result<()> {
    let mut roles = BTreeMap::new();
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
    let url = api.url(&["incidents"])?;
    let sent = api.send(Method::POST, url, Some(&body)).await?;
    report(json, &sent, |i| {
        let (id, sev, status) = (clean(&i.id), clean(&i.severity), clean(&i.status));
        format!("Declared {id} ({sev}, {status}): {}", clean(&i.title))
    })
}

async fn list(api: &Api, json: bool, a: &ListArgs) -> anyhow::Result<()> {
    let mut url = api.url(&["incidents"])?;
    {
        let mut query = url.query_pairs_mut();
        let lists = [("status", &a.status), ("severity", &a.severity)];
        for (key, values) in lists.iter().filter(|(_, v)| !v.is_empty()) {
            query.append_pair(key, &values.join(","));
        }
        for (key, at) in [("from", a.from), ("until", a.until)] {
            if let Some(at) = at {
                query.append_pair(key, &at.to_string());
            }
        }
        let texts = [
            ("service", &a.service),
            ("category", &a.category),
            ("q", &a.search),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
        if let Some(limit) = a.limit {
            query.append_pair("limit", &limit.to_string());
        }
    }
    if json {
        let (incidents, next) = pages::<Json>(api, &url, a.all).await?;
        let body = json!({"incidents": incidents, "next_cursor": next});
        return print(&pretty(&body));
    }
    let (incidents, next) = pages::<Incident>(api, &url, a.all).await?;
    if incidents.is_empty() {
        return print("No incidents match.");
    }
    print(render::incident_table(&incidents, render::TABLE_WIDTH).trim_end())?;
    if next.is_some() {
        eprintln!("(more incidents match; add --all to list them all)");
    }
    Ok(())
}

/// The first page of a list, or every page with `all`, and the cursor of
/// the page after the last one fetched.
async fn pages<T: DeserializeOwned>(
    api: &Api,
    url: &url::Url,
    all: bool,
) -> anyhow::Result<(Vec<T>, Option<String>)> {
    let mut incidents = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_url = url.clone();
        if let Some(cursor) = &cursor {
            page_url.query_pairs_mut().append_pair("cursor", cursor);
        }
        let page: Page<T> = decode(&api.get(page_url).await?, "incident list")?;
        incidents.extend(page.incidents);
        let next = page.next_cursor.filter(|c| !c.is_empty());
        // Stop at the end, or if the server hands back the same cursor.
        if !all || next.is_none() || next == cursor {
            return Ok((incidents, next));
        }
        cursor = next;
    }
}

async fn show(api: &Api, json: bool, id: &str, all_items: bool) -> anyhow::Result<()> {
    let incident = api.get(api.url(&["incidents", id])?).await?;
    if json {
        let events = timeline::<Json>(api, id).await?;
        let incident: Json = decode(&incident, "incident")?;
        let body = json!({"incident": incident, "events": events});
        return print(&pretty(&body));
    }
    let incident: Incident = decode(&incident, "incident")?;
    let events = timeline::<Event>(api, id).await?;
    let mut text = render::incident_details(&incident, all_items);
    if !events.is_empty() {
        text.push_str("\nTimeline:\n");
        text.push_str(&render::timeline(&events));
    }
    print(text.trim_end())
}

async fn show_timeline(api: &Api, json: bool, id: &str) -> anyhow::Result<()> {
    if json {
        let events = timeline::<Json>(api, id).await?;
        return print(&pretty(&json!({"events": events})));
    }
    let events = timeline::<Event>(api, id).await?;
    if events.is_empty() {
        return print(&format!("{} has no timeline events.", clean(id)));
    }
    print(render::timeline(&events).trim_end())
}

/// Every event of an incident's timeline, asking for more (`after` the last
/// `seq`) while pages come back full.
async fn timeline<T: DeserializeOwned>(api: &Api, id: &str) -> anyhow::Result<Vec<T>> {
    let mut events = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let mut url = api.url(&["incidents", id, "timeline"])?;
        if let Some(seq) = after {
            url.query_pairs_mut().append_pair("after", &seq.to_string());
        }
        let body = api.get(url).await?;
        let seqs: Timeline<Seq> = decode(&body, "timeline")?;
        let page: Timeline<T> = decode(&body, "timeline")?;
        events.extend(page.events);
        let last = seqs.events.last().map(|e| e.seq);
        // Stop on a short page, or if the server ignored `after`.
        if seqs.events.len() < TIMELINE_PAGE || last <= after {
            return Ok(events);
        }
        after = last;
    }
}

async fn update(
    api: &Api,
    json: bool,
    a: UpdateArgs,
    now: fn() -> Timestamp,
) -> anyhow::Result<()> {
    /// `Some(None)` (send `null`) when cleared, else the new value if given.
    fn set_or_clear<T>(clear: bool, value: Option<T>) -> Option<Option<T>> {
        if clear {
            Some(None)
        } else {
            value.map(Some)
        }
    }
    let post = update_post(a.status, a.message)?;
    let body = wire::UpdateRequest {
        title: a.title,
        summary: a.summary,
        category: set_or_clear(a.clear_category, a.category),
        services: if a.clear_services {
            Some(Vec::new())
        } else {
            Some(a.services).filter(|s| !s.is_empty())
        },
        customer_facing: a.customer_facing,
        users_affected: set_or_clear(a.clear_users_affected, a.users_affected),
        impact_started_at: set_or_clear(a.clear_impact_started, a.impact_started),
        detected_at: a.detected,
        bridge_url: set_or_clear(a.clear_bridge, a.bridge),
        chat_url: set_or_clear(a.clear_chat, a.chat),
    };
    let fields = body.fields();
    if fields.is_empty() && post.is_none() {
        bail!(
            "nothing to update; give at least one option such as --title, or --message to post a status update (see --help)"
        );
    }
    if !fields.is_empty() {
        let sent = on(api, Method::PATCH, &[&a.id], Some(&body)).await?;
        if post.is_none() || !json {
            report(json, &sent, |i| {
                format!("Updated {}: {}", clean(&i.id), fields.join(", "))
            })?;
        }
    }
    let Some(post) = post else {
        return Ok(());
    };
    let sent = on(api, Method::POST, &[&a.id, "updates"], Some(&post)).await?;
    if json {
        return print(&pretty(&decode::<Json>(&sent, "answer")?));
    }
    let change: Json = decode(&sent, "incident change")?;
    // The cadence is best effort: the update is posted whatever happens here.
    let comms = match api.get(api.url(&["incidents", &a.id, "comms"])?).await {
        Ok(body) => decode::<Comms>(&body, "comms").ok(),
        Err(_) => None,
    };
    print(&update_posted_line(&change, comms.as_ref(), now()))
}

/// The status update `--message` (and `--status`) ask for; `--status` alone
/// is refused rather than silently ignored or turned into a bare status change.
fn update_post(
    status: Option<String>,
    message: Option<String>,
) -> anyhow::Result<Option<wire::PostUpdateRequest>> {
    match (status, message) {
        (Some(status), None) => bail!(
            "--status needs --message: an update tells the incident's audiences what changed; \
             add --message TEXT, or use `warroom incident status ID {status}` to change the status alone"
        ),
        (_, Some(message)) if message.trim().is_empty() => bail!("--message is empty"),
        (status, Some(message)) => Ok(Some(wire::PostUpdateRequest { status, message })),
        (None, None) => Ok(None),
    }
}

async fn comms(api: &Api, json: bool, id: &str, now: fn() -> Timestamp) -> anyhow::Result<()> {
    let body = api.get(api.url(&["incidents", id, "comms"])?).await?;
    if json {
        return print(&pretty(&decode::<Json>(&body, "answer")?));
    }
    let comms: Comms = decode(&body, "comms")?;
    print(&comms_details(&comms, now()))
}

async fn note(api: &Api, json: bool, id: &str, words: Vec<String>) -> anyhow::Result<()> {
    let text = note_text(words)?;
    let body = wire::NoteRequest { text };
    let sent = on(api, Method::POST, &[id, "notes"], Some(&body)).await?;
    if json {
        return print(&pretty(&decode::<Json>(&sent, "note")?));
    }
    let event: Event = decode(&sent, "note")?;
    print(&format!(
        "Added a note to {} (event {})",
        clean(id),
        event.seq
    ))
}

/// Sends `body` to `/api/v1/incidents/{id}/{rest...}`, `segments` being
/// `[id, rest...]`.
async fn on<B: Serialize>(
    api: &Api,
    method: Method,
    segments: &[&str],
    body: Option<&B>,
) -> anyhow::Result<String> {
    let path: Vec<&str> = std::iter::once("incidents")
        .chain(segments.iter().copied())
        .collect();
    api.send(method, api.url(&path)?, body).await
}

/// Prints the answer as it came (json) or one line about the incident it
/// returns (table).
fn report(json: bool, body: &str, line: impl FnOnce(&Incident) -> String) -> anyhow::Result<()> {
    if json {
        return print(&pretty(&decode::<Json>(body, "answer")?));
    }
    let incident: Incident = decode(body, "incident")?;
    print(&line(&incident))
}

/// Both incidents of a merge, as the server answers.
#[derive(serde::Deserialize)]
struct Merged {
    survivor: Incident,
    duplicate: Incident,
}

/// One line about a merge, or the answer as it came.
fn merge_report(json: bool, body: &str) -> anyhow::Result<()> {
    if json {
        return print(&pretty(&decode::<Json>(body, "answer")?));
    }
    let Merged {
        survivor,
        duplicate,
    } = decode(body, "merge")?;
    let (dup, into) = (clean(&duplicate.id), clean(&survivor.id));
    print(&format!(
        "Merged {dup} into {into}: {dup} is {} as a duplicate, {into} is {}",
        clean(&duplicate.status),
        clean(&survivor.status),
    ))
}

fn now_status(i: &Incident) -> String {
    format!("{} is now {}", clean(&i.id), clean(&i.status))
}

/// `bob is now Scribe of INC-1`, in the playbook's spelling of the role.
fn assigned(i: &Incident, role: &str) -> String {
    match i.roles.iter().find(|r| r.role.eq_ignore_ascii_case(role)) {
        Some(r) => format!(
            "{} is now {} of {}",
            clean(&r.assignee),
            clean(&r.role),
            clean(&i.id)
        ),
        None => format!("Assigned {} on {}", clean(role), clean(&i.id)),
    }
}

/// `Checked detection 2 of INC-1: "Page on-call" (Detection 2/4)`.
fn checked(i: &Incident, phase: &str, item: u64, done: bool) -> String {
    let verb = if done { "Checked" } else { "Unchecked" };
    let id = clean(&i.id);
    let Some(p) = i
        .checklist
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(phase))
    else {
        return format!("{verb} {} {item} of {id}", clean(phase));
    };
    let text = p
        .items
        .iter()
        .find(|it| u64::try_from(it.item) == Ok(item))
        .map(|it| format!(": \"{}\"", clean(&it.text)))
        .unwrap_or_default();
    let (phase, name) = (clean(&p.id), clean(&p.name));
    format!(
        "{verb} {phase} {item} of {id}{text} ({name} {}/{})",
        p.done, p.total
    )
}

/// The note's words joined with spaces, or all of standard input for `-`.
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
    let text = text.trim_end();
    if text.trim().is_empty() {
        bail!("the note is empty");
    }
    Ok(text.to_owned())
}

/// Writes `text` and a newline to standard output; a closed pipe (`| head`)
/// is not an error.
pub(super) fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

/// Pretty JSON in the server's key order (serde_json's `preserve_order`).
pub(super) fn pretty(value: &Json) -> String {
    // Serializing a `Value` cannot fail.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// After escalate/reassign: who was paged, from the returned events.
fn paging_report(json: bool, sent: &str) -> anyhow::Result<()> {
    if json {
        return print_json(sent);
    }
    let answer: Json = decode(sent, "incident change")?;
    let paged: Vec<String> = answer["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "escalation_step")
        .flat_map(|e| {
            let who: Vec<String> = e["paged"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(clean)
                .collect();
            let problems: Vec<String> = e["problems"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(clean)
                .collect();
            let mut line = if who.is_empty() {
                "paged nobody".to_owned()
            } else {
                format!("paged {}", who.join(", "))
            };
            if !problems.is_empty() {
                line.push_str(&format!(" ({})", problems.join("; ")));
            }
            Some(line)
        })
        .collect();
    let id = answer["incident"]["id"].as_str().unwrap_or("?");
    println!(
        "{}: {}",
        clean(id),
        if paged.is_empty() {
            "paging restarted".to_owned()
        } else {
            paged.join("; ")
        }
    );
    Ok(())
}

fn print_json(body: &str) -> anyhow::Result<()> {
    let value: Json = decode(body, "answer")?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

async fn list_pages(api: &Api, json: bool, id: &str) -> anyhow::Result<()> {
    let body = api.get(api.url(&["incidents", id, "messages"])?).await?;
    if json {
        return print_json(&body);
    }
    let all: Json = decode(&body, "messages")?;
    let messages = all["messages"].as_array().cloned().unwrap_or_default();
    if messages.is_empty() {
        println!("No pages or messages for {}.", clean(id));
        return Ok(());
    }
    println!(
        "{:<6} {:<20} {:<10} {:<10} {:<20} {:>3}  DETAIL",
        "ID", "TO", "CHANNEL", "STATE", "PURPOSE", "TRY"
    );
    for m in messages {
        let text = |k: &str| m[k].as_str().map(clean).unwrap_or_default();
        let detail = match m["state"].as_str() {
            Some("sent") => text("provider_answer"),
            Some("queued") | Some("failed") => {
                format!(
                    "next attempt {} {}",
                    text("next_attempt_at"),
                    text("last_error")
                )
            }
            _ => text("last_error"),
        };
        // Pages go to a person's contact method; notifications to an address or chat.
        let to = if m["user"].is_string() {
            format!("{}/{}", text("user"), text("contact_method"))
        } else {
            text("destination")
        };
        println!(
            "{:<6} {:<20} {:<10} {:<10} {:<20} {:>3}  {}",
            m["id"].to_string(),
            to,
            text("channel"),
            text("state"),
            text("purpose"),
            m["attempts"],
            detail.trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_alone_is_not_an_update() {
        let err = update_post(Some("identified".into()), None).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("add --message"), "{err}");
        assert!(
            err.contains("warroom incident status ID identified"),
            "{err}"
        );
        assert!(update_post(None, Some("  ".into())).is_err());
        assert!(update_post(None, None).unwrap().is_none());
        let post = update_post(Some("monitoring".into()), Some("Fixed".into()))
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&post).unwrap(),
            json!({"status": "monitoring", "message": "Fixed"})
        );
        let post = update_post(None, Some("Fixed".into())).unwrap().unwrap();
        assert_eq!(
            serde_json::to_value(&post).unwrap(),
            json!({"message": "Fixed"})
        );
    }
}
