//! The incident workspace: header with quick actions, then what a
//! responder needs first (who is paged, who holds each role, the next
//! stakeholder update, the summary, the linked alerts by sender), the
//! timeline with bulk entries folded, the checklist at its current phase,
//! stakeholder updates with preview and details. Every action is a form
//! post that redirects back (303); a refused one re-renders the page with
//! the reason. Removing a role and taking over one someone holds ask for
//! a second, confirming post.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use warroom_domain::notify::{AudienceClass, MessageKind};
use warroom_domain::oncall::{EscalationPolicy, Schedule, Target, Team, User};
use warroom_domain::{DetailsPatch, Incident, Status};
use warroom_engine::notify::messages::MessageContextBuilder;
use warroom_engine::notify::UpdateDue;
use warroom_engine::paging::Reassign;
use warroom_engine::IncidentOp;
use warroom_store::{AlertFilter, Store};

use super::severity_options;
use crate::state::AppState;
use crate::ui::alert_links::{alert_links, LinkView};
use crate::ui::form::Posted;
use crate::ui::paging_view::paging_view;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render_status};
use crate::ui::timeline_view::{timeline_items, FILTERS};
use crate::ui::view::{incident_row, statuses, time, time_opt, TimeView};
use crate::ui::UiError;

/// Newest timeline events shown; older ones stay in the API and CLI.
pub const TIMELINE_SHOWN: u32 = 300;

#[derive(Serialize)]
struct PhaseView {
    /// The first phase with work left: shown open, the others folded.
    current: bool,
    id: String,
    name: String,
    target: Option<String>,
    done: usize,
    items: Vec<ItemView>,
}

#[derive(Serialize)]
struct ItemView {
    text: String,
    done: bool,
    done_by: Option<String>,
    done_at: Option<TimeView>,
}

#[derive(Serialize)]
struct RoleView {
    name: String,
    assignee: Option<String>,
}

#[derive(Serialize)]
struct AlertView {
    links: Vec<LinkView>,
    status: &'static str,
    suppressed: bool,
    summary: String,
    source: String,
    count: i64,
    last_seen: TimeView,
}

#[derive(Serialize)]
struct MessageView {
    id: i64,
    resendable: bool,
    to: String,
    subject: String,
    channel: String,
    state: String,
    attempts: i64,
    last_error: Option<String>,
}

/// Linked alerts from one sender.
#[derive(Serialize)]
struct AlertGroup {
    source: String,
    firing: usize,
    alerts: Vec<AlertView>,
}

#[derive(Serialize)]
struct CommsView {
    updates: i64,
    last_update_at: Option<TimeView>,
    next_update_due: Option<TimeView>,
    /// The due time passed with no update since; stays so until one is posted.
    overdue: bool,
    /// Due times missed since the last update.
    missed: i64,
}

/// `?show=` narrows the timeline; `?confirm=` asks before a role change.
#[derive(Debug, Default, Deserialize)]
pub struct WorkspaceQuery {
    show: Option<String>,
    confirm: Option<String>,
    role: Option<String>,
    assignee: Option<String>,
}

/// The second step of a role change that needs confirming.
#[derive(Serialize)]
struct ConfirmView {
    action: &'static str,
    role: String,
    assignee: Option<String>,
    holder: String,
}

#[derive(Serialize)]
struct Starter {
    name: &'static str,
    text: String,
}

#[derive(Serialize)]
struct Preview {
    audience: String,
    audience_class: &'static str,
    subject: String,
    text: String,
}

#[derive(Serialize, Default, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
}

/// What the page shows besides stored state: a refusal, a confirmation,
/// an update preview and the update form as typed.
#[derive(Default)]
struct Extras {
    query: WorkspaceQuery,
    status: Option<StatusCode>,
    error: Option<String>,
    notice: Option<String>,
    preview: Option<Preview>,
    update_form: UpdateForm,
}

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<WorkspaceQuery>,
) -> Result<Response, UiError> {
    workspace(
        &app,
        &viewer,
        &id,
        Extras {
            query,
            ..Extras::default()
        },
    )
    .await
}

