//! An incident's call bridge and chat channel: prefilled
//! from the severity's playbook defaults, set and cleared through the API
//! and the workspace's form, refused with the field named when a link is
//! not http(s); and a link to an incident's page survives signing in.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use warroom_domain::{AccessRole, Playbook};
use warroom_store::on_both_backends;

use super::{location, open_login, request, sign_in, urlenc};
use crate::helpers::{Api, UI_PASSWORD};

on_both_backends!(setup = crate::ui::bridge::bridge_api;
    a_severity_prefills_the_bridge_and_the_api_sets_and_clears_it,
    the_workspace_shows_the_bridge_and_its_form_changes_it,
    signing_in_returns_to_the_incident_page,
);

const SEV1_BRIDGE: &str = "https://meet.example.com/sev1";
const SEV1_CHAT: &str = "https://chat.example.com/c/sev1";

/// SEV-1 has a standing bridge and chat channel; SEV-2 has none.
pub async fn bridge_api<S: warroom_store::Store>(store: S) -> Api {
    let yaml = format!(
        r#"
severities:
  - name: SEV-1
    label: Major
    bridge_url: {SEV1_BRIDGE}
    chat_url: {SEV1_CHAT}
  - name: SEV-2
    label: Minor
"#
    );
    let playbook = Playbook::parse("bridge.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"));
    Api::with_playbook(store, playbook).await
}

fn links(incident: &Value) -> (Value, Value) {
    (incident["bridge_url"].clone(), incident["chat_url"].clone())
}

