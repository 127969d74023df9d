//! Merging incidents through the API: the survivor and the closed
//! duplicate come back; bad input names the field; merging into itself,
//! into a closed incident or a missing one is refused.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::Api;
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    a_duplicate_merges_into_the_survivor,
);

async fn a_duplicate_merges_into_the_survivor(api: Api) {
    let dup = api.declare("Checkout errors", "SEV-2").await;
    let survivor = api.declare("Payments outage", "SEV-1").await;
    let other = api.declare("Slow search", "SEV-3").await;
    let merge = |id: &str| format!("/api/v1/incidents/{id}/merge");

    let refusals = [
        (json!({}), StatusCode::BAD_REQUEST, "into"),
        (
            json!({"into": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "into",
        ),
        (
            json!({"into": dup}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "into",
        ),
        (
            json!({"into": survivor, "why": 1}),
            StatusCode::BAD_REQUEST,
            "why",
        ),
    ];
    for (body, status, field) in refusals {
        let r = api.post(&merge(&dup), body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert_eq!(r.field(), field, "{body}: {}", r.body);
    }
    let r = api
        .post(&merge(&dup), json!({"into": "INC-1999-0001"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = api
        .post(&merge("INC-1999-0001"), json!({"into": dup}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = api
        .send(
            Method::POST,
            &merge(&dup),
            Some(&api.viewer),
            Some(&json!({"into": survivor}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let r = api.post(&merge(&dup), json!({"into": survivor})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["duplicate"]["id"], dup);
    assert_eq!(r.body["duplicate"]["status"], "closed");
    assert_eq!(r.body["survivor"]["id"], survivor);
    assert_eq!(r.body["survivor"]["status"], "triggered");

    // Linked both ways in the timelines.
    let events = api
        .get(&format!("/api/v1/incidents/{survivor}/timeline"))
        .await
        .body["events"]
        .clone();
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "merged_from", "{last}");
    assert_eq!(last["from"], dup);
    let events = api
        .get(&format!("/api/v1/incidents/{dup}/timeline"))
        .await
        .body["events"]
        .clone();
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "merged_into", "{last}");
    assert_eq!(last["into"], survivor);

    // The duplicate is closed: no merging into it, nor of it again.
    let r = api.post(&merge(&other), json!({"into": dup})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api.post(&merge(&dup), json!({"into": other})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}
