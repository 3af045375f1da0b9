//! HelpDesk webhooks against the simulator, which delivers to the test server: registration,
//! deliveries as hints (fetched through the API, written by the sync's rule), forged, duplicated
//! and lost deliveries, removal on disconnect, and registration again when HelpDesk lost some.

use std::time::Duration;

use scoreline_app::{Actor, WEBHOOK_EVENT_TYPES, WebhookCounters};
use scoreline_core::{Clock, Disconnect, IntegrationId, Scope};
use scoreline_helpdesk_sim::{SimConfig, WebhookCard};
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::json;

use crate::sync_support::{MINUTE, advance, app_with_settings, connect, new_ticket, reply, stored, sync};

on_both_backends!(
    a_delivery_makes_the_case_visible_without_a_poll,
    forged_and_replayed_deliveries_change_nothing,
    a_duplicated_delivery_is_fetched_and_stored_once,
    a_lost_delivery_is_caught_by_polling,
    disconnecting_removes_the_webhooks,
    missing_webhooks_are_registered_again,
    without_a_public_url_the_webhooks_are_taken_down,
    a_full_queue_asks_for_a_sync,
);

/// An integration synced once over a simulator that delivers to the test server.
async fn hooked(backend: TestBackend) -> (TestApp, IntegrationId) {
    let sim = SimConfig { tickets: 30, ..SimConfig::default() };
    let (test, id) = connect(TestApp::with_helpdesk_webhooks(backend, sim).await, 7).await;
    advance(&test, MINUTE);
    sync(&test, id).await;
    (test, id)
}

/// Waits until at least `accepted` deliveries came and every one was dealt with; ten seconds
/// is the freshness the design promises.
async fn settled(test: &TestApp, accepted: u64) -> WebhookCounters {
    let mut counters = test.app.webhook_counters();
    let wait = counters.wait_for(|c| c.accepted >= accepted && c.settled());
    *tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("deliveries dealt with in time")
        .unwrap()
}

fn ours<'a>(test: &TestApp, hooks: &'a [WebhookCard]) -> Vec<&'a WebhookCard> {
    let prefix = test.url("/hooks/helpdesk/slw_");
    hooks.iter().filter(|hook| hook.url.starts_with(&prefix)).collect()
}

fn event_types(hooks: &[&WebhookCard]) -> Vec<String> {
    let mut types: Vec<String> = hooks.iter().map(|hook| hook.event_type.clone()).collect();
    types.sort();
    types
}

fn wanted_types() -> Vec<String> {
    let mut types: Vec<String> = WEBHOOK_EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    types.sort();
    types
}

/// The one URL every webhook of the integration points at.
fn hook_url(test: &TestApp) -> String {
    let hooks = test.sim().webhooks();
    let urls: std::collections::BTreeSet<String> = ours(test, &hooks).iter().map(|h| h.url.clone()).collect();
    assert_eq!(urls.len(), 1, "one URL for every event type: {urls:?}");
    urls.into_iter().next().unwrap()
}

/// `GET /v1/tickets/{id}` requests the simulator saw from `since` on.
fn ticket_reads(test: &TestApp, since: usize, ticket: &str) -> usize {
    let path = format!("/v1/tickets/{ticket}");
    test.sim().requests()[since..].iter().filter(|r| r.method == "GET" && r.uri == path).count()
}

async fn post(url: &str, body: &serde_json::Value) -> u16 {
    let answer = TestApp::http().post(url).json(body).send().await.unwrap();
    answer.status().as_u16()
}

async fn a_delivery_makes_the_case_visible_without_a_poll(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let hooks = test.sim().webhooks();
    assert_eq!(event_types(&ours(&test, &hooks)), wanted_types(), "one webhook per event type");
    let overview = test.app.webhook_overview(&Actor::System, id).await.unwrap();
    assert!(overview.live(), "{overview:?}");

    let since = test.sim().requests().len();
    let ticket = new_ticket(test.sim(), 1);
    let counters = settled(&test, 1).await;
    assert_eq!((counters.fetched, counters.stored, counters.failed), (1, 1, 0));
    let cases = test.store().find_cases_by_reference(&Scope::Everything, &ticket.to_string()).await.unwrap();
    assert_eq!(cases.len(), 1, "the new ticket is a case");
    assert_eq!(cases[0].subject.as_deref(), Some("Ticket 1"));
    let asked: Vec<String> = test.sim().requests()[since..].iter().map(|r| r.uri.clone()).collect();
    assert_eq!(asked, [format!("/v1/tickets/{ticket}")], "the ticket alone was read, no list");

    // A reply reaches the stored case the same way.
    reply(test.sim(), &ticket.to_string());
    let counters = settled(&test, 3).await;
    assert_eq!(counters.stored, 2);
    assert_eq!(stored(&test, id).await[&ticket.to_string()].1, 2, "both messages stored");
    let noted = test.app.webhook_overview(&Actor::System, id).await.unwrap();
    assert!(noted.status.unwrap().last_delivery_at.is_some(), "the delivery is noted for the page");
}

