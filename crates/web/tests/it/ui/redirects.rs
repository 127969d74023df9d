//! Every form the UI posts answers a success with 303, so a reload never
//! posts it again, and every destructive one asks first. The list of POST
//! routes is read from `src/ui/mod.rs`: a new form without a case here
//! fails the test.

use axum::http::{header, Method, StatusCode};
use warroom_store::on_both_backends;

use super::{location, people, sign_in, Session};
use crate::helpers::{Api, Page};

on_both_backends!(setup = crate::helpers::oncall_api;
    every_form_post_answers_303,
);

/// The paths `ui::routes` routes a POST to, as written there.
fn ui_post_paths() -> Vec<String> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui/mod.rs"))
        .expect("read src/ui/mod.rs");
    let routes = &source[source.find("pub fn routes").expect("fn routes")..];
    let routes = &routes[..routes
        .find(".layer(")
        .expect("the routes end at the layers")];
    routes
        .split(".route(")
        .skip(1)
        .filter(|route| route.contains("post("))
        .map(|route| {
            let start = route.find('"').unwrap() + 1;
            let end = start + route[start..].find('"').unwrap();
            route[start..end].to_owned()
        })
        .collect()
}

/// A successful post answered 303, and the page it leads to is there.
async fn assert_303(api: &Api, who: &Session, what: &str, page: &Page) {
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "{what}: {} {}",
        page.status,
        page.body
    );
    let next = who.follow(api, page).await;
    assert_eq!(next.status, StatusCode::OK, "{what} → {}", location(page));
}

async fn every_form_post_answers_303(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let root = sign_in(&api, "root@example.com").await;
    let mut covered = Vec::new();

    // Sign-in answers 303 in `sign_in`; sign-out:
    let leaving = sign_in(&api, "vic@example.com").await;
    let out = leaving.post(&api, "/logout", "").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    covered.extend(["/login", "/logout"]);

    let declared = ada
        .post(&api, "/incidents", "title=Checkout+502&severity=SEV-2")
        .await;
    assert_303(&api, &ada, "declare", &declared).await;
    let id = location(&declared)
        .trim_start_matches("/incidents/")
        .to_owned();
    covered.push("/incidents");
    for (action, form) in [
        ("acknowledge", ""),
        ("note", "text=pool+exhausted"),
        ("status", "status=investigating"),
        (
            "update",
            "message=Checkout+is+failing+for+some+card+payments.",
        ),
        ("severity", "severity=SEV-1&reason=all+regions"),
        ("assign", "role=Incident+Commander&assignee=ada"),
        ("resolve", "message=pool+resized"),
        ("reopen", "reason=came+back"),
    ] {
        let page = ada
            .post(&api, &format!("/incidents/{id}/{action}"), form)
            .await;
        assert_303(&api, &ada, action, &page).await;
    }
    covered.push("/incidents/{id}/{action}");

    let silenced = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D%22Down%22&duration=2h&comment=failover",
        )
        .await;
    assert_303(&api, &ada, "silence", &silenced).await;
    let silences = api.get("/api/v1/silences").await.body;
    let sid = silences[0]["id"].as_str().unwrap().to_owned();
    let expired = ada.confirm(&api, &format!("/silences/{sid}/expire")).await;
    assert_303(&api, &ada, "expire", &expired).await;
    covered.extend(["/silences", "/silences/{id}/expire"]);

    let made = ada
        .post(
            &api,
            "/oncall/overrides",
            "schedule=primary&user=bob&start=2026-11-26T09%3A00&end=2026-11-26T17%3A00&week=2026-11-23",
        )
        .await;
    assert_303(&api, &ada, "override", &made).await;
    let overrides = api
        .get("/api/v1/oncall/schedules/primary/overrides?from=2026-11-01T00:00:00Z&to=2026-12-31T00:00:00Z")
        .await
        .body;
    let list = overrides
        .as_array()
        .or_else(|| overrides["overrides"].as_array())
        .unwrap_or_else(|| panic!("{overrides}"));
    let oid = list[0]["id"].as_str().unwrap().to_owned();
    let deleted = ada
        .confirm(&api, &format!("/oncall/overrides/primary/{oid}/delete"))
        .await;
    assert_303(&api, &ada, "delete override", &deleted).await;
    covered.extend([
        "/oncall/overrides",
        "/oncall/overrides/{schedule}/{id}/delete",
    ]);

    let created = root
        .post(
            &api,
            "/services/integrations",
            "service=api&kind=alertmanager&name=prom",
        )
        .await;
    assert_303(&api, &root, "create integration", &created).await;
    let integrations = api
        .send(Method::GET, "/api/v1/integrations", Some(&api.admin), None)
        .await
        .body;
    let iid = integrations
        .as_array()
        .or_else(|| integrations["integrations"].as_array())
        .unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for action in ["rotate", "revoke"] {
        let page = root
            .confirm(&api, &format!("/services/integrations/{iid}/{action}"))
            .await;
        assert_303(&api, &root, action, &page).await;
    }
    covered.extend([
        "/services/integrations",
        "/services/integrations/{id}/{action}",
    ]);

    let account = root
        .post(
            &api,
            "/people/accounts",
            "email=new%40example.com&name=new&role=viewer",
        )
        .await;
    assert_303(&api, &root, "create account", &account).await;
    let shown = root.follow(&api, &account).await;
    assert!(shown.body.contains("shown only now"), "{}", shown.body);
    // The password was shown once: the page it redirected to no longer has it.
    let again = root.get(&api, "/people").await;
    assert!(!again.body.contains("shown only now"), "{}", again.body);
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
        .confirm(&api, &format!("/people/accounts/{new_id}/disable"))
        .await;
    assert_303(&api, &root, "disable", &disabled).await;
    // Enabling again undoes nothing for good: one step.
    let enabled = root
        .post(&api, &format!("/people/accounts/{new_id}/enable"), "")
        .await;
    assert_303(&api, &root, "enable", &enabled).await;
    covered.extend(["/people/accounts", "/people/accounts/{id}/{action}"]);

    let changed = ada
        .post(
            &api,
            "/account",
            &format!(
                "current_password={0}&new_password=a-new-long-password&confirm_password=a-new-long-password",
                super::urlenc(crate::helpers::UI_PASSWORD)
            ),
        )
        .await;
    assert_303(&api, &ada, "change password", &changed).await;
    let shown = ada.follow(&api, &changed).await;
    assert!(shown.body.contains("Password changed"), "{}", shown.body);
    assert_eq!(
        shown.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    covered.push("/account");

    let bridged = ada
        .post(
            &api,
            &format!("/incidents/{id}/bridge"),
            "bridge_url=https%3A%2F%2Fmeet.example.com%2Fwar&chat_url=",
        )
        .await;
    assert_303(&api, &ada, "bridge", &bridged).await;
    let again = ada
        .post(
            &api,
            "/incidents",
            "title=Checkout+502+again&severity=SEV-2",
        )
        .await;
    let duplicate = location(&again)
        .trim_start_matches("/incidents/")
        .to_owned();
    let merged = ada
        .post(
            &api,
            &format!("/incidents/{duplicate}/merge"),
            &format!("into={id}&confirm=yes"),
        )
        .await;
    assert_303(&api, &ada, "merge", &merged).await;
    covered.extend(["/incidents/{id}/bridge", "/incidents/{id}/merge"]);

    let key = api.integration("alertmanager").await;
    super::alerts::send(
        &api,
        &key,
        &super::alerts::webhook(&[("DiskFull", &[("instance", "db-1")])]),
    )
    .await;
    let alert = api.get("/api/v1/alerts").await.body[0]["id"].to_string();
    let acked = ada
        .post(
            &api,
            "/alerts/bulk",
            &format!("ids={alert}&action=acknowledge"),
        )
        .await;
    assert_303(&api, &ada, "bulk acknowledge", &acked).await;
    covered.push("/alerts/bulk");

    for path in ui_post_paths() {
        assert!(
            covered.contains(&path.as_str()),
            "POST {path} is routed but not checked for 303 here"
        );
    }
}

