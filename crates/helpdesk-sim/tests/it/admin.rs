//! The `/_sim` admin API, visibility lag and timestamp precision.

use std::time::Duration;

use scoreline_helpdesk_sim::{Precision, SimConfig};
use serde_json::{Value, json};

use crate::common::{Api, new_ticket, query, spawn, spawn_default};

async fn admin(api: &Api, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = api.http.request(method, api.url(&format!("/_sim{path}")));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn state_knobs_and_clock_over_http() {
    let api = spawn_default().await;
    let (_, state) = admin(&api, reqwest::Method::GET, "/state", None).await;
    assert_eq!(state["pat"], api.sim.pat());
    assert_eq!(state["account_id"], api.sim.account_id());
    assert_eq!(state["accounts_url"], api.sim.accounts_url());
    assert_eq!(state["now"], "2026-01-15T09:00:00.000Z");

    let knobs = json!({ "latency_ms": 5, "visibility_lag_ms": 1000, "rate_limit": { "per_second": 100.0, "burst": 10 } });
    let (status, _) = admin(&api, reqwest::Method::PUT, "/knobs", Some(knobs)).await;
    assert_eq!(status, 200);
    assert_eq!(api.sim.knobs().latency_ms, 5);
    assert_eq!(api.sim.knobs().rate_limit.unwrap().burst, 10);
    let (_, knobs) = admin(&api, reqwest::Method::GET, "/knobs", None).await;
    assert_eq!(knobs["visibility_lag_ms"], 1000);

    let (_, clock) =
        admin(&api, reqwest::Method::POST, "/clock", Some(json!({ "advance_ms": 90_000 }))).await;
    assert_eq!(clock["now"], "2026-01-15T09:01:30.000Z");
    let (_, clock) =
        admin(&api, reqwest::Method::POST, "/clock", Some(json!({ "set": "2026-02-01T00:00:00Z" }))).await;
    assert_eq!(clock["now"], "2026-02-01T00:00:00.000Z");
    assert_eq!(api.sim.now(), scoreline_core::Timestamp::parse_rfc3339("2026-02-01T00:00:00Z").unwrap());

    let (_, options) = admin(&api, reqwest::Method::GET, "/options", None).await;
    assert_eq!(options["validation_status"], 400);
    let (status, _) =
        admin(&api, reqwest::Method::PUT, "/options", Some(json!({ "validation_status": 422 }))).await;
    assert_eq!(status, 200);
    assert_eq!(api.sim.options().validation_status, 422);
}

#[tokio::test]
async fn faults_truth_and_request_log_over_http() {
    let api = spawn_default().await;
    let fault = json!({ "path": "/v1/tickets", "times": 2, "fault": { "kind": "status", "status": 502 } });
    let (status, pending) = admin(&api, reqwest::Method::POST, "/faults", Some(fault)).await;
    assert_eq!((status, pending.as_array().unwrap().len()), (200, 1));
    assert_eq!(api.get("/v1/tickets").send().await.unwrap().status(), 502);
    admin(&api, reqwest::Method::DELETE, "/faults", None).await;
    assert_eq!(api.get("/v1/tickets?pageSize=3").send().await.unwrap().status(), 200);

    let (_, truth) = admin(&api, reqwest::Method::GET, "/truth", None).await;
    let truth = truth.as_array().unwrap();
    assert_eq!(truth.len(), 200);
    for key in ["ID", "updatedAt", "silo", "eventCount"] {
        assert!(truth[0].get(key).is_some(), "{key}");
    }
    let (_, log) = admin(&api, reqwest::Method::GET, "/requests", None).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "admin calls are not logged");
    assert_eq!(log[0]["status"], 502);
    assert_eq!(log[1]["uri"], "/v1/tickets?pageSize=3");
    assert_eq!(log[1]["auth"], "basic");
    admin(&api, reqwest::Method::DELETE, "/requests", None).await;
    assert!(api.sim.requests().is_empty());
}

#[tokio::test]
async fn tickets_are_created_changed_moved_and_trashed_over_http() {
    let api = spawn_default().await;
    let (status, created) =
        admin(&api, reqwest::Method::POST, "/tickets", Some(new_ticket("x@example.com"))).await;
    assert_eq!(status, 200);
    let id = created["ID"].as_str().unwrap().to_owned();
    let events = |api: &Api| {
        api.sim.truth().into_iter().find(|row| row.id.to_string() == id).map(|row| row.event_count)
    };
    assert_eq!(events(&api), Some(1));
    let (status, _) = admin(
        &api,
        reqwest::Method::PATCH,
        &format!("/tickets/{id}"),
        Some(json!({ "message": { "text": "more" } })),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(events(&api), Some(2));
    let (status, _) =
        admin(&api, reqwest::Method::PUT, &format!("/tickets/{id}/silo"), Some(json!({ "silo": "archive" })))
            .await;
    assert_eq!(status, 204);
    assert_eq!(api.json(&format!("/v1/tickets/{id}")).await["silo"], "archive");
    let (status, body) =
        admin(&api, reqwest::Method::PATCH, &format!("/tickets/{id}"), Some(json!({ "subject": "no" })))
            .await;
    assert_eq!(status, 400, "{body}");
    admin(&api, reqwest::Method::DELETE, &format!("/tickets/{id}"), None).await;
    assert_eq!(api.json(&format!("/v1/tickets/{id}")).await["silo"], "trash");
}

#[tokio::test]
async fn agents_are_added_over_http_and_through_the_handle() {
    let api = spawn_default().await;
    let (_, agent) = admin(
        &api,
        reqwest::Method::POST,
        "/agents",
        Some(json!({ "name": "New Agent", "email": "New.Agent@Example.com" })),
    )
    .await;
    let agents = api.json("/v1/agents").await;
    assert!(
        agents
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["ID"] == agent["ID"] && a["email"] == "New.Agent@Example.com")
    );
    let added = api.sim.add_agent("Handle Agent", "h@example.com");
    assert_eq!(api.json(&format!("/v1/agents/{added}")).await["name"], "Handle Agent");
}

