//! The Now page: what is on fire, who is on call, what is due.

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use serde::Serialize;
use warroom_domain::oncall::Schedule;
use warroom_domain::Status;
use warroom_engine::notify::UpdateDue;
use warroom_store::{CommsRecord, IncidentFilter, Store, MAX_PAGE};

use crate::state::AppState;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render};
use crate::ui::view::{incident_row, severity, time, IncidentRow, SeverityView, TimeView};
use crate::ui::UiError;

#[derive(Serialize)]
struct SeverityGroup {
    severity: SeverityView,
    incidents: Vec<NowIncident>,
}

#[derive(Serialize)]
struct NowIncident {
    #[serde(flatten)]
    row: IncidentRow,
    next_update: Option<TimeView>,
    update_overdue: bool,
    updates_missed: i64,
}

#[derive(Serialize)]
struct OnCallNow {
    schedule: String,
    user: Option<String>,
    until: Option<TimeView>,
}

#[derive(Serialize)]
struct UpdateDueView {
    id: String,
    due: TimeView,
    overdue: bool,
    missed: i64,
}

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
) -> Result<Response, UiError> {
    let playbook = app.incidents.playbook();
    let now = app.incidents.clock().now();
    let mut open = app
        .incidents
        .list(&IncidentFilter {
            statuses: Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
            limit: MAX_PAGE,
            ..IncidentFilter::default()
        })
        .await?
        .incidents;
    let mut groups: Vec<SeverityGroup> = Vec::new();
    let mut updates_due = Vec::new();
    open.sort_by_key(|i| {
        (
            crate::ui::view::severity_rank(playbook, &i.severity),
            std::cmp::Reverse(i.declared_at),
        )
    });
    let comms: std::collections::HashMap<String, CommsRecord> = app
        .notifier
        .updates_due()
        .await?
        .into_iter()
        .map(|c| (c.incident_id.clone(), c))
        .collect();
    for incident in &open {
        // Measured from the last update, so an overdue one stays overdue
        // (and red) until someone posts one.
        let next_update = comms
            .get(&incident.id)
            .and_then(|c| UpdateDue::of(playbook, incident, c, now));
        if let Some(due) = next_update {
            updates_due.push(UpdateDueView {
                id: incident.id.clone(),
                due: time(due.due),
                overdue: due.overdue,
                missed: due.missed,
            });
        }
        let item = NowIncident {
            row: incident_row(playbook, incident, now),
            next_update: next_update.map(|d| time(d.due)),
            update_overdue: next_update.is_some_and(|d| d.overdue),
            updates_missed: next_update.map_or(0, |d| d.missed),
        };
        match groups.last_mut() {
            Some(g) if g.severity.name == incident.severity => g.incidents.push(item),
            _ => groups.push(SeverityGroup {
                severity: severity(playbook, &incident.severity),
                incidents: vec![item],
            }),
        }
    }
    // Overdue first, then soonest.
    updates_due.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.due.iso.cmp(&b.due.iso)));

    let mut on_call = Vec::new();
    for schedule in app.oncall.list::<Schedule>().await? {
        let name = schedule.doc.name;
        let shifts = app
            .oncall
            .shifts(&name, now, now + jiff::SignedDuration::from_hours(14 * 24))
            .await?;
        let current = shifts.iter().find(|s| s.start <= now && now < s.end);
        on_call.push(OnCallNow {
            schedule: name,
            user: current.and_then(|s| s.user.clone()),
            until: current.map(|s| time(s.end)),
        });
    }
    let counts = app.alerts.counts().await?;
    let warnings = app.oncall.warnings(now).await?;
    let recent = app
        .incidents
        .list(&IncidentFilter {
            statuses: vec![Status::Resolved],
            limit: 5,
            ..IncidentFilter::default()
        })
        .await?
        .incidents
        .iter()
        .map(|i| incident_row(playbook, i, now))
        .collect::<Vec<_>>();
    Ok(render(
        "now.html",
        page_context(
            &viewer,
            "Now",
            "now",
            context! {
                open_count => open.len(),
                groups,
                on_call,
                updates_due,
                recent,
                firing_count => counts.firing,
                suppressed_count => counts.suppressed,
                warnings_count => warnings.len(),
            },
        ),
    ))
}
