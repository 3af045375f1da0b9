//! End to end against the HelpDesk simulator: complete listings, fault storms, auth.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use scoreline_core::Timestamp;
use scoreline_helpdesk::{
    Credentials, DateBound, ErrorKind, GiveUpReason, HelpDeskClient, HelpDeskError, Order, RelativeDate,
    SecretString, Silo, SortBy, Ticket, TicketPage, TicketQuery, TicketStatus,
};
use scoreline_helpdesk_sim::{
    ClockMode, Fault, Precision, RandomFaults, RateLimit, RetryAfterForm, ScriptedFault, SimConfig,
    SimHandle, Simulator,
};
use serde_json::json;

use crate::support::fast_config;

const SILOS: [Silo; 4] = [Silo::Tickets, Silo::Archive, Silo::Spam, Silo::Trash];

async fn spawn(tickets: usize, change: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig { tickets, ..SimConfig::default() };
    change(&mut config);
    Simulator::spawn(config).await.unwrap()
}

fn client_for(
    sim: &SimHandle,
    change: impl FnOnce(&mut scoreline_helpdesk::HelpDeskConfig),
) -> HelpDeskClient {
    let mut config = fast_config(&sim.api_base_url());
    change(&mut config);
    let credentials = Credentials::personal_access_token(sim.account_id(), SecretString::from(sim.pat()));
    HelpDeskClient::new(config, credentials, Arc::new(sim.clock())).unwrap()
}

/// Every ticket ID of every silo, in listing order, with the number of pages fetched.
async fn list_all(client: &HelpDeskClient, page_size: u32) -> Result<(Vec<String>, usize), HelpDeskError> {
    let mut ids = Vec::new();
    let mut pages = 0;
    for silo in SILOS {
        let query = TicketQuery::default().silo(silo).page_size(page_size)?;
        let mut stream = std::pin::pin!(client.list_tickets(query));
        while let Some(page) = stream.try_next().await? {
            pages += 1;
            ids.extend(page.tickets.into_iter().map(|ticket| ticket.id));
        }
    }
    Ok((ids, pages))
}

fn ids_of(pages: &[TicketPage]) -> Vec<String> {
    pages.iter().flat_map(|page| page.tickets.iter().map(|ticket| ticket.id.clone())).collect()
}

/// The listing holds each ticket of the account exactly once.
fn assert_exactly_once(sim: &SimHandle, ids: &[String]) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a ticket was listed twice");
    let truth: HashSet<String> = sim.truth().iter().map(|t| t.id.to_string()).collect();
    let listed: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(listed, truth, "listed tickets differ from the account's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_every_ticket_of_a_20k_account_exactly_once() {
    let sim = spawn(20_000, |config| config.knobs.latency_ms = 1).await;
    let client = client_for(&sim, |_| ());
    let started = Instant::now();
    let (ids, pages) = list_all(&client, 100).await.unwrap();
    eprintln!("listed {} tickets in {pages} pages in {:.2}s", ids.len(), started.elapsed().as_secs_f64());
    assert_eq!(ids.len(), 20_000);
    assert_exactly_once(&sim, &ids);
}

#[tokio::test]
async fn timestamps_in_whole_seconds_page_just_as_well() {
    let sim = spawn(3_000, |config| config.knobs.precision = Precision::Seconds).await;
    let (ids, _) = list_all(&client_for(&sim, |_| ()), 100).await.unwrap();
    assert_exactly_once(&sim, &ids);
}

/// As a backfill does it: the `updatedAt` range cut into half-open windows listed concurrently
/// through one client (one rate limiter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updated_at_windows_together_list_every_ticket_once() {
    let sim = spawn(5_000, |config| config.knobs.latency_ms = 1).await;
    let client = client_for(&sim, |_| ());
    let mut updated: Vec<Timestamp> = sim.truth().iter().map(|t| t.updated_at).collect();
    updated.sort_unstable();
    let cuts: Vec<Timestamp> = (1..4).map(|i| updated[i * updated.len() / 4]).collect();
    let bounds: Vec<(Option<Timestamp>, Option<Timestamp>)> = std::iter::once(None)
        .chain(cuts.iter().copied().map(Some))
        .zip(cuts.iter().copied().map(Some).chain(std::iter::once(None)))
        .collect();
    let windows = SILOS.into_iter().flat_map(|silo| {
        bounds.iter().map(move |(from, to)| {
            TicketQuery::default().silo(silo.clone()).updated(from.map(DateBound::At), to.map(DateBound::At))
        })
    });
    let listings = windows.map(|query| client.list_tickets(query).try_collect::<Vec<_>>());
    let pages: Vec<TicketPage> =
        futures::future::try_join_all(listings).await.unwrap().into_iter().flatten().collect();
    assert_exactly_once(&sim, &ids_of(&pages));
}

