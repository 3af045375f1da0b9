//! The sync engine against the HelpDesk simulator: the stored cases must equal the simulator's
//! ground truth after each scenario, on both backends.

use std::collections::BTreeMap;
use std::time::Duration;

use scoreline_app::{Actor, ConnectIntegration, SyncOutcome};
use scoreline_core::{Clock, IntegrationId, Timestamp};
use scoreline_helpdesk_sim::{SimConfig, SimHandle};
use scoreline_store::SyncStore;
use scoreline_store::model::PageRequest;
use scoreline_store::sync::CaseFilter;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// source id → (updatedAt, message count, silo)
type Snapshot = BTreeMap<String, (Timestamp, u32, String)>;

async fn connected(backend: TestBackend, sim: SimConfig, backfill_days: i64) -> (TestApp, IntegrationId) {
    let test = TestApp::with_helpdesk(backend, sim).await;
    test.clock.set(test.sim().now());
    let input = ConnectIntegration {
        label: "Sync test".into(),
        auth_method: "token".into(),
        account_id: test.sim().account_id(),
        token: Some(test.sim().pat().into()),
        retention_value: Some(1),
        retention_unit: "years".into(),
        backfill_days: Some(backfill_days),
        ..ConnectIntegration::default()
    };
    let integration = test.app.connect_with_token(&Actor::System, input).await.unwrap();
    (test, integration.id)
}

/// What HelpDesk holds that a sync over `[from, until)` must have stored.
fn truth(sim: &SimHandle, from: Timestamp, until: Timestamp) -> Snapshot {
    sim.truth()
        .into_iter()
        .filter(|t| t.updated_at >= from && t.updated_at < until)
        .filter(|t| matches!(t.silo.as_str(), "tickets" | "archive"))
        .map(|t| (t.id.to_string(), (t.updated_at, t.message_count as u32, t.silo.as_str().to_owned())))
        .collect()
}

async fn stored(test: &TestApp, id: IntegrationId) -> Snapshot {
    let filter = CaseFilter { integration_id: Some(id), ..CaseFilter::default() };
    let mut page = PageRequest::first(500);
    let mut snapshot = Snapshot::new();
    loop {
        let result = test.app.db().list_cases(&filter, page).await.unwrap();
        for case in result.items {
            let previous =
                snapshot.insert(case.source_id.clone(), (case.updated_at, case.message_count, case.silo));
            assert!(previous.is_none(), "case {} stored twice", case.source_id);
        }
        match result.next_after {
            Some(after) => page.after = Some(after),
            None => return snapshot,
        }
    }
}

async fn sync(test: &TestApp, id: IntegrationId) -> u64 {
    match test.app.sync_integration(id, None).await.unwrap() {
        SyncOutcome::Synced { written } => written,
        other => panic!("sync did not run: {other:?}"),
    }
}

on_both_backends!(backfill_then_incremental_converge_to_helpdesk, a_second_server_waits_for_the_lease);

async fn backfill_then_incremental_converge_to_helpdesk(backend: TestBackend) {
    let sim = SimConfig { tickets: 600, days: 21, ..SimConfig::default() };
    let (test, id) = connected(backend, sim, 14).await;
    let start = test.clock.now();
    let written = sync(&test, id).await;
    let expected = truth(test.sim(), start.saturating_sub(14 * DAY), start);
    assert!(expected.len() > 100, "the scenario has data: {}", expected.len());
    assert_eq!(written as usize, expected.len());
    assert_eq!(stored(&test, id).await, expected, "backfill equals HelpDesk");
    let state = test.app.db().sync_state(id, test.clock.now()).await.unwrap();
    assert_eq!(state.phase.as_str(), "live");
    assert_eq!(state.windows_done, state.windows_total);
    assert!(!test.app.db().list_helpdesk_agents(id).await.unwrap().is_empty(), "agents refreshed");

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
        test.app.db().clone(),
        test.clock.clone(),
        test.sealer.clone(),
        test.app.settings().clone(),
    );
    let now = test.clock.now();
    assert!(
        test.app
            .db()
            .acquire_sync_lease(id, other.instance_id(), now.saturating_add(Duration::from_secs(60)), now)
            .await
            .unwrap()
    );
    assert_eq!(test.app.sync_integration(id, None).await.unwrap(), SyncOutcome::Busy);
    // The holder died: once its lease expires, the work is taken over.
    test.clock.advance(Duration::from_secs(61));
    assert!(matches!(test.app.sync_integration(id, None).await.unwrap(), SyncOutcome::Synced { .. }));
}
