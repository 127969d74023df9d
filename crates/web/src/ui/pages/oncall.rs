//! The on-call page: who is on call now, a week calendar of final shifts
//! per schedule (laid out in the viewer's time zone), overrides created
//! from the calendar, escalation policies and the warnings.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use minijinja::context;
use serde::{Deserialize, Serialize};
use warroom_domain::oncall::{EscalationPolicy, Schedule, ShiftSource, Target, User};
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::flash;
use crate::ui::form::Posted;
use crate::ui::pages::confirm::{self, segment, Confirm, Confirmed};
use crate::ui::session::{cookie, Viewer};
use crate::ui::templates::{page_context, render_status};
use crate::ui::view::{time, TimeView};
use crate::ui::UiError;

/// The viewer's zone, from the `tz` cookie the script sets; UTC without it.
fn viewer_zone(headers: &HeaderMap) -> (String, TimeZone) {
    cookie(headers, "tz")
        .map(|raw| {
            form_urlencoded::parse(format!("z={raw}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .and_then(|name| TimeZone::get(&name).ok().map(|tz| (name, tz)))
        .unwrap_or_else(|| ("UTC".to_owned(), TimeZone::UTC))
}

#[derive(Debug, Deserialize, Default)]
pub struct OncallQuery {
    week: Option<String>,
    schedule: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

#[derive(Serialize)]
struct NowView {
    schedule: String,
    user: Option<String>,
    via_override: bool,
    until: Option<TimeView>,
}

#[derive(Serialize)]
struct DayView {
    label: String,
    today: bool,
    shifts: Vec<ShiftPiece>,
}

#[derive(Serialize)]
struct ShiftPiece {
    user: Option<String>,
    override_: bool,
    from: String,
    to: String,
    start_local: String,
    end_local: String,
}

#[derive(Serialize, Default)]
struct OverrideForm {
    schedule: String,
    user: String,
    start: String,
    end: String,
}

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(q): Query<OncallQuery>,
) -> Result<Response, UiError> {
    let form = OverrideForm {
        schedule: q.schedule.clone().unwrap_or_default(),
        user: String::new(),
        start: q.start.clone().unwrap_or_default(),
        end: q.end.clone().unwrap_or_default(),
    };
    let notice = flash::read::<String>(&headers);
    let shown = notice.is_some();
    let mut response = oncall_page(
        &app,
        &viewer,
        &headers,
        q.week.as_deref(),
        form,
        None,
        notice,
    )
    .await?;
    if shown {
        flash::shown(&app, &mut response, PAGE);
    }
    Ok(response)
}

const PAGE: &str = "/oncall";

fn local(ts: Timestamp, tz: &TimeZone) -> Zoned {
    ts.to_zoned(tz.clone())
}

#[allow(clippy::too_many_arguments)]
async fn oncall_page<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    headers: &HeaderMap,
    week: Option<&str>,
    form: OverrideForm,
    error: Option<(StatusCode, String)>,
    notice: Option<String>,
) -> Result<Response, UiError> {
    let now = app.incidents.clock().now();
    let (zone, tz) = viewer_zone(headers);
    let today = local(now, &tz).date();
    let monday = match week {
        Some(w) if !w.is_empty() => w
            .parse::<Date>()
            .map_err(|e| UiError::bad_request("week", format!("week: {e}; use YYYY-MM-DD")))?,
        _ => today,
    };
    let monday = monday
        .checked_sub(i64::from(monday.weekday().to_monday_zero_offset()).days())
        .map_err(|e| UiError::bad_request("week", format!("week: {e}")))?;
    let day_start = |d: Date| -> Result<Timestamp, UiError> {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| UiError::bad_request("week", format!("week: {e}")))
    };
    let days: Vec<Date> = (0..8).map(|i| monday.saturating_add(i.days())).collect();
    let week_from = day_start(days[0])?;
    let week_to = day_start(days[7])?;

    let schedules = app.oncall.list::<Schedule>().await?;
    let mut schedules_now = Vec::new();
    let mut calendar = Vec::new();
    let mut overrides = Vec::new();
    for schedule in &schedules {
        let name = &schedule.doc.name;
        let horizon = now + jiff::SignedDuration::from_hours(14 * 24);
        let ahead = app.oncall.shifts(name, now, horizon).await?;
        let current = ahead.iter().find(|s| s.start <= now && now < s.end);
        schedules_now.push(NowView {
            schedule: name.clone(),
            user: current.and_then(|s| s.user.clone()),
            via_override: current
                .is_some_and(|s| matches!(s.source, Some(ShiftSource::Override { .. }))),
            until: current.map(|s| time(s.end)),
        });
        let shifts = app.oncall.shifts(name, week_from, week_to).await?;
        let mut day_views = Vec::new();
        for i in 0..7 {
            let (from, to) = (day_start(days[i])?, day_start(days[i + 1])?);
            let pieces = shifts
                .iter()
                .filter(|s| s.start < to && s.end > from)
                .map(|s| {
                    let (start, end) = (s.start.max(from), s.end.min(to));
                    let (zs, ze) = (local(start, &tz), local(end, &tz));
                    ShiftPiece {
                        user: s.user.clone(),
                        override_: matches!(s.source, Some(ShiftSource::Override { .. })),
                        from: zs.strftime("%H:%M").to_string(),
                        to: if end == to {
                            "24:00".to_owned()
                        } else {
                            ze.strftime("%H:%M").to_string()
                        },
                        start_local: zs.strftime("%Y-%m-%dT%H:%M").to_string(),
                        end_local: ze.strftime("%Y-%m-%dT%H:%M").to_string(),
                    }
                })
                .collect();
            day_views.push(DayView {
                label: days[i].strftime("%a %d %b").to_string(),
                today: days[i] == today,
                shifts: pieces,
            });
        }
        calendar.push(context! { schedule => name, days => day_views });
        for o in app.oncall.list_overrides(name, week_from, week_to).await? {
            overrides.push(context! {
                id => o.id, schedule => o.schedule, user => o.user, created_by => o.created_by,
                starts_at => time(o.starts_at), ends_at => time(o.ends_at),
            });
        }
    }
    let default_policy = app
        .incidents
        .playbook()
        .oncall
        .default_escalation_policy
        .clone();
    let policies: Vec<_> = app
        .oncall
        .list::<EscalationPolicy>()
        .await?
        .into_iter()
        .map(|p| {
            let p = p.doc;
            context! {
                is_default => default_policy.as_deref() == Some(p.name.as_str()),
                name => p.name,
                description => p.description,
                repeat => p.repeat,
                steps => p.steps.iter().map(|s| context! {
                    delay => s.delay_minutes,
                    targets => s.targets.iter().map(target_words).collect::<Vec<_>>(),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let users: Vec<String> = app
        .oncall
        .list::<User>()
        .await?
        .into_iter()
        .map(|u| u.doc.name)
        .collect();
    let warnings: Vec<_> = app
        .oncall
        .warnings(now)
        .await?
        .into_iter()
        .map(|w| context! { kind => w.kind, subject => w.subject, message => w.message })
        .collect();
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let ctx = context! {
        zone,
        week => monday.to_string(),
        prev_week => monday.saturating_sub(7.days()).to_string(),
        next_week => monday.saturating_add(7.days()).to_string(),
        week_label => monday.strftime("%b %d, %Y").to_string(),
        schedules_now,
        calendar,
        overrides,
        policies,
        warnings,
        users,
        schedules => schedules.iter().map(|s| s.doc.name.clone()).collect::<Vec<_>>(),
        form,
        error => error.map(|(_, m)| m),
        notice,
    };
    Ok(render_status(
        status,
        "oncall.html",
        page_context(viewer, "On call", "oncall", ctx),
    ))
}

fn target_words(target: &Target) -> String {
    match target {
        Target::User { name } => name.clone(),
        Target::Schedule { name } => format!("on call on {name}"),
        Target::Team { name, mode } => format!(
            "team {name} ({})",
            serde_json::to_value(mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateOverride {
    #[serde(default)]
    schedule: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    week: String,
}

fn parse_local(value: &str, tz: &TimeZone, field: &str) -> Result<Timestamp, UiError> {
    value
        .trim()
        .parse::<DateTime>()
        .and_then(|dt| dt.to_zoned(tz.clone()))
        .map(|z| z.timestamp())
        .map_err(|e| {
            UiError::bad_request(
                field,
                format!("{field}: {e}; use a date and time like 2026-11-25T09:00"),
            )
        })
}

pub async fn create_override<S: Store>(
    State(app): State<AppState<S>>,
    headers: HeaderMap,
    Posted { viewer, form }: Posted<CreateOverride>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let (_, tz) = viewer_zone(&headers);
    let result = async {
        let start = parse_local(&form.start, &tz, "start")?;
        let end = parse_local(&form.end, &tz, "end")?;
        app.oncall
            .create_override(&form.schedule, &form.user, start, end, viewer.actor())
            .await?;
        Ok::<_, UiError>(())
    }
    .await;
    let week = form.week.clone();
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/oncall?week={week}#override")).into_response()),
        Err(e) => match e.form_message() {
            Some(message) => {
                let typed = OverrideForm {
                    schedule: form.schedule,
                    user: form.user,
                    start: form.start,
                    end: form.end,
                };
                oncall_page(
                    &app,
                    &viewer,
                    &headers,
                    Some(&week),
                    typed,
                    Some(message),
                    None,
                )
                .await
            }
            None => Err(e),
        },
    }
}

/// `GET /oncall/overrides/{schedule}/{id}/delete`: whose shift the
/// override covers, and the form that deletes it.
pub async fn confirm_delete_override<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((schedule, id)): Path<(String, String)>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let found = app
        .oncall
        .list_overrides(&schedule, Timestamp::MIN, Timestamp::MAX)
        .await?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or_else(|| {
            UiError::not_found(format!("no override {id:?} on schedule {schedule:?}"))
        })?;
    let (zone, tz) = viewer_zone(&headers);
    let at = |ts: Timestamp| local(ts, &tz).strftime("%a %Y-%m-%d %H:%M").to_string();
    let action = format!(
        "/oncall/overrides/{}/{}/delete",
        segment(&schedule),
        segment(&id)
    );
    Ok(confirm::page(
        &viewer,
        Confirm {
            question: format!("Delete {}'s override on {schedule}?", found.user),
            consequence: format!(
                "From {} to {} ({zone}) the schedule's own rotation is on call again instead of {}, and pages go to whoever that is.",
                at(found.starts_at),
                at(found.ends_at),
                found.user
            ),
            action: &action,
            button: "Delete the override",
            cancel: PAGE,
            active: "oncall",
        },
    ))
}

/// `POST /oncall/overrides/{schedule}/{id}/delete`, confirmed.
pub async fn delete_override<S: Store>(
    State(app): State<AppState<S>>,
    Path((schedule, id)): Path<(String, String)>,
    Posted { viewer, form }: Posted<Confirmed>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let again = format!(
        "/oncall/overrides/{}/{}/delete",
        segment(&schedule),
        segment(&id)
    );
    if let Some(ask) = form.ask_first(&again) {
        return Ok(ask);
    }
    app.oncall.delete_override(&schedule, &id).await?;
    Ok(flash::redirect(
        &app,
        PAGE,
        &format!("Deleted override {id}."),
    ))
}
