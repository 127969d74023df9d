//! The Alerts page without a browser: grouping with counts, filters as GET
//! parameters, bulk acknowledge/resolve/silence from one form, suppressed
//! alerts named by what mutes them, the silence form's preview, and the
//! workspace's merge form.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{location, people, sign_in, Session};
use crate::helpers::Api;
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    the_alert_list_groups_filters_and_acts_in_bulk,
    merging_from_the_workspace_needs_a_confirmation,
);

/// An Alertmanager webhook with one alert per (alertname, labels).
pub(super) fn webhook(alerts: &[(&str, &[(&str, &str)])]) -> String {
    let alerts: Vec<_> = alerts
        .iter()
        .map(|(name, labels)| {
            let mut all = serde_json::Map::new();
            all.insert("alertname".into(), json!(name));
            for (k, v) in *labels {
                all.insert((*k).into(), json!(v));
            }
            let fingerprint = format!("{:0>16}", format!("{name}{}", labels.len()));
            json!({"status": "firing", "labels": all, "annotations": {"summary": format!("{name} on {}", labels.first().map_or("", |l| l.1))},
                "startsAt": "2026-11-25T13:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom", "fingerprint": fingerprint})
        })
        .collect();
    json!({"version": "4", "groupKey": "{}:{}", "status": "firing", "receiver": "warroom",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
        "alerts": alerts})
    .to_string()
}

pub(super) async fn send(api: &Api, key: &str, body: &str) {
    let path = format!("/integrations/alertmanager/{key}");
    let r = api.send(Method::POST, &path, None, Some(body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}

fn rows(body: &str) -> usize {
    body.matches("name=\"ids\"").count()
}

async fn ids(api: &Api, query: &str) -> Vec<String> {
    let listed = api.get(&format!("/api/v1/alerts?{query}")).await.body;
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].to_string())
        .collect()
}

