//! The on-call API: the directory, schedules' answers, overrides, warnings,
//! calendar feeds and contact-method verification.

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use serde_json::{json, Value};

use crate::helpers::{Api, Reply};
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    directory_crud_of_every_kind,
    directory_refuses_bad_entries_naming_the_field,
    schedule_answers_and_overrides,
    calendar_feeds,
    calendar_feeds_are_stable_within_a_day_and_reach_a_year,
    contact_method_verification,
);

on_both_backends!(setup = crate::helpers::oncall_api; playbook_entries_are_read_only);

const ONCALL: &str = "/api/v1/oncall";

async fn admin(api: &Api, method: Method, path: &str, body: Option<Value>) -> Reply {
    let body = body.map(|b| b.to_string());
    api.send(
        method,
        &format!("{ONCALL}{path}"),
        Some(&api.admin),
        body.as_deref(),
    )
    .await
}

fn names(reply: &Reply) -> Vec<&str> {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

fn user(name: &str) -> Value {
    json!({
        "name": name,
        "email": format!("{name}@example.com"),
        "contact_methods": [{"id": "mail", "kind": "email", "address": format!("{name}@example.com")}],
    })
}

/// Users alice and bob, and schedule `primary`: daily UTC hand-offs at
/// 09:00 from 2026-11-25, alice first.
async fn seed_schedule(api: &Api) {
    for name in ["alice", "bob"] {
        let r = admin(api, Method::POST, "/users", Some(user(name))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = admin(
        api,
        Method::POST,
        "/schedules",
        Some(json!({
            "name": "primary",
            "time_zone": "UTC",
            "layers": [{
                "name": "daily",
                "users": ["alice", "bob"],
                "shift": {"days": 1},
                "start": "2026-11-25T09:00:00"
            }]
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn directory_crud_of_every_kind(api: Api) {
    // Users: created unverified whatever the body says, with provenance.
    let mut alice = user("alice");
    alice["time_zone"] = json!("Europe/London");
    alice["contact_methods"][0]["verified"] = json!(true);
    let r = admin(&api, Method::POST, "/users", Some(alice.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["name"], "alice");
    assert_eq!(r.body["time_zone"], "Europe/London");
    assert_eq!(r.body["contact_methods"][0]["verified"], false);
    assert_eq!(r.body["source"], "api");
    assert_eq!(r.body["created_at"], "2026-11-25T14:00:00Z");
    assert_eq!(r.body["updated_at"], "2026-11-25T14:00:00Z");
    let r = admin(&api, Method::POST, "/users", Some(alice.clone())).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = admin(&api, Method::POST, "/users", Some(user("bob"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Anyone with a token reads.
    let r = api
        .send(
            Method::GET,
            &format!("{ONCALL}/users"),
            Some(&api.viewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(names(&r), ["alice", "bob"]);
    let r = api.get(&format!("{ONCALL}/users/alice")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["email"], "alice@example.com");
    let r = api.get(&format!("{ONCALL}/users/nobody")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Replace.
    api.clock.advance(SignedDuration::from_mins(5));
    alice["role"] = json!("Network Engineer");
    let r = admin(&api, Method::PUT, "/users/alice", Some(alice.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["role"], "Network Engineer");
    assert_eq!(r.body["created_at"], "2026-11-25T14:00:00Z");
    assert_eq!(r.body["updated_at"], "2026-11-25T14:05:00Z");
    let r = admin(&api, Method::PUT, "/users/bob", Some(alice.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), "name");
    let r = admin(&api, Method::PUT, "/users/carol", Some(user("carol"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // The other four kinds.
    let creations = [
        (
            "/teams",
            json!({"name": "dba", "members": ["alice", "bob"]}),
        ),
        (
            "/vendors",
            json!({"name": "sip-trunk", "provides": "SIP Trunk Provider", "support_phone": "+18005550199"}),
        ),
        (
            "/schedules",
            json!({"name": "primary", "time_zone": "UTC", "layers": [{
                "name": "weekly", "users": ["alice", "bob"], "shift": {"weeks": 1},
                "start": "2026-11-23T09:00:00"}]}),
        ),
        (
            "/escalation-policies",
            json!({"name": "default", "steps": [
                {"delay_minutes": 5, "targets": [{"type": "schedule", "name": "primary"}]},
                {"delay_minutes": 10, "targets": [{"type": "team", "name": "dba", "mode": "round_robin"}]}]}),
        ),
    ];
    for (path, body) in &creations {
        let r = admin(&api, Method::POST, path, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {}", r.body);
        assert_eq!(r.body["source"], "api");
        let name = body["name"].as_str().unwrap();
        let r = api.get(&format!("{ONCALL}{path}")).await;
        assert_eq!(names(&r), [name], "{path}");
        let r = api.get(&format!("{ONCALL}{path}/{name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let r = admin(&api, Method::POST, path, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {}", r.body);
    }
    let r = api
        .get(&format!("{ONCALL}/escalation-policies/default"))
        .await;
    assert_eq!(r.body["steps"][1]["targets"][0]["mode"], "round_robin");

    // Only admins write.
    for token in [&api.viewer, &api.responder] {
        let r = api
            .send(
                Method::POST,
                &format!("{ONCALL}/users"),
                Some(token),
                Some(&user("mallory").to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = api
            .send(
                Method::DELETE,
                &format!("{ONCALL}/vendors/sip-trunk"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }

    // Delete.
    let r = admin(&api, Method::DELETE, "/vendors/sip-trunk", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api.get(&format!("{ONCALL}/vendors/sip-trunk")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = admin(&api, Method::DELETE, "/vendors/sip-trunk", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .send(Method::GET, &format!("{ONCALL}/users"), None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn directory_refuses_bad_entries_naming_the_field(api: Api) {
    let r = admin(&api, Method::POST, "/users", Some(user("alice"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut bad_email = user("bob");
    bad_email["email"] = json!("bob-at-example");
    let mut bad_zone = user("bob");
    bad_zone["time_zone"] = json!("Mars/Olympus_Mons");
    let mut bad_address = user("bob");
    bad_address["contact_methods"][0]["address"] = json!("not mail");
    let mut unknown_field = user("bob");
    unknown_field["nickname"] = json!("bobby");
    let bad = 422;
    let malformed = 400;
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("/users", bad_email, bad, "email"),
        ("/users", bad_zone, bad, "time_zone"),
        ("/users", bad_address, bad, "contact_methods[0].address"),
        ("/users", unknown_field, malformed, "nickname"),
        (
            "/users",
            json!({"name": "Bob!", "email": "b@example.com"}),
            bad,
            "name",
        ),
        ("/users", json!({"name": "bob"}), malformed, "email"),
        (
            "/teams",
            json!({"name": "dba", "members": ["ghost"]}),
            bad,
            "members[0]",
        ),
        (
            "/schedules",
            json!({"name": "s", "time_zone": "Nowhere/City", "layers": [{"name": "l",
                "users": ["alice"], "shift": {"days": 1}, "start": "2026-11-23T09:00:00"}]}),
            bad,
            "time_zone",
        ),
        (
            "/schedules",
            json!({"name": "s", "time_zone": "UTC", "layers": [{"name": "l",
                "users": ["ghost"], "shift": {"days": 1}, "start": "2026-11-23T09:00:00"}]}),
            bad,
            "layers[0].users[0]",
        ),
        (
            "/escalation-policies",
            json!({"name": "p", "steps": [{"delay_minutes": 5,
                "targets": [{"type": "schedule", "name": "nowhere"}]}]}),
            bad,
            "steps[0].targets[0].name",
        ),
        (
            "/escalation-policies",
            json!({"name": "p", "steps": [{"delay_minutes": 0,
                "targets": [{"type": "user", "name": "alice"}]}]}),
            bad,
            "steps[0].delay_minutes",
        ),
        (
            "/escalation-policies",
            json!({"name": "p", "steps": [{"delay_minutes": 5,
                "targets": [{"type": "robot", "name": "alice"}]}]}),
            malformed,
            "steps[0].targets[0].type",
        ),
    ];
    for (path, body, status, field) in cases {
        let r = admin(&api, Method::POST, path, Some(body.clone())).await;
        assert_eq!(r.status.as_u16(), status, "{path} {body}: {}", r.body);
        assert_eq!(r.field(), field, "{path} {body}: {}", r.body);
    }
    let r = api
        .send(
            Method::POST,
            &format!("{ONCALL}/users"),
            Some(&api.admin),
            Some("{\"name\": "),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Nothing was written.
    for path in ["/users", "/teams", "/schedules", "/escalation-policies"] {
        let r = api.get(&format!("{ONCALL}{path}")).await;
        let expected: &[&str] = if path == "/users" { &["alice"] } else { &[] };
        assert_eq!(names(&r), expected, "{path}");
    }
}

async fn playbook_entries_are_read_only(api: Api) {
    let r = api.get(&format!("{ONCALL}/users/alice")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["source"], "playbook");
    assert_eq!(r.body["contact_methods"][0]["verified"], true);
    let mut changed = r.body.clone();
    let doc = changed.as_object_mut().unwrap();
    for key in ["source", "created_at", "updated_at"] {
        doc.remove(key);
    }
    doc.insert("role".into(), json!("Changed"));
    let r = admin(&api, Method::PUT, "/users/alice", Some(changed)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("playbook"),
        "{}",
        r.body
    );
    for path in [
        "/users/alice",
        "/teams/dba",
        "/vendors/sip-trunk",
        "/schedules/primary",
        "/escalation-policies/default",
    ] {
        let r = admin(&api, Method::DELETE, path, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {}", r.body);
        let r = api.get(&format!("{ONCALL}{path}")).await;
        assert_eq!(r.body["source"], "playbook", "{path}");
    }
    let r = admin(&api, Method::POST, "/users", Some(user("alice"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Playbook methods are verified already.
    let r = api
        .post(
            &format!("{ONCALL}/users/alice/contact-methods/mail/verification"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The playbook's schedule answers: alice has the week of 2026-11-23.
    let r = api
        .get(&format!("{ONCALL}/schedules/primary/on-call"))
        .await;
    assert_eq!(r.body["user"], "alice", "{}", r.body);
}

async fn schedule_answers_and_overrides(api: Api) {
    seed_schedule(&api).await;
    let base = format!("{ONCALL}/schedules/primary");

    let r = api.get(&format!("{base}/on-call")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"schedule": "primary", "at": "2026-11-25T14:00:00Z", "user": "alice",
               "source": {"type": "layer", "index": 0, "name": "daily"}})
    );
    let r = api
        .get(&format!("{base}/on-call?at=2026-11-26T10:00:00Z"))
        .await;
    assert_eq!(r.body["user"], "bob");
    let r = api
        .get(&format!("{base}/on-call?at=2026-11-25T08:59:59Z"))
        .await;
    assert_eq!(r.body["user"], Value::Null);
    assert_eq!(r.body["source"], Value::Null);
    let r = api.get(&format!("{base}/on-call?at=tomorrow")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), "at");
    let r = api.get(&format!("{ONCALL}/schedules/nope/on-call")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = api
        .get(&format!(
            "{base}/shifts?from=2026-11-25T00:00:00Z&to=2026-11-27T09:00:00Z"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let shifts: Vec<(Value, Value, Value)> = r.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["user"].clone(), s["start"].clone(), s["end"].clone()))
        .collect();
    assert_eq!(
        shifts,
        [
            (
                Value::Null,
                json!("2026-11-25T00:00:00Z"),
                json!("2026-11-25T09:00:00Z")
            ),
            (
                json!("alice"),
                json!("2026-11-25T09:00:00Z"),
                json!("2026-11-26T09:00:00Z")
            ),
            (
                json!("bob"),
                json!("2026-11-26T09:00:00Z"),
                json!("2026-11-27T09:00:00Z")
            ),
        ]
    );
    // Default range: the next 7 days.
    let r = api.get(&format!("{base}/shifts")).await;
    let all = r.body["shifts"].as_array().unwrap();
    assert_eq!(all.len(), 8, "{}", r.body);
    assert_eq!(all[0]["start"], "2026-11-25T14:00:00Z");
    assert_eq!(all[7]["end"], "2026-12-02T14:00:00Z");
    let r = api
        .get(&format!(
            "{base}/shifts?from=2026-11-27T00:00:00Z&to=2026-11-26T00:00:00Z"
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), "to");

    let r = api
        .get(&format!(
            "{ONCALL}/users/bob/shifts?from=2026-11-25T00:00:00Z&to=2026-11-28T00:00:00Z"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["shifts"],
        json!([{"schedule": "primary", "user": "bob", "start": "2026-11-26T09:00:00Z",
                "end": "2026-11-27T09:00:00Z", "source": {"type": "layer", "index": 0, "name": "daily"}}])
    );

    // An override changes the answer, and only within its window.
    let overrides = format!("{base}/overrides");
    let window =
        json!({"user": "bob", "start": "2026-11-25T12:00:00Z", "end": "2026-11-25T18:00:00Z"});
    let r = api
        .send(
            Method::POST,
            &overrides,
            Some(&api.viewer),
            Some(&window.to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api.post(&overrides, window).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["created_by"], "alice");
    assert_eq!(r.body["schedule"], "primary");
    assert_eq!(r.body["start"], "2026-11-25T12:00:00Z");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = api.get(&format!("{base}/on-call")).await;
    assert_eq!(r.body["user"], "bob");
    assert_eq!(r.body["source"], json!({"type": "override", "id": id}));
    let r = api
        .get(&format!("{base}/on-call?at=2026-11-25T18:00:00Z"))
        .await;
    assert_eq!(r.body["user"], "alice");
    let r = api.get(&format!("{ONCALL}/now")).await;
    assert_eq!(r.body["at"], "2026-11-25T14:00:00Z");
    assert_eq!(r.body["schedules"][0]["schedule"], "primary");
    assert_eq!(r.body["schedules"][0]["user"], "bob");
    let r = api.get(&overrides).await;
    assert_eq!(
        r.body["overrides"].as_array().unwrap().len(),
        1,
        "{}",
        r.body
    );
    assert_eq!(r.body["overrides"][0]["id"], id.as_str());

    for (body, field) in [
        (
            json!({"user": "bob", "start": "2026-11-25T18:00:00Z", "end": "2026-11-25T12:00:00Z"}),
            "end",
        ),
        (
            json!({"user": "ghost", "start": "2026-11-25T12:00:00Z", "end": "2026-11-25T18:00:00Z"}),
            "user",
        ),
    ] {
        let r = api.post(&overrides, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.field(), field);
    }
    let r = api
        .post(
            &overrides,
            json!({"user": "bob", "start": "noon", "end": "2026-11-25T18:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), "start");

    let r = api
        .call(Method::DELETE, &format!("{overrides}/{id}"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api.get(&format!("{base}/on-call")).await;
    assert_eq!(r.body["user"], "alice");
    let r = api
        .call(Method::DELETE, &format!("{overrides}/{id}"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Neither user has a verified contact method.
    let r = api.get(&format!("{ONCALL}/warnings")).await;
    assert_eq!(r.status, StatusCode::OK);
    let warnings = r.body["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["kind"] == "unreachable_user" && w["subject"] == "user:alice"),
        "{}",
        r.body
    );
    assert!(warnings.iter().any(|w| w["kind"] == "no_policy"));
}

async fn calendar_feeds(api: Api) {
    seed_schedule(&api).await;
    let feeds = format!("{ONCALL}/feeds");
    let r = api
        .post(&feeds, json!({"kind": "schedule", "name": "primary"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "responders cannot make feeds"
    );
    let r = admin(
        &api,
        Method::POST,
        "/feeds",
        Some(json!({"kind": "schedule", "name": "primary"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["kind"], "schedule");
    assert_eq!(r.body["name"], "primary");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let url = r.body["url"].as_str().unwrap();
    let path = url.strip_prefix("http://localhost").unwrap().to_owned();
    assert!(
        path.starts_with("/ical/") && path.ends_with(".ics"),
        "{url}"
    );

    let page = api.page(Method::GET, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["content-type"], "text/calendar; charset=utf-8");
    assert!(page.body.starts_with("BEGIN:VCALENDAR"), "{}", page.body);
    // The feed covers the whole days from 30 days back to 400 ahead: one
    // event per shift with someone on it. The rota starts today at 09:00,
    // so that is one shift a day, the last cut at midnight 400 days ahead.
    let staffed = 400;
    assert_eq!(page.body.matches("BEGIN:VEVENT").count(), staffed);

    // A user's feed.
    let r = admin(
        &api,
        Method::POST,
        "/feeds",
        Some(json!({"kind": "user", "name": "bob"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let bob_path = r.body["url"]
        .as_str()
        .unwrap()
        .strip_prefix("http://localhost")
        .unwrap()
        .to_owned();
    let page = api.page(Method::GET, &bob_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("BEGIN:VEVENT").count(), 200);

    // Listing never shows the secret.
    let r = api.get(&feeds).await;
    assert_eq!(r.body["feeds"].as_array().unwrap().len(), 2, "{}", r.body);
    let listed = r.body.to_string();
    assert!(
        !listed.contains("wrcal_") && !listed.contains("url"),
        "{listed}"
    );

    for (body, status, field) in [
        (json!({"kind": "team", "name": "dba"}), 422, "kind"),
        (json!({"kind": "schedule", "name": "nope"}), 404, ""),
        (json!({"kind": "schedule"}), 400, "name"),
    ] {
        let r = admin(&api, Method::POST, "/feeds", Some(body)).await;
        assert_eq!(r.status.as_u16(), status, "{}", r.body);
        assert_eq!(r.field(), field);
    }

    // Revoked, unknown and malformed tokens are all a plain 404.
    let r = admin(&api, Method::DELETE, &format!("/feeds/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = admin(&api, Method::DELETE, &format!("/feeds/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for path in [
        path.as_str(),
        "/ical/wrcal_0000.ics",
        path.trim_end_matches(".ics"),
    ] {
        let page = api.page(Method::GET, path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        api.page(Method::GET, &bob_path).await.status,
        StatusCode::OK
    );
}

/// The events of a calendar: (UID, DTSTART, DTEND), lines unfolded.
fn events(ics: &str) -> Vec<(String, String, String)> {
    let unfolded = ics.replace("\r\n ", "");
    let mut events = Vec::new();
    let (mut uid, mut start) = (String::new(), String::new());
    for line in unfolded.split("\r\n") {
        if let Some(v) = line.strip_prefix("UID:") {
            uid = v.to_owned();
        } else if let Some(v) = line.strip_prefix("DTSTART:") {
            start = v.to_owned();
        } else if let Some(v) = line.strip_prefix("DTEND:") {
            events.push((uid.clone(), start.clone(), v.to_owned()));
        }
    }
    events
}

/// A shift's UID and DTSTART are the same in every fetch of the day (the
/// window's bounds are whole days), and the feed reaches a year ahead.
async fn calendar_feeds_are_stable_within_a_day_and_reach_a_year(api: Api) {
    for name in ["alice", "bob"] {
        let r = admin(&api, Method::POST, "/users", Some(user(name))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // Weekly hand-offs since January: a shift is always under way.
    let r = admin(
        &api,
        Method::POST,
        "/schedules",
        Some(json!({
            "name": "weekly",
            "time_zone": "Europe/Berlin",
            "layers": [{"name": "w", "users": ["alice", "bob"], "shift": {"weeks": 1},
                        "start": "2026-01-05T09:00:00"}]
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut paths = Vec::new();
    for feed in [
        json!({"kind": "schedule", "name": "weekly"}),
        json!({"kind": "user", "name": "bob"}),
    ] {
        let r = admin(&api, Method::POST, "/feeds", Some(feed)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let url = r.body["url"].as_str().unwrap();
        paths.push(url.strip_prefix("http://localhost").unwrap().to_owned());
    }
    for path in &paths {
        // 14:00, then 23:59 the same (UTC) day: the same events.
        let first = api.page(Method::GET, path).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        api.clock
            .advance(SignedDuration::from_secs(9 * 3600 + 59 * 60));
        let later = api.page(Method::GET, path).await;
        api.clock
            .advance(-SignedDuration::from_secs(9 * 3600 + 59 * 60));
        let (first, later) = (events(&first.body), events(&later.body));
        assert!(first.len() >= 30, "{first:?}");
        assert_eq!(first, later, "{path}");
        // The first event is the shift under way 30 days back, with its real start.
        let (_, start, end) = &first[0];
        assert!(
            start.as_str() < "20261026T000000Z" && end.as_str() > "20261026T000000Z",
            "{first:?}"
        );
        // At least a year ahead: the last event ends past 2027-11-25.
        let (_, _, end) = first.last().unwrap();
        assert!(end.as_str() >= "20271125T140000Z", "{path}: ends {end}");
    }
    // The horizon is the URL's to choose, within bounds that name the field.
    let two_years = events(
        &api.page(Method::GET, &format!("{}?days=730", paths[0]))
            .await
            .body,
    );
    assert!(
        two_years.last().unwrap().2.as_str() >= "20281124T000000Z",
        "{two_years:?}"
    );
    for bad in ["0", "1101", "soon"] {
        let r = api.get(&format!("{}?days={bad}", paths[0])).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.body);
        assert_eq!(r.field(), "days", "{}", r.body);
    }
}

async fn contact_method_verification(api: Api) {
    let r = admin(&api, Method::POST, "/users", Some(user("carol"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let start = format!("{ONCALL}/users/carol/contact-methods/mail/verification");
    let verify = format!("{ONCALL}/users/carol/contact-methods/mail/verify");

    let r = api
        .send(Method::POST, &start, Some(&api.viewer), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api.post(&start, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    // Where it went and until when; never the code.
    assert_eq!(
        r.body,
        json!({"sent_to": "carol@example.com", "expires_at": "2026-11-25T14:15:00Z"})
    );
    let r = api
        .post(
            &format!("{ONCALL}/users/carol/contact-methods/pager/verification"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A new code replaces the one sent; the test learns it from the engine.
    let code = api.engine.start_verification("carol", "mail").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = api.post(&verify, json!({"code": wrong})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), "code");
    let r = api.post(&verify, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), "code");
    let r = api.post(&verify, json!({"code": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "carol");
    assert_eq!(r.body["contact_methods"][0]["verified"], true);
    let r = api.get(&format!("{ONCALL}/users/carol")).await;
    assert_eq!(r.body["contact_methods"][0]["verified"], true);

    // Verified once is enough; a spent code does not work again.
    let r = api.post(&start, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api.post(&verify, json!({"code": code})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}
