//! Who may do what in the UI: sign-in and sign-out, a viewer's read-only pages, forged and cross-site posts, bad form input.

use axum::http::{header, Method, StatusCode};
use warroom_store::on_both_backends;

use super::{location, open_login, people, request, sign_in, urlenc};
use crate::helpers::{Api, UI_PASSWORD};

on_both_backends!(setup = crate::helpers::Api::new;
    sign_in_and_out,
    viewer_sees_no_write_controls_and_is_refused,
    forged_and_cross_site_posts_are_refused,
    bad_input_names_the_field,
);

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
