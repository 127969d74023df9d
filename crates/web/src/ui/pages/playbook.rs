//! The playbook as responders read it: severities with their targets and
//! cadences, roles, categories and the phase checklists.

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render};
use crate::ui::view::duration_words;
use crate::ui::UiError;

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
) -> Result<Response, UiError> {
    let pb = app.incidents.playbook();
    let words = |d: Option<jiff::SignedDuration>| d.map_or("—".to_owned(), duration_words);
    let severities: Vec<_> = pb
        .severities
        .iter()
        .enumerate()
        .map(|(rank, s)| {
            context! {
                rank => rank.min(4), name => s.name, label => s.label, description => s.description,
                response => words(s.response_target), resolution => words(s.resolution_target),
                updates => s.update_every.map_or("—".to_owned(), |d| format!("every {}", duration_words(d))),
                notify => s.notify.iter().map(|n| format!("{} within {}", n.audience, duration_words(n.within))).collect::<Vec<_>>(),
            }
        })
        .collect();
    let roles: Vec<_> = pb
        .roles
        .iter()
        .map(|r| context! { name => r.name, description => r.description })
        .collect();
    let categories: Vec<_> = pb
        .categories
        .iter()
        .map(|c| context! { name => c.name, description => c.description })
        .collect();
    let phases: Vec<_> = pb
        .phases
        .iter()
        .map(|p| context! { name => p.name, target => p.target, items => p.items })
        .collect();
    Ok(render(
        "playbook.html",
        page_context(
            &viewer,
            "Playbook",
            "playbook",
            context! { severities, roles, categories, phases },
        ),
    ))
}
