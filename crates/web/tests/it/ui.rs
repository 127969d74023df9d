//! The web UI over HTTP without a browser: sign-in, sessions, CSRF, roles,
//! every page and form, bad input, and the live feed. The browser tests
//! (crates/warroom/tests/it/ui.rs) drive the same pages in Chromium.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use warroom_domain::AccessRole;

use crate::helpers::{Api, NowForTests, Page, UI_PASSWORD};
use warroom_store::on_both_backends;

/// A signed-in browser, as far as HTTP goes: its cookie and CSRF token.
pub(crate) struct Session {
    pub(crate) cookie: String,
    csrf: String,
}

pub(crate) async fn request(
    api: &Api,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Page {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let body = match form {
        Some(form) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        }
        None => Body::empty(),
    };
    let response = api
        .app
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub(crate) fn location(page: &Page) -> &str {
    page.headers
        .get(header::LOCATION)
        .map_or("", |v| v.to_str().unwrap())
}

fn csrf_of(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a signed-in page carries a CSRF token");
    let rest = &body[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The sign-in form as a browser has it: the `Cookie` header holding the
/// form's CSRF cookie, and the token in its hidden field.
pub(crate) struct LoginForm {
    pub cookie: String,
    pub csrf: String,
}

/// Opens the sign-in form, as a browser does before posting it.
pub(crate) async fn open_login(api: &Api) -> LoginForm {
    let page = request(api, Method::GET, "/login", None, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let set_cookie = page
        .headers
        .get(header::SET_COOKIE)
        .expect("the sign-in form sets its CSRF cookie")
        .to_str()
        .unwrap();
    LoginForm {
        cookie: set_cookie.split(';').next().unwrap().to_owned(),
        csrf: csrf_of(&page.body),
    }
}

impl LoginForm {
    /// Posts `/login` with this form's cookie and token added to `fields`.
    pub(crate) async fn post(&self, api: &Api, fields: &str) -> Page {
        let form = format!("csrf={}&{fields}", self.csrf);
        request(
            api,
            Method::POST,
            "/login",
            Some(&self.cookie),
            Some(&form),
            &[],
        )
        .await
    }
}

pub(crate) async fn sign_in(api: &Api, email: &str) -> Session {
    let form = format!(
        "email={}&password={}&next=%2F",
        urlenc(email),
        urlenc(UI_PASSWORD)
    );
    let page = open_login(api).await.post(api, &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let set_cookie = page
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("warroom_session="), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let now = request(api, Method::GET, "/", Some(&cookie), None, &[]).await;
    assert_eq!(now.status, StatusCode::OK, "{}", now.body);
    Session {
        csrf: csrf_of(&now.body),
        cookie,
    }
}

pub(crate) fn urlenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Session {
    async fn get(&self, api: &Api, uri: &str) -> Page {
        request(api, Method::GET, uri, Some(&self.cookie), None, &[]).await
    }

    /// Posts `form` with this session's CSRF token added.
    async fn post(&self, api: &Api, uri: &str, form: &str) -> Page {
        let form = if form.is_empty() {
            format!("csrf={}", self.csrf)
        } else {
            format!("csrf={}&{form}", self.csrf)
        };
        request(api, Method::POST, uri, Some(&self.cookie), Some(&form), &[]).await
    }
}

async fn people(api: &Api) {
    api.engine
        .create_account("ada@example.com", "ada", AccessRole::Responder)
        .await;
    api.engine
        .create_account("vic@example.com", "vic", AccessRole::Viewer)
        .await;
    api.engine
        .create_account("root@example.com", "root", AccessRole::Admin)
        .await;
}

on_both_backends!(setup = crate::helpers::Api::new;
    sign_in_and_out,
    responder_runs_an_incident,
    viewer_sees_no_write_controls_and_is_refused,
    forged_and_cross_site_posts_are_refused,
    bad_input_names_the_field,
    admin_creates_an_integration_key_shown_once,
    live_feed_reports_changes,
);
on_both_backends!(setup = crate::helpers::oncall_api; every_page_renders, silences_and_overrides_from_the_ui, reassign_resend_keys_and_accounts);

async fn sign_in_and_out(api: Api) {
    people(&api).await;
    let anonymous = request(&api, Method::GET, "/incidents?q=db", None, None, &[]).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&anonymous), "/login?next=%2Fincidents%3Fq%3Ddb");
    let form = request(
        &api,
        Method::GET,
        "/login?next=%2Fincidents",
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Sign in to Warroom"));
    // minijinja escapes `/` in HTML as `&#x2f;`; the browser reads it back.
    assert!(
        form.body
            .contains("name=\"next\" value=\"&#x2f;incidents\""),
        "{}",
        form.body
    );
    // A foreign `next` is replaced by the home page.
    let foreign = request(
        &api,
        Method::GET,
        "/login?next=%2F%2Fevil.example",
        None,
        None,
        &[],
    )
    .await;
    assert!(
        foreign.body.contains("name=\"next\" value=\"&#x2f;\""),
        "{}",
        foreign.body
    );

    let login = open_login(&api).await;
    let wrong = login
        .post(&api, "email=ada%40example.com&password=nope-nope-nope")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("do not match"));
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());

    let ok = login
        .post(
            &api,
            &format!(
                "email=ADA%40example.com&password={}&next=%2Fincidents",
                urlenc(UI_PASSWORD)
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(location(&ok), "/incidents");
    let cookie = ok
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    for attribute in ["warroom_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = sign_in(&api, "ada@example.com").await;
    let page = session.get(&api, "/").await;
    assert!(page.body.contains("Open incidents"));
    assert!(page
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));

    let out = session.post(&api, "/logout", "").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = session.get(&api, "/").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the session ended with sign-out"
    );
}

async fn responder_runs_an_incident(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let form = ada.get(&api, "/incidents/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("SEV-1"));

    let declared = ada
        .post(&api, "/incidents", "title=Checkout+fails&severity=SEV-2&service=api&summary=Card+payments+fail&customer_facing=true")
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.body);
    let path = location(&declared).to_owned();
    let id = path.trim_start_matches("/incidents/").to_owned();
    let workspace = ada.get(&api, &path).await;
    assert_eq!(workspace.status, StatusCode::OK);
    assert!(workspace.body.contains("Checkout fails"));
    assert!(
        workspace.body.contains("id=\"ack\""),
        "a triggered incident offers Acknowledge"
    );

    for (action, form) in [
        ("acknowledge", ""),
        ("note", "text=Rolled+back+deploy+1234"),
        ("checklist", "phase=detection&item=1&done=true"),
        ("assign", "role=Incident+Commander&assignee=ada"),
        ("severity", "severity=SEV-1&reason=more+customers"),
        ("update", "status=identified&message=We+found+it"),
        ("details", "title=Checkout+fails+in+EU&summary=Only+EU&services=api%2C+web&category=&customer_facing=true"),
        ("resolve", "message=fixed"),
    ] {
        let r = ada.post(&api, &format!("{path}/{action}"), form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        assert_eq!(location(&r), path);
    }
    let incident = api.get(&format!("/api/v1/incidents/{id}")).await.body;
    assert_eq!(incident["status"], "resolved");
    assert_eq!(incident["severity"], "SEV-1");
    assert_eq!(incident["title"], "Checkout fails in EU");
    assert_eq!(incident["services"], serde_json::json!(["api", "web"]));
    assert!(
        incident["roles"].to_string().contains("\"ada\""),
        "{}",
        incident["roles"]
    );
    let timeline = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body;
    let kinds: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "declared",
        "status_changed",
        "note",
        "checklist_item",
        "role_assigned",
        "severity_changed",
        "update_posted",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let actors: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&"ada"),
        "UI changes are recorded as the signed-in person"
    );

    let page = ada.get(&api, &path).await.body;
    assert!(page.contains("Rolled back deploy 1234"));
    let bad = ada
        .post(&api, &format!("{path}/details"), "title=x&services=nope")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("services"), "{}", bad.body);
    assert!(page.contains("Reopen"), "a resolved incident offers Reopen");
    // A refused change is shown on the workspace, naming the reason.
    let refused = ada.post(&api, &format!("{path}/escalate"), "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("flash error"));
    // Preview renders the update without posting it.
    let reopened = ada.post(&api, &format!("{path}/reopen"), "").await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    let before = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    let preview = ada
        .post(
            &api,
            &format!("{path}/update"),
            "message=Still+digging&preview=1",
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("class=\"preview\""));
    assert!(preview.body.contains("Still digging"));
    let after = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a preview posts nothing");

    let list = ada.get(&api, "/incidents?q=checkout").await;
    assert!(list.body.contains(&id));
    let none = ada.get(&api, "/incidents?q=nothing-like-this").await;
    assert!(none.body.contains("No incidents match"));
}

async fn viewer_sees_no_write_controls_and_is_refused(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-2").await;
    let vic = sign_in(&api, "vic@example.com").await;
    let page = vic.get(&api, &format!("/incidents/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for control in [
        "id=\"ack\"",
        "name=\"text\"",
        "/resolve\"",
        "/checklist\"",
        "Declare</a>",
        "update-form",
    ] {
        assert!(!page.body.contains(control), "a viewer sees {control}");
    }
    let before = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body;
    for (action, form) in [
        ("note", "text=sneaky"),
        ("acknowledge", ""),
        ("resolve", ""),
    ] {
        let forged = vic
            .post(&api, &format!("/incidents/{id}/{action}"), form)
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{action}");
        assert!(forged.body.contains("read-only"));
    }
    let declare = vic.post(&api, "/incidents", "title=x&severity=SEV-1").await;
    assert_eq!(declare.status, StatusCode::FORBIDDEN);
    assert_eq!(
        vic.get(&api, "/incidents/new").await.status,
        StatusCode::FORBIDDEN
    );
    let after = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body;
    assert_eq!(before, after, "refused posts change nothing");
}

async fn forged_and_cross_site_posts_are_refused(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-2").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let root = sign_in(&api, "root@example.com").await;
    let uri = format!("/incidents/{id}/note");
    // No token at all: what a cross-site form would send.
    let none = request(
        &api,
        Method::POST,
        &uri,
        Some(&ada.cookie),
        Some("text=hi"),
        &[],
    )
    .await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    assert!(none.body.contains("CSRF"));
    // Another session's token.
    let other = request(
        &api,
        Method::POST,
        &uri,
        Some(&ada.cookie),
        Some(&format!("csrf={}&text=hi", root.csrf)),
        &[],
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    // The right token, but the browser says the form came from another site.
    let cross = request(
        &api,
        Method::POST,
        &uri,
        Some(&ada.cookie),
        Some(&format!("csrf={}&text=hi", ada.csrf)),
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    // No session: sign in first.
    let anonymous = request(&api, Method::POST, &uri, None, Some("text=hi"), &[]).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    let timeline = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body;
    assert!(
        !timeline.to_string().contains("\"note\""),
        "no refused note was stored"
    );
    let ok = ada.post(&api, &uri, "text=hi").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

async fn bad_input_names_the_field(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-2").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let cases: &[(&str, &str, &str)] = &[
        ("/incidents", "title=&severity=SEV-1", "title"),
        ("/incidents", "title=x&severity=SEV-9", "severity"),
        (
            "/incidents",
            &format!("title={}&severity=SEV-1", "x".repeat(300)),
            "title",
        ),
        (
            "/incidents",
            "title=x&severity=SEV-1&service=nope",
            "service",
        ),
    ];
    for (uri, form, field) in cases {
        let r = ada.post(&api, uri, form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form}: {}",
            r.body
        );
        assert!(r.body.contains(field), "{form}: the message names {field}");
        assert!(
            r.body.contains("Declare an incident"),
            "the form is shown again"
        );
    }
    let path = format!("/incidents/{id}");
    for (action, form, status, needle) in [
        ("note", "text=", StatusCode::UNPROCESSABLE_ENTITY, "text"),
        (
            "status",
            "status=exploded",
            StatusCode::UNPROCESSABLE_ENTITY,
            "status",
        ),
        (
            "checklist",
            "phase=detection&item=x&done=true",
            StatusCode::UNPROCESSABLE_ENTITY,
            "item",
        ),
        (
            "checklist",
            "phase=detection&item=0&done=maybe",
            StatusCode::UNPROCESSABLE_ENTITY,
            "done",
        ),
        (
            "checklist",
            "phase=nope&item=0&done=true",
            StatusCode::UNPROCESSABLE_ENTITY,
            "phase",
        ),
        (
            "escalate",
            "to_step=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "to_step",
        ),
        ("explode", "", StatusCode::NOT_FOUND, "explode"),
    ] {
        let r = ada.post(&api, &format!("{path}/{action}"), form).await;
        assert_eq!(r.status, status, "{action} {form}: {}", r.body);
        assert!(r.body.contains(needle), "{action} {form}: {}", r.body);
    }
    for (uri, status) in [
        ("/incidents?status=bogus", StatusCode::UNPROCESSABLE_ENTITY),
        ("/incidents?after=garbage", StatusCode::UNPROCESSABLE_ENTITY),
        ("/alerts?tab=everything", StatusCode::UNPROCESSABLE_ENTITY),
        ("/oncall?week=someday", StatusCode::UNPROCESSABLE_ENTITY),
        ("/incidents/INC-1999-9999", StatusCode::NOT_FOUND),
        ("/silences/new?alert=424242", StatusCode::NOT_FOUND),
        ("/assets/nothing.js", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(ada.get(&api, uri).await.status, status, "{uri}");
    }
    // Invalid UTF-8 and junk in a form never reach a handler as garbage.
    let junk = request(
        &api,
        Method::POST,
        &format!("{path}/note"),
        Some(&ada.cookie),
        Some(&format!("csrf={}&text=%FF%FE", ada.csrf)),
        &[],
    )
    .await;
    assert!(
        junk.status.is_client_error() || junk.status == StatusCode::SEE_OTHER,
        "{}",
        junk.status
    );
    let login = open_login(&api).await.post(&api, "email=&password=").await;
    assert_eq!(login.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn admin_creates_an_integration_key_shown_once(api: Api) {
    people(&api).await;
    let root = sign_in(&api, "root@example.com").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let page = root.get(&api, "/services").await;
    assert!(page.body.contains("Add an integration"));
    assert!(!ada
        .get(&api, "/services")
        .await
        .body
        .contains("Add an integration"));
    let refused = ada
        .post(
            &api,
            "/services/integrations",
            "service=api&kind=alertmanager&name=prom",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let created = root
        .post(
            &api,
            "/services/integrations",
            "service=api&kind=alertmanager&name=prom",
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(
        created.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let start = created.body.find("/integrations/alertmanager/").unwrap()
        + "/integrations/alertmanager/".len();
    let key = &created.body[start..start + 32];
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert!(created.body.contains("webhook_configs"));
    assert!(created.body.contains("/v2/enqueue"));
    // The key works, and is never shown again.
    let alert = serde_json::json!({"version": "4", "groupKey": "g", "status": "firing", "receiver": "warroom",
        "alerts": [{"status": "firing", "labels": {"alertname": "Down"}, "annotations": {}, "startsAt": "2026-11-25T13:59:00Z", "fingerprint": "f1"}]});
    let sent = api
        .send(
            Method::POST,
            &format!("/integrations/alertmanager/{key}"),
            None,
            Some(&alert.to_string()),
        )
        .await;
    assert!(sent.status.is_success(), "{}", sent.body);
    assert!(!root.get(&api, "/services").await.body.contains(key));
    let bad = root
        .post(
            &api,
            "/services/integrations",
            "service=nope&kind=alertmanager&name=prom",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("service"));
}

async fn live_feed_reports_changes(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-2").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let anonymous = request(&api, Method::GET, "/events", None, None, &[]).await;
    assert_eq!(
        anonymous.status,
        StatusCode::SEE_OTHER,
        "the feed needs a session"
    );
    let req = Request::builder()
        .uri("/events")
        .header(header::COOKIE, &ada.cookie)
        .body(Body::empty())
        .unwrap();
    let response = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    let mut body = response.into_body();
    // The greeting arrives first; the poller is running from here on.
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(first.into_data().unwrap().to_vec()).unwrap();
    assert!(text.contains("retry: 1000"), "{text}");
    // Let the poller take its first look before the change.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let note = ada
        .post(&api, &format!("/incidents/{id}/note"), "text=watching")
        .await;
    assert_eq!(note.status, StatusCode::SEE_OTHER);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while !seen.contains(&id) {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("the change reaches the feed within a second")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(seen.contains("event: change"), "{seen}");
}

async fn every_page_renders(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-2").await;
    let root = sign_in(&api, "root@example.com").await;
    for (uri, needle) in [
        ("/", "On call now"),
        ("/incidents", &id as &str),
        ("/incidents?status=open&severity=SEV-2&service=api", &id),
        ("/incidents/new", "Declare an incident"),
        (&format!("/incidents/{id}"), "Timeline"),
        ("/alerts", "Alerts"),
        ("/alerts?tab=suppressed", "No suppressed alerts"),
        ("/alerts?tab=resolved", "No resolved alerts"),
        ("/silences", "Silences"),
        ("/silences/new", "New silence"),
        ("/oncall", "Escalation policies"),
        ("/oncall?week=2026-12-01", "Week of Nov 30, 2026"),
        ("/services", "Integrations"),
        ("/people", "alice@example.com"),
        ("/playbook", "Incident Commander"),
        ("/account", "Change password"),
    ] {
        let page = root.get(&api, uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert!(page.body.contains(needle), "{uri} lacks {needle:?}");
        assert!(
            page.body.contains("/assets/app.css?v="),
            "{uri} uses the layout"
        );
    }
    let now = root.get(&api, "/").await.body;
    assert!(now.contains("primary"), "the Now page names the schedule");
    // SEV-2 updates every hour: due at 15:00 on the manual clock (14:00).
    assert!(
        now.contains("Next update <time datetime=\"2026-11-25T15:00:00Z\""),
        "{now}"
    );
    assert!(!now.contains("No stakeholder updates due"));
    assert!(now.contains("alice"), "and who is on call on it");
    let css = root.get(&api, "/assets/app.css").await;
    assert_eq!(
        css.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/css; charset=utf-8"
    );
    assert!(css.body.contains("prefers-color-scheme: dark"));
}

async fn silences_and_overrides_from_the_ui(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let bad = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D~%22(%22&duration=2h&comment=x",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("matchers"));
    let bad = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D%22Down%22&duration=soon&comment=x",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("duration"));
    let ok = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D%22Down%22%0Aenv%3D~%22prod.*%22&duration=2h&comment=failover",
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let list = api.get("/api/v1/silences").await.body;
    let silence = &list[0];
    assert_eq!(silence["state"], "active");
    assert!(silence["matchers"].as_str().unwrap().contains("env=~"));
    let sid = silence["id"].as_str().unwrap();
    let page = ada.get(&api, "/silences").await;
    assert!(page.body.contains("failover"));
    let expired = ada.post(&api, &format!("/silences/{sid}/expire"), "").await;
    assert_eq!(expired.status, StatusCode::OK);
    assert!(expired.body.contains("Expired silence"));
    assert_eq!(
        api.get("/api/v1/silences?all=true").await.body[0]["state"],
        "expired"
    );

    // An override from the calendar, in the viewer's zone.
    let week = ada.get(&api, "/oncall?week=2026-11-23").await;
    assert!(week.body.contains("Mon 23 Nov"));
    assert!(week.body.contains("override"));
    let made = request(
        &api,
        Method::POST,
        "/oncall/overrides",
        Some(&format!("{}; tz=Europe%2FLondon", ada.cookie)),
        Some(&format!("csrf={}&schedule=primary&user=bob&start=2026-11-26T09%3A00&end=2026-11-26T17%3A00&week=2026-11-23", ada.csrf)),
        &[],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let on_call = api
        .get("/api/v1/oncall/schedules/primary/on-call?at=2026-11-26T12:00:00Z")
        .await
        .body;
    assert_eq!(on_call["user"], "bob", "{on_call}");
    let backwards = ada
        .post(&api, "/oncall/overrides", "schedule=primary&user=bob&start=2026-11-26T17%3A00&end=2026-11-26T09%3A00&week=2026-11-23")
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(backwards.body.contains("end"));
}

async fn reassign_resend_keys_and_accounts(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-1").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let root = sign_in(&api, "root@example.com").await;
    let path = format!("/incidents/{id}");

    // Reassign to a person: paging starts over with bob.
    let page = ada.get(&api, &path).await.body;
    assert!(
        page.contains("value=\"user:bob\""),
        "the reassign list names the directory"
    );
    let r = ada
        .post(&api, &format!("{path}/reassign"), "to=user%3Abob")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for bad in ["to=bob", "to=planet%3Amars", "to="] {
        let r = ada.post(&api, &format!("{path}/reassign"), bad).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
    }
    api.engine.run_paging(api.clock.now_for_tests()).await;
    let timeline = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body
        .to_string();
    assert!(timeline.contains("\"bob\""), "{timeline}");

    // A dead page can be sent again from the workspace.
    api.engine
        .refuse_deliveries(api.clock.now_for_tests())
        .await;
    let page = ada.get(&api, &path).await.body;
    let at = page
        .find("name=\"message_id\" value=\"")
        .expect("a dead message offers Resend");
    let rest = &page[at + "name=\"message_id\" value=\"".len()..];
    let message_id = &rest[..rest.find('"').unwrap()];
    let r = ada
        .post(
            &api,
            &format!("{path}/resend"),
            &format!("message_id={message_id}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let other = api.declare("Other", "SEV-3").await;
    let r = ada
        .post(
            &api,
            &format!("/incidents/{other}/resend"),
            &format!("message_id={message_id}"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a message resends only from its own incident"
    );

    // Integration keys: a new one replaces the old, revoke ends it.
    let created = root
        .post(
            &api,
            "/services/integrations",
            "service=api&kind=pagerduty&name=pd",
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let integrations = api
        .send(Method::GET, "/api/v1/integrations", Some(&api.admin), None)
        .await
        .body;
    let iid = integrations.as_array().map_or_else(
        || {
            integrations["integrations"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        },
        |list| list[0]["id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        ada.post(&api, &format!("/services/integrations/{iid}/rotate"), "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let rotated = root
        .post(&api, &format!("/services/integrations/{iid}/rotate"), "")
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert!(rotated.body.contains("shown only once"));
    let revoked = root
        .post(&api, &format!("/services/integrations/{iid}/revoke"), "")
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert!(root.get(&api, "/services").await.body.contains("revoked"));

    // Accounts: an admin adds one (password shown once) and disables it.
    assert_eq!(
        ada.post(
            &api,
            "/people/accounts",
            "email=new%40example.com&name=new&role=viewer"
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let made = root
        .post(
            &api,
            "/people/accounts",
            "email=new%40example.com&name=new&role=viewer",
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(made.body.contains("shown only now"));
    assert_eq!(made.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let again = root
        .post(
            &api,
            "/people/accounts",
            "email=new%40example.com&name=new&role=viewer",
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("email"));
    let bad_role = root
        .post(
            &api,
            "/people/accounts",
            "email=x%40example.com&name=x&role=god",
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accounts = api
        .send(Method::GET, "/api/v1/accounts", Some(&api.admin), None)
        .await
        .body;
    let new_id = accounts
        .as_array()
        .or_else(|| accounts["accounts"].as_array())
        .unwrap()
        .iter()
        .find(|a| a["email"] == "new@example.com")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let disabled = root
        .post(&api, &format!("/people/accounts/{new_id}/disable"), "")
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    assert!(
        !api.engine
            .signs_in("new@example.com", "whatever-it-was")
            .await
    );
}
