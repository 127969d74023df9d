//! One-click acknowledge links (`/ack/<token>`), sent in pages. No login:
//! the signed token is the credential. `GET` only shows the incident and a
//! button, because mail scanners and link previews fetch links; only the
//! button's `POST` acknowledges.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use warroom_domain::{DomainError, Incident, Status};
use warroom_engine::paging::{AckClaim, AckLinkError};
use warroom_engine::IncidentOp;
use warroom_store::{Store, StoreError};

use crate::state::AppState;

pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/ack/{token}", get(show::<S>).post(acknowledge::<S>))
}

/// `GET /ack/<token>`: the incident and an "Acknowledge" button. Changes nothing.
pub async fn show<S: Store>(
    State(app): State<AppState<S>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let claim = match check(&app, &token) {
        Ok(claim) => claim,
        Err(e) => return refusal(e),
    };
    let incident = match app.incidents.get(&claim.incident_id).await {
        Ok(incident) => incident,
        Err(e) => return store_failure(e),
    };
    let mut body = summary(&incident);
    if incident.status == Status::Triggered {
        body.push_str(&format!(
            "<p>Acknowledging tells everyone you are on it and stops paging others. \
             You act as <b>{}</b>.</p>\
             <form method=\"post\"><button type=\"submit\">Acknowledge</button></form>",
            escape(&claim.user)
        ));
    } else {
        body.push_str(&format!(
            "<p class=\"note\">Nothing to acknowledge: the incident is {}.</p>",
            escape(incident.status.as_str())
        ));
    }
    page(
        StatusCode::OK,
        &format!("Acknowledge {}", incident.id),
        &body,
    )
}

/// `POST /ack/<token>`: acknowledges as `<user> (acknowledge link)`.
pub async fn acknowledge<S: Store>(
    State(app): State<AppState<S>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let claim = match check(&app, &token) {
        Ok(claim) => claim,
        Err(e) => return refusal(e),
    };
    let actor = format!("{} (acknowledge link)", claim.user);
    match app
        .incidents
        .apply(&claim.incident_id, &actor, IncidentOp::Acknowledge)
        .await
    {
        Ok((incident, _)) => page(
            StatusCode::OK,
            &format!("Acknowledged {}", incident.id),
            &format!(
                "{}<p class=\"ok\">Acknowledged {} as {}. Paging stops for this incident.</p>",
                summary(&incident),
                escape(&incident.id),
                escape(&claim.user)
            ),
        ),
        // Someone was quicker, or it is over: not an error for the person who clicked.
        Err(StoreError::Rejected(
            DomainError::Conflict(message) | DomainError::IllegalTransition { hint: message, .. },
        )) => {
            let mut body = String::new();
            if let Ok(incident) = app.incidents.get(&claim.incident_id).await {
                body.push_str(&summary(&incident));
            }
            body.push_str(&format!(
                "<p class=\"note\">Nothing to do: {}.</p>",
                escape(&message)
            ));
            page(
                StatusCode::OK,
                &format!("{} needs no acknowledgement", claim.incident_id),
                &body,
            )
        }
        Err(e) => store_failure(e),
    }
}

fn check<S: Store>(app: &AppState<S>, token: &str) -> Result<AckClaim, AckLinkError> {
    app.paging.links().verify(token, app.paging.now())
}

/// Why a link is refused: 403 for a forged or mangled token, 410 for an expired one.
fn refusal(e: AckLinkError) -> Response {
    match e {
        AckLinkError::Invalid => page(
            StatusCode::FORBIDDEN,
            "Invalid acknowledge link",
            "<p>This link is not valid: it was changed or cut short, or another \
             Warroom issued it. Copy the whole link from the page you received, \
             or acknowledge from the Warroom app or CLI.</p>",
        ),
        AckLinkError::Expired(at) => page(
            StatusCode::GONE,
            "Acknowledge link expired",
            &format!(
                "<p>This link expired at {}. Acknowledge from the Warroom app, \
                 or with the CLI: <code>warroom incident ack &lt;incident id&gt;</code>.</p>",
                escape(&at.to_string())
            ),
        ),
    }
}

fn store_failure(e: StoreError) -> Response {
    match e {
        StoreError::NotFound(_) => page(
            StatusCode::NOT_FOUND,
            "No such incident",
            "<p>The incident of this link no longer exists.</p>",
        ),
        other => {
            tracing::error!(error = %other, "acknowledge link failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "<p>Warroom could not complete this just now. Try again in a moment, \
                 or acknowledge from the app or CLI.</p>",
            )
        }
    }
}

fn summary(incident: &Incident) -> String {
    format!(
        "<dl><dt>Incident</dt><dd>{}</dd><dt>Title</dt><dd>{}</dd>\
         <dt>Severity</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd></dl>",
        escape(&incident.id),
        escape(&incident.title),
        escape(&incident.severity),
        escape(incident.status.as_str()),
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,sans-serif;margin:0;padding:1rem;\
background:#f6f7f9;color:#1d2330}main{max-width:32rem;margin:2rem auto;background:#fff;\
border-radius:8px;padding:1.25rem 1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}\
h1{font-size:1.3rem;margin:0 0 1rem}dl{display:grid;grid-template-columns:auto 1fr;\
gap:.35rem 1rem;margin:0 0 1rem}dt{color:#5b6475}dd{margin:0;word-break:break-word}\
button{width:100%;font-size:1.1rem;padding:.8rem;border:0;border-radius:6px;\
background:#c62828;color:#fff;cursor:pointer}.ok{color:#1b5e20;font-weight:600}\
.note{color:#5b6475}code{background:#eef0f3;padding:0 .25rem;border-radius:3px}";

/// A small self-contained page. `body` is trusted HTML; every value in it
/// must already have gone through `escape`.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{title} - Warroom</title><style>{STYLE}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_neutralizes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;"
        );
    }
}