async fn forged_and_replayed_deliveries_change_nothing(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let before = stored(&test, id).await;
    let (victim, (updated_at, _, _)) = before.iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap();
    let forged = |ticket: &str, updated_at: &str| {
        json!({ "eventType": "tickets.update", "createdAt": "2030-01-01T00:00:00.000Z",
                "payload": { "ID": ticket, "subject": "Forged", "status": "solved", "updatedAt": updated_at,
                             "events": [] } })
    };
    let since = test.sim().requests().len();

    // An unknown token: refused, nothing read.
    let status =
        post(&test.url("/hooks/helpdesk/slw_guessed"), &forged(&victim, "2030-01-01T00:00:00.000Z")).await;
    assert_eq!(status, 404);
    assert_eq!(*test.app.webhook_counters().borrow(), WebhookCounters::default());

    // The right token, a body claiming another state: HelpDesk's own state is what is stored.
    let url = hook_url(&test);
    assert_eq!(post(&url, &forged(&victim, "2030-01-01T00:00:00.000Z")).await, 202);
    let counters = settled(&test, 1).await;
    assert_eq!((counters.fetched, counters.stored), (1, 0), "read, and nothing newer found");
    assert_eq!(ticket_reads(&test, since, &victim), 1);
    let case = &test.store().find_cases_by_reference(&Scope::Everything, &victim).await.unwrap()[0];
    assert_ne!(case.subject.as_deref(), Some("Forged"));
    assert_ne!(case.status, "solved");

    // A replay of what is already stored is not even read; a ticket HelpDesk does not have
    // stores nothing; a body naming no ticket is refused.
    let genuine = test.sim().ticket_json(victim.parse().unwrap()).unwrap();
    assert_eq!(genuine["updatedAt"], updated_at.to_rfc3339());
    let replay =
        json!({ "eventType": "tickets.update", "createdAt": "2026-01-15T09:00:00.000Z", "payload": genuine });
    assert_eq!(post(&url, &replay).await, 202);
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(post(&url, &forged(&unknown, "2030-01-01T00:00:00.000Z")).await, 202);
    let counters = settled(&test, 3).await;
    assert_eq!((counters.skipped, counters.fetched, counters.stored), (1, 2, 0));
    assert_eq!(ticket_reads(&test, since, &victim), 1, "the replay was not read");
    assert_eq!(post(&url, &json!({ "eventType": "tickets.update", "payload": {} })).await, 422);
    assert_eq!(stored(&test, id).await, before, "nothing changed");
}

async fn a_duplicated_delivery_is_fetched_and_stored_once(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let victim = stored(&test, id).await.keys().next().unwrap().clone();
    let messages = stored(&test, id).await[&victim].1;
    test.sim().update_knobs(|knobs| knobs.webhook_duplicates = 2);
    let (since, pages) =
        (test.sim().requests().len(), test.store().sync_state(id, test.clock.now()).await.unwrap());
    reply(test.sim(), &victim);
    // tickets.update and tickets.events.message, each three times.
    let counters = settled(&test, 6).await;
    assert_eq!((counters.fetched, counters.stored), (1, 1));
    assert_eq!(counters.coalesced + counters.skipped, 5);
    assert_eq!(ticket_reads(&test, since, &victim), 1, "fetched once");
    assert_eq!(stored(&test, id).await[&victim].1, messages + 1);
    let after = test.store().sync_state(id, test.clock.now()).await.unwrap();
    assert_eq!(after.tickets_stored, pages.tickets_stored + 1, "stored once");
    assert_eq!(after.cursor_updated_at, pages.cursor_updated_at, "the sync's cursor stays where it was");
}

async fn a_lost_delivery_is_caught_by_polling(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let victim = stored(&test, id).await.keys().next().unwrap().clone();
    let messages = stored(&test, id).await[&victim].1;
    test.sim().update_knobs(|knobs| knobs.webhook_loss = 1.0);
    reply(test.sim(), &victim);
    let deliveries = test.sim().deliveries();
    assert!(deliveries.len() >= 2 && deliveries.iter().all(|d| d.lost), "{deliveries:?}");
    assert_eq!(test.app.webhook_counters().borrow().accepted, 0);
    assert_eq!(stored(&test, id).await[&victim].1, messages, "nothing arrived yet");
    advance(&test, MINUTE);
    sync(&test, id).await;
    assert_eq!(stored(&test, id).await[&victim].1, messages + 1, "the next poll brought the reply");
}

