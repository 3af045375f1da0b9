//! Rate limits, latency, and every fault kind, scripted and random.

use std::time::{Duration, Instant};

use scoreline_helpdesk_sim::{Fault, RandomFaults, RateLimit, ScriptedFault, SimConfig};
use serde_json::Value;

use crate::common::{Api, after, query, spawn, spawn_default};

async fn tickets_status(api: &Api) -> u16 {
    api.get("/v1/tickets").send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let api = spawn_default().await;
    api.sim.update_knobs(|knobs| knobs.rate_limit = Some(RateLimit { per_second: 0.5, burst: 2 }));
    assert_eq!(tickets_status(&api).await, 200);
    assert_eq!(tickets_status(&api).await, 200);
    let limited = api.get("/v1/tickets").send().await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    let body: Value = limited.json().await.unwrap();
    assert!(body["error"].is_string());
    api.sim.update_knobs(|knobs| knobs.rate_limit = None);
    assert_eq!(tickets_status(&api).await, 200);
}

#[tokio::test]
async fn the_rate_limit_meets_requests_as_they_arrive_not_after_the_latency() {
    let api = spawn_default().await;
    api.sim.update_knobs(|knobs| {
        knobs.rate_limit = Some(RateLimit { per_second: 0.2, burst: 1 });
        knobs.latency_ms = 300;
    });
    // The first request takes the only token when it arrives, though it is answered last.
    let slow = tokio::spawn(api.get("/v1/tickets").send());
    while api.sim.requests_in_flight() == 0 {
        tokio::task::yield_now().await;
    }
    api.sim.update_knobs(|knobs| knobs.latency_ms = 0);
    assert_eq!(tickets_status(&api).await, 429, "the second arrival finds the bucket empty");
    assert_eq!(slow.await.unwrap().unwrap().status(), 200);
    let log = api.sim.requests();
    let [refused, admitted] = log.as_slice() else { panic!("{log:?}") };
    assert_eq!((refused.status, admitted.status), (429, 200));
    assert!(admitted.received_micros < refused.received_micros, "{log:?}");
    assert!(admitted.answered_micros - admitted.received_micros >= 300_000, "{admitted:?}");
    assert!(refused.answered_micros < admitted.answered_micros, "{log:?}");
}

#[tokio::test]
async fn scripted_status_faults_hit_only_the_matching_requests() {
    let api = spawn_default().await;
    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 3, Fault::Status { status: 503 }));
    assert_eq!(api.get("/v1/agents").send().await.unwrap().status(), 200);
    for _ in 0..3 {
        let response = api.get("/v1/tickets").send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    }
    assert_eq!(tickets_status(&api).await, 200);
    assert!(api.sim.pending_faults().is_empty());

    api.sim.script_fault(ScriptedFault {
        method: Some("PATCH".to_owned()),
        skip: 1,
        ..ScriptedFault::new("/v1/tickets/*", 1, Fault::Status { status: 500 })
    });
    let id = api.sim.truth()[0].id;
    let patch =
        || api.authed(api.http.patch(api.url(&format!("/v1/tickets/{id}")))).json(&serde_json::json!({}));
    assert_eq!(api.get(&format!("/v1/tickets/{id}")).send().await.unwrap().status(), 200);
    let first = patch().send().await.unwrap().status();
    let second = patch().send().await.unwrap().status();
    assert_ne!(first, 500, "the first match is skipped");
    assert_eq!(second, 500);
}

#[tokio::test]
async fn hangs_delay_or_outlast_the_client() {
    let api = spawn_default().await;
    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::Hang { ms: Some(200) }));
    let started = Instant::now();
    assert_eq!(tickets_status(&api).await, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));

    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::Hang { ms: None }));
    let error = api.get("/v1/tickets").timeout(Duration::from_millis(300)).send().await.unwrap_err();
    assert!(error.is_timeout());
    api.sim.script_fault(ScriptedFault::new("/v1/agents", 1, Fault::Hang { ms: None }));
    let hung = tokio::spawn(api.get("/v1/agents").send());
    tokio::task::yield_now().await;
    let Api { sim, .. } = api;
    sim.shutdown().await;
    let _ = hung.await;
}

