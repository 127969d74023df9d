//! The Now page: what is on fire, who is on call, what is due.

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use serde::Serialize;
use warroom_domain::oncall::Schedule;
use warroom_domain::Status;
use warroom_store::{IncidentFilter, Store, MAX_PAGE};

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
}

#[derive(Serialize)]
struct OnCallNow {
    schedule: String,
    user: Option<String>,
    until: Option<TimeView>,
}

#[derive(Serialize)]
struct UpdateDue {
    id: String,
    due: TimeView,
    overdue: bool,
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
    let due: std::collections::HashMap<String, jiff::Timestamp> = app
        .notifier
        .updates_due()
        .await?
        .into_iter()
        .filter_map(|c| Some((c.incident_id, c.next_update_due?)))
        .collect();
    for incident in &open {
        let next_update = due.get(&incident.id).copied();
        if let Some(due) = next_update {
            updates_due.push(UpdateDue {
                id: incident.id.clone(),
                due: time(due),
                overdue: due < now,
            });
        }
        let item = NowIncident {
            row: incident_row(playbook, incident, now),
            next_update: next_update.map(time),
        };
        match groups.last_mut() {
            Some(g) if g.severity.name == incident.severity => g.incidents.push(item),
            _ => groups.push(SeverityGroup {
                severity: severity(playbook, &incident.severity),
                incidents: vec![item],
            }),
        }
    }
    updates_due.sort_by(|a, b| a.due.iso.cmp(&b.due.iso));

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
