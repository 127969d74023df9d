//! Authentication, roles and hostile input: every refusal is a JSON 4xx that
//! names the problem, and none of them changes stored data.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::Api;
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    no_token_is_401_everywhere_but_health,
    viewers_get_403_on_every_write,
    bad_bodies_are_4xx_naming_the_field_and_change_nothing,
    only_admins_manage_tokens,
);

/// Every write route with a body that would succeed for a responder.
fn writes(id: &str) -> Vec<(Method, String, Value)> {
    let b = format!("/api/v1/incidents/{id}");
    vec![
        (
            Method::POST,
            "/api/v1/incidents".into(),
            json!({"title": "x", "severity": "SEV-1"}),
        ),
        (Method::PATCH, b.clone(), json!({"title": "y"})),
        (Method::POST, format!("{b}/acknowledge"), json!({})),
        (
            Method::POST,
            format!("{b}/status"),
            json!({"status": "investigating"}),
        ),
        (
            Method::POST,
            format!("{b}/severity"),
            json!({"severity": "SEV-0"}),
        ),
        (Method::POST, format!("{b}/resolve"), json!({})),
        (Method::POST, format!("{b}/close"), json!({})),
        (Method::POST, format!("{b}/reopen"), json!({})),
        (
            Method::PUT,
            format!("{b}/roles/Scribe"),
            json!({"assignee": "v"}),
        ),
        (Method::DELETE, format!("{b}/roles/Scribe"), json!({})),
        (
            Method::PUT,
            format!("{b}/checklist/detection/1"),
            json!({"done": true}),
        ),
        (Method::POST, format!("{b}/notes"), json!({"text": "hi"})),
        (
            Method::POST,
            format!("{b}/updates"),
            json!({"message": "hi"}),
        ),
        (Method::POST, "/api/v1/messages/1/resend".into(), json!({})),
        (
            Method::POST,
            "/api/v1/notify/test".into(),
            json!({"channel": "hooks"}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"name": "n", "role": "viewer"}),
        ),
        (Method::DELETE, "/api/v1/tokens/alice".into(), json!({})),
    ]
}

fn reads(id: &str) -> Vec<String> {
    [
        "/api/v1/incidents".to_owned(),
        format!("/api/v1/incidents/{id}"),
        format!("/api/v1/incidents/{id}/timeline"),
        format!("/api/v1/incidents/{id}/comms"),
        "/api/v1/notify/channels".into(),
        "/api/v1/severities".into(),
        "/api/v1/categories".into(),
        "/api/v1/roles".into(),
        "/api/v1/services".into(),
        "/api/v1/phases".into(),
        "/api/v1/openapi.json".into(),
        "/api/v1/tokens".into(),
    ]
    .to_vec()
}

async fn snapshot(api: &Api, id: &str) -> (Value, Value, Value) {
    (
        api.get("/api/v1/incidents?limit=500").await.body,
        api.get(&format!("/api/v1/incidents/{id}/timeline"))
            .await
            .body,
        api.send(
            Method::GET,
            "/api/v1/tokens",
            Some(&api.admin.clone()),
            None,
        )
        .await
        .body,
    )
}