async fn the_alert_list_groups_filters_and_acts_in_bulk(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let prod = api.integration("alertmanager").await;
    let r = api
        .post(
            "/api/v1/silences",
            json!({"matchers": "alertname=\"Muted\"", "duration": "2h", "comment": "disk migration"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let silence = r.body["id"].as_str().unwrap().to_owned();
    send(
        &api,
        &prod,
        &webhook(&[
            ("DiskFull", &[("instance", "db-1"), ("env", "prod")]),
            (
                "DiskFull",
                &[("instance", "db-2"), ("env", "prod"), ("rack", "r1")],
            ),
            ("Muted", &[("instance", "db-3")]),
        ]),
    )
    .await;
    // A second integration, for the integration filter.
    let r = api
        .send(
            Method::POST,
            "/api/v1/integrations",
            Some(&api.admin),
            Some(
                &json!({"service": "api", "name": "staging-am", "kind": "alertmanager"})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (staging, staging_id) = (
        r.body["key"].as_str().unwrap().to_owned(),
        r.body["id"].as_str().unwrap().to_owned(),
    );
    send(
        &api,
        &staging,
        &webhook(&[("CpuHot", &[("env", "staging")])]),
    )
    .await;

    // Grouped by alertname, with counts that link to the group.
    let page = ada.get(&api, "/alerts?group=alertname").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("label=alertname%3DDiskFull\">DiskFull</a> <span class=\"badge\">2</span>"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(">CpuHot</a> <span class=\"badge\">1</span>"));
    assert!(page.body.contains("alertname: DiskFull"));
    assert_eq!(rows(&page.body), 3);
    let by_service = ada.get(&api, "/alerts?group=service").await;
    assert!(by_service
        .body
        .contains("service=api\">api</a> <span class=\"badge\">3</span>"));

    // Filters are GET parameters.
    let page = ada.get(&api, "/alerts?label=env%3Dprod").await;
    assert_eq!(rows(&page.body), 2, "{}", page.body);
    assert!(page.body.contains("env=prod <a href="));
    let page = ada
        .get(&api, "/alerts?label=env%3Dprod&label=rack%3Dr1")
        .await;
    assert_eq!(rows(&page.body), 1);
    let page = ada
        .get(&api, &format!("/alerts?integration={staging_id}"))
        .await;
    assert_eq!(rows(&page.body), 1);
    assert!(page.body.contains("CpuHot"));
    for (query, field) in [
        ("label=nothing", "label"),
        ("status=muted", "status"),
        ("group=color", "group"),
    ] {
        let bad = ada.get(&api, &format!("/alerts?{query}")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(bad.body.contains(field), "{query}: {}", bad.body);
    }

    // A suppressed alert names its silence and wears no "firing" badge.
    let page = ada.get(&api, "/alerts?status=suppressed").await;
    assert_eq!(rows(&page.body), 1);
    assert!(page
        .body
        .contains(&format!("silenced by disk migration ({silence})")));
    assert!(page.body.contains(">silenced</span>"));
    assert!(!page.body.contains(">firing</span>"), "{}", page.body);

    // Bulk silence: the form holds what the ticked alerts share, and says
    // how many firing alerts that matches before anything is created.
    let disk = ids(&api, "label=alertname%3DDiskFull").await;
    assert_eq!(disk.len(), 2);
    let ticked = format!("ids={}&ids={}", disk[0], disk[1]);
    let back = "%2Falerts%3Flabel%3Denv%253Dprod";
    let r = ada
        .post(
            &api,
            "/alerts/bulk",
            &format!("{ticked}&action=silence&back={back}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let form = ada.get(&api, location(&r)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains(
            "alertname=&quot;DiskFull&quot;\nenv=&quot;prod&quot;\nservice=&quot;api&quot;"
        ),
        "{}",
        form.body
    );
    assert!(form.body.contains("Matches 2 firing alerts now."));
    let preview = ada
        .post(
            &api,
            "/silences",
            "matchers=env%3D%22prod%22&duration=2h&comment=&preview=1",
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Matches 2 firing alerts now."));
    let preview = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D~%22.%2B%22&duration=2h&comment=&preview=1",
        )
        .await;
    assert!(preview.body.contains("Matches 4 firing alerts now."));
    let silences = api.get("/api/v1/silences").await.body;
    assert_eq!(
        silences.as_array().unwrap().len(),
        1,
        "a preview creates nothing"
    );

    // Bulk acknowledge, then resolve, through the alert writer.
    let r = ada
        .post(
            &api,
            "/alerts/bulk",
            &format!("{ticked}&action=acknowledge&back={back}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/alerts?label=env%3Dprod");
    let page = ada.get(&api, location(&r)).await;
    assert_eq!(page.body.matches(">acknowledged</span>").count(), 2);
    let alert = api.get(&format!("/api/v1/alerts/{}", disk[0])).await.body;
    assert!(alert["acknowledged_at"].is_string(), "{alert}");
    let incident = alert["incident_id"].as_str().unwrap().to_owned();
    let timeline = api
        .get(&format!("/api/v1/incidents/{incident}/timeline"))
        .await
        .body;
    let acked = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "alert_acknowledged")
        .expect("the acknowledgement is on the timeline");
    assert_eq!(acked["actor"], "ada");
    let r = ada
        .post(&api, "/alerts/bulk", &format!("{ticked}&action=resolve"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/alerts");
    assert_eq!(ids(&api, "status=resolved").await.len(), 2);

    for (form, field) in [
        ("action=resolve", "ids"),
        ("ids=x&action=resolve", "ids"),
        (&*format!("ids={}&action=delete", disk[0]), "action"),
    ] {
        let bad = ada.post(&api, "/alerts/bulk", form).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
        assert!(bad.body.contains(field), "{form}: {}", bad.body);
    }
}

async fn merging_from_the_workspace_needs_a_confirmation(api: Api) {
    people(&api).await;
    let ada: Session = sign_in(&api, "ada@example.com").await;
    let dup = api.declare("Checkout errors", "SEV-2").await;
    let survivor = api.declare("Payments outage", "SEV-1").await;
    let page = ada.get(&api, &format!("/incidents/{dup}")).await;
    assert!(page.body.contains("Merge into incident…"));

    let uri = format!("/incidents/{dup}/merge");
    let unconfirmed = ada.post(&api, &uri, &format!("into={survivor}")).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.body.contains("confirm"));
    let nowhere = ada.post(&api, &uri, "into=&confirm=yes").await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nowhere.body.contains("into"));

    let merged = ada
        .post(&api, &uri, &format!("into={survivor}&confirm=yes"))
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    assert_eq!(location(&merged), format!("/incidents/{survivor}"));
    let page = ada.get(&api, &format!("/incidents/{survivor}")).await;
    let at = page
        .body
        .find("Merged INC")
        .expect("the merge is on the timeline");
    assert!(
        page.body[..at].ends_with(&format!("<a href=\"&#x2f;incidents&#x2f;{dup}\">")),
        "{}",
        &page.body[at - 200..at + 100]
    );
    let page = ada.get(&api, &format!("/incidents/{dup}")).await;
    assert!(page.body.contains(&format!(
        "<a href=\"&#x2f;incidents&#x2f;{survivor}\">Closed as a duplicate of {survivor}"
    )));
    assert!(
        !page.body.contains("Merge into incident…"),
        "a closed incident merges no more"
    );
}
