//! The sync engine under the faults of `sync-reliability.md` §9: after each scenario the stored
//! cases equal the simulator's ground truth (ids, updatedAt, message counts, silos), once each.
//! Sizes are the smallest that still cross the boundary a scenario is about.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use scoreline_app::{Actor, AppError, SyncOutcome};
use scoreline_core::{Clock, IntegrationState, Timestamp};
use scoreline_helpdesk::{ErrorKind, RetryPolicy};
use scoreline_helpdesk_sim::{Fault, Knobs, RandomFaults, ScriptedFault, Silo, SimConfig};
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};

use crate::sync_support::{
    DAY, ListCall, MINUTE, advance, app_with, app_with_settings, connected, list_calls, live_truth,
    new_ticket, reply, stored, sync, sync_with, tickets_at, truth,
};

on_both_backends!(
    tie_storms_at_page_and_window_edges,
    page_boundary_sizes,
    changes_while_a_backfill_is_stopped_halfway,
    visibility_lag_with_our_clock_ten_minutes_ahead,
    visibility_lag_with_our_clock_ten_minutes_behind,
    an_empty_backfill_takes_its_cursor_from_helpdesk_time,
    window_ends_and_the_incremental_bound_follow_helpdesk_s_date,
    rate_limit_storm_with_retry_after,
    server_errors_and_hung_responses,
    truncated_and_html_bodies,
    a_repeated_cursor_fails_the_run_without_looping,
    a_page_of_another_listing_is_refused,
    a_revoked_token_mid_backfill_needs_reauthorization,
    an_aborted_backfill_resumes_from_its_checkpoints,
);

const PAGE: usize = 100;

/// Quick retries, so a scripted storm of failures ends a run in milliseconds.
fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_total_wait: Duration::from_secs(20),
    }
}

/// Every later ticket list answers 503: the run gives up and stops where its checkpoints are.
fn outage_after(list_calls: u32) -> ScriptedFault {
    ScriptedFault {
        skip: list_calls,
        ..ScriptedFault::new("/v1/tickets", 10_000, Fault::Status { status: 503 })
    }
}

fn tickets_fault(skip: u32, times: u32, fault: Fault) -> ScriptedFault {
    ScriptedFault { skip, ..ScriptedFault::new("/v1/tickets", times, fault) }
}

/// The integration's incremental cursor.
async fn cursor(test: &TestApp, id: scoreline_core::IntegrationId) -> Timestamp {
    test.store().sync_state(id, test.clock.now()).await.unwrap().cursor_updated_at.expect("a cursor")
}

/// Where the first incremental run starts reading trash and spam.
async fn live_from(test: &TestApp, id: scoreline_core::IntegrationId) -> Timestamp {
    cursor(test, id).await.saturating_sub(test.app.settings().sync.lookback)
}

/// Our incremental runs read up to here.
fn read_until(test: &TestApp) -> Timestamp {
    test.clock.now().saturating_sub(test.app.settings().sync.safety_lag)
}

/// How many of `later` pages were already answered in `earlier` (same silo, window, cursor).
fn refetched(earlier: &[ListCall], later: &[ListCall]) -> usize {
    let answered: Vec<_> =
        earlier.iter().filter(|c| c.status == 200).map(|c| (&c.silo, c.from, &c.after)).collect();
    later.iter().filter(|c| c.status == 200 && answered.contains(&(&c.silo, c.from, &c.after))).count()
}

/// Tickets in the writable `tickets` silo, by ID: the ones a reply or a move may touch.
fn in_tickets_silo(sim: &scoreline_helpdesk_sim::SimHandle) -> Vec<String> {
    let mut ids: Vec<String> =
        sim.truth().into_iter().filter(|t| t.silo == Silo::Tickets).map(|t| t.id.to_string()).collect();
    ids.sort();
    ids
}

