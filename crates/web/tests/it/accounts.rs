//! Sign-in accounts through the API: admins only, fields named on bad
//! input, generated passwords returned once, disabling and resets.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Api, Reply};
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    admins_create_list_and_read_accounts,
    bad_account_input_names_the_field,
    accounts_are_changed_disabled_and_reset,
);

const PASSWORD: &str = "correct horse battery";

async fn admin(api: &Api, method: Method, uri: &str, body: Option<Value>) -> Reply {
    let body = body.map(|b| b.to_string());
    api.send(method, uri, Some(&api.admin), body.as_deref())
        .await
}

async fn create(api: &Api, body: Value) -> Reply {
    admin(api, Method::POST, "/api/v1/accounts", Some(body)).await
}

async fn admins_create_list_and_read_accounts(api: Api) {
    let r = create(
        &api,
        json!({"email": "Alice@Example.com", "name": "Alice", "role": "responder", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["email"], "alice@example.com");
    assert_eq!(r.body["role"], "responder");
    assert_eq!(r.body["disabled"], false);
    assert!(r.body.get("password").is_none(), "{}", r.body);
    assert!(r.body.get("password_hash").is_none());
    let alice = r.body["id"].as_i64().unwrap();
    assert!(api.engine.signs_in("alice@example.com", PASSWORD).await);

    let r = create(
        &api,
        json!({"email": "bob@example.com", "name": "Bob", "role": "viewer"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let generated = r.body["password"].as_str().unwrap().to_owned();
    assert_eq!(generated.len(), 20);
    assert!(api.engine.signs_in("bob@example.com", &generated).await);

    let r = admin(&api, Method::GET, "/api/v1/accounts", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let emails: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com"]);
    assert!(r.body[0].get("password").is_none());

    let r = admin(
        &api,
        Method::GET,
        &format!("/api/v1/accounts/{alice}"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "Alice");
    let r = admin(&api, Method::GET, "/api/v1/accounts/9999", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Responders and viewers may not even look.
    for token in [&api.responder, &api.viewer] {
        let r = api
            .send(Method::GET, "/api/v1/accounts", Some(token), None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let body = json!({"email": "eve@example.com", "name": "Eve", "role": "admin"}).to_string();
        let r = api
            .send(Method::POST, "/api/v1/accounts", Some(token), Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    let r = api.send(Method::GET, "/api/v1/accounts", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let doc = api.get("/api/v1/openapi.json").await.body;
    for (path, method) in [
        ("/api/v1/accounts", "post"),
        ("/api/v1/accounts", "get"),
        ("/api/v1/accounts/{id}", "get"),
        ("/api/v1/accounts/{id}", "patch"),
        ("/api/v1/accounts/{id}/password", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
}

async fn bad_account_input_names_the_field(api: Api) {
    let ok = json!({"email": "a@example.com", "name": "A", "role": "viewer"});
    assert_eq!(create(&api, ok.clone()).await.status, StatusCode::CREATED);
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body
    };
    let cases = [
        (ok.clone(), StatusCode::CONFLICT, "email"),
        (
            with("email", json!("A@EXAMPLE.COM")),
            StatusCode::CONFLICT,
            "email",
        ),
        (
            with("email", json!("not-an-email")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            with("email", json!("b @example.com")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            with("name", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            with("password", json!("too short")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (with("role", json!("boss")), StatusCode::BAD_REQUEST, "role"),
        (
            with("disabled", json!(true)),
            StatusCode::BAD_REQUEST,
            "disabled",
        ),
        (
            json!({"name": "A", "role": "viewer"}),
            StatusCode::BAD_REQUEST,
            "email",
        ),
    ];
    for (body, status, field) in cases {
        let r = create(&api, body.clone()).await;
        assert_eq!((r.status, r.field()), (status, field), "{body}: {}", r.body);
    }
    let r = admin(&api, Method::GET, "/api/v1/accounts/abc", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = admin(&api, Method::GET, "/api/v1/accounts", None).await;
    assert_eq!(
        r.body.as_array().unwrap().len(),
        1,
        "bad input wrote nothing"
    );
}

async fn accounts_are_changed_disabled_and_reset(api: Api) {
    let r = create(
        &api,
        json!({"email": "carol@example.com", "name": "Carol", "role": "admin", "password": PASSWORD}),
    )
    .await;
    let id = r.body["id"].as_i64().unwrap();
    let uri = format!("/api/v1/accounts/{id}");
    let patch = |body: Value| admin(&api, Method::PATCH, &uri, Some(body));

    // The only admin can be neither demoted nor disabled.
    let r = patch(json!({"role": "viewer"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = create(
        &api,
        json!({"email": "dave@example.com", "name": "Dave", "role": "admin"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);

    let r = patch(json!({"name": "Carol C.", "role": "responder"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["role"].as_str()),
        (Some("Carol C."), Some("responder"))
    );
    let r = patch(json!({"name": " "})).await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "name"),
        "{}",
        r.body
    );
    let r = patch(json!({"email": "x@example.com"})).await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::BAD_REQUEST, "email"),
        "{}",
        r.body
    );
    let r = patch(json!({"disabled": true})).await;
    assert_eq!(r.body["disabled"], true, "{}", r.body);
    assert!(!api.engine.signs_in("carol@example.com", PASSWORD).await);
    let r = patch(json!({"disabled": false})).await;
    assert_eq!(r.body["disabled"], false, "{}", r.body);
    assert!(api.engine.signs_in("carol@example.com", PASSWORD).await);
    let r = admin(
        &api,
        Method::PATCH,
        "/api/v1/accounts/9999",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let reset = format!("{uri}/password");
    let r = admin(&api, Method::POST, &reset, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let generated = r.body["password"].as_str().unwrap().to_owned();
    assert!(!api.engine.signs_in("carol@example.com", PASSWORD).await);
    assert!(api.engine.signs_in("carol@example.com", &generated).await);
    let r = admin(
        &api,
        Method::POST,
        &reset,
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("password").is_none(), "{}", r.body);
    assert!(api.engine.signs_in("carol@example.com", PASSWORD).await);
    let r = admin(
        &api,
        Method::POST,
        &reset,
        Some(json!({"password": "short"})),
    )
    .await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "password")
    );
    let r = api
        .send(Method::POST, &reset, Some(&api.responder), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
