//! `GET /api/v1/status`: the server's background tasks, for admins only.

use axum::http::Method;
use warroom_store::on_both_backends;
use warroom_store::Store;

use crate::helpers::Api;

on_both_backends!(admins_see_the_tasks_and_others_do_not);

async fn admins_see_the_tasks_and_others_do_not<S: Store>(store: S) {
    let api = Api::new(store).await;
    let admin = api.admin.clone();
    let status = api
        .send(Method::GET, "/api/v1/status", Some(&admin), None)
        .await;
    let tasks = status.body["tasks"].as_array().unwrap().clone();
    // The tests drive the workers themselves: only the alert writer runs.
    assert_eq!(tasks.len(), 1, "{}", status.body);
    assert_eq!(tasks[0]["name"], "alert writer");
    assert_eq!(tasks[0]["state"], "running");
    assert_eq!(tasks[0]["restarts"], 0);
    assert_eq!(tasks[0]["queue"], 0);
    assert!(tasks[0]["last_error"].is_null());

    for token in [api.responder.clone(), api.viewer.clone()] {
        let status = api
            .send(Method::GET, "/api/v1/status", Some(&token), None)
            .await;
        assert!(status.body.get("alerts").is_some(), "{}", status.body);
        assert!(status.body.get("tasks").is_none(), "{}", status.body);
    }
}