async fn workspace<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    id: &str,
    extras: Extras,
) -> Result<Response, UiError> {
    let playbook = app.incidents.playbook();
    let now = app.incidents.clock().now();
    let incident = app.incidents.get(id).await?;
    let events = app
        .incidents
        .timeline_tail(&incident.id, TIMELINE_SHOWN)
        .await?;
    let more_events = events.len() as u32 >= TIMELINE_SHOWN;
    // Newest first: the note box sits on top, what just happened under it.
    let events: Vec<_> = events.into_iter().rev().collect();
    let show = extras
        .query
        .show
        .as_deref()
        .filter(|s| FILTERS.contains(s))
        .unwrap_or("all");
    let timeline = timeline_items(&events, show);

    let mut current_found = false;
    let phases: Vec<PhaseView> = incident
        .checklist
        .iter()
        .map(|p| {
            let done = p.items.iter().filter(|i| i.is_done()).count();
            let current = !current_found && done < p.items.len();
            current_found |= current;
            PhaseView {
                current,
                id: p.id.clone(),
                name: p.name.clone(),
                target: p.target.clone(),
                done,
                items: p
                    .items
                    .iter()
                    .map(|i| ItemView {
                        text: i.text.clone(),
                        done: i.is_done(),
                        done_by: i.done_by.clone(),
                        done_at: time_opt(i.done_at),
                    })
                    .collect(),
            }
        })
        .collect();
    let checklist_total: usize = phases.iter().map(|p| p.items.len()).sum();
    let checklist_done: usize = phases.iter().map(|p| p.done).sum();
    let roles: Vec<RoleView> = playbook
        .roles
        .iter()
        .map(|r| RoleView {
            name: r.name.clone(),
            assignee: incident.roles.get(&r.name).map(|a| a.assignee.clone()),
        })
        .collect();
    let alert_list: Vec<AlertView> = app
        .alerts
        .list(&AlertFilter {
            incident_id: Some(incident.id.clone()),
            limit: 100,
            ..AlertFilter::default()
        })
        .await?
        .into_iter()
        .map(|a| AlertView {
            links: alert_links(&a, playbook),
            status: a.status.as_str(),
            suppressed: a.suppressed_by.is_some(),
            summary: a.summary,
            source: a.source,
            count: a.event_count,
            last_seen: time(a.last_seen_at),
        })
        .collect();
    let alert_count = alert_list.len();
    let mut alert_groups: Vec<AlertGroup> = Vec::new();
    for alert in alert_list {
        let group = match alert_groups.iter_mut().find(|g| g.source == alert.source) {
            Some(group) => group,
            None => {
                alert_groups.push(AlertGroup {
                    source: alert.source.clone(),
                    firing: 0,
                    alerts: Vec::new(),
                });
                alert_groups.last_mut().expect("just pushed")
            }
        };
        group.firing += usize::from(alert.status == "firing");
        group.alerts.push(alert);
    }
    alert_groups.sort_by_key(|g| std::cmp::Reverse(g.alerts.len()));
    let message_records = app.paging.messages(&incident.id).await?;
    let escalation_record = app.paging.escalation(&incident.id).await?;
    let paging = paging_view(
        &incident,
        escalation_record.as_ref(),
        &events,
        &message_records,
    );
    let messages: Vec<MessageView> = message_records
        .into_iter()
        .rev()
        .take(50)
        .map(|m| MessageView {
            id: m.id,
            resendable: matches!(m.state.as_str(), "failed" | "dead"),
            to: m.user_name.unwrap_or(m.destination),
            subject: m.subject,
            channel: m.channel,
            state: m.state.as_str().to_owned(),
            attempts: m.attempts,
            last_error: m.last_error,
        })
        .collect();
    let comms = app.notifier.comms(&incident.id).await?.map(|c| {
        let due = UpdateDue::of(playbook, &incident, &c, now);
        CommsView {
            updates: c.updates,
            last_update_at: time_opt(c.last_update_at),
            overdue: due.is_some_and(|d| d.overdue),
            next_update_due: due.map(|d| time(d.due)),
            missed: due.map_or(0, |d| d.missed),
        }
    });
    let escalation = escalation_record.map(|e| {
        context! { policy => e.policy, state => e.state }
    });
    let confirm = confirm_view(&incident, &extras.query);
    let users: Vec<String> = app
        .oncall
        .list::<User>()
        .await?
        .into_iter()
        .map(|u| u.doc.name)
        .collect();
    let mut people = users.clone();
    people.push(viewer.account.name.clone());
    people.sort();
    people.dedup();

    let mut reassign_to: Vec<(String, String)> = users
        .iter()
        .map(|name| (format!("user:{name}"), format!("person {name}")))
        .collect();
    for s in app.oncall.list::<Schedule>().await? {
        reassign_to.push((
            format!("schedule:{}", s.doc.name),
            format!("on call on {}", s.doc.name),
        ));
    }
    for t in app.oncall.list::<Team>().await? {
        reassign_to.push((
            format!("team:{}", t.doc.name),
            format!("team {}", t.doc.name),
        ));
    }
    for p in app.oncall.list::<EscalationPolicy>().await? {
        reassign_to.push((
            format!("policy:{}", p.doc.name),
            format!("policy {}", p.doc.name),
        ));
    }
    let status = extras.status.unwrap_or(StatusCode::OK);
    let ctx = context! {
        reassign_to,
        i => incident_row(playbook, &incident, now),
        bridge => incident.bridge.clone(),
        summary => incident.summary,
        customer_facing => incident.customer_facing,
        declared_by => incident.declared_by,
        timeline,
        show,
        filters => FILTERS,
        more_events,
        shown_events => events.len(),
        paging,
        confirm,
        i_checklist => phases,
        checklist_total,
        checklist_done,
        roles,
        people,
        alert_groups,
        alert_count,
        messages,
        comms,
        escalation,
        statuses => statuses(),
        severities => severity_options(playbook),
        categories => playbook.categories.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        service_ids => playbook.services.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        starters => starters(&incident),
        preview => extras.preview,
        update_form => extras.update_form,
        error => extras.error,
        notice => extras.notice,
    };
    Ok(render_status(
        status,
        "workspace.html",
        page_context(
            viewer,
            &format!("{} {}", incident.id, incident.title),
            "incidents",
            ctx,
        ),
    ))
}