fn assert_within_truth(partial: &super::sync_support::Snapshot, truth: &super::sync_support::Snapshot) {
    for (id, case) in partial {
        assert_eq!(truth.get(id), Some(case), "stored case {id} matches HelpDesk");
    }
}

/// 150 tickets on the last millisecond of one backfill window and 150 on the first of the next
/// (window edge), 250 sharing one instant inside a window (page edges at 100 and 200, and the
/// checkpoint of a stopped run lands inside the tie), then ties at the incremental cursor.
async fn tie_storms_at_page_and_window_edges(backend: TestBackend) {
    let (test, id) = connected(backend, SimConfig { tickets: 0, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    // Windows are whole days back from now, so `edge` starts one.
    let edge = now.saturating_sub(2 * DAY);
    let tie = now.saturating_sub(DAY + DAY / 2);
    tickets_at(sim, Timestamp::from_millis(edge.as_millis() - 1), 150, 0);
    tickets_at(sim, edge, 150, 150);
    tickets_at(sim, tie, 250, 300);

    // One window at a time: 4 empty days × 2 silos, then the day before the edge (empty archive,
    // 2 pages), the edge day's empty archive, and 2 pages of the edge day; the 3rd page fails.
    let stopper = app_with(&test, |s| {
        s.concurrency = 1;
        s.retry = fast_retry(2);
    });
    sim.script_fault(outage_after(8 + 3 + 1 + 2));
    assert!(stopper.sync_integration(id, None).await.is_err(), "the outage stops the run");
    sim.clear_faults();
    let windows = test.store().sync_windows(id).await.unwrap();
    let stopped = windows.iter().find(|w| w.silo == "tickets" && w.start == edge).unwrap();
    let (after_value, _) = stopped.after.clone().expect("a checkpoint inside the edge day");
    assert_eq!(after_value, tie, "the checkpoint sits inside the tie: 150 at the edge + 50 of the tie");
    assert_eq!(stored(&test, id).await.len(), 150 + 200);

    sim.clear_requests();
    let started = Instant::now();
    sync(&test, id).await;
    let resumed = list_calls(sim);
    let first = resumed.iter().find(|c| c.silo == "tickets" && c.from == Some(edge)).unwrap();
    assert_eq!(first.after, stopped.after, "the stopped window resumes from its checkpoint");
    assert!(
        !resumed.iter().any(|c| c.from == Some(edge.saturating_sub(DAY))),
        "finished windows are not read again"
    );
    assert_eq!(stored(&test, id).await, truth(sim, start, now), "backfill equals HelpDesk");
    assert_eq!(stored(&test, id).await.len(), 550);

    // Ties at the cursor: 20 tickets appear late with the cursor's exact time, and 250 new ones
    // share one instant across the incremental run's page edges.
    let at_cursor = cursor(&test, id).await;
    assert_eq!(at_cursor, tie);
    tickets_at(sim, at_cursor, 20, 1000);
    advance(&test, Duration::from_secs(10));
    tickets_at(sim, sim.now(), 250, 2000);
    advance(&test, MINUTE);
    sync(&test, id).await;
    assert_eq!(stored(&test, id).await, truth(sim, start, read_until(&test)));
    // And 20 more with the new cursor's time after that run.
    tickets_at(sim, cursor(&test, id).await, 20, 3000);
    advance(&test, MINUTE);
    sync(&test, id).await;
    let after = stored(&test, id).await;
    assert_eq!(after, truth(sim, start, read_until(&test)));
    assert_eq!(after.len(), 550 + 20 + 250 + 20);
    eprintln!("tie storms: {} cases, resumed backfill in {:?}", after.len(), started.elapsed());
}

/// Windows holding k·100 − 1, k·100 and k·100 + 1 tickets for k = 1, 2, an empty window, and
/// archive windows of 100 and 1: exact counts, one request per page plus the closing short (or
/// empty) page, and a second run that changes nothing.
async fn page_boundary_sizes(backend: TestBackend) {
    let (test, id) = connected(backend, SimConfig { tickets: 0, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    let day = |n: u32| start.saturating_add(n * DAY);
    // (silo, day, tickets)
    let plan: [(Silo, u32, usize); 9] = [
        (Silo::Tickets, 0, 99),
        (Silo::Tickets, 1, 100),
        (Silo::Tickets, 2, 101),
        (Silo::Tickets, 3, 199),
        (Silo::Tickets, 4, 200),
        (Silo::Tickets, 5, 201),
        (Silo::Tickets, 6, 0),
        (Silo::Archive, 1, 100),
        (Silo::Archive, 4, 1),
    ];
    let mut n = 0;
    for (silo, d, count) in plan {
        for i in 0..count {
            // Distinct times, half a minute apart, from 5 minutes into the day.
            sim.clock().set(day(d).saturating_add(Duration::from_secs(300 + 30 * i as u64)));
            let ticket = new_ticket(sim, n);
            if silo == Silo::Archive {
                sim.move_ticket(ticket, Silo::Archive).unwrap();
            }
            n += 1;
        }
    }
    sim.clock().set(now);
    sim.clear_requests();

    let written = sync(&test, id).await;
    assert_eq!(written as usize, n);
    let expected = truth(sim, start, now);
    assert_eq!(expected.len(), n);
    assert_eq!(stored(&test, id).await, expected);
    let mut calls: BTreeMap<(String, Timestamp), usize> = BTreeMap::new();
    for call in list_calls(sim) {
        assert_eq!(call.status, 200);
        *calls.entry((call.silo.clone(), call.from.unwrap())).or_default() += 1;
    }
    for d in 0..7 {
        for silo in [Silo::Tickets, Silo::Archive] {
            let count: usize = plan.iter().filter(|p| p.0 == silo && p.1 == d).map(|p| p.2).sum();
            let pages = calls.get(&(silo.as_str().to_owned(), day(d))).copied().unwrap_or(0);
            assert_eq!(pages, count / PAGE + 1, "{count} {} tickets on day {d}: pages", silo.as_str());
        }
    }

    // A second run right after changes nothing and reads one page per silo of the lookback.
    advance(&test, MINUTE);
    sim.clear_requests();
    assert_eq!(sync(&test, id).await, 0, "nothing changed");
    assert_eq!(list_calls(sim).len(), 4);
    assert_eq!(stored(&test, id).await, expected);
}

/// A backfill stops halfway (an outage); HelpDesk changes meanwhile (replies on stored and on
/// not yet stored tickets, moves to archive, trash and spam, new tickets); the next run resumes
/// from the checkpoints without re-reading finished windows, and the incremental run after it
/// converges.
async fn changes_while_a_backfill_is_stopped_halfway(backend: TestBackend) {
    let (test, id) =
        connected(backend, SimConfig { tickets: 500, days: 10, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    // One window at a time, so no fetched page is in flight when the outage ends the run.
    let stopper = app_with(&test, |s| {
        s.concurrency = 1;
        s.retry = fast_retry(2);
    });
    sim.script_fault(outage_after(6));
    assert!(stopper.sync_integration(id, None).await.is_err());
    sim.clear_faults();
    let before = truth(sim, start, now);
    let partial = stored(&test, id).await;
    assert!(!partial.is_empty() && partial.len() < before.len(), "stopped halfway: {}", partial.len());
    assert_within_truth(&partial, &before);
    let windows = test.store().sync_windows(id).await.unwrap();
    assert!(windows.iter().any(|w| w.done) && windows.iter().any(|w| !w.done));

    advance(&test, MINUTE);
    let live = in_tickets_silo(sim);
    let kept: Vec<&String> = live.iter().filter(|k| partial.contains_key(*k)).collect();
    let missing: Vec<&String> =
        live.iter().filter(|k| before.contains_key(*k) && !partial.contains_key(*k)).collect();
    reply(sim, kept[0]);
    reply(sim, missing[0]);
    sim.move_ticket(kept[1].parse().unwrap(), Silo::Archive).unwrap();
    sim.move_ticket(kept[2].parse().unwrap(), Silo::Spam).unwrap();
    sim.move_ticket(missing[1].parse().unwrap(), Silo::Trash).unwrap();
    for n in 0..30 {
        new_ticket(sim, n);
    }
    advance(&test, MINUTE);

    sim.clear_requests();
    sync(&test, id).await;
    let resumed = list_calls(sim);
    for window in &windows {
        let calls: Vec<&ListCall> =
            resumed.iter().filter(|c| c.silo == window.silo && c.from == Some(window.start)).collect();
        if window.done {
            assert!(calls.is_empty(), "a finished window is not read again: {window:?}");
        } else {
            assert_eq!(calls[0].after, window.after, "a window resumes at its checkpoint: {window:?}");
        }
    }
    let live_from = live_from(&test, id).await;
    advance(&test, MINUTE);
    sync(&test, id).await;
    let expected = live_truth(sim, start, Some(live_from), read_until(&test));
    assert_eq!(stored(&test, id).await, expected);
    assert_eq!(expected[missing[1].as_str()].2, "trash");
    assert_eq!(expected[kept[2].as_str()].2, "spam");
}

/// Tickets show in lists only 2 minutes after their update (more than our 30 s safety lag) while
/// our clock is 10 minutes off HelpDesk's; rounds of changes with incremental runs, then one
/// quiet run: everything arrives, and the cursor never comes from our clock.
async fn lag_and_skew(backend: TestBackend, ours_ahead: bool) {
    let knobs = Knobs { visibility_lag_ms: 120_000, ..Knobs::default() };
    let config = SimConfig { tickets: 400, days: 10, knobs, ..SimConfig::default() };
    let (test, id) = connected(backend, config, 7).await;
    let sim = test.sim();
    let skew = 10 * MINUTE;
    if ours_ahead {
        test.clock.set(sim.now().saturating_add(skew));
    } else {
        test.clock.set(sim.now().saturating_sub(skew));
    }
    // The backfill's windows end at HelpDesk's time (its `Date` header), not ours.
    let start = sim.now().saturating_sub(7 * DAY);
    let newest_in_helpdesk = || sim.truth().iter().map(|t| t.updated_at).max().unwrap();
    sync(&test, id).await;
    assert!(cursor(&test, id).await <= newest_in_helpdesk(), "the cursor is HelpDesk's time");
    let live_from = live_from(&test, id).await;

    let known = in_tickets_silo(sim);
    let mut n = 0;
    for round in 0..3 {
        for k in known.iter().skip(round * 7).take(5) {
            reply(sim, k);
        }
        sim.move_ticket(known[round * 7 + 5].parse().unwrap(), Silo::Archive).unwrap();
        sim.move_ticket(known[round * 7 + 6].parse().unwrap(), Silo::Trash).unwrap();
        for _ in 0..5 {
            new_ticket(sim, n);
            n += 1;
        }
        advance(&test, MINUTE);
        sync(&test, id).await;
        assert!(cursor(&test, id).await <= newest_in_helpdesk(), "the cursor is HelpDesk's time");
    }
    // Quiet: every change is visible and older than our safety lag, on either clock.
    advance(&test, skew + 3 * MINUTE);
    sync(&test, id).await;
    let expected = live_truth(sim, start, Some(live_from), sim.now());
    assert_eq!(stored(&test, id).await, expected);
}

async fn visibility_lag_with_our_clock_ten_minutes_ahead(backend: TestBackend) {
    lag_and_skew(backend, true).await;
}

async fn visibility_lag_with_our_clock_ten_minutes_behind(backend: TestBackend) {
    lag_and_skew(backend, false).await;
}

/// Our clock three days behind HelpDesk's: the backfill still covers the last 7 days of
/// HelpDesk's time, and an incremental run reads up to HelpDesk's now less the safety lag, both
/// from the `Date` of HelpDesk's answers.
async fn window_ends_and_the_incremental_bound_follow_helpdesk_s_date(backend: TestBackend) {
    let config = SimConfig { tickets: 300, days: 10, ..SimConfig::default() };
    let (test, id) = connected(backend, config, 7).await;
    let sim = test.sim();
    test.clock.set(sim.now().saturating_sub(3 * DAY));
    let helpdesk_now = sim.now();
    sync(&test, id).await;
    let expected = truth(sim, helpdesk_now.saturating_sub(7 * DAY), helpdesk_now);
    assert!(expected.values().any(|t| t.0 > test.clock.now()), "tickets newer than our clock exist");
    assert_eq!(stored(&test, id).await, expected);

    advance(&test, 5 * MINUTE);
    sim.clear_requests();
    let created = new_ticket(sim, 1).to_string();
    advance(&test, MINUTE);
    sync(&test, id).await;
    assert!(stored(&test, id).await.contains_key(&created), "the new ticket arrived");
    let lag = test.app.settings().sync.safety_lag;
    let bound = sim.now().saturating_sub(lag);
    let calls = list_calls(sim);
    assert!(!calls.is_empty());
    for call in calls {
        let to = call.to.expect("an upper bound");
        // The `Date` header has whole seconds.
        assert!(to <= bound && to.as_millis() > bound.as_millis() - 1000, "{to:?} vs {bound:?}");
    }
}

/// With nothing to backfill, the cursor must not become our clock's "now": ours runs 10 minutes
/// ahead and the lookback is 5, so tickets created just after the backfill would be skipped.
async fn an_empty_backfill_takes_its_cursor_from_helpdesk_time(backend: TestBackend) {
    let (test, id) = connected(backend, SimConfig { tickets: 0, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    test.clock.advance(10 * MINUTE);
    let app = app_with(&test, |s| s.lookback = 5 * MINUTE);
    assert_eq!(sync_with(&app, id).await, 0);
    assert!(cursor(&test, id).await <= sim.now(), "no cursor from our clock");
    advance(&test, MINUTE);
    let created: Vec<String> = (0..3).map(|n| new_ticket(sim, n).to_string()).collect();
    advance(&test, MINUTE);
    assert_eq!(sync_with(&app, id).await, 3);
    let after = stored(&test, id).await;
    assert!(created.iter().all(|id| after.contains_key(id)));
}

/// A storm of 429s with `Retry-After: 1` hits the first request of all 4 concurrent windows,
/// under HelpDesk's rate limit (50/s, burst 10) with ours set below it (40/s, burst 5); then
/// 429s with an HTTP-date `Retry-After` during an incremental run.
async fn rate_limit_storm_with_retry_after(backend: TestBackend) {
    let knobs = Knobs {
        rate_limit: Some(scoreline_helpdesk_sim::RateLimit { per_second: 50.0, burst: 10 }),
        ..Knobs::default()
    };
    let config = SimConfig { tickets: 600, days: 10, knobs, ..SimConfig::default() };
    let (test, id) = connected(backend, config, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    let app = app_with_settings(&test, |settings| {
        settings.helpdesk.rate_limit = scoreline_app::RateLimit { requests_per_second: 40.0, burst: 5 };
    });
    let storm = 4;
    sim.script_fault(ScriptedFault::new("/v1/tickets", storm, Fault::RateLimited { retry_after_secs: 1 }));
    sim.clear_requests();
    let started = Instant::now();
    sync_with(&app, id).await;
    let elapsed = started.elapsed();
    let limited = sim.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(limited, storm as usize, "the storm only: our pace stays under HelpDesk's limit");
    assert!(elapsed >= Duration::from_secs(1), "Retry-After was honoured: {elapsed:?}");
    assert!(list_calls(sim).iter().filter(|c| c.status == 200).count() >= 14, "every window was read");
    assert_eq!(stored(&test, id).await, truth(sim, start, now));

    sim.update_options(|o| o.retry_after = scoreline_helpdesk_sim::RetryAfterForm::HttpDate);
    sim.script_fault(ScriptedFault::new("/v1/tickets", 1, Fault::RateLimited { retry_after_secs: 1 }));
    let live_from = live_from(&test, id).await;
    advance(&test, MINUTE);
    reply(sim, &in_tickets_silo(sim)[0]);
    new_ticket(sim, 1);
    advance(&test, MINUTE);
    sim.clear_requests();
    let started = Instant::now();
    sync_with(&app, id).await;
    assert!(started.elapsed() >= Duration::from_millis(900), "an HTTP-date Retry-After is honoured too");
    assert!(sim.pending_faults().is_empty());
    assert_eq!(stored(&test, id).await, live_truth(sim, start, Some(live_from), read_until(&test)));
    eprintln!("429 storm: {limited} answers 429, backfill in {elapsed:?}");
}

/// 30% of requests fail with 500/502/503 (seeded), and three ticket pages hang until the client
/// gives up (attempt timeout 250 ms); a backfill and an incremental run still converge.
async fn server_errors_and_hung_responses(backend: TestBackend) {
    let (test, id) =
        connected(backend, SimConfig { tickets: 600, days: 10, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    let kinds =
        vec![Fault::Status { status: 500 }, Fault::Status { status: 502 }, Fault::Status { status: 503 }];
    sim.update_knobs(|k| k.random_faults = Some(RandomFaults { probability: 0.3, kinds }));
    sim.script_fault(tickets_fault(2, 3, Fault::Hang { ms: None }));
    let app = app_with(&test, |s| {
        s.retry = RetryPolicy {
            max_attempts: 12,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            max_total_wait: Duration::from_secs(30),
        };
        s.attempt_timeout = Duration::from_millis(250);
    });
    let started = Instant::now();
    sync_with(&app, id).await;
    let backfill = started.elapsed();
    assert!(sim.pending_faults().is_empty(), "the hangs happened");
    assert_eq!(stored(&test, id).await, truth(sim, start, now));

    let live_from = live_from(&test, id).await;
    advance(&test, MINUTE);
    for key in in_tickets_silo(sim).iter().take(10) {
        reply(sim, key);
    }
    for n in 0..10 {
        new_ticket(sim, n);
    }
    advance(&test, MINUTE);
    sync_with(&app, id).await;
    let failed = sim.requests().iter().filter(|r| r.status >= 500).count();
    let total = sim.requests().len();
    assert!(failed * 10 >= total, "about 30% failed: {failed} of {total}");
    assert_eq!(stored(&test, id).await, live_truth(sim, start, Some(live_from), read_until(&test)));
    eprintln!("5xx and hangs: {failed} of {total} requests failed, backfill in {backfill:?}");
}

/// 200 answers with half a JSON body, with a proxy's HTML page, a 502 HTML page, a connection
/// dropped mid-body and a page in the wrong order: each is refetched, none advances a cursor.
async fn truncated_and_html_bodies(backend: TestBackend) {
    let (test, id) =
        connected(backend, SimConfig { tickets: 600, days: 10, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    for (skip, fault) in [
        (1, Fault::TruncatedBody),
        (0, Fault::TruncatedBody),
        (2, Fault::HtmlBody { status: 200 }),
        (1, Fault::HtmlBody { status: 502 }),
        (3, Fault::AbortedBody),
        (1, Fault::OutOfOrderPage),
        (0, Fault::HtmlBody { status: 200 }),
    ] {
        sim.script_fault(tickets_fault(skip, 1, fault));
    }
    let app = app_with(&test, |s| s.retry = fast_retry(6));
    sync_with(&app, id).await;
    assert!(sim.pending_faults().is_empty(), "every fault was served");
    assert_eq!(stored(&test, id).await, truth(sim, start, now));
}

/// The 3rd page request answers with the 2nd page again, so its last cursor repeats: the run
/// fails at once with a clear error (no loop, no cursor advance); the next run converges.
async fn a_repeated_cursor_fails_the_run_without_looping(backend: TestBackend) {
    let (test, id) = connected(backend, SimConfig { tickets: 0, ..SimConfig::default() }, 1).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(DAY);
    tickets_at(sim, now.saturating_sub(DAY / 2), 250, 0);
    // One window at a time, so "the previous page" is this listing's: the archive window's
    // single page, then the tickets window's pages 1 and 2, where page 2 repeats page 1.
    let app = app_with(&test, |s| s.concurrency = 1);
    sim.script_fault(tickets_fault(2, 1, Fault::RepeatPreviousPage));
    sim.clear_requests();
    let error = app.sync_integration(id, None).await.unwrap_err();
    assert!(matches!(&error, AppError::HelpDesk(e) if e.kind() == ErrorKind::RepeatedCursor), "{error}");
    assert_eq!(list_calls(sim).len(), 3, "no request after the repeat");
    let state = test.store().sync_state(id, test.clock.now()).await.unwrap();
    assert_eq!(state.phase.as_str(), "error");
    assert!(state.last_error.unwrap().contains("repeated"));
    let windows = test.store().sync_windows(id).await.unwrap();
    let window = windows.iter().find(|w| w.silo == "tickets").unwrap();
    assert!(!window.done);
    assert_eq!(stored(&test, id).await.len(), PAGE, "the first page only");

    sim.clear_requests();
    sync(&test, id).await;
    assert_eq!(list_calls(sim)[0].after, window.after, "resumed from the checkpoint");
    assert_eq!(stored(&test, id).await, truth(sim, start, now));
    assert_eq!(stored(&test, id).await.len(), 250);
}

/// The first page of the tickets window is answered with the last page served before, which
/// belongs to the archive window of the same day (a short page: it would end the listing).
/// Taken as it is, the tickets window would be marked done without its tickets and 50 archived
/// tickets would be stored as live ones; the page must be refused and fetched again.
async fn a_page_of_another_listing_is_refused(backend: TestBackend) {
    let (test, id) = connected(backend, SimConfig { tickets: 0, ..SimConfig::default() }, 1).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(DAY);
    for n in 0..150 {
        sim.clock().set(now.saturating_sub(DAY / 2).saturating_add(Duration::from_secs(n)));
        let ticket = new_ticket(sim, n as usize);
        sim.move_ticket(ticket, Silo::Archive).unwrap();
    }
    sim.clock().set(now);
    tickets_at(sim, now.saturating_sub(DAY / 3), 120, 1000);
    // Archive pages 1 and 2, then the tickets window's first page repeats archive page 2.
    let app = app_with(&test, |s| {
        s.concurrency = 1;
        s.retry = fast_retry(3);
    });
    sim.script_fault(tickets_fault(2, 1, Fault::RepeatPreviousPage));
    sync_with(&app, id).await;
    assert!(sim.pending_faults().is_empty());
    let after = stored(&test, id).await;
    assert_eq!(after.values().filter(|c| c.2 == "archive").count(), 150);
    assert_eq!(after, truth(sim, start, now));
}

/// The token is revoked in HelpDesk while 4 windows are being fetched: the run ends with the
/// integration needing re-authorization after at most one refused request per window in flight,
/// later runs send nothing, the stored cases stay, and a replaced token resumes and converges.
async fn a_revoked_token_mid_backfill_needs_reauthorization(backend: TestBackend) {
    let (test, id) =
        connected(backend, SimConfig { tickets: 800, days: 10, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    let concurrency = test.app.settings().sync.concurrency;
    // A little latency keeps the backfill running while the test acts.
    sim.update_knobs(|k| k.latency_ms = 10);
    sim.clear_requests();
    let app = test.app.clone();
    let run = tokio::spawn(async move { app.sync_integration(id, None).await });
    while test.store().count_cases(id).await.unwrap() < 200 {
        tokio::task::yield_now().await;
    }
    assert!(sim.revoke(&sim.pat()));
    let error = run.await.unwrap().unwrap_err();
    assert!(matches!(&error, AppError::HelpDesk(e) if e.needs_reauthorization()), "{error}");
    let before = list_calls(sim);
    let refused = sim.requests().iter().filter(|r| r.status == 401).count();
    assert!((1..=concurrency).contains(&refused), "no request flood: {refused} refused");
    let integration = test.store().get_integration(id).await.unwrap().unwrap();
    assert_eq!(integration.state, IntegrationState::NeedsReauthorization);
    let state = test.store().sync_state(id, test.clock.now()).await.unwrap();
    assert_eq!(state.phase.as_str(), "needs_reauthorization");

    let expected = truth(sim, start, now);
    let kept = stored(&test, id).await;
    assert!(!kept.is_empty() && kept.len() < expected.len(), "stopped midway: {}", kept.len());
    assert_within_truth(&kept, &expected);

    // Until a person acts, runs send nothing.
    let sent = sim.requests().len();
    assert_eq!(test.app.sync_integration(id, None).await.unwrap(), SyncOutcome::NotConnected);
    assert_eq!(sim.requests().len(), sent);

    let token = sim.issue_pat();
    test.app.replace_token(&Actor::System, id, "", token.into()).await.unwrap();
    sim.clear_requests();
    sync(&test, id).await;
    let resumed = list_calls(sim);
    // A window in flight may lose the page it was writing and the next one, fetched meanwhile.
    assert!(refetched(&before, &resumed) <= 2 * concurrency, "resumed from the checkpoints");
    assert_eq!(stored(&test, id).await, expected, "nothing lost");
}

/// A backfill task aborted midway (as a crash would stop it) and rerun by another server after
/// the lease ran out: it converges, re-fetches at most two pages per window that was in flight
/// (the one being written and the next, fetched meanwhile), and the aborted run's lease
/// heartbeat died with it.
async fn an_aborted_backfill_resumes_from_its_checkpoints(backend: TestBackend) {
    let (test, id) =
        connected(backend, SimConfig { tickets: 1500, days: 10, ..SimConfig::default() }, 7).await;
    let sim = test.sim();
    let now = sim.now();
    let start = now.saturating_sub(7 * DAY);
    let concurrency = test.app.settings().sync.concurrency;
    let lease_ttl = Duration::from_millis(90);
    let crashed = app_with(&test, |s| s.lease_ttl = lease_ttl);
    sim.update_knobs(|k| k.latency_ms = 5);
    sim.clear_requests();
    let run = {
        let crashed = crashed.clone();
        tokio::spawn(async move { crashed.sync_integration(id, None).await })
    };
    while list_calls(sim).len() < 12 {
        tokio::task::yield_now().await;
    }
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    let expected = truth(sim, start, now);
    let partial = stored(&test, id).await;
    assert!(partial.len() < expected.len(), "aborted midway: {} of {}", partial.len(), expected.len());
    assert_within_truth(&partial, &expected);
    let before = list_calls(sim);

    // Another server takes over once the dead run's lease has expired.
    let restarted = app_with(&test, |_| {});
    test.clock.advance(lease_ttl * 2);
    sim.clear_requests();
    sync_with(&restarted, id).await;
    let resumed = list_calls(sim);
    let again = refetched(&before, &resumed);
    assert!(again <= 2 * concurrency, "re-fetched {again} pages");
    assert_eq!(stored(&test, id).await, expected);

    // Several heartbeat periods later the aborted run holds nothing: the lease is free.
    tokio::time::sleep(lease_ttl * 2).await;
    let at = test.clock.now();
    assert!(
        test.store().acquire_sync_lease(id, "probe", at.saturating_add(lease_ttl), at).await.unwrap(),
        "no heartbeat outlived the aborted run"
    );
    eprintln!("abort: {} of {} stored before, {again} pages re-fetched", partial.len(), expected.len());
}
