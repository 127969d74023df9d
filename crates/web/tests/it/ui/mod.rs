//! The web UI over HTTP without a browser: sign-in, sessions, CSRF, roles,
//! every page and form, bad input, and the live feed. The browser tests
//! (crates/warroom/tests/it/ui.rs) drive the same pages in Chromium.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use warroom_domain::AccessRole;

use crate::helpers::{Api, Page, UI_PASSWORD};

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
    pub(crate) async fn get(&self, api: &Api, uri: &str) -> Page {
        request(api, Method::GET, uri, Some(&self.cookie), None, &[]).await
    }

    /// Posts `form` with this session's CSRF token added.
    pub(crate) async fn post(&self, api: &Api, uri: &str, form: &str) -> Page {
        let form = if form.is_empty() {
            format!("csrf={}", self.csrf)
        } else {
            format!("csrf={}&{form}", self.csrf)
        };
        request(api, Method::POST, uri, Some(&self.cookie), Some(&form), &[]).await
    }

    /// Follows a 303 as a browser does, sending the cookies it set (a
    /// one-time flash) with this session's.
    async fn follow(&self, api: &Api, page: &Page) -> Page {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let mut cookie = self.cookie.clone();
        for set in page.headers.get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if !pair.ends_with('=') {
                cookie = format!("{cookie}; {pair}");
            }
        }
        request(api, Method::GET, location(page), Some(&cookie), None, &[]).await
    }

    /// Posts a destructive action as its confirmation page does.
    async fn confirm(&self, api: &Api, uri: &str) -> Page {
        let asked = self.post(api, uri, "").await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{uri}: {}", asked.body);
        assert_eq!(location(&asked), uri, "{uri} is not asked again first");
        let page = self.get(api, uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert!(
            page.body.contains("name=\"confirm\" value=\"yes\""),
            "{uri}: {}",
            page.body
        );
        self.post(api, uri, "confirm=yes").await
    }
}

pub(crate) async fn people(api: &Api) {
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

mod access;
mod alerts;
mod bridge;
mod links;
mod pages;
mod redirects;
mod workspace;