/// The confirmation `?confirm=` asks for, when it still applies: removing
/// a role someone holds, or handing one from its holder to someone else.
fn confirm_view(incident: &Incident, query: &WorkspaceQuery) -> Option<ConfirmView> {
    let role = query.role.as_deref()?;
    let holder = incident.roles.get(role)?.assignee.clone();
    match query.confirm.as_deref()? {
        "unassign" => Some(ConfirmView {
            action: "unassign",
            role: role.to_owned(),
            assignee: None,
            holder,
        }),
        "assign" => {
            let assignee = query.assignee.clone().filter(|a| *a != holder)?;
            Some(ConfirmView {
                action: "assign",
                role: role.to_owned(),
                assignee: Some(assignee),
                holder,
            })
        }
        _ => None,
    }
}

/// Where a role change that needs confirming goes first: `None` when it
/// is confirmed, or changes nothing anyone holds.
async fn needs_confirming<S: Store>(
    app: &AppState<S>,
    id: &str,
    action: &str,
    form: &ActionForm,
) -> Result<Option<String>, UiError> {
    if form.confirm.as_deref() == Some("1") || !matches!(action, "assign" | "unassign") {
        return Ok(None);
    }
    let incident = app.incidents.get(id).await?;
    let Some(role) = super::given(&form.role) else {
        return Ok(None);
    };
    let Some(holder) = incident.roles.get(&role).map(|r| r.assignee.clone()) else {
        return Ok(None);
    };
    let assignee = super::given(&form.assignee);
    if action == "assign" && assignee.as_deref().is_none_or(|a| a == holder) {
        return Ok(None);
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("confirm", action)
        .append_pair("role", &role);
    if let Some(assignee) = &assignee {
        query.append_pair("assignee", assignee);
    }
    Ok(Some(format!("/incidents/{id}?{}#confirm", query.finish())))
}

/// Starting points for an update, shaped like the seeds' status update template.
fn starters(incident: &Incident) -> Vec<Starter> {
    let title = &incident.title;
    vec![
        Starter {
            name: "Investigating",
            text: format!(
                "We are investigating: {title}.\n\nIMPACT:\n- {{who is affected, how}}\n\nNEXT STEPS:\n- {{planned actions}}"
            ),
        },
        Starter {
            name: "Identified",
            text: format!(
                "We have found the cause of: {title}.\n\nPROGRESS:\n- {{what has been done}}\n- {{current findings}}\n- {{any workarounds}}\n\nNEXT STEPS:\n- {{planned actions}}\n- ETA: {{estimated time}}"
            ),
        },
        Starter {
            name: "Monitoring",
            text: format!(
                "A fix for {title} is in place and we are watching the results.\n\nPROGRESS:\n- {{what was changed}}"
            ),
        },
        Starter {
            name: "Resolved",
            text: format!(
                "{title} is resolved.\n\nROOT CAUSE:\n- {{brief explanation}}\n\nWe will share a post-incident review."
            ),
        },
    ]
}

/// Every field any workspace form posts; each action reads its own.
#[derive(Debug, Deserialize, Default)]
pub struct ActionForm {
    status: Option<String>,
    severity: Option<String>,
    message: Option<String>,
    reason: Option<String>,
    text: Option<String>,
    role: Option<String>,
    assignee: Option<String>,
    phase: Option<String>,
    item: Option<String>,
    done: Option<String>,
    to_step: Option<String>,
    preview: Option<String>,
    message_id: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    category: Option<String>,
    /// Comma-separated service ids.
    services: Option<String>,
    customer_facing: Option<String>,
    /// `user:NAME`, `schedule:NAME`, `team:NAME` or `policy:NAME`.
    to: Option<String>,
    /// `1` on the second, confirming post of a role removal or takeover.
    confirm: Option<String>,
}

fn required(value: &Option<String>, field: &str) -> Result<String, UiError> {
    super::given(value).ok_or_else(|| UiError::bad_request(field, format!("{field}: required")))
}

fn parse_status(value: &str, field: &str) -> Result<Status, UiError> {
    Status::parse(value)
        .ok_or_else(|| UiError::bad_request(field, format!("{field}: no status named {value:?}")))
}

pub async fn act<S: Store>(
    State(app): State<AppState<S>>,
    Path((id, action)): Path<(String, String)>,
    Posted { viewer, form }: Posted<ActionForm>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    if action == "update" && form.preview.is_some() {
        return preview_update(&app, &viewer, &id, &form).await;
    }
    if let Some(confirm) = needs_confirming(&app, &id, &action, &form).await? {
        return Ok(Redirect::to(&confirm).into_response());
    }
    let outcome = apply(&app, &viewer, &id, &action, &form).await;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}")).into_response()),
        Err(e) => match e.form_message() {
            // Show the refusal on the workspace itself, next to the actions.
            Some((status, message)) if !matches!(status, StatusCode::NOT_FOUND) => {
                let update_form = UpdateForm {
                    status: form.status.clone().unwrap_or_default(),
                    message: form.message.clone().unwrap_or_default(),
                };
                workspace(
                    &app,
                    &viewer,
                    &id,
                    Extras {
                        status: Some(status),
                        error: Some(message),
                        update_form: if action == "update" {
                            update_form
                        } else {
                            UpdateForm::default()
                        },
                        ..Extras::default()
                    },
                )
                .await
            }
            _ => Err(e),
        },
    }
}

