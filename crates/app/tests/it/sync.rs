//! The sync engine against the HelpDesk simulator: the stored cases must equal the simulator's
//! ground truth after each scenario, on both backends.

use std::time::Duration;

use scoreline_app::SyncOutcome;
use scoreline_core::Clock;
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{TestBackend, on_both_backends};

use crate::sync_support::{DAY, app_with, connected, list_calls, stored, sync, truth};

on_both_backends!(
    backfill_then_incremental_converge_to_helpdesk,
    a_second_server_waits_for_the_lease,
    a_run_that_loses_its_lease_stops,
);

async fn backfill_then_incremental_converge_to_helpdesk(backend: TestBackend) {
    let sim = SimConfig { tickets: 600, days: 21, ..SimConfig::default() };
    let (test, id) = connected(backend, sim, 14).await;
    let start = test.clock.now();
    let written = sync(&test, id).await;
    let expected = truth(test.sim(), start.saturating_sub(14 * DAY), start);
    assert!(expected.len() > 100, "the scenario has data: {}", expected.len());
    assert_eq!(written as usize, expected.len());
    assert_eq!(stored(&test, id).await, expected, "backfill equals HelpDesk");
    let state = test.store().sync_state(id, test.clock.now()).await.unwrap();
    assert_eq!(state.phase.as_str(), "live");
    assert_eq!(state.windows_done, state.windows_total);
    assert!(!test.store().list_helpdesk_agents(id).await.unwrap().is_empty(), "agents refreshed");

    // Changes in HelpDesk: new tickets, replies, a move to trash; time passes on both sides.
    let sim = test.sim();
    let victim = expected.keys().next().unwrap().parse().unwrap();
    sim.clock().advance(Duration::from_secs(600));
    sim.update_ticket(victim, &serde_json::json!({ "message": { "text": "A late reply" } })).unwrap();
    let created = sim.create_ticket(&serde_json::json!({ "subject": "Brand new", "message": { "text": "Hello" }, "requester": { "email": "new@example.com" } })).unwrap();
    let trashed = expected.keys().nth(1).unwrap().parse().unwrap();
    sim.move_ticket(trashed, scoreline_helpdesk_sim::Silo::Trash).unwrap();
    sim.clock().advance(Duration::from_secs(120));
    test.clock.set(sim.now());
    sync(&test, id).await;

    let after = stored(&test, id).await;
    assert_eq!(after[&victim.to_string()].1, expected[&victim.to_string()].1 + 1, "the reply arrived");
    assert!(after.contains_key(&created.to_string()), "the new ticket arrived");
    assert_eq!(after[&trashed.to_string()].2, "trash", "the move to trash is flagged");

    // A fresh sync into an empty database gives the same result for the backfill range.
    let (fresh, fresh_id) =
        connected(backend, SimConfig { tickets: 600, days: 21, ..SimConfig::default() }, 14).await;
    sync(&fresh, fresh_id).await;
    assert_eq!(stored(&fresh, fresh_id).await, expected);
}

async fn a_second_server_waits_for_the_lease(backend: TestBackend) {
    let (test, id) = connected(backend, SimConfig { tickets: 50, ..SimConfig::default() }, 7).await;
    let other = scoreline_app::App::new(
        test.store().clone(),
        test.clock.clone(),
        test.sealer.clone(),
        test.app.settings().clone(),
    );
    let now = test.clock.now();
    assert!(
        test.store()
            .acquire_sync_lease(id, other.instance_id(), now.saturating_add(Duration::from_secs(60)), now)
            .await
            .unwrap()
    );
    assert_eq!(test.app.sync_integration(id, None).await.unwrap(), SyncOutcome::Busy);
    // The holder died: once its lease expires, the work is taken over.
    test.clock.advance(Duration::from_secs(61));
    assert!(matches!(test.app.sync_integration(id, None).await.unwrap(), SyncOutcome::Synced { .. }));
}

async fn a_run_that_loses_its_lease_stops(backend: TestBackend) {
    let sim = SimConfig { tickets: 1500, days: 14, ..SimConfig::default() };
    let (test, id) = connected(backend, sim, 14).await;
    test.sim().update_knobs(|knobs| knobs.latency_ms = 20);
    let app = app_with(&test, |sync| sync.lease_ttl = Duration::from_millis(300));
    let run = tokio::spawn({
        let app = app.clone();
        async move { app.sync_integration(id, None).await }
    });
    while list_calls(test.sim()).len() < 3 {
        tokio::task::yield_now().await;
    }
    // The holder looks dead to another server (its lease is past due on the shared clock),
    // which takes the lease over; the holder's heartbeat may renew in between, so try again.
    let mut taken = false;
    for _ in 0..100 {
        test.clock.advance(Duration::from_secs(1));
        let now = test.clock.now();
        let until = now.saturating_add(Duration::from_secs(3600));
        if test.store().acquire_sync_lease(id, "another-server", until, now).await.unwrap() {
            taken = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(taken, "the lease could be taken over");
    assert_eq!(
        run.await.unwrap().unwrap(),
        SyncOutcome::Busy,
        "the run stops once its heartbeat finds the lease taken"
    );
    let stopped = test.sim().real_micros();
    // A page asked for before the stop may still be on its way (the sim logs on answer).
    while test.sim().requests_in_flight() > 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    let after_stop =
        test.sim().requests().into_iter().filter(|request| request.received_micros > stopped).count();
    assert_eq!(after_stop, 0, "no more requests after stopping");
}