#[tokio::test]
async fn tokens_and_pats_are_issued_and_revoked_over_http() {
    let api = spawn_default().await;
    let (_, tokens) = admin(&api, reqwest::Method::POST, "/tokens", None).await;
    let access = tokens["access_token"].as_str().unwrap();
    let bearer = |token: &str| api.http.get(api.url("/v1/tickets")).bearer_auth(token.to_owned()).send();
    assert_eq!(bearer(access).await.unwrap().status(), 200);
    admin(&api, reqwest::Method::POST, "/revoke", Some(json!({ "token": access }))).await;
    assert_eq!(bearer(access).await.unwrap().status(), 401);
    let (_, pat) = admin(&api, reqwest::Method::POST, "/pats", None).await;
    let pat = pat["pat"].as_str().unwrap();
    let with_pat = api
        .http
        .get(api.url("/v1/tickets"))
        .basic_auth(api.sim.account_id(), Some(pat))
        .send()
        .await
        .unwrap();
    assert_eq!(with_pat.status(), 200);
    admin(&api, reqwest::Method::POST, "/revoke", Some(json!({ "token": api.sim.pat() }))).await;
    assert_eq!(api.get("/v1/tickets").send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn visibility_lag_hides_fresh_updates_from_lists_only() {
    let api = spawn_default().await;
    api.sim.update_knobs(|knobs| knobs.visibility_lag_ms = 5_000);
    let id = api.sim.create_ticket(&new_ticket("lag@example.com")).unwrap().to_string();
    let newest = || async {
        let (items, _) = api.list(&query(&[("sortBy", "updatedAt"), ("pageSize", "5")])).await;
        items.iter().any(|item| item["ID"] == id.as_str())
    };
    assert!(!newest().await);
    assert_eq!(api.json(&format!("/v1/tickets/{id}")).await["ID"], id.as_str());
    api.sim.clock().advance(Duration::from_millis(4_999));
    assert!(!newest().await);
    api.sim.clock().advance(Duration::from_millis(1));
    assert!(newest().await);
}

#[tokio::test]
async fn second_precision_writes_whole_seconds_and_still_pages() {
    let knobs = scoreline_helpdesk_sim::Knobs { precision: Precision::Seconds, ..Default::default() };
    let api = spawn(SimConfig { knobs, tickets: 600, ..SimConfig::default() }).await;
    let (items, _) = api.list(&query(&[("pageSize", "10")])).await;
    let created = items[0]["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), 20, "{created}");
    assert!(api.sim.truth().iter().all(|row| row.updated_at.as_millis() % 1000 == 0));
    let expected: Vec<String> = api
        .sim
        .truth()
        .into_iter()
        .filter(|row| row.silo == scoreline_helpdesk_sim::Silo::Tickets)
        .map(|row| row.id.to_string())
        .collect();
    let seen = api.page_all(&query(&[("sortBy", "updatedAt"), ("order", "asc")]), 100).await;
    assert_eq!(seen, expected);

    let millis = spawn(SimConfig { tickets: 600, ..SimConfig::default() }).await;
    millis.sim.update_knobs(|knobs| knobs.precision = Precision::Seconds);
    assert!(millis.sim.truth().iter().all(|row| row.updated_at.as_millis() % 1000 == 0));
}

#[tokio::test]
async fn simulated_activity_follows_sim_time_and_the_seed() {
    let mut truths = Vec::new();
    for _ in 0..2 {
        let api = spawn_default().await;
        api.sim.update_knobs(|knobs| knobs.activity_per_minute = 60.0);
        let messages = |api: &Api| api.sim.truth().iter().map(|row| row.message_count).sum::<usize>();
        let before = messages(&api);
        assert_eq!(messages(&api), before, "no sim time passed, nothing happened");
        api.sim.clock().advance(Duration::from_secs(10));
        assert_eq!(messages(&api), before + 10, "one message a second");
        let (recent, _) = api.list(&query(&[("updatedDateFrom", "-1n"), ("pageSize", "100")])).await;
        assert!((1..=10).contains(&recent.len()), "{}", recent.len());
        truths.push(api.sim.truth());
    }
    assert_eq!(truths[0], truths[1]);
}