async fn apply<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    id: &str,
    action: &str,
    form: &ActionForm,
) -> Result<(), UiError> {
    let given = super::given;
    let op = match action {
        "acknowledge" => IncidentOp::Acknowledge,
        "status" => IncidentOp::Status {
            to: parse_status(&required(&form.status, "status")?, "status")?,
            message: given(&form.message),
        },
        "severity" => IncidentOp::Severity {
            to: required(&form.severity, "severity")?,
            reason: given(&form.reason),
        },
        "resolve" => IncidentOp::Resolve {
            message: given(&form.message),
        },
        "reopen" => IncidentOp::Reopen {
            to: None,
            message: given(&form.message),
        },
        "close" => IncidentOp::Close,
        "note" => IncidentOp::Note {
            text: required(&form.text, "text")?,
        },
        "assign" => IncidentOp::AssignRole {
            role: required(&form.role, "role")?,
            assignee: required(&form.assignee, "assignee")?,
        },
        "unassign" => IncidentOp::UnassignRole {
            role: required(&form.role, "role")?,
        },
        "checklist" => IncidentOp::Checklist {
            phase: required(&form.phase, "phase")?,
            item: required(&form.item, "item")?
                .parse()
                .map_err(|_| UiError::bad_request("item", "item: not an item number"))?,
            done: match required(&form.done, "done")?.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(UiError::bad_request("done", "done: use true or false")),
            },
        },
        "update" => IncidentOp::PostUpdate {
            status: given(&form.status)
                .map(|s| parse_status(&s, "status"))
                .transpose()?,
            message: required(&form.message, "message")?,
        },
        "escalate" => {
            let to_step = given(&form.to_step)
                .map(|s| {
                    s.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        UiError::bad_request("to_step", "to_step: a step number from 1")
                    })
                })
                .transpose()?;
            app.paging.escalate(id, viewer.actor(), to_step).await?;
            return Ok(());
        }
        "details" => IncidentOp::Details(DetailsPatch {
            title: Some(required(&form.title, "title")?),
            summary: Some(form.summary.clone().unwrap_or_default()),
            category: Some(given(&form.category)),
            services: Some(
                form.services
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            customer_facing: Some(form.customer_facing.as_deref() == Some("true")),
            ..DetailsPatch::default()
        }),
        "resend" => {
            let message_id: i64 =
                required(&form.message_id, "message_id")?
                    .parse()
                    .map_err(|_| {
                        UiError::bad_request("message_id", "message_id: not a message number")
                    })?;
            let message = app.notifier.message(message_id).await?;
            if message.incident_id.as_deref() != Some(id) {
                return Err(UiError::not_found(format!(
                    "message {message_id} is not about {id}"
                )));
            }
            app.notifier.resend(message_id).await?;
            return Ok(());
        }
        "reassign" => {
            let wrong = || {
                UiError::bad_request(
                    "to",
                    "to: use user:NAME, schedule:NAME, team:NAME or policy:NAME",
                )
            };
            let to = required(&form.to, "to")?;
            let (kind, name) = to.split_once(':').ok_or_else(wrong)?;
            let name = name.to_owned();
            let target = match kind {
                "user" => Reassign::Targets(vec![Target::User { name }]),
                "schedule" => Reassign::Targets(vec![Target::Schedule { name }]),
                "team" => Reassign::Targets(vec![Target::Team {
                    name,
                    mode: Default::default(),
                }]),
                "policy" => Reassign::Policy(name),
                _ => return Err(wrong()),
            };
            app.paging.reassign(id, viewer.actor(), target).await?;
            return Ok(());
        }
        other => {
            return Err(UiError::not_found(format!(
                "no incident action named {other:?}"
            )))
        }
    };
    app.incidents.apply(id, viewer.actor(), op).await?;
    Ok(())
}