on_both_backends!(setup = crate::helpers::oncall_api;
    a_destructive_post_without_confirmation_changes_nothing,
    an_update_with_a_starter_placeholder_is_refused,
);

async fn a_destructive_post_without_confirmation_changes_nothing(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let silenced = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D%22Down%22&duration=2h&comment=failover",
        )
        .await;
    assert_eq!(silenced.status, StatusCode::SEE_OTHER);
    let sid = api.get("/api/v1/silences").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("/silences/{sid}/expire");
    let asked = ada.post(&api, &uri, "").await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&asked), uri);
    assert_eq!(api.get("/api/v1/silences").await.body[0]["state"], "active");
    let page = ada.get(&api, &uri).await;
    assert!(page.body.contains("Expire the silence"), "{}", page.body);
    assert!(page.body.contains("failover"), "{}", page.body);
    // The list links to that page rather than posting.
    let list = ada.get(&api, "/silences").await;
    assert!(
        list.body.contains(&format!("href=\"{uri}\"")),
        "{}",
        list.body
    );
    assert!(
        !list.body.contains(&format!("action=\"{uri}\"")),
        "{}",
        list.body
    );
}

async fn an_update_with_a_starter_placeholder_is_refused(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let id = api.declare("Checkout 502", "SEV-2").await;
    let page = ada.get(&api, &format!("/incidents/{id}")).await;
    // The starter the page offers, posted as it is.
    assert!(
        page.body.contains("{planned actions}"),
        "no starter offered"
    );
    let refused = ada
        .post(
            &api,
            &format!("/incidents/{id}/update"),
            "message=We+are+investigating.%0A%0ANEXT+STEPS%3A%0A-+%7Bplanned+actions%7D",
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("message"), "{}", refused.body);
    assert!(
        refused.body.contains("{planned actions}"),
        "{}",
        refused.body
    );
    let timeline = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body
        .to_string();
    assert!(!timeline.contains("update_posted"), "{timeline}");
}
