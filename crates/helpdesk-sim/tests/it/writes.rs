//! Create, PATCH (events, updatedAt, lastMessageAt), delete to trash, silo rules and purges.

use std::time::Duration;

use scoreline_helpdesk_sim::Silo;
use serde_json::{Value, json};

use crate::common::{Api, at, body_of, new_ticket, spawn_default};

async fn patch(api: &Api, id: &str, body: Value) -> reqwest::Response {
    api.authed(api.http.patch(api.url(&format!("/v1/tickets/{id}")))).json(&body).send().await.unwrap()
}

async fn created_id(api: &Api) -> String {
    let response = api.create(new_ticket("Jane.Doe@Example.com")).await;
    assert_eq!(response.status(), 200);
    let ticket: Value = response.json().await.unwrap();
    ticket["ID"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_returns_the_ticket_in_the_default_team() {
    let api = spawn_default().await;
    let response = api.create(new_ticket("jane@example.com")).await;
    assert_eq!(response.status(), 200);
    let ticket: Value = response.json().await.unwrap();
    let teams = api.json("/v1/teams").await;
    assert_eq!(ticket["assignment"]["team"]["ID"], teams[0]["ID"]);
    assert_eq!(ticket["assignment"]["agent"], Value::Null);
    assert_eq!(ticket["teamIDs"], json!([teams[0]["ID"]]));
    assert_eq!(ticket["status"], "open");
    assert_eq!(ticket["silo"], "tickets");
    assert!(ticket["shortID"].is_string());
    assert_eq!(ticket["events"][0]["message"]["text"], "Hello 👋 <b>there</b>");
    assert_eq!(at(&ticket["createdAt"]), api.sim.now());

    let without_default = json!({
        "requester": { "email": "a@example.com" },
        "message": { "text": "hi" },
        "teamIDs": [teams[1]["ID"]],
    });
    assert_eq!(api.create(without_default).await.status(), 400);
    for missing in
        [json!({ "message": { "text": "x" } }), json!({ "requester": { "email": "a@example.com" } })]
    {
        assert_eq!(api.create(missing).await.status(), 400);
    }
    assert_eq!(
        api.create(
            json!({ "requester": { "email": "a@example.com" }, "message": { "text": "x" }, "priority": 5 })
        )
        .await
        .status(),
        400
    );
}

#[tokio::test]
async fn patch_appends_events_and_bumps_times() {
    let api = spawn_default().await;
    let id = created_id(&api).await;
    let created = api.json(&format!("/v1/tickets/{id}")).await;
    api.sim.clock().advance(Duration::from_secs(60));
    let agents = api.json("/v1/agents").await;
    let reply = json!({
        "message": { "text": "Thanks, we're on it." },
        "isPrivate": false,
        "author": { "type": "agent" },
        "status": "pending",
        "priority": 10,
        "assignment": { "agent": { "ID": agents[2]["ID"] } },
    });
    let response = patch(&api, &id, reply).await;
    assert_eq!(response.status(), 200);
    let ticket: Value = response.json().await.unwrap();
    let types: Vec<&str> =
        ticket["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["message", "message", "status", "priority", "assignment"]);
    let ids: Vec<i64> =
        ticket["events"].as_array().unwrap().iter().map(|e| e["ID"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(ticket["events"][2]["status"], json!({ "old": "open", "new": "pending" }));
    assert_eq!(ticket["events"][4]["assignment"]["new"]["agent"]["ID"], agents[2]["ID"]);
    assert_eq!(ticket["assignment"]["agent"]["ID"], agents[2]["ID"]);
    let now = api.sim.now();
    assert_eq!(at(&ticket["updatedAt"]), now);
    assert_eq!(at(&ticket["lastMessageAt"]), now);
    assert_ne!(ticket["updatedAt"], created["updatedAt"]);

    api.sim.clock().advance(Duration::from_secs(60));
    let note = json!({ "message": { "text": "internal" }, "isPrivate": true });
    let ticket: Value = patch(&api, &id, note).await.json().await.unwrap();
    assert_eq!(ticket["events"][5]["message"]["isPrivate"], true);
    assert_eq!(at(&ticket["updatedAt"]), api.sim.now());
    assert_eq!(at(&ticket["lastMessageAt"]), now, "a private note is not a public message");

    let client_note =
        json!({ "message": { "text": "x" }, "isPrivate": true, "author": { "type": "client" } });
    assert_eq!(patch(&api, &id, client_note).await.status(), 400);
    let client_reply = json!({ "message": { "text": "from the customer" }, "author": { "type": "client" } });
    let ticket: Value = patch(&api, &id, client_reply).await.json().await.unwrap();
    assert_eq!(ticket["events"][6]["author"]["type"], "client");
    assert_eq!(ticket["events"][6]["author"]["email"], "Jane.Doe@Example.com");
}

#[tokio::test]
async fn delete_moves_to_trash_which_is_read_only_and_purged_after_30_days() {
    let api = spawn_default().await;
    let id = created_id(&api).await;
    let response = api.authed(api.http.delete(api.url(&format!("/v1/tickets/{id}")))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "OK");
    let ticket = api.json(&format!("/v1/tickets/{id}")).await;
    assert_eq!(ticket["silo"], "trash");
    let (trash, _) = api.list(&crate::common::query(&[("silo", "trash"), ("pageSize", "100")])).await;
    assert!(trash.iter().any(|t| t["ID"] == id.as_str()));
    let (inbox, _) = api.list(&crate::common::query(&[("pageSize", "100"), ("sortBy", "updatedAt")])).await;
    assert!(!inbox.iter().any(|t| t["ID"] == id.as_str()));

    let refused = patch(&api, &id, json!({ "status": "solved" })).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(body["details"].as_str().unwrap().contains("read-only"));

    api.sim.clock().advance(Duration::from_secs(30 * 86_400 - 1));
    assert_eq!(api.get(&format!("/v1/tickets/{id}")).send().await.unwrap().status(), 200);
    api.sim.clock().advance(Duration::from_secs(1));
    assert_eq!(api.get(&format!("/v1/tickets/{id}")).send().await.unwrap().status(), 404);
    let trash_left = api.sim.truth().iter().filter(|row| row.silo == Silo::Trash).count();
    assert_eq!(trash_left, 0, "all generated trash is older than 30 days by now");
}

#[tokio::test]
async fn silo_moves_follow_the_rules() {
    let api = spawn_default().await;
    let id = created_id(&api).await;
    let move_to = |silo: &'static str| {
        let request = api.authed(api.http.put(api.url(&format!("/v1/tickets/{id}/silo"))));
        async move { request.json(&json!({ "silo": silo })).send().await.unwrap() }
    };
    let response = move_to("spam").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "OK");
    let ticket = api.json(&format!("/v1/tickets/{id}")).await;
    assert_eq!(ticket["silo"], "spam");
    assert_eq!(ticket["spam"]["status"], true);
    assert_eq!(patch(&api, &id, json!({ "subject": "x" })).await.status(), 400);
    assert_eq!(move_to("archive").await.status(), 200);
    assert_eq!(patch(&api, &id, json!({ "subject": "x" })).await.status(), 400);
    assert_eq!(move_to("inbox").await.status(), 200, "inbox is accepted for tickets");
    assert_eq!(patch(&api, &id, json!({ "subject": "x" })).await.status(), 200);
    assert_eq!(move_to("drafts").await.status(), 400);

    assert_eq!(move_to("spam").await.status(), 200);
    api.sim.clock().advance(Duration::from_secs(59 * 86_400));
    assert_eq!(api.get(&format!("/v1/tickets/{id}")).send().await.unwrap().status(), 200);
    api.sim.clock().advance(Duration::from_secs(86_400));
    assert_eq!(api.get(&format!("/v1/tickets/{id}")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn tags_can_be_added_and_removed() {
    let api = spawn_default().await;
    let id = created_id(&api).await;
    let tags = api.json("/v1/tags").await;
    let tag = tags[0]["ID"].as_str().unwrap();
    let added = body_of(
        api.authed(api.http.post(api.url(&format!("/v1/tickets/{id}/tags"))))
            .json(&json!({ "tagIDs": [tag] })),
    )
    .await;
    assert_eq!(added["tagIDs"], json!([tag]));
    let removed =
        api.authed(api.http.delete(api.url(&format!("/v1/tickets/{id}/tags/{tag}")))).send().await.unwrap();
    assert_eq!(removed.status(), 200);
    assert_eq!(api.json(&format!("/v1/tickets/{id}")).await["tagIDs"], json!([]));
    let duplicate = api
        .authed(api.http.post(api.url("/v1/tags")))
        .json(&json!({ "name": tags[0]["name"], "teamID": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 400, "tag names are unique per account");
}