/// Renders the update as the first audience the severity notifies would get it.
async fn preview_update<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    id: &str,
    form: &ActionForm,
) -> Result<Response, UiError> {
    let playbook = app.incidents.playbook();
    let now = app.incidents.clock().now();
    let incident = app.incidents.get(id).await?;
    let message = required(&form.message, "message")?;
    let status = match super::given(&form.status) {
        Some(s) => parse_status(&s, "status")?,
        None => incident.status,
    };
    let audience = playbook
        .severity(&incident.severity)
        .and_then(|s| s.notify.first())
        .map(|rule| rule.audience.clone());
    let class = audience
        .as_deref()
        .and_then(|a| playbook.notifications.audience(a))
        .map_or(AudienceClass::Stakeholders, |a| a.class);
    let audience = audience.unwrap_or_else(|| "stakeholders".to_owned());
    let next_due = app
        .notifier
        .comms(&incident.id)
        .await?
        .and_then(|c| c.next_update_due);
    let ctx = MessageContextBuilder::build(
        playbook,
        app.paging.public_url(),
        &incident,
        next_due,
        Some((&status, &message)),
        &audience,
        &audience,
        None,
        now,
    );
    let rendered = playbook
        .notifications
        .templates
        .render(MessageKind::StatusUpdate, class, &incident.severity, &ctx)
        .map_err(|e| {
            UiError::bad_request(
                "message",
                format!("the update template does not render: {e}"),
            )
        })?;
    workspace(
        app,
        viewer,
        id,
        Extras {
            preview: Some(Preview {
                audience,
                audience_class: class.as_str(),
                subject: rendered.subject,
                text: rendered.text,
            }),
            update_form: UpdateForm {
                status: form.status.clone().unwrap_or_default(),
                message,
            },
            ..Extras::default()
        },
    )
    .await
}