/// Tickets created one second apart in the `tickets` silo of an otherwise empty account.
async fn account_with(count: usize, seconds_apart: u64) -> SimHandle {
    let sim = spawn(0, |_| ()).await;
    for index in 0..count {
        sim.create_ticket(&json!({
            "subject": format!("ticket {index}"),
            "requester": { "email": "jane@example.com", "name": "Jane" },
            "message": { "text": "hello" }
        }))
        .unwrap();
        sim.clock().advance(Duration::from_secs(seconds_apart));
    }
    sim
}

#[tokio::test]
async fn page_boundaries_lose_and_repeat_nothing() {
    for (count, page_size, expected_requests) in
        [(299, 100, 3), (300, 100, 4), (301, 100, 4), (99, 33, 4), (100, 33, 4)]
    {
        let sim = account_with(count, 1).await;
        let client = client_for(&sim, |_| ());
        let query = TicketQuery::default().page_size(page_size).unwrap();
        let pages: Vec<TicketPage> = client.list_tickets(query).try_collect().await.unwrap();
        let ids = ids_of(&pages);
        assert_eq!(ids.len(), count, "{count} tickets by {page_size}");
        assert_exactly_once(&sim, &ids);
        assert_eq!(pages.len(), expected_requests, "{count} tickets by {page_size}");
    }
}

#[tokio::test]
async fn two_hundred_tickets_sharing_one_updated_at_are_each_listed_once() {
    let sim = account_with(200, 0).await;
    let truth = sim.truth();
    assert!(truth.iter().all(|t| t.updated_at == truth[0].updated_at));
    for page_size in [100, 7] {
        let client = client_for(&sim, |_| ());
        let query = TicketQuery::default().page_size(page_size).unwrap();
        let pages: Vec<TicketPage> = client.list_tickets(query).try_collect().await.unwrap();
        let ids = ids_of(&pages);
        assert_exactly_once(&sim, &ids);
    }
}

/// For each 429 in the log, the time before which no request may follow (its `Retry-After`
/// was whole seconds from its arrival, at least 1).
fn assert_no_request_before_retry_after(sim: &SimHandle, retry_after: Duration) {
    let log = sim.requests();
    let mut arrivals: Vec<i64> = log.iter().map(|record| record.at_millis).collect();
    arrivals.sort_unstable();
    let hold = i64::try_from(retry_after.as_millis()).unwrap();
    let mut throttled = 0;
    for record in log.iter().filter(|record| record.status == 429) {
        throttled += 1;
        let early =
            arrivals.iter().filter(|at| **at > record.at_millis && **at < record.at_millis + hold).count();
        assert_eq!(early, 0, "a request came within {hold} ms of a 429 at {}", record.at_millis);
    }
    assert!(throttled > 0, "the storm produced no 429");
}

#[tokio::test]
async fn a_storm_of_faults_and_429s_still_yields_every_page_and_respects_retry_after() {
    let sim = spawn(1_000, |config| {
        config.clock = ClockMode::System;
        config.knobs.latency_ms = 1;
        // Far below the client's own pace: the server answers 429 in bursts.
        config.knobs.rate_limit = Some(RateLimit { per_second: 10.0, burst: 3 });
        config.knobs.random_faults = Some(RandomFaults {
            probability: 0.3,
            kinds: vec![
                Fault::Status { status: 500 },
                Fault::Status { status: 502 },
                Fault::Status { status: 503 },
                Fault::TruncatedBody,
                Fault::AbortedBody,
                Fault::HtmlBody { status: 200 },
                Fault::RateLimited { retry_after_secs: 1 },
            ],
        });
    })
    .await;
    let client = client_for(&sim, |config| {
        config.retry.max_attempts = 30;
        config.retry.max_total_wait = Duration::from_secs(60);
    });
    let started = Instant::now();
    let (ids, pages) = list_all(&client, 100).await.unwrap();
    let log = sim.requests();
    let throttled = log.iter().filter(|record| record.status == 429).count();
    // Cut-off bodies are logged as 200s: count faults as requests beyond one per page.
    let other_faults = log.len() - pages - throttled;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "storm: {} tickets, {pages} pages in {seconds:.2}s; {} requests: {throttled} answered 429, \
         {other_faults} other faults",
        ids.len(),
        log.len(),
    );
    assert_exactly_once(&sim, &ids);
    assert!(other_faults > 0, "no fault other than 429 was injected");
    assert_no_request_before_retry_after(&sim, Duration::from_secs(1));
}

