//! The sync of the real binary under SIGKILL, and two `scoreline serve` processes sharing one
//! PostgreSQL, against the HelpDesk simulator running in this test process.
//!
//! The child processes use the system clock, so the simulator's clock is fixed at the wall-clock
//! time the test starts: its tickets lie in the days before that, and every backfill window the
//! children plan (ending at their own "now") covers them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scoreline_app::{Actor, App, AppSettings, ConnectIntegration, HelpDeskSettings, SyncSettings};
use scoreline_core::{CaseFilter, Clock, IntegrationId, PageRequest, Scope, SystemClock, Timestamp};
use scoreline_helpdesk_sim::{ClockMode, RequestRecord, SimConfig, SimHandle, Simulator};
use scoreline_store::{Db, Sealer};
use scoreline_testkit::{TestBackend, TestDatabase, on_both_backends, postgres_admin_url};
use serde_json::{Value, json};

use crate::{KEY, Server, run_with_stdin, scoreline};

/// The simulator spreads its tickets over this many days before now.
const SIM_DAYS: u32 = 14;
/// Two days more than the data, so the windows cover every ticket whatever the children's clock.
const BACKFILL_DAYS: i64 = 16;

/// source id → (updatedAt, message count, silo)
type Snapshot = BTreeMap<String, (Timestamp, u32, String)>;

/// The CI size, or the full size with `SCORELINE_SOAK=1`.
fn crash_size() -> (usize, usize) {
    if std::env::var("SCORELINE_SOAK").as_deref() == Ok("1") { (50_000, 20) } else { (5_000, 5) }
}

async fn simulator(seed: u64, tickets: usize) -> SimHandle {
    let now = Timestamp::from_millis(SystemClock.now().as_millis() / 1000 * 1000);
    let config =
        SimConfig { seed, tickets, days: SIM_DAYS, clock: ClockMode::Fixed(now), ..SimConfig::default() };
    Simulator::spawn(config).await.unwrap()
}

/// What HelpDesk holds that a backfill over the integration's planned windows must have stored.
async fn truth(sim: &SimHandle, db: &Db, id: IntegrationId) -> Snapshot {
    let windows = db.sync_windows(id).await.unwrap();
    assert!(!windows.is_empty() && windows.iter().all(|w| w.done), "every backfill window done");
    let from = windows.iter().map(|w| w.start).min().unwrap();
    let until = windows.iter().map(|w| w.end).max().unwrap();
    sim.truth()
        .into_iter()
        .filter(|t| t.updated_at >= from && t.updated_at < until)
        .filter(|t| matches!(t.silo.as_str(), "tickets" | "archive"))
        .map(|t| (t.id.to_string(), (t.updated_at, t.message_count as u32, t.silo.as_str().to_owned())))
        .collect()
}

/// Every stored case of the integration; fails on a source id stored twice.
async fn stored(db: &Db, id: IntegrationId) -> Snapshot {
    let filter = CaseFilter::of_integration(id);
    let mut page = PageRequest::first(500);
    let mut snapshot = Snapshot::new();
    loop {
        let result = db.list_cases(&Scope::Everything, &filter, page).await.unwrap();
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
    assert_eq!(db.count_cases(id).await.unwrap() as usize, snapshot.len(), "every case counted once");
    snapshot
}

/// The successful ticket-list requests, in order. A failed answer (a fault) would explain a
/// repeat of its request, so only answered ones count.
fn list_pages(requests: &[RequestRecord]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.service == "api" && r.method == "GET" && r.uri.starts_with("/v1/tickets?"))
        .filter(|r| r.status == 200)
        .map(|r| r.uri.clone())
        .collect()
}

/// How many list pages were fetched again: each URI beyond its first answer. The URI names the
/// silo, the window and the keyset cursor, so it names the page.
fn refetched(pages: &[String]) -> usize {
    pages.len() - pages.iter().collect::<BTreeSet<_>>().len()
}

fn list_page_count(sim: &SimHandle) -> usize {
    list_pages(&sim.requests()).len()
}

