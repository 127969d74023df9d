//! The sign-in form's defences: where `next` may send a browser, the
//! form's own CSRF token, and the limit on failed sign-ins.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use tower::ServiceExt;
use warroom_domain::AccessRole;

use crate::helpers::{Api, Page, UI_PASSWORD};
use crate::ui::{location, open_login, request, urlenc, LoginForm};
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    next_never_leaves_the_site_nor_breaks_the_answer,
    the_sign_in_form_needs_its_csrf_token,
    failed_sign_ins_are_limited_per_account_and_address,
);

async fn ada(api: &Api) {
    api.engine
        .create_account("ada@example.com", "ada", AccessRole::Admin)
        .await;
}

/// Posts the sign-in form from `from` (the TCP peer the server sees).
async fn post_from(api: &Api, form: &LoginForm, fields: &str, from: &str) -> Page {
    let peer: SocketAddr = from.parse().unwrap();
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::COOKIE, &form.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={}&{fields}", form.csrf)))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    let response = api.app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn password(password: &str) -> String {
    format!("email=ada%40example.com&password={}", urlenc(password))
}

async fn next_never_leaves_the_site_nor_breaks_the_answer(api: Api) {
    ada(&api).await;
    let login = open_login(&api).await;
    for (next, want) in [
        // Controls in a header value were a plain-text 500.
        ("%0a", "/"),
        ("%0d", "/"),
        ("%00", "/"),
        ("%2Fx%0d%0aSet-Cookie%3A+a%3Db", "/"),
        // Browsers drop the tab and go to //evil.example.
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("https%3A%2F%2Fevil.example%2F", "/"),
        // A percent-encoded tab is only a path segment.
        ("%2F%2509%2Fevil.example", "/%09/evil.example"),
        ("%2Fincidents%3Fq%3Ddb", "/incidents?q=db"),
    ] {
        let page = login
            .post(&api, &format!("{}&next={next}", password(UI_PASSWORD)))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{next}: {}", page.body);
        assert_eq!(location(&page), want, "{next}");
        let form = request(
            &api,
            Method::GET,
            &format!("/login?next={next}"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(form.status, StatusCode::OK, "{next}");
    }
    // A failed sign-in with such a `next` shows the form again, no 500.
    let page = login
        .post(&api, &format!("{}&next=%0a", password("wrong-wrong-wrong")))
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.headers.get(header::SET_COOKIE).is_none());
}

async fn the_sign_in_form_needs_its_csrf_token(api: Api) {
    ada(&api).await;
    let form = request(&api, Method::GET, "/login", None, None, &[]).await;
    let cookie = form
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    for attribute in [
        "warroom_login_csrf=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/login",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let login = open_login(&api).await;
    let fields = format!("{}&next=%2F", password(UI_PASSWORD));
    // What another site's form can send: no cookie, or its own token.
    let forged = [
        (None, format!("csrf={}&{fields}", login.csrf)),
        (Some(login.cookie.as_str()), fields.clone()),
        (
            Some(login.cookie.as_str()),
            format!("csrf={}&{fields}", "0".repeat(64)),
        ),
        (Some("warroom_login_csrf="), format!("csrf=&{fields}")),
    ];
    for (cookie, body) in forged {
        let page = request(&api, Method::POST, "/login", cookie, Some(&body), &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{cookie:?} {body}");
        assert!(
            page.body.contains("reload the sign-in page"),
            "{}",
            page.body
        );
        assert!(page.headers.get(header::SET_COOKIE).is_none());
    }
    // A second visit keeps the token, so two open tabs both sign in.
    let again = request(&api, Method::GET, "/login", Some(&login.cookie), None, &[]).await;
    assert!(again.body.contains(&login.csrf));
    let ok = login.post(&api, &fields).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let cookies: Vec<&str> = ok
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(cookies[0].starts_with("warroom_session="), "{cookies:?}");
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("warroom_login_csrf=;") && c.contains("Max-Age=0")),
        "the spent token is deleted: {cookies:?}"
    );
}

async fn failed_sign_ins_are_limited_per_account_and_address(api: Api) {
    ada(&api).await;
    let attacker = "203.0.113.9:50000";
    let form = open_login(&api).await;
    for i in 0..5 {
        let page = post_from(
            &api,
            &form,
            &password(&format!("guess-number-{i}")),
            attacker,
        )
        .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    // Now even the right password, in any case of the email, waits.
    for email in ["ada%40example.com", "ADA%40Example.com"] {
        let fields = format!("email={email}&password={}", urlenc(UI_PASSWORD));
        let page = post_from(&api, &form, &fields, attacker).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert_eq!(page.headers[header::RETRY_AFTER], "60");
        assert!(
            page.body
                .contains("Too many failed sign-ins for this account; try again in 1 minute."),
            "{}",
            page.body
        );
        assert!(page.headers.get(header::SET_COOKIE).is_none());
    }
    // The owner, from an address without failures, signs in meanwhile.
    let owner = post_from(&api, &form, &password(UI_PASSWORD), "198.51.100.7:41000").await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}", owner.body);
    // After the lock, one more guess; failing it doubles the lock.
    api.clock.advance(SignedDuration::from_mins(1));
    let page = post_from(&api, &form, &password("guess-number-6"), attacker).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let page = post_from(&api, &form, &password(UI_PASSWORD), attacker).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(page.headers[header::RETRY_AFTER], "120");
    assert!(
        page.body.contains("try again in 2 minutes"),
        "{}",
        page.body
    );
    // One address spraying many accounts meets its own budget.
    let sprayer = "192.0.2.50:1234";
    for i in 0..20 {
        let fields = format!("email=user{i}%40example.com&password=whatever-whatever");
        let page = post_from(&api, &form, &fields, sprayer).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "account {i}");
    }
    let page = post_from(&api, &form, &password(UI_PASSWORD), sprayer).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.body
            .contains("Too many failed sign-ins from your address"),
        "{}",
        page.body
    );
}