#[tokio::test]
async fn broken_bodies_fail_to_parse_or_to_arrive() {
    let api = spawn_default().await;
    let whole = api.get("/v1/tickets").send().await.unwrap().bytes().await.unwrap();
    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::TruncatedBody));
    let response = api.get("/v1/tickets").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cut = response.bytes().await.unwrap();
    assert_eq!(cut.len(), whole.len() / 2);
    assert!(serde_json::from_slice::<Value>(&cut).is_err());

    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::AbortedBody));
    // A connection of its own: the aborted one must not go back to the shared pool.
    let request = crate::common::http_client().get(api.url("/v1/tickets"));
    let response = api.authed(request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err());

    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::HtmlBody { status: 200 }));
    let response = api.get("/v1/tickets").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(response.json::<Value>().await.is_err());

    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::RateLimited { retry_after_secs: 7 }));
    let response = api.get("/v1/tickets").send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
}

#[tokio::test]
async fn list_pages_can_repeat_or_come_out_of_order() {
    let api = spawn(SimConfig { tickets: 500, ..SimConfig::default() }).await;
    let base = [("sortBy", "updatedAt"), ("order", "asc"), ("pageSize", "50")];
    let (first, _) = api.list(&query(&base)).await;
    let next = after(&query(&base), first.last().unwrap(), "updatedAt");
    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::RepeatPreviousPage));
    let (repeated, _) = api.list(&next).await;
    assert_eq!(repeated, first, "the second page repeats the first, so its cursor repeats");
    let (second, _) = api.list(&next).await;
    assert_ne!(second, first);
    api.sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::OutOfOrderPage));
    let (shuffled, _) = api.list(&next).await;
    let mut reversed = second.clone();
    reversed.reverse();
    assert_eq!(shuffled, reversed);
}

#[tokio::test]
async fn random_faults_come_from_the_seed() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let knobs = scoreline_helpdesk_sim::Knobs {
            random_faults: Some(RandomFaults { probability: 0.5, kinds: Vec::new() }),
            ..Default::default()
        };
        let api = spawn(SimConfig { knobs, ..SimConfig::default() }).await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            let response = api.get("/v1/agents").send().await.unwrap();
            let status = response.status().as_u16();
            let parses = response.json::<Value>().await.is_ok();
            statuses.push((status, parses));
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().any(|(status, parses)| *status == 200 && *parses));
    assert!(runs[0].iter().any(|(status, parses)| *status != 200 || !parses));
}

#[tokio::test]
async fn latency_is_added_to_every_answer() {
    let api = spawn_default().await;
    api.sim.update_knobs(|knobs| {
        knobs.latency_ms = 150;
        knobs.rate_limit = Some(RateLimit { per_second: 0.2, burst: 1 });
    });
    for expected in [200, 429] {
        let started = Instant::now();
        assert_eq!(tickets_status(&api).await, expected);
        assert!(started.elapsed() >= Duration::from_millis(150), "{expected}");
    }
}

#[tokio::test]
async fn the_accounts_service_takes_faults_too() {
    let api = spawn_default().await;
    api.sim.script_fault(ScriptedFault::new("/v2/token", 2, Fault::Status { status: 503 }));
    for _ in 0..2 {
        let response =
            api.http.post(api.accounts("/v2/token")).form(&[("grant_type", "x")]).send().await.unwrap();
        assert_eq!(response.status(), 503);
    }
    let response =
        api.http.post(api.accounts("/v2/token")).form(&[("grant_type", "x")]).send().await.unwrap();
    assert_eq!(response.status(), 422, "client_id is missing");
    let log = api.sim.requests();
    assert!(log.iter().all(|record| record.service == "accounts" && record.uri == "/v2/token"));
    assert_eq!(log.iter().map(|record| record.status).collect::<Vec<_>>(), [503, 503, 422]);
}
