//! Every option for behaviour public sources leave unconfirmed.

use scoreline_helpdesk_sim::{AckBody, RateLimit, RateLimitBody, RetryAfterForm};
use serde_json::{Value, json};

use crate::common::{new_ticket, query, spawn_default};

#[tokio::test]
async fn status_codes_are_options() {
    let api = spawn_default().await;
    api.sim.update_options(|options| {
        options.validation_status = 422;
        options.read_only_status = 403;
        options.create_status = 201;
    });
    assert_eq!(api.get("/v1/tickets?pageSize=0").send().await.unwrap().status(), 422);
    let created = api.create(new_ticket("a@example.com")).await;
    assert_eq!(created.status(), 201);
    let id: Value = created.json().await.unwrap();
    let id = id["ID"].as_str().unwrap();
    api.sim.move_ticket(id.parse().unwrap(), scoreline_helpdesk_sim::Silo::Archive).unwrap();
    let refused = api
        .authed(api.http.patch(api.url(&format!("/v1/tickets/{id}"))))
        .json(&json!({ "subject": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn acknowledgements_and_delete_from_trash_are_options() {
    let api = spawn_default().await;
    let id = api.sim.create_ticket(&new_ticket("a@example.com")).unwrap();
    let delete = || api.authed(api.http.delete(api.url(&format!("/v1/tickets/{id}")))).send();
    api.sim.update_options(|options| options.ack_body = AckBody::EmptyJson);
    assert_eq!(delete().await.unwrap().json::<Value>().await.unwrap(), json!({}));
    api.sim.update_options(|options| options.delete_in_trash_is_permanent = false);
    assert_eq!(delete().await.unwrap().status(), 200);
    assert!(api.sim.ticket_json(id).is_some(), "stays in trash");
    api.sim.update_options(|options| options.delete_in_trash_is_permanent = true);
    assert_eq!(delete().await.unwrap().status(), 200);
    assert!(api.sim.ticket_json(id).is_none(), "gone for good");
    assert_eq!(delete().await.unwrap().status(), 404);
}

#[tokio::test]
async fn paging_guesses_are_options() {
    let api = spawn_default().await;
    let first_page = api.list(&query(&[("pageSize", "10")])).await.0;
    let second_page = api.list(&query(&[("pageSize", "10"), ("page", "2")])).await.0;
    assert_ne!(first_page, second_page);
    api.sim.update_options(|options| {
        options.legacy_page = false;
        options.total_results_header = false;
    });
    let (ignored, headers) = api.list(&query(&[("pageSize", "10"), ("page", "2")])).await;
    assert_eq!(ignored, first_page, "page is ignored when legacy paging is off");
    assert!(headers.contains_key("x-total-pages"));
    assert!(!headers.contains_key("x-total-results"));
}

#[tokio::test]
async fn silo_names_are_options() {
    let api = spawn_default().await;
    api.sim.update_options(|options| options.emit_inbox_silo = true);
    let (items, _) = api.list(&query(&[("pageSize", "5")])).await;
    assert!(items.iter().all(|item| item["silo"] == "inbox"));
    api.sim.update_options(|options| {
        options.emit_inbox_silo = false;
        options.accept_inbox_silo = false;
    });
    let refused = api.get("/v1/tickets?silo=inbox").send().await.unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn private_client_messages_and_user_agent_are_options() {
    let api = spawn_default().await;
    let id = api.sim.create_ticket(&new_ticket("a@example.com")).unwrap();
    let client_note =
        json!({ "message": { "text": "x" }, "isPrivate": true, "author": { "type": "client" } });
    assert!(api.sim.update_ticket(id, &client_note).is_err());
    api.sim.update_options(|options| options.reject_private_client_messages = false);
    assert!(api.sim.update_ticket(id, &client_note).is_ok());

    api.sim.update_options(|options| options.require_user_agent = true);
    let anonymous = reqwest::Client::new();
    let blocked = anonymous
        .get(api.url("/v1/tickets"))
        .basic_auth(api.sim.account_id(), Some(api.sim.pat()))
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 403);
    assert!(blocked.text().await.unwrap().contains("<html>"));
    assert_eq!(api.get("/v1/tickets").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_429_shape_is_an_option() {
    let api = spawn_default().await;
    api.sim.update_knobs(|knobs| knobs.rate_limit = Some(RateLimit { per_second: 0.1, burst: 1 }));
    assert_eq!(api.get("/v1/tickets").send().await.unwrap().status(), 200);
    api.sim.update_options(|options| {
        options.retry_after = RetryAfterForm::HttpDate;
        options.rate_limit_body = RateLimitBody::PlainText;
    });
    let limited = api.get("/v1/tickets").send().await.unwrap();
    assert_eq!(limited.status(), 429);
    let date = limited.headers()["retry-after"].to_str().unwrap().to_owned();
    assert!(date.ends_with(" GMT") && date.starts_with("Thu, 15 Jan 2026 09:00:"), "{date}");
    assert_eq!(limited.text().await.unwrap(), "Too Many Requests");
    api.sim.update_options(|options| {
        options.retry_after = RetryAfterForm::Omitted;
        options.rate_limit_body = RateLimitBody::Empty;
    });
    let limited = api.get("/v1/tickets").send().await.unwrap();
    assert!(!limited.headers().contains_key("retry-after"));
    assert!(limited.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn priority_events_are_an_option() {
    let api = spawn_default().await;
    let id = api.sim.create_ticket(&new_ticket("a@example.com")).unwrap();
    api.sim.update_ticket(id, &json!({ "priority": 20, "message": { "text": "bump" } })).unwrap();
    let types = |api: &crate::common::Api| {
        let ticket = api.sim.ticket_json(id).unwrap();
        ticket["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(types(&api), ["message", "message", "priority"]);
    api.sim.update_options(|options| options.priority_events = false);
    assert_eq!(types(&api), ["message", "message"]);
    let row = api.sim.truth().into_iter().find(|row| row.id == id).unwrap();
    assert_eq!(row.event_count, 2);
}