async fn a_severity_prefills_the_bridge_and_the_api_sets_and_clears_it(api: Api) {
    let sev1 = api.declare("Checkout down", "SEV-1").await;
    let sev2 = api.declare("Slow search", "SEV-2").await;
    let r = api.get(&format!("/api/v1/incidents/{sev1}")).await;
    assert_eq!(links(&r.body), (json!(SEV1_BRIDGE), json!(SEV1_CHAT)));
    let r = api.get(&format!("/api/v1/incidents/{sev2}")).await;
    assert_eq!(links(&r.body), (Value::Null, Value::Null));

    let path = format!("/api/v1/incidents/{sev2}");
    let r = api
        .call(
            Method::PATCH,
            &path,
            json!({"bridge_url": " https://zoom.example.com/j/42 "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        links(&r.body),
        (json!("https://zoom.example.com/j/42"), Value::Null)
    );
    let timeline = api.get(&format!("{path}/timeline")).await;
    let changed: Vec<&Value> = timeline.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "field_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{}", timeline.body);
    assert_eq!(changed[0]["field"], "bridge_url");
    assert_eq!(changed[0]["to"], "https://zoom.example.com/j/42");

    // Not an http(s) link with a host: refused, naming the field, nothing changed.
    for (body, field) in [
        (json!({"chat_url": "ftp://chat.example.com/x"}), "chat_url"),
        (json!({"bridge_url": "https://"}), "bridge_url"),
        (json!({"bridge_url": "meet.example.com/room"}), "bridge_url"),
        (
            json!({"chat_url": "https://chat.example.com/a b"}),
            "chat_url",
        ),
        (json!({"bridge_url": 42}), "bridge_url"),
    ] {
        let r = api.call(Method::PATCH, &path, body.clone()).await;
        assert!(
            r.status.is_client_error(),
            "{body}: {} {}",
            r.status,
            r.body
        );
        assert_eq!(r.field(), field, "{body}: {}", r.body);
    }
    let r = api.get(&path).await;
    assert_eq!(
        links(&r.body),
        (json!("https://zoom.example.com/j/42"), Value::Null)
    );

    // Viewers cannot change it; `null` and "" clear it.
    let r = api
        .send(
            Method::PATCH,
            &path,
            Some(&api.viewer),
            Some(r#"{"bridge_url": null}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api
        .call(
            Method::PATCH,
            &path,
            json!({"bridge_url": null, "chat_url": "https://chat.example.com/c/2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        links(&r.body),
        (Value::Null, json!("https://chat.example.com/c/2"))
    );
    let r = api
        .call(Method::PATCH, &path, json!({"chat_url": ""}))
        .await;
    assert_eq!(links(&r.body), (Value::Null, Value::Null), "{}", r.body);
}

async fn the_workspace_shows_the_bridge_and_its_form_changes_it(api: Api) {
    api.engine
        .create_account("ada@example.com", "ada", AccessRole::Responder)
        .await;
    api.engine
        .create_account("vic@example.com", "vic", AccessRole::Viewer)
        .await;
    let id = api.declare("Checkout down", "SEV-1").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let page_uri = format!("/incidents/{id}");
    let page = ada.get(&api, &page_uri).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        unescaped(&page).contains(&format!(r#"id="bridge-link" href="{SEV1_BRIDGE}""#)),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"id="chat-link""#), "{}", page.body);
    assert!(page.body.contains(r#"id="bridge-menu""#), "{}", page.body);

    // The form sets one link and clears the other.
    let form = format!(
        "bridge_url={}&chat_url=",
        urlenc("https://meet.example.com/other")
    );
    let done = ada.post(&api, &format!("{page_uri}/bridge"), &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(location(&done), page_uri);
    let page = ada.get(&api, &page_uri).await;
    assert!(
        unescaped(&page).contains(r#"id="bridge-link" href="https://meet.example.com/other""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"id="chat-link""#), "{}", page.body);

    // A link that is not http(s) is refused, naming the field.
    let bad = ada
        .post(
            &api,
            &format!("{page_uri}/bridge"),
            "bridge_url=javascript%3Aalert(1)&chat_url=",
        )
        .await;
    assert!(bad.status.is_client_error(), "{}", bad.status);
    assert!(bad.body.contains("bridge_url"), "{}", bad.body);
    let r = api.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(r.body["bridge_url"], "https://meet.example.com/other");

    // A viewer sees the links but not the form, and cannot post it.
    let vic = sign_in(&api, "vic@example.com").await;
    let page = vic.get(&api, &page_uri).await;
    assert!(page.body.contains(r#"id="bridge-link""#), "{}", page.body);
    assert!(!page.body.contains(r#"id="bridge-menu""#), "{}", page.body);
    let refused = vic
        .post(&api, &format!("{page_uri}/bridge"), "bridge_url=&chat_url=")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

/// A page with `/` as it reads to a browser: minijinja writes it as
/// `&#x2f;` or as it is, by the features it was built with.
fn unescaped(page: &crate::helpers::Page) -> String {
    page.body.replace("&#x2f;", "/")
}

/// A link from a page or e-mail (`/incidents/ID`) opened by someone who is
/// not signed in: sign in, then land on the incident, not on the home page.
async fn signing_in_returns_to_the_incident_page(api: Api) {
    api.engine
        .create_account("ada@example.com", "ada", AccessRole::Responder)
        .await;
    let id = api.declare("Checkout down", "SEV-1").await;
    let page_uri = format!("/incidents/{id}");
    let page = request(&api, Method::GET, &page_uri, None, None, &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let login = location(&page).to_owned();
    assert_eq!(login, format!("/login?next=%2Fincidents%2F{id}"));

    // The sign-in form carries `next` on to its post.
    let form_page = request(&api, Method::GET, &login, None, None, &[]).await;
    assert_eq!(form_page.status, StatusCode::OK, "{}", form_page.body);
    assert!(
        unescaped(&form_page).contains(&format!(r#"name="next" value="{page_uri}""#)),
        "{}",
        form_page.body
    );
    let fields = format!(
        "email=ada%40example.com&password={}&next={}",
        urlenc(UI_PASSWORD),
        urlenc(&page_uri)
    );
    let signed_in = open_login(&api).await.post(&api, &fields).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(location(&signed_in), page_uri);
    let cookie = signed_in
        .headers
        .get(axum::http::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = request(&api, Method::GET, &page_uri, Some(&cookie), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Checkout down"), "{}", page.body);
}
