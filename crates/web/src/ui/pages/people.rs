//! The directory: users with their contact methods, teams, vendors, and
//! (for admins) the sign-in accounts.

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use warroom_domain::oncall::{Team, User, Vendor};
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render};
use crate::ui::UiError;

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
) -> Result<Response, UiError> {
    let users: Vec<_> = app
        .oncall
        .list::<User>()
        .await?
        .into_iter()
        .map(|u| {
            let u = u.doc;
            context! {
                name => u.name, full_name => u.full_name, role => u.role, time_zone => u.time_zone,
                contacts => u.contact_methods.iter().map(|c| context! {
                    kind => c.kind.as_str(), address => c.address, verified => c.verified,
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let teams: Vec<_> = app
        .oncall
        .list::<Team>()
        .await?
        .into_iter()
        .map(|t| context! { name => t.doc.name, members => t.doc.members })
        .collect();
    let vendors: Vec<_> = app
        .oncall
        .list::<Vendor>()
        .await?
        .into_iter()
        .map(|v| {
            let v = v.doc;
            context! { name => v.name, provides => v.provides, support_phone => v.support_phone, support_email => v.support_email }
        })
        .collect();
    let accounts: Vec<_> = if viewer.account.role.is_admin() {
        app.accounts
            .list()
            .await?
            .into_iter()
            .map(|a| context! { name => a.name, email => a.email, role => a.role.as_str(), disabled => a.disabled })
            .collect()
    } else {
        Vec::new()
    };
    Ok(render(
        "people.html",
        page_context(
            &viewer,
            "People",
            "people",
            context! { users, teams, vendors, accounts },
        ),
    ))
}
