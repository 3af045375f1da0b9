//! Registered webhooks receive `{eventType, createdAt, payload}` after ticket changes.

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::common::{Api, body_of, new_ticket, spawn_default};

/// A local receiver; every POST body arrives on the channel.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (sender, received) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hook",
        post(move |Json(body): Json<Value>| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn register(api: &Api, url: &str, event_type: &str) {
    let request = api.authed(api.http.post(api.url("/v1/webhooks")));
    let created = body_of(request.json(&json!({ "url": url, "eventType": event_type }))).await;
    assert_eq!(created["eventType"], event_type);
}

async fn next_batch(received: &mut mpsc::UnboundedReceiver<Value>, count: usize) -> Vec<Value> {
    let mut batch = Vec::new();
    for _ in 0..count {
        batch.push(received.recv().await.unwrap());
    }
    batch.sort_by_key(|body| body["eventType"].as_str().unwrap().to_owned());
    batch
}

#[tokio::test]
async fn ticket_changes_reach_the_matching_webhooks() {
    let api = spawn_default().await;
    let (url, mut received) = receiver().await;
    for event_type in ["tickets.create", "tickets.update", "tickets.events.message", "tickets.events.status"]
    {
        register(&api, &url, event_type).await;
    }
    let created =
        body_of(api.authed(api.http.post(api.url("/v1/tickets"))).json(&new_ticket("w@example.com"))).await;
    let id = created["ID"].as_str().unwrap();
    let create = received.recv().await.unwrap();
    assert_eq!(create["eventType"], "tickets.create");
    assert_eq!(create["createdAt"], "2026-01-15T09:00:00.000Z");
    assert_eq!(create["payload"]["ID"], id);

    let patch = json!({ "message": { "text": "On it" }, "status": "pending", "priority": 10 });
    let request = api.authed(api.http.patch(api.url(&format!("/v1/tickets/{id}"))));
    assert_eq!(request.json(&patch).send().await.unwrap().status(), 200);
    let batch = next_batch(&mut received, 3).await;
    let types: Vec<&str> = batch.iter().map(|body| body["eventType"].as_str().unwrap()).collect();
    assert_eq!(types, ["tickets.events.message", "tickets.events.status", "tickets.update"]);
    assert_eq!(batch[0]["payload"]["event"]["message"]["text"], "On it");
    assert_eq!(batch[0]["payload"]["ticket"]["ID"], id);
    assert_eq!(batch[1]["payload"]["event"]["status"], json!({ "old": "open", "new": "pending" }));
    assert_eq!(batch[2]["payload"]["status"], "pending");

    // Moves announce an update too; nothing was registered for priority events.
    api.sim.move_ticket(id.parse().unwrap(), scoreline_helpdesk_sim::Silo::Archive).unwrap();
    let moved = received.recv().await.unwrap();
    assert_eq!(
        (moved["eventType"].as_str(), moved["payload"]["silo"].as_str()),
        (Some("tickets.update"), Some("archive"))
    );
    assert!(received.try_recv().is_err());
}