#[tokio::test]
async fn retry_after_as_an_http_date_from_the_simulator_is_honoured() {
    let sim = spawn(10, |config| {
        config.clock = ClockMode::System;
        config.options.retry_after = RetryAfterForm::HttpDate;
    })
    .await;
    sim.script_fault(ScriptedFault::new("/v1/agents", 1, Fault::RateLimited { retry_after_secs: 2 }));
    let client = client_for(&sim, |_| ());
    assert!(!client.list_agents().await.unwrap().is_empty());
    let log = sim.requests();
    assert_eq!(log.iter().map(|record| record.status).collect::<Vec<_>>(), [429, 200]);
    // The date has whole seconds: the retry may come at the start of the second it names.
    let named_second = (log[0].at_millis + 2000) / 1000 * 1000;
    assert!(log[1].at_millis >= named_second, "{log:?}");
}

#[tokio::test]
async fn a_wait_cap_below_the_servers_retry_after_gives_up_clearly() {
    let sim = spawn(10, |_| ()).await;
    sim.script_fault(ScriptedFault::new("/v1/teams", 100, Fault::RateLimited { retry_after_secs: 30 }));
    let client = client_for(&sim, |config| config.retry.max_total_wait = Duration::from_secs(5));
    let error = client.list_teams().await.unwrap_err();
    assert!(
        matches!(
            error,
            HelpDeskError::GaveUp { attempts: 1, reason: GiveUpReason::WaitCapReached { .. }, .. }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("HTTP 429"), "{error}");
}

#[tokio::test]
async fn a_repeating_page_from_the_simulator_is_caught() {
    let sim = spawn(500, |_| ()).await;
    sim.script_fault(ScriptedFault {
        skip: 1,
        ..ScriptedFault::new("/v1/tickets", 1, Fault::RepeatPreviousPage)
    });
    let client = client_for(&sim, |_| ());
    let query = TicketQuery::default().silo(Silo::Archive).page_size(10).unwrap();
    let error = client.list_tickets(query).try_collect::<Vec<_>>().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RepeatedCursor, "{error}");
}

#[tokio::test]
async fn a_revoked_pat_is_an_authentication_error_after_a_single_request() {
    let sim = spawn(10, |_| ()).await;
    let client = client_for(&sim, |_| ());
    assert!(sim.revoke(&sim.pat()));
    let error = client.list_agents().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication, "{error}");
    assert_eq!(sim.requests().len(), 1);
    assert!(!error.to_string().contains(&sim.pat()));
}

async fn collect(client: &HelpDeskClient, query: TicketQuery) -> Vec<Ticket> {
    let pages: Vec<TicketPage> = client.list_tickets(query).try_collect().await.unwrap();
    pages.into_iter().flat_map(|page| page.tickets).collect()
}

