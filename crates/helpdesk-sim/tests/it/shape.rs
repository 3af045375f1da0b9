//! Field names, types and body shapes as HelpDesk documents them; determinism.

use scoreline_helpdesk_sim::{SimConfig, Simulator};
use serde_json::Value;

use crate::common::{body_of, query, spawn, spawn_default, with_tickets};

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn tickets_use_helpdesk_field_names_and_a_bare_array() {
    let api = spawn_default().await;
    let (items, headers) = api.list(&query(&[("pageSize", "100")])).await;
    assert_eq!(items.len(), 100);
    assert!(headers.contains_key("x-total-pages"));
    assert!(headers.contains_key("x-total-results"));
    let ticket = &items[0];
    for key in [
        "ID",
        "licenseID",
        "shortID",
        "createdAt",
        "createdBy",
        "createdByType",
        "updatedAt",
        "updatedBy",
        "lastMessageAt",
        "status",
        "priority",
        "subject",
        "requester",
        "cc",
        "teamIDs",
        "assignment",
        "tagIDs",
        "followers",
        "customFields",
        "ratingRequestSent",
        "rating",
        "spam",
        "source",
        "silo",
        "events",
    ] {
        assert!(ticket.get(key).is_some(), "missing {key} in {:?}", keys(ticket));
    }
    assert!(ticket.get("id").is_none());
    assert!(ticket["licenseID"].is_i64());
    assert_eq!(ticket["licenseID"].as_i64().unwrap(), api.sim.license_id());
    assert!(ticket["ID"].as_str().unwrap().len() == 36);
    assert!(ticket["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(ticket["createdAt"].as_str().unwrap().len(), 24, "millisecond precision");
    assert!(ticket["assignment"]["team"]["ID"].is_string());
    assert!(ticket["requester"]["email"].is_string());
    for item in &items {
        assert!(
            ["open", "pending", "onhold", "solved", "closed"].contains(&item["status"].as_str().unwrap())
        );
        assert!([-10, 0, 10, 20].contains(&item["priority"].as_i64().unwrap()));
        assert_eq!(item["silo"], "tickets");
        let events = item["events"].as_array().unwrap();
        assert_eq!(events[0]["ID"], 1, "event IDs are integers from 1");
        assert_eq!(events[0]["type"], "message");
        assert!(events[0]["date"].is_string());
        assert!(events[0]["message"]["isPrivate"].is_boolean());
    }
}

#[tokio::test]
async fn generated_data_has_the_documented_variety() {
    let api = spawn(with_tickets(2000)).await;
    let truth = api.sim.truth();
    assert_eq!(truth.len(), 2000);
    let silos: std::collections::HashSet<_> = truth.iter().map(|row| row.silo).collect();
    assert_eq!(silos.len(), 4, "all four silos are populated: {silos:?}");
    let events: usize = truth.iter().map(|row| row.event_count).sum();
    let average = events as f64 / truth.len() as f64;
    assert!((4.0..=6.5).contains(&average), "about 5 events per ticket, got {average}");
    let mut ties = std::collections::HashMap::new();
    for row in &truth {
        *ties.entry(row.updated_at).or_insert(0) += 1;
    }
    assert!(ties.values().any(|count| *count >= 200), "a large updatedAt tie exists");

    let mut all = Vec::new();
    for silo in ["tickets", "archive", "spam", "trash"] {
        let ids =
            api.page_all(&query(&[("silo", silo), ("sortBy", "updatedAt"), ("order", "asc")]), 100).await;
        all.extend(ids);
    }
    let mut statuses = std::collections::HashSet::new();
    let (mut private_notes, mut html, mut unassigned, mut long, mut unicode) = (0, 0, 0, 0, 0);
    for silo in ["tickets", "archive"] {
        let (items, _) = api.list(&query(&[("silo", silo), ("pageSize", "100")])).await;
        for item in items {
            statuses.insert(item["status"].as_str().unwrap().to_owned());
            unassigned += usize::from(item["assignment"]["agent"].is_null());
            unicode += usize::from(!item["subject"].as_str().unwrap().is_ascii());
            for event in item["events"].as_array().unwrap() {
                private_notes += usize::from(event["message"]["isPrivate"] == true);
                html += usize::from(event["message"]["richTextHtml"].is_string());
                long += usize::from(event["message"]["text"].as_str().is_some_and(|text| text.len() > 5000));
            }
        }
    }
    assert!(statuses.len() >= 4, "{statuses:?}");
    assert!(private_notes > 0 && html > 0 && unassigned > 0 && unicode > 0);
    let long_total = api
        .sim
        .truth()
        .iter()
        .filter_map(|row| api.sim.ticket_json(row.id))
        .flat_map(|ticket| ticket["events"].as_array().unwrap().clone())
        .filter(|event| event["message"]["text"].as_str().is_some_and(|text| text.len() > 5000))
        .count();
    assert!(long_total > 0, "some very long messages (seen {long} on the first pages)");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    let first = Simulator::spawn(with_tickets(300)).await.unwrap();
    let second = Simulator::spawn(with_tickets(300)).await.unwrap();
    let other = Simulator::spawn(SimConfig { seed: 7, ..with_tickets(300) }).await.unwrap();
    assert_eq!(first.truth(), second.truth());
    assert_eq!(first.pat(), second.pat());
    assert_eq!(first.account_id(), second.account_id());
    assert_eq!(first.oauth_client_id(), second.oauth_client_id());
    let id = first.truth()[10].id;
    assert_eq!(first.ticket_json(id), second.ticket_json(id));
    assert_ne!(first.truth(), other.truth());
}

#[tokio::test]
async fn other_resources_are_bare_arrays_with_id_style_names() {
    let api = spawn_default().await;
    let agents = api.json("/v1/agents").await;
    let agents = agents.as_array().unwrap();
    assert_eq!(agents.len(), 25);
    for agent in agents {
        for key in ["ID", "accountID", "licenseID", "email", "name", "roles", "status", "teamIDs"] {
            assert!(agent.get(key).is_some(), "agent lacks {key}");
        }
        assert!(["active", "invited"].contains(&agent["status"].as_str().unwrap()));
        assert!(["owner", "normal", "viewer"].contains(&agent["roles"][0].as_str().unwrap()));
    }
    assert_eq!(agents[0]["accountID"], api.sim.account_id(), "the owner is the PAT's account");
    assert!(agents.iter().any(|agent| agent["status"] == "invited"));
    assert!(
        agents.iter().any(|agent| {
            let email = agent["email"].as_str().unwrap();
            email != email.to_lowercase()
        }),
        "some e-mails are mixed case"
    );
    let one = api.json(&format!("/v1/agents/{}", agents[3]["ID"].as_str().unwrap())).await;
    assert_eq!(one, agents[3]);

    let teams = api.json("/v1/teams").await;
    assert!(teams.as_array().unwrap().len() >= 2);
    assert!(teams[0].get("replyAddressID").is_some());
    let tags = api.json("/v1/tags").await;
    assert!(tags.as_array().unwrap().iter().any(|tag| tag["teamID"].is_null()));
    assert!(tags.as_array().unwrap().iter().any(|tag| tag["teamID"].is_string()));
    let licenses = api.json("/v1/licenses").await;
    assert_eq!(licenses.as_array().unwrap().len(), 1);
    assert_eq!(licenses[0]["ID"].as_i64().unwrap(), api.sim.license_id());
    assert_eq!(licenses[0]["defaultTeamID"], teams[0]["ID"]);
    let license = api.json(&format!("/v1/licenses/{}", api.sim.license_id())).await;
    assert_eq!(license["flags"]["defaultInboxUsed"], true);
    let fields = api.json("/v1/customFields").await;
    assert!(fields.as_array().unwrap().iter().any(|field| field["apiKey"] == "order_id"));
    let missing = api.get("/v1/agents/00000000-0000-0000-0000-000000000000").send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert!(body["error"].is_string() && body.get("details").is_some());
}

#[tokio::test]
async fn one_ticket_reads_back_with_all_events() {
    let api = spawn_default().await;
    let row = api.sim.truth().into_iter().max_by_key(|row| row.event_count).unwrap();
    let ticket = api.json(&format!("/v1/tickets/{}", row.id)).await;
    assert_eq!(ticket["events"].as_array().unwrap().len(), row.event_count);
    assert_eq!(Some(ticket.clone()), api.sim.ticket_json(row.id));
    let unknown = api.get("/v1/tickets/0c04cb99-817a-4935-9d62-137c89a74388").send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn webhooks_can_be_registered_listed_and_deleted() {
    let api = spawn_default().await;
    let created = body_of(
        api.authed(api.http.post(api.url("/v1/webhooks")))
            .json(&serde_json::json!({ "url": "http://127.0.0.1:9/hook", "eventType": "tickets.update" })),
    )
    .await;
    assert_eq!(created["eventType"], "tickets.update");
    let id = created["ID"].as_str().unwrap().to_owned();
    assert_eq!(api.json("/v1/webhooks").await.as_array().unwrap().len(), 1);
    let bad = api
        .authed(api.http.post(api.url("/v1/webhooks")))
        .json(&serde_json::json!({ "url": "http://127.0.0.1:9/hook", "eventType": "nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let deleted = api.authed(api.http.delete(api.url(&format!("/v1/webhooks/{id}")))).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(deleted.text().await.unwrap(), "OK");
    assert!(api.json("/v1/webhooks").await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn teams_tags_and_custom_fields_can_be_created() {
    let api = spawn_default().await;
    let post = |path: &str, body: Value| api.authed(api.http.post(api.url(path))).json(&body).send();
    let team: Value =
        post("/v1/teams", serde_json::json!({ "name": "Night shift" })).await.unwrap().json().await.unwrap();
    assert_eq!(team["name"], "Night shift");
    let tag: Value = post("/v1/tags", serde_json::json!({ "name": "nightly", "teamID": team["ID"] }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tag["teamID"], team["ID"]);
    let field =
        post("/v1/customFields", serde_json::json!({ "displayName": "Shopify order", "type": "singleLine" }))
            .await
            .unwrap();
    assert_eq!(field.status(), 200);
    assert_eq!(field.json::<Value>().await.unwrap()["apiKey"], "shopify_order");
    let bad =
        post("/v1/customFields", serde_json::json!({ "displayName": "X", "type": "number" })).await.unwrap();
    assert_eq!(bad.status(), 400);
    let ticket = serde_json::json!({
        "requester": { "email": "a@example.com" },
        "message": { "text": "x" },
        "customFields": { "shopify_order": "1001" },
    });
    let created: Value = api.create(ticket).await.json().await.unwrap();
    assert_eq!(created["customFields"]["shopify_order"], "1001");
}

/// The agent web app's ticket page, where Scoreline's case page links: no API credentials
/// (a person is signed in to HelpDesk in their browser), the subject and the messages.
#[tokio::test]
async fn the_agent_app_shows_a_ticket_page_by_its_id() {
    let api = spawn(with_tickets(5)).await;
    let (items, _) = api.list(&query(&[("pageSize", "5")])).await;
    let ticket = &items[0];
    let id = ticket["ID"].as_str().unwrap();
    let page = api.http.get(api.url(&format!("/tickets/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let subject = ticket["subject"].as_str().unwrap().replace('&', "&amp;").replace('<', "&lt;");
    assert!(html.contains(&subject), "{html}");
    assert!(html.contains(&format!("#{}", ticket["shortID"].as_str().unwrap())), "{html}");
    assert!(html.contains("<li>"), "the messages: {html}");
    let missing = api.http.get(api.url(&format!("/tickets/{}", uuid::Uuid::nil()))).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}
