//! The OpenAPI document against the router: every route documented, every
//! documented operation routed, and the common errors and typed bodies that
//! Schemathesis (`scripts/schemathesis`) relies on.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use utoipa::OpenApi;
use warroom_store::SqliteStore;
use warroom_web::api::{route_paths, ApiDoc};

use crate::helpers::Api;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap()
}

/// Every (path, method) the document lists, e.g. ("/api/v1/incidents", "post").
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((path.clone(), method.clone()));
        }
    }
    ops
}

/// A concrete URI for a templated path: every `{param}` becomes `x`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push('x');
            }
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let db = warroom_store::testing::sqlite().await;
    let api = Api::new(db.store.clone()).await;
    let doc = document();
    let ops = documented(&doc);
    let paths: BTreeSet<String> = route_paths::<SqliteStore>()
        .into_iter()
        .map(|p| format!("/api/v1{p}"))
        .collect();
    assert!(paths.len() > 50, "route_paths lists {}", paths.len());
    for path in &paths {
        let uri = concrete(path);
        for method in METHODS {
            // Routing comes before authentication: without a token a routed
            // method answers 401 (or 400 for a path it cannot parse), and
            // one the router lacks answers 405.
            let r = api.send(method.clone(), &uri, None, None).await;
            let routed = r.status != StatusCode::METHOD_NOT_ALLOWED;
            let listed = ops.contains(&(path.clone(), method.as_str().to_lowercase()));
            assert_eq!(
                routed, listed,
                "{method} {path}: routed {routed} ({}), documented {listed}",
                r.status
            );
        }
    }
    for (path, _) in &ops {
        assert!(paths.contains(path), "{path} is documented but not routed");
    }
}

#[test]
fn every_operation_documents_the_common_errors() {
    let doc = document();
    for (path, method) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let responses = op["responses"].as_object().unwrap();
        let has = |code: &str| responses.contains_key(code);
        for code in ["401", "403", "503"] {
            assert!(has(code), "{method} {path} does not document {code}");
        }
        if path.contains('{') {
            assert!(has("400") && has("404"), "{method} {path}: 400/404");
        }
        if op.get("requestBody").is_some() {
            for code in ["400", "413", "415", "422"] {
                assert!(has(code), "{method} {path} with a body: {code}");
            }
        }
        for (code, response) in responses {
            let status: u16 = code.parse().unwrap();
            if status >= 400 {
                let schema = response
                    .get("$ref")
                    .map(|r| {
                        let name = r.as_str().unwrap().rsplit('/').next().unwrap();
                        &doc["components"]["responses"][name]
                    })
                    .unwrap_or(response)["content"]["application/json"]["schema"]["$ref"]
                    .clone();
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{method} {path} {code}"
                );
            }
        }
    }
}

/// A schema that says nothing but "an object" (or nothing at all): a client
/// generated from the document could send anything.
fn bare(
    schema: &Value,
    doc: &Value,
    seen: &mut BTreeSet<String>,
    at: &str,
    found: &mut Vec<String>,
) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        if seen.insert(name.to_owned()) {
            bare(&doc["components"]["schemas"][name], doc, seen, name, found);
        }
        return;
    }
    let typed = [
        "type",
        "properties",
        "oneOf",
        "anyOf",
        "allOf",
        "enum",
        "$ref",
    ]
    .iter()
    .any(|k| schema.get(*k).is_some());
    let object_without_fields = schema["type"] == "object"
        && schema.get("properties").is_none()
        && !schema
            .get("additionalProperties")
            .is_some_and(Value::is_object);
    if !typed || object_without_fields {
        found.push(format!("{at}: {schema}"));
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        bare(property, doc, seen, &format!("{at}.{name}"), found);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get(key).filter(|v| v.is_object()) {
            bare(inner, doc, seen, &format!("{at}[]"), found);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for inner in schema[key].as_array().into_iter().flatten() {
            bare(inner, doc, seen, at, found);
        }
    }
}

#[test]
fn request_bodies_are_typed() {
    let doc = document();
    let mut found = Vec::new();
    for (path, method) in documented(&doc) {
        let body = &doc["paths"][&path][&method]["requestBody"];
        if body.is_null() {
            continue;
        }
        let schema = &body["content"]["application/json"]["schema"];
        assert!(
            !schema.is_null(),
            "{method} {path}: a body that is not JSON"
        );
        bare(
            schema,
            &doc,
            &mut BTreeSet::new(),
            &format!("{method} {path}"),
            &mut found,
        );
    }
    assert!(
        found.is_empty(),
        "untyped request body parts:\n{}",
        found.join("\n")
    );
}

/// Clients and Schemathesis's links name operations by `operationId`.
#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut seen = BTreeSet::new();
    for (path, method) in documented(&doc) {
        let id = doc["paths"][&path][&method]["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_owned();
        assert!(
            seen.insert(id.clone()),
            "{method} {path}: operationId {id} is taken"
        );
    }
}