async fn no_token_is_401_everywhere_but_health(api: Api) {
    let id = api.declare("x", "SEV-2").await;
    let before = snapshot(&api, &id).await;
    for (method, uri, body) in writes(&id) {
        let r = api
            .send(method.clone(), &uri, None, Some(&body.to_string()))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(r.code(), "unauthorized");
        assert!(r.headers.contains_key("www-authenticate"));
        let r = api
            .send(
                method.clone(),
                &uri,
                Some("wr_0000"),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "bad token: {method} {uri}"
        );
    }
    for uri in reads(&id) {
        let r = api.send(Method::GET, &uri, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "GET {uri}");
    }
    let r = api
        .raw(
            axum::http::Request::get("/api/v1/incidents")
                .header("authorization", "Basic YWxpY2U6cHc=")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(snapshot(&api, &id).await, before);
}

async fn viewers_get_403_on_every_write(api: Api) {
    let id = api.declare("x", "SEV-2").await;
    let before = snapshot(&api, &id).await;
    for (method, uri, body) in writes(&id) {
        let r = api
            .send(
                method.clone(),
                &uri,
                Some(&api.viewer.clone()),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            r.body
        );
        assert_eq!(r.code(), "forbidden");
    }
    assert_eq!(snapshot(&api, &id).await, before);
    // Viewers do read.
    for uri in reads(&id).into_iter().filter(|u| !u.ends_with("/tokens")) {
        let r = api
            .send(Method::GET, &uri, Some(&api.viewer.clone()), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "GET {uri}: {}", r.body);
    }
}

async fn bad_bodies_are_4xx_naming_the_field_and_change_nothing(api: Api) {
    let id = api.declare("x", "SEV-2").await;
    let before = snapshot(&api, &id).await;
    let b = format!("/api/v1/incidents/{id}");
    let big = format!("{{\"text\": \"{}\"}}", "a".repeat(600 * 1024));
    let cases: Vec<(Method, String, String, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": ".into(),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "[1, 2]".into(),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": 5, \"severity\": \"SEV-1\"}".into(),
            StatusCode::BAD_REQUEST,
            "title",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"severity\": \"SEV-1\"}".into(),
            StatusCode::BAD_REQUEST,
            "title",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"a\", \"severity\": \"SEV-1\", \"title\": \"b\"}".into(),
            StatusCode::BAD_REQUEST,
            "title",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-1\", \"sevrity\": 1}".into(),
            StatusCode::BAD_REQUEST,
            "sevrity",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-9\"}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "severity",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"\", \"severity\": \"SEV-1\"}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-1\", \"status\": \"exploded\"}".into(),
            StatusCode::BAD_REQUEST,
            "status",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-1\", \"users_affected\": -3}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "users_affected",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-1\", \"users_affected\": 1e400}".into(),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-1\", \"detected_at\": \"noon\"}".into(),
            StatusCode::BAD_REQUEST,
            "detected_at",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-1\", \"services\": [\"api\", 7]}".into(),
            StatusCode::BAD_REQUEST,
            "services[1]",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            "{\"title\": \"x\", \"severity\": \"SEV-1\", \"roles\": {\"Janitor\": \"bob\"}}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "roles[0].role",
        ),
        (
            Method::POST,
            format!("{b}/notes"),
            big,
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        (
            Method::POST,
            format!("{b}/notes"),
            "{\"text\": \"\"}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text",
        ),
        (
            Method::POST,
            format!("{b}/notes"),
            "{\"text\": \"\\u0000\"}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text",
        ),
        (
            Method::POST,
            format!("{b}/status"),
            "{\"status\": \"fixed\"}".into(),
            StatusCode::BAD_REQUEST,
            "status",
        ),
        (
            Method::POST,
            format!("{b}/status"),
            "{\"status\": \"closed\"}".into(),
            StatusCode::CONFLICT,
            "",
        ),
        (
            Method::POST,
            format!("{b}/status"),
            "{}".into(),
            StatusCode::BAD_REQUEST,
            "status",
        ),
        (
            Method::POST,
            format!("{b}/severity"),
            "{\"severity\": null}".into(),
            StatusCode::BAD_REQUEST,
            "severity",
        ),
        (
            Method::PATCH,
            b.clone(),
            "{\"category\": \"Weather\"}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "category",
        ),
        (
            Method::PATCH,
            b.clone(),
            "{\"title\": \"ok\", \"services\": [\"nope\"]}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "services[0]",
        ),
        (
            Method::PUT,
            format!("{b}/checklist/detection/99"),
            "{\"done\": true}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "item",
        ),
        (
            Method::PUT,
            format!("{b}/checklist/detection/-1"),
            "{\"done\": true}".into(),
            StatusCode::BAD_REQUEST,
            "path",
        ),
        (
            Method::PUT,
            format!("{b}/checklist/nope/1"),
            "{\"done\": true}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "phase",
        ),
        (
            Method::PUT,
            format!("{b}/checklist/detection/1"),
            "{\"done\": \"yes\"}".into(),
            StatusCode::BAD_REQUEST,
            "done",
        ),
        (
            Method::PUT,
            format!("{b}/roles/Janitor"),
            "{\"assignee\": \"bob\"}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "role",
        ),
        (
            Method::POST,
            "/api/v1/incidents/INC-1999-9999/acknowledge".into(),
            "{}".into(),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            Method::POST,
            "/api/v1/incidents/INC-1999-9999/notes".into(),
            "{\"text\": \"x\"}".into(),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            Method::PUT,
            b.clone(),
            "{}".into(),
            StatusCode::METHOD_NOT_ALLOWED,
            "",
        ),
        (
            Method::POST,
            "/api/v1/nothing".into(),
            "{}".into(),
            StatusCode::NOT_FOUND,
            "",
        ),
    ];
    for (method, uri, body, status, field) in cases {
        let r = api
            .send(
                method.clone(),
                &uri,
                Some(&api.responder.clone()),
                Some(&body),
            )
            .await;
        let short: String = body.chars().take(80).collect();
        assert_eq!(r.status, status, "{method} {uri} {short}: {}", r.body);
        assert_eq!(r.field(), field, "{method} {uri} {short}: {}", r.body);
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
    }
    // A body that is not declared as JSON.
    let r = api
        .raw(
            axum::http::Request::post(format!("{b}/notes"))
                .header("authorization", format!("Bearer {}", api.responder))
                .header("content-type", "text/plain")
                .body(axum::body::Body::from("{\"text\": \"x\"}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(snapshot(&api, &id).await, before);
    let r = api.get("/api/v1/incidents/INC-1999-9999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn only_admins_manage_tokens(api: Api) {
    let admin = api.admin.clone();
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(&api.responder.clone()),
            Some("{\"name\":\"x\",\"role\":\"viewer\"}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some("{\"name\":\"grafana\",\"role\":\"responder\"}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["token"].as_str().unwrap().to_owned();
    let r = api
        .send(Method::GET, "/api/v1/incidents", Some(&secret), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some("{\"name\":\"grafana\",\"role\":\"viewer\"}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some("{\"name\":\"bad name!\",\"role\":\"viewer\"}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field(), "name");
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some("{\"name\":\"n\",\"role\":\"god\"}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), "role");
    let r = api
        .send(Method::DELETE, "/api/v1/tokens/grafana", Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api
        .send(Method::GET, "/api/v1/incidents", Some(&secret), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The secret is never listed.
    let r = api
        .send(Method::GET, "/api/v1/tokens", Some(&admin), None)
        .await;
    assert!(!r.body.to_string().contains(&secret));
    // `root` is the only admin token: it cannot revoke itself.
    let r = api
        .send(Method::DELETE, "/api/v1/tokens/root", Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("create another admin token first"),
        "{}",
        r.body
    );
    let r = api
        .send(Method::GET, "/api/v1/incidents", Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "the admin token still works");
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some("{\"name\":\"root2\",\"role\":\"admin\"}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = api
        .send(Method::DELETE, "/api/v1/tokens/root", Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