async fn disconnecting_removes_the_webhooks(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let url = hook_url(&test);
    test.app.disconnect_integration(&Actor::System, id, Disconnect::KeepCases).await.unwrap();
    assert!(ours(&test, &test.sim().webhooks()).is_empty(), "removed from HelpDesk");
    let body =
        json!({ "eventType": "tickets.update", "payload": { "ID": uuid::Uuid::now_v7().to_string() } });
    assert_eq!(post(&url, &body).await, 404, "the old URL is refused");
    assert!(test.app.webhook_overview(&Actor::System, id).await.unwrap().status.is_none());
}

async fn missing_webhooks_are_registered_again(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let url = hook_url(&test);
    let hooks = test.sim().webhooks();
    let update = ours(&test, &hooks).into_iter().find(|h| h.event_type == "tickets.update").unwrap().id;
    assert!(test.sim().remove_webhook(update));
    // A retried registration left a second webhook for one type.
    let copy = json!({ "url": url, "eventType": "tickets.create" });
    let sim_http = TestApp::http().post(format!("{}/v1/webhooks", test.sim().api_base_url()));
    let created =
        sim_http.basic_auth(test.sim().account_id(), Some(test.sim().pat())).json(&copy).send().await;
    assert_eq!(created.unwrap().status().as_u16(), 200);

    advance(&test, MINUTE);
    sync(&test, id).await;
    let hooks = test.sim().webhooks();
    assert_eq!(event_types(&ours(&test, &hooks)), wanted_types(), "the missing one is back, the copy gone");
    assert_eq!(hook_url(&test), url, "the surviving webhooks' URL is kept");

    // HelpDesk lost them all: a new URL, and the old one is refused.
    for hook in ours(&test, &hooks) {
        test.sim().remove_webhook(hook.id);
    }
    advance(&test, MINUTE);
    sync(&test, id).await;
    let hooks = test.sim().webhooks();
    assert_eq!(event_types(&ours(&test, &hooks)), wanted_types());
    let new_url = hook_url(&test);
    assert_ne!(new_url, url);
    let body =
        json!({ "eventType": "tickets.update", "payload": { "ID": uuid::Uuid::now_v7().to_string() } });
    assert_eq!(post(&url, &body).await, 404);
    assert_eq!(post(&new_url, &body).await, 202);
    assert!(test.app.webhook_overview(&Actor::System, id).await.unwrap().live());
}

async fn without_a_public_url_the_webhooks_are_taken_down(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let url = hook_url(&test);
    let offline = app_with_settings(&test, |settings| settings.webhooks.public_url = None);
    advance(&test, MINUTE);
    crate::sync_support::sync_with(&offline, id).await;
    assert!(ours(&test, &test.sim().webhooks()).is_empty());
    let body =
        json!({ "eventType": "tickets.update", "payload": { "ID": uuid::Uuid::now_v7().to_string() } });
    assert_eq!(post(&url, &body).await, 404);
    let overview = offline.webhook_overview(&Actor::System, id).await.unwrap();
    assert!(!overview.enabled && overview.status.is_none());
}

async fn a_full_queue_asks_for_a_sync(backend: TestBackend) {
    let (test, id) = hooked(backend).await;
    let token = hook_url(&test).rsplit('/').next().unwrap().to_owned();
    // One waiting ticket at most, and a fetch an hour after the last. The draining task may
    // fetch the first ticket at once and take the second to wait its hour, which frees the
    // queue for a third; the fourth and fifth find it full whatever the timing.
    let slow = app_with_settings(&test, |settings| {
        settings.webhooks.queue_capacity = 1;
        settings.webhooks.fetch_spacing = Duration::from_secs(3600);
    });
    for _ in 0..5 {
        let body =
            json!({ "eventType": "tickets.update", "payload": { "ID": uuid::Uuid::now_v7().to_string() } });
        slow.accept_webhook(&token, body.to_string().as_bytes()).await.unwrap();
    }
    let counters = *slow.webhook_counters().borrow();
    assert!(counters.dropped >= 2, "{counters:?}");
    let state = test.store().sync_state(id, test.clock.now()).await.unwrap();
    assert!(state.requested_at.is_some(), "polling catches up instead");
}
