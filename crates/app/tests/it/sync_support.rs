//! Helpers shared by the sync tests: a connected integration over the simulator, the ground
//! truth a sync must reach, the stored cases, and the simulator's ticket-list request log.

use std::collections::BTreeMap;
use std::time::Duration;

use scoreline_app::{Actor, App, AppSettings, ConnectIntegration, SyncOutcome, SyncSettings};
use scoreline_core::{CaseFilter, IntegrationId, PageRequest, Scope, Timestamp};
use scoreline_helpdesk_sim::{RequestRecord, SimConfig, SimHandle};
use scoreline_testkit::{TestApp, TestBackend};
use uuid::Uuid;

pub const DAY: Duration = Duration::from_secs(24 * 3600);
pub const MINUTE: Duration = Duration::from_secs(60);

/// source id → (updatedAt, message count, silo)
pub type Snapshot = BTreeMap<String, (Timestamp, u32, String)>;

/// A token integration over a fresh simulator, with our clock on the simulator's time.
pub async fn connected(backend: TestBackend, sim: SimConfig, backfill_days: i64) -> (TestApp, IntegrationId) {
    connect(TestApp::with_helpdesk(backend, sim).await, backfill_days).await
}

/// Connects `test`'s simulator with its access token, our clock set to the simulator's time.
pub async fn connect(test: TestApp, backfill_days: i64) -> (TestApp, IntegrationId) {
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

/// Another server over the same database and clock, with its own sync settings.
pub fn app_with(test: &TestApp, change: impl FnOnce(&mut SyncSettings)) -> App {
    app_with_settings(test, |settings| change(&mut settings.sync))
}

pub fn app_with_settings(test: &TestApp, change: impl FnOnce(&mut AppSettings)) -> App {
    let mut settings: AppSettings = test.app.settings().clone();
    change(&mut settings);
    App::new(test.store().clone(), test.clock.clone(), test.sealer.clone(), settings)
}

/// What HelpDesk holds that a backfill of `[from, until)` must have stored.
pub fn truth(sim: &SimHandle, from: Timestamp, until: Timestamp) -> Snapshot {
    live_truth(sim, from, None, until)
}

/// What a backfill from `from` followed by incremental runs reading every silo from `live_from`
/// must have stored by `until`: `tickets` and `archive` from the backfill start, `trash` and
/// `spam` only where live runs looked.
pub fn live_truth(
    sim: &SimHandle,
    from: Timestamp,
    live_from: Option<Timestamp>,
    until: Timestamp,
) -> Snapshot {
    sim.truth()
        .into_iter()
        .filter(|t| t.updated_at < until)
        .filter(|t| match t.silo.as_str() {
            "tickets" | "archive" => t.updated_at >= from,
            _ => live_from.is_some_and(|live_from| t.updated_at >= live_from),
        })
        .map(|t| (t.id.to_string(), (t.updated_at, t.message_count as u32, t.silo.as_str().to_owned())))
        .collect()
}

/// Every stored case of the integration; fails on a source id stored twice.
pub async fn stored(test: &TestApp, id: IntegrationId) -> Snapshot {
    let filter = CaseFilter::of_integration(id);
    let mut page = PageRequest::first(500);
    let mut snapshot = Snapshot::new();
    loop {
        let result = test.store().list_cases(&Scope::Everything, &filter, page).await.unwrap();
        for case in result.items {
            let previous =
                snapshot.insert(case.source_id.clone(), (case.updated_at, case.message_count, case.silo));
            assert!(previous.is_none(), "case {} stored twice", case.source_id);
        }
        match result.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    let count = test.store().count_cases(id).await.unwrap();
    assert_eq!(count as usize, snapshot.len(), "every stored case listed once");
    snapshot
}

pub async fn sync(test: &TestApp, id: IntegrationId) -> u64 {
    sync_with(&test.app, id).await
}

pub async fn sync_with(app: &App, id: IntegrationId) -> u64 {
    match app.sync_integration(id, None).await.unwrap() {
        SyncOutcome::Synced { written } => written,
        other => panic!("sync did not run: {other:?}"),
    }
}

/// Moves both clocks: time passes for HelpDesk and for us alike.
pub fn advance(test: &TestApp, by: Duration) {
    test.sim().clock().advance(by);
    test.clock.advance(by);
}

/// A new ticket at the simulator's current time.
pub fn new_ticket(sim: &SimHandle, n: usize) -> Uuid {
    let body = serde_json::json!({
        "subject": format!("Ticket {n}"),
        "message": { "text": format!("Question number {n}") },
        "requester": { "email": format!("customer{}@example.com", n % 17) },
    });
    sim.create_ticket(&body).unwrap()
}

/// `count` new tickets that all share the simulator time `at`; the simulator clock is put back.
pub fn tickets_at(sim: &SimHandle, at: Timestamp, count: usize, first: usize) -> Vec<Uuid> {
    let now = sim.now();
    sim.clock().set(at);
    let ids = (first..first + count).map(|n| new_ticket(sim, n)).collect();
    sim.clock().set(now);
    ids
}

pub fn reply(sim: &SimHandle, id: &str) {
    let body = serde_json::json!({ "message": { "text": "One more reply" } });
    sim.update_ticket(id.parse().unwrap(), &body).unwrap();
}

/// A `GET /v1/tickets` request as the simulator logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCall {
    pub silo: String,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// `next.value` and `next.ID`, for pages after the first.
    pub after: Option<(Timestamp, String)>,
    pub status: u16,
    pub uri: String,
}

pub fn list_calls(sim: &SimHandle) -> Vec<ListCall> {
    list_calls_in(&sim.requests())
}

pub fn list_calls_in(requests: &[RequestRecord]) -> Vec<ListCall> {
    requests
        .iter()
        .filter(|r| r.service == "api" && r.method == "GET")
        .filter_map(|r| Some((r, r.uri.strip_prefix("/v1/tickets?")?)))
        .map(|(r, query)| {
            let params: BTreeMap<String, String> = query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (decode(k), decode(v)))
                .collect();
            let at = |key: &str| params.get(key).map(|v| Timestamp::parse_rfc3339(v).unwrap());
            ListCall {
                silo: params.get("silo").cloned().unwrap_or_default(),
                from: at("updatedDateFrom"),
                to: at("updatedDateTo"),
                after: at("next.value").zip(params.get("next.ID").cloned()),
                status: r.status,
                uri: r.uri.clone(),
            }
        })
        .collect()
}

/// Percent-decoding of the few characters our query strings escape.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