#[tokio::test]
async fn sort_orders_and_filters_agree_with_the_simulator() {
    let sim = spawn(1_500, |_| ()).await;
    let client = client_for(&sim, |_| ());
    let truth = sim.truth();
    let in_tickets_silo = || truth.iter().filter(|t| t.silo == scoreline_helpdesk_sim::Silo::Tickets);
    let expected: HashSet<String> = in_tickets_silo().map(|t| t.id.to_string()).collect();
    for (sort_by, order) in [(SortBy::CreatedAt, Order::Desc), (SortBy::LastMessageAt, Order::Asc)] {
        let query = TicketQuery::default().sort(sort_by, order).page_size(64).unwrap();
        let ids: Vec<String> = collect(&client, query).await.into_iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), expected.len(), "{sort_by:?} {order:?}");
        assert_eq!(ids.into_iter().collect::<HashSet<_>>(), expected, "{sort_by:?} {order:?}");
    }

    let open = collect(&client, TicketQuery::default().status(TicketStatus::Open)).await;
    let open_truth = in_tickets_silo().filter(|t| t.status == scoreline_helpdesk_sim::Status::Open).count();
    assert_eq!(open.len(), open_truth);
    assert!(open.iter().all(|ticket| ticket.status == Some(TicketStatus::Open)));

    let team = client.list_teams().await.unwrap().remove(0).id;
    let of_team = collect(&client, TicketQuery::default().teams([team.clone()])).await;
    assert!(!of_team.is_empty());
    assert!(of_team.iter().all(|ticket| ticket.team_ids.contains(&team)));

    let two_days_ago = sim.now().saturating_sub(Duration::from_secs(2 * 86_400));
    let recent = TicketQuery::default().updated(Some(RelativeDate::parse("-2d").unwrap().into()), None);
    let recent = collect(&client, recent).await;
    let recent_truth = in_tickets_silo().filter(|t| t.updated_at >= two_days_ago).count();
    assert_eq!(recent.len(), recent_truth);
    assert!(recent.iter().all(|ticket| ticket.updated_at >= two_days_ago));
}

/// Collects every object key below `value`, with its path, so two JSON shapes can be compared.
fn key_paths(value: &serde_json::Value, prefix: &str, into: &mut HashSet<String>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, inner) in fields {
                let path = format!("{prefix}.{key}");
                key_paths(inner, &path, into);
                into.insert(path);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| key_paths(item, prefix, into)),
        _ => {}
    }
}

#[tokio::test]
async fn tickets_keep_their_events_as_sent_and_every_field_they_model() {
    let sim = spawn(300, |_| ()).await;
    let client = client_for(&sim, |_| ());
    let mut checked = 0;
    for truth in sim.truth().iter().step_by(10) {
        let ticket = client.get_ticket(&truth.id.to_string()).await.unwrap();
        let counts = ticket.events.counts();
        assert_eq!(counts.events as usize, truth.event_count);
        assert_eq!(counts.messages as usize, truth.message_count);
        let sent_events = &sim.ticket_json(truth.id).unwrap()["events"];
        assert_eq!(&ticket.events.json().parse::<serde_json::Value>().unwrap(), sent_events);
        let (mut sent, mut kept) = (HashSet::new(), HashSet::new());
        key_paths(&sim.ticket_json(truth.id).unwrap(), "", &mut sent);
        key_paths(&serde_json::to_value(&ticket).unwrap(), "", &mut kept);
        // Top-level fields outside the model are left out; within a modelled one nothing is lost.
        let top = |path: &str| path.split('.').nth(1).unwrap_or_default().to_owned();
        let modelled: HashSet<String> = kept.iter().map(|path| top(path)).collect();
        let lost: Vec<&String> =
            sent.difference(&kept).filter(|path| modelled.contains(&top(path))).collect();
        assert!(lost.is_empty(), "fields lost: {lost:?}");
        checked += 1;
    }
    assert_eq!(checked, 30);
}

#[tokio::test]
async fn helpdesk_s_clock_comes_from_the_date_of_its_answers() {
    // The simulator's clock is fixed at its start date, years away from this machine's.
    let sim = spawn(10, |_| ()).await;
    let client = client_for(&sim, |_| ());
    assert_eq!(client.server_now(), None, "no answer yet");
    client.list_agents().await.unwrap();
    let server_now = client.server_now().expect("the simulator sends a Date");
    let sim_now = sim.now().as_millis();
    // Whole seconds, so up to one behind; a little real time passed since the answer.
    assert!(
        server_now.as_millis() > sim_now - 1000 && server_now.as_millis() < sim_now + 1000,
        "{server_now:?} vs {sim_now}"
    );
    let ours = scoreline_core::Clock::now(&scoreline_core::SystemClock);
    assert!((ours.as_millis() - sim_now).abs() > 24 * 3600 * 1000, "the simulator's clock is not ours");
    // Ours refines HelpDesk's within the second its Date names, and only there.
    let ahead = client.server_now_or(ours);
    assert!(ahead < ours, "our clock, far ahead, is not used");
    assert!((ahead.as_millis() - server_now.as_millis() - 999).abs() < 200, "{ahead:?} vs {server_now:?}");
    let within = client.server_now().unwrap().saturating_add(Duration::from_millis(300));
    assert_eq!(client.server_now_or(within), within);
}