/// Connects the simulator's account with its access token, in this process, over the database
/// the children use.
async fn connect_in_process(database: &TestDatabase, sim: &SimHandle) -> IntegrationId {
    let sealer = Arc::new(Sealer::from_encoded_key(KEY).unwrap());
    let settings = AppSettings {
        helpdesk: HelpDeskSettings { api_url: sim.api_base_url(), ..HelpDeskSettings::default() },
        ..AppSettings::default()
    };
    let app = App::new(database.db.clone(), Arc::new(SystemClock), sealer, settings);
    let input = ConnectIntegration {
        label: "Crash test".into(),
        auth_method: "token".into(),
        account_id: sim.account_id(),
        token: Some(sim.pat().into()),
        retention_value: Some(1),
        retention_unit: "years".into(),
        backfill_days: Some(BACKFILL_DAYS),
        ..ConnectIntegration::default()
    };
    app.connect_with_token(&Actor::System, input).await.unwrap().id
}

fn spawn_sync(dir: &Path, env: &[(&str, &str)], id: IntegrationId, run: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("sync-{run}.log"))).unwrap();
    scoreline(dir, env)
        .args(["sync", "--integration", &id.to_string(), "--wait"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

on_both_backends!(sync_killed_with_sigkill_resumes_without_loss_or_duplicates);

async fn sync_killed_with_sigkill_resumes_without_loss_or_duplicates(backend: TestBackend) {
    let seed = 0x5eed_c4a5;
    let (tickets, kills) = crash_size();
    let started = Instant::now();
    let sim = simulator(seed, tickets).await;
    let database = TestDatabase::fresh(backend).await;
    let id = connect_in_process(&database, &sim).await;
    let dir = tempfile::tempdir().unwrap();
    let api_url = sim.api_base_url();
    // A short lease: a killed child's claim must lapse before the next one can sync.
    let env = [
        ("SCORELINE_DATABASE_URL", database.url.as_str()),
        ("SCORELINE_SECRET_KEY", KEY),
        ("SCORELINE_HELPDESK_API_URL", api_url.as_str()),
        ("SCORELINE_RATE_LIMIT_PER_SEC", "100"),
        ("SCORELINE_SYNC_LEASE_SECS", "1"),
    ];

    // Kill points: each child is killed once the simulator has answered a random number of
    // further list pages, at most 1/(kills+1) of the whole backfill each, so every kill lands
    // before the backfill could end even with no page re-fetched.
    let in_backfill = sim.truth().iter().filter(|t| matches!(t.silo.as_str(), "tickets" | "archive")).count();
    let estimated_pages = in_backfill / 100 + 2 * BACKFILL_DAYS as usize;
    let gap = (estimated_pages / (kills + 1)).max(2);
    let mut rng = StdRng::seed_from_u64(seed);
    for run in 0..kills {
        let target = list_page_count(&sim) + rng.random_range(1..=gap);
        let mut child = spawn_sync(dir.path(), &env, id, run);
        // Observing progress, not waiting for readiness: the child's requests are the signal.
        while list_page_count(&sim) < target {
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(dir.path().join(format!("sync-{run}.log"))).unwrap();
                panic!("run {run} ended ({status}) before its kill at list page {target}: {log}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let mut last = spawn_sync(dir.path(), &env, id, kills);
    let deadline = Instant::now() + Duration::from_secs(if tickets > 10_000 { 900 } else { 300 });
    let status = loop {
        if let Some(status) = last.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the last sync run did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let log = std::fs::read_to_string(dir.path().join(format!("sync-{kills}.log"))).unwrap();
    assert!(status.success(), "the last run failed: {log}");

    let expected = truth(&sim, &database.db, id).await;
    assert!(expected.len() > tickets / 2, "the backfill range holds the data: {}", expected.len());
    assert_eq!(stored(&database.db, id).await, expected, "stored cases equal HelpDesk");
    let state = database.db.sync_state(id, SystemClock.now()).await.unwrap();
    assert_eq!(state.phase.as_str(), "live");
    assert_eq!(state.windows_done, state.windows_total);

    // A page is re-fetched when a child dies after HelpDesk answered it and before the page and
    // its checkpoint were committed. Each window in flight has at most two such pages (the one
    // being written and the next one, asked for meanwhile), and a run has at most `concurrency`
    // windows in flight, so the bound is kills × 2 × concurrency. Windows already done and pages
    // already committed are never asked for again.
    let pages = list_pages(&sim.requests());
    let again = refetched(&pages);
    let concurrency = SyncSettings::default().concurrency;
    println!(
        "{backend:?}: {tickets} tickets, {} cases, {kills} kills, {} list pages, {again} re-fetched (bound {}), {:.1?}",
        expected.len(),
        pages.len(),
        kills * 2 * concurrency,
        started.elapsed()
    );
    assert!(again <= kills * 2 * concurrency, "{again} pages re-fetched after {kills} kills");
}

/// The lease owner is `"<pid>-<uuid>"`.
async fn lease_holder_pid(db: &Db, id: IntegrationId) -> Option<u32> {
    let Db::Postgres(store) = db else { unreachable!("two servers share PostgreSQL") };
    let owner: Option<String> =
        sqlx::query_scalar("SELECT lease_owner FROM sync_states WHERE integration_id = $1::uuid")
            .bind(id.to_string())
            .fetch_optional(store.pool())
            .await
            .unwrap()
            .flatten();
    owner.and_then(|owner| owner.split('-').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_the_sync_and_the_survivor_takes_over() {
    if postgres_admin_url().is_none() {
        return;
    }
    let seed = 0x2_5e7e;
    let sim = simulator(seed, 5_000).await;
    let database = TestDatabase::fresh(TestBackend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let api_url = sim.api_base_url();
    let env = [
        ("SCORELINE_DATABASE_URL", database.url.as_str()),
        ("SCORELINE_SECRET_KEY", KEY),
        ("SCORELINE_HELPDESK_API_URL", api_url.as_str()),
        ("SCORELINE_RATE_LIMIT_PER_SEC", "40"),
        ("SCORELINE_SYNC_LEASE_SECS", "3"),
    ];
    let mut create = scoreline(dir.path(), &env);
    create.args(["users", "create", "--email", "ops@example.com", "--name", "Ops", "--role", "global_admin"]);
    create.arg("--password-stdin");
    let created = run_with_stdin(create, "a strong password\n");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token = scoreline(dir.path(), &env).args(["tokens", "create", "--email", "ops@example.com"]).output();
    let token = String::from_utf8(token.unwrap().stdout).unwrap().trim().to_owned();

    let mut servers = [Server::start(dir.path(), &env), Server::start(dir.path(), &env)];
    let connected = reqwest::Client::new()
        .post(servers[0].url("/api/v1/integrations"))
        .bearer_auth(&token)
        .json(&json!({
            "kind": "helpdesk", "label": "Shared HelpDesk",
            "auth": { "method": "token", "account_id": sim.account_id(), "token": sim.pat() },
            "retention": { "value": 1, "unit": "years" },
            "backfill_days": BACKFILL_DAYS,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), reqwest::StatusCode::CREATED);
    let body: Value = connected.json().await.unwrap();
    let id: IntegrationId = body["id"].as_str().unwrap().parse().unwrap();

    // Both schedulers find the integration due; one holds the lease and backfills. Once part of
    // the backfill is in, the holder is killed.
    let kill_at = StdRng::seed_from_u64(seed).random_range(10..=30);
    let deadline = Instant::now() + Duration::from_secs(120);
    let holder = loop {
        if list_page_count(&sim) >= kill_at
            && let Some(pid) = lease_holder_pid(&database.db, id).await
        {
            break servers.iter().position(|s| s.pid() == pid).expect("the holder is one of the servers");
        }
        assert!(Instant::now() < deadline, "the backfill did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    servers[holder].kill();
    let before_kill = list_pages(&sim.requests());
    assert_eq!(refetched(&before_kill), 0, "no list page was fetched twice while both servers ran");
    assert!(
        database.db.sync_state(id, SystemClock.now()).await.unwrap().phase.as_str() != "live",
        "killed mid-backfill"
    );

    // The survivor takes the lease once the dead holder's claim lapses and finishes the backfill.
    let survivor = 1 - holder;
    loop {
        let state = database.db.sync_state(id, SystemClock.now()).await.unwrap();
        if state.phase.as_str() == "live" {
            break;
        }
        assert!(servers[survivor].is_running(), "the survivor is still up");
        assert!(Instant::now() < deadline, "the survivor did not finish the backfill: {state:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expected = truth(&sim, &database.db, id).await;
    assert_eq!(stored(&database.db, id).await, expected, "stored cases equal HelpDesk");
    // Only the pages in flight when the holder died may be fetched again: per window, the one
    // being written and the next one, asked for meanwhile.
    let pages = list_pages(&sim.requests());
    let again = refetched(&pages);
    let concurrency = SyncSettings::default().concurrency;
    println!(
        "two servers: {} cases, {} list pages ({} before the kill), {again} re-fetched after the kill",
        expected.len(),
        pages.len(),
        before_kill.len()
    );
    assert!(again <= 2 * concurrency, "{again} pages re-fetched after one kill");
}
