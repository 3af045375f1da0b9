//! `scoreline-bench lists`: generated cases matched to generated agents, then the list preview,
//! a random 5-per-agent run filtered by date and status, filtered pages of the cases list, one
//! pass over 200 scheduled lists that are all due, and the retention purge of every case, on
//! SQLite and (with a server URL) PostgreSQL; the budgets of DESIGN.md §6.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use scoreline_app::{
    Actor, App, ConnectIntegration, CreateGroup, CreateStaffFromAgents, CreateTeam, CreateUser,
};
use scoreline_core::{
    CaseContent, CaseFilter, Clock, EvaluatorShare, Every, ListDefinition, ListFilters, ListKind, ListScope,
    ManualClock, PageRequest, Per, Relative, Schedule, Scope, TeamId, Timestamp,
};
use scoreline_store::Db;
use scoreline_store::sync::{AgentRecord, CaseRecord, Checkpoint};

use crate::measure;
use crate::report::{Budget, Report};
use crate::rss;
use crate::sim::ChildSim;

const STATUSES: [&str; 5] = ["open", "pending", "onhold", "solved", "closed"];

/// A small deterministic generator, so every run stores the same cases.
pub fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What one run of the command generates and measures.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub cases: usize,
    pub agents: usize,
    /// Staff members per team; the scheduled lists are scoped to one team each.
    pub team_size: usize,
    pub scheduled_lists: usize,
    pub skip_purge: bool,
    /// Measure the purge alone.
    pub only_purge: bool,
    /// Measure the cases a run with `--keep` left in the database instead of generating any.
    pub reuse: bool,
    /// Generate with the secondary indexes of `cases` dropped, and rebuild them after.
    pub bulk: bool,
    /// Store the generated cases in no order of their dates (instead of oldest first).
    pub random_order: bool,
    /// Cases per purge transaction (the app's default when `None`).
    pub purge_batch: Option<u32>,
    /// On SQLite, the page cache (KiB per connection) the cases pages are measured with again,
    /// next to the store's own.
    pub compare_cache_kib: Option<u32>,
}

/// About 1 KB of conversation per case, so the purge deletes content of a realistic size.
const MESSAGE: &str = "Hello, I ordered the blue model last week and the parcel arrived with a cracked lid. \
     The tracking page says delivered but the box was left at the wrong door. Could you send a \
     replacement, or tell me how to return this one? I have attached two photos of the damage.";

/// The app over `db`, its clock, and what the measurements need from the generated data.
struct Bench {
    app: App,
    db: Db,
    clock: Arc<ManualClock>,
    settings: scoreline_app::AppSettings,
    integration: scoreline_core::IntegrationId,
    teams: Vec<TeamId>,
    evaluator: scoreline_core::UserId,
    admin: Actor,
}

/// `url` is the database's, for a second connection with another page cache.
pub async fn run(
    backend: &str,
    db: Db,
    url: &str,
    sim: &ChildSim,
    options: Options,
    report: &mut Report,
) -> Result<()> {
    let (bench, cases) = if options.reuse {
        let bench = existing(db, sim, options).await?;
        let cases = bench.db.count_cases(bench.integration).await?;
        report.note(format!("{backend}: measured the {cases} cases already stored in {}", redacted(url)));
        (bench, usize::try_from(cases)?)
    } else {
        let bench = setup(db, sim, options).await?;
        generate(backend, &bench, options, report).await?;
        (bench, options.cases)
    };
    if !options.only_purge {
        measure_lists(backend, &bench, report).await?;
        measure_pages(backend, &bench.app, &bench, "", report).await?;
        if let (Db::Sqlite(_), Some(cache_kib)) = (&bench.db, options.compare_cache_kib) {
            let other = Db::Sqlite(scoreline_store::SqliteStore::connect_with_cache(url, cache_kib).await?);
            let app = App::new(other.clone(), bench.clock.clone(), sealer(), bench.settings.clone());
            let label = format!(" with a {cache_kib} KiB page cache");
            measure_pages(backend, &app, &bench, &label, report).await?;
            other.close().await;
        }
        scheduled(backend, &bench, options, report).await?;
    }
    if !options.skip_purge {
        purge(backend, &bench, cases, report).await?;
    }
    Ok(())
}

/// A database URL without its password, for the report.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_owned(),
    }
}

fn sealer() -> Arc<scoreline_store::Sealer> {
    Arc::new(scoreline_store::Sealer::from_key(&[7; 32]))
}

/// What `setup` made, found again in a database a run with `--keep` left.
async fn existing(db: Db, sim: &ChildSim, options: Options) -> Result<Bench> {
    let clock = Arc::new(ManualClock::new(sim.now));
    let settings = bench_settings(sim, options);
    let app = App::new(db.clone(), clock.clone(), sealer(), settings.clone());
    let all = PageRequest::first(PageRequest::MAX_LIMIT);
    let integration =
        db.list_integrations(all).await?.items.first().map(|integration| integration.id).ok_or_else(
            || anyhow::anyhow!("the database holds no integration; generate it with --keep first"),
        )?;
    let mut teams = db.list_teams(&Scope::Everything, all).await?.items;
    // "Agents 1", "Agents 2", …: in the order setup made them.
    teams.sort_by_key(|team| team.name.trim_start_matches("Agents ").parse::<usize>().unwrap_or(usize::MAX));
    let teams: Vec<TeamId> = teams.into_iter().map(|team| team.id).collect();
    let user = async |email: &str| -> Result<scoreline_core::User> {
        db.find_user_credentials(email)
            .await?
            .map(|found| found.user)
            .ok_or_else(|| anyhow::anyhow!("the database has no user {email}; generate it with --keep first"))
    };
    let evaluator = user("evaluator@bench.example").await?.id;
    let admin = app.actor_for(user("admin@bench.example").await?).await?;
    Ok(Bench { app, db, clock, settings, integration, teams, evaluator, admin })
}

fn bench_settings(sim: &ChildSim, options: Options) -> scoreline_app::AppSettings {
    let mut settings =
        measure::settings(sim, scoreline_app::RateLimit { requests_per_second: 1000.0, burst: 100 });
    if let Some(batch) = options.purge_batch {
        settings.purge_batch = batch;
    }
    settings
}

async fn setup(db: Db, sim: &ChildSim, options: Options) -> Result<Bench> {
    let clock = Arc::new(ManualClock::new(sim.now));
    let settings = bench_settings(sim, options);
    let app = App::new(db.clone(), clock.clone(), sealer(), settings.clone());
    let connect = ConnectIntegration {
        label: "Bench".to_owned(),
        auth_method: "token".to_owned(),
        account_id: sim.account_id.clone(),
        token: Some(sim.pat.clone().into()),
        retention_value: Some(12),
        retention_unit: "months".to_owned(),
        backfill_days: Some(1),
        ..ConnectIntegration::default()
    };
    let integration = app.connect_with_token(&Actor::System, connect).await?.id;
    let group = app.create_group(&Actor::System, CreateGroup { name: "Bench".to_owned() }).await?;
    let records: Vec<AgentRecord> = (0..options.agents)
        .map(|i| AgentRecord {
            agent_id: format!("agent-{i}"),
            name: format!("Agent {i}"),
            email: format!("agent{i}@bench.example"),
            roles: vec!["agent".to_owned()],
            status: "active".to_owned(),
        })
        .collect();
    db.upsert_agents(integration, &records, clock.now()).await?;
    let mut teams = Vec::new();
    for (i, members) in records.chunks(options.team_size.max(1)).enumerate() {
        let team = CreateTeam { group_id: Some(group.id), name: format!("Agents {}", i + 1) };
        let team = app.create_team(&Actor::System, team).await?;
        let input = CreateStaffFromAgents {
            agent_ids: members.iter().map(|a| a.agent_id.clone()).collect(),
            team_id: Some(team.id),
        };
        app.create_staff_from_agents(&Actor::System, integration, input).await?;
        teams.push(team.id);
    }
    let evaluator = CreateUser {
        email: "evaluator@bench.example".to_owned(),
        name: "Evaluator".to_owned(),
        role: "supervisor".to_owned(),
        password: None,
        team_ids: vec![teams[0]],
    };
    let evaluator = app.create_user(&Actor::System, evaluator).await?.id;
    let admin = CreateUser {
        email: "admin@bench.example".to_owned(),
        name: "Admin".to_owned(),
        role: "global_admin".to_owned(),
        password: None,
        team_ids: Vec::new(),
    };
    let admin = app.create_user(&Actor::System, admin).await?;
    let admin = app.actor_for(admin).await?;
    Ok(Bench { app, db, clock, settings, integration, teams, evaluator, admin })
}

/// Writes the generated cases through the sync's own multi-row `store_page`, 1000 a statement
/// batch, as a backfill would: oldest first, so the rows lie in the files in about the order of
/// their dates, as a backfill (window by window, oldest first) and the live sync after it leave
/// them (`options.random_order`: dates in no order, the layout this benchmark used until 1 Dec
/// 2026, the worst case for the purge). With `options.bulk`, the secondary indexes of `cases` are dropped
/// first and built again after (a sort each instead of a million random inserts): the same rows,
/// in a fraction of the time, with indexes as densely packed as a fresh build makes them.
async fn generate(backend: &str, bench: &Bench, options: Options, report: &mut Report) -> Result<()> {
    eprintln!("{backend}: storing {} generated cases…", options.cases);
    let dropped = if options.bulk { drop_case_indexes(&bench.db).await? } else { Vec::new() };
    let started = Instant::now();
    let now = bench.clock.now();
    let mut state = 42_u64;
    let day = 86_400_000_i64;
    let span = 90 * day as u64;
    let mut chunk = Vec::with_capacity(1000);
    for i in 0..options.cases {
        let ago = if options.random_order {
            next(&mut state) % span
        } else {
            // The i-th of `cases` equal slices of the 90 days, oldest first, somewhere in it.
            let slice = span / options.cases.max(1) as u64;
            span - (i as u64 * span / options.cases.max(1) as u64) - next(&mut state) % slice.max(1)
        };
        let created = now.as_millis() - ago as i64;
        let agent = next(&mut state) as usize % options.agents;
        let events = scoreline_core::RawJson::from_value(&serde_json::json!([
            { "type": "message", "date": created, "author": { "type": "client" }, "message": { "text": MESSAGE } },
            { "type": "message", "date": created + 3_000_000, "author": { "type": "agent", "id": format!("agent-{agent}") },
              "message": { "text": MESSAGE } },
        ]));
        chunk.push(CaseRecord {
            source_id: format!("t{i}"),
            short_id: Some(format!("{i:X}")),
            status: STATUSES[next(&mut state) as usize % STATUSES.len()].to_owned(),
            priority: Some(0),
            silo: "tickets".to_owned(),
            team_id: None,
            team_name: None,
            agent_id: Some(format!("agent-{agent}")),
            agent_name: Some(format!("Agent {agent}")),
            created_at: Timestamp::from_millis(created),
            updated_at: Timestamp::from_millis(created + 3_600_000),
            last_message_at: Some(Timestamp::from_millis(created + 3_000_000)),
            message_count: 2,
            event_count: 2,
            agent_message_count: 1,
            content: CaseContent {
                subject: Some(format!("Case {i}: damaged parcel")),
                requester: Some(
                    serde_json::json!({ "name": "Customer", "email": format!("c{i}@example.com") }),
                ),
                tags: vec!["delivery".to_owned()],
                custom_fields: serde_json::json!({}),
                events,
            },
        });
        if chunk.len() == 1000 || i + 1 == options.cases {
            let checkpoint = Checkpoint::Cursor { updated_at: now };
            bench.db.store_page(bench.integration, &chunk, &checkpoint, now).await?;
            chunk.clear();
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!("{backend}: {} cases stored, {:.0} s", i + 1, started.elapsed().as_secs_f64());
        }
    }
    let stored = started.elapsed();
    let started = Instant::now();
    let rebuilt = dropped.len();
    for statement in dropped {
        execute(&bench.db, statement).await?;
    }
    if rebuilt > 0 {
        report.note(format!(
            "{backend}: {rebuilt} secondary indexes of cases dropped while generating, rebuilt in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    // As the server does hourly (and PostgreSQL's autovacuum after this much change).
    let started = Instant::now();
    bench.db.refresh_statistics().await?;
    if let Db::Postgres(_) = &bench.db {
        // Autovacuum's work after a million inserts, done now rather than during a measurement:
        // the visibility map lets index-only scans skip the table.
        execute(&bench.db, "VACUUM cases, case_contents".to_owned()).await?;
    }
    report.note(format!(
        "{backend}: stored {} cases of {} matched agents in {:.1} s; statistics refreshed (and on \
         PostgreSQL the tables vacuumed) in {:.1} s",
        options.cases,
        options.agents,
        stored.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Drops the indexes of `cases` that no constraint needs; returns the statements that build
/// them again, as the migrations wrote them.
async fn drop_case_indexes(db: &Db) -> Result<Vec<String>> {
    let indexes: Vec<(String, String)> = match db {
        // Indexes of constraints (the primary key, UNIQUE) have no SQL of their own.
        Db::Sqlite(store) => {
            sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases' AND sql IS NOT NULL",
            )
            .fetch_all(store.pool())
            .await?
        }
        Db::Postgres(store) => {
            sqlx::query_as(
                "SELECT i.indexname::TEXT, i.indexdef FROM pg_indexes i
                 WHERE i.schemaname = current_schema() AND i.tablename = 'cases'
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)",
            )
            .fetch_all(store.pool())
            .await?
        }
    };
    let mut rebuild = Vec::new();
    for (name, sql) in indexes {
        execute(db, format!("DROP INDEX \"{name}\"")).await?;
        rebuild.push(sql);
    }
    Ok(rebuild)
}

async fn execute(db: &Db, statement: String) -> Result<()> {
    let statement = sqlx::AssertSqlSafe(statement);
    match db {
        Db::Sqlite(store) => sqlx::raw_sql(statement).execute(store.pool()).await.map(drop)?,
        Db::Postgres(store) => sqlx::raw_sql(statement).execute(store.pool()).await.map(drop)?,
    }
    Ok(())
}

/// A random "5 per agent, last 7 days, solved" list over the whole organisation.
fn bench_definition(bench: &Bench) -> ListDefinition {
    ListDefinition {
        name: "Bench".to_owned(),
        time_zone: "UTC".to_owned(),
        integration_ids: vec![bench.integration],
        filters: ListFilters {
            relative: Some(Relative::LastDays { last_days: 7 }),
            statuses: vec!["solved".to_owned()],
            ..ListFilters::default()
        },
        kind: ListKind::Random,
        count: Some(5),
        per: Per::Agent,
        evaluators: vec![EvaluatorShare { user_id: bench.evaluator, weight: None }],
        ..ListDefinition::default()
    }
}

/// The preview and a run of the bench list, then filtered pages of the cases list.
async fn measure_lists(backend: &str, bench: &Bench, report: &mut Report) -> Result<()> {
    let (app, admin) = (&bench.app, &bench.admin);
    let definition = bench_definition(bench);
    // One untimed preview first, so both figures are of a warm cache, as on a running server.
    app.preview_list(admin, definition.clone()).await?;
    let own_peak = rss::reset_peak();
    let started = Instant::now();
    let preview = app.preview_list(admin, definition.clone()).await?;
    let preview_time = started.elapsed();
    let preview_rss = rss::own()?.peak;
    report.note(format!(
        "{backend}: preview: pool {} (+{} held back), would pick {}, in {:.0} ms, peak RSS {:.0} MiB{}",
        preview.pool_total,
        preview.held_back,
        preview.would_pick,
        preview_time.as_secs_f64() * 1000.0,
        rss::mib(preview_rss),
        if own_peak { "" } else { " (process peak)" }
    ));
    report.budget(Budget::at_most(
        &format!("{backend} preview (ms)"),
        preview_time.as_secs_f64() * 1000.0,
        300.0,
        |v| format!("{v:.0}"),
    ));

    let list = app.create_list(admin, definition).await?;
    rss::reset_peak();
    let started = Instant::now();
    let run = app.run_list(admin, list.id, Vec::new()).await?;
    let run_time = started.elapsed();
    let run_rss = rss::own()?.peak;
    report.note(format!(
        "{backend}: run: {} picks from a pool of {}, in {:.0} ms, peak RSS {:.0} MiB",
        run.picks.len(),
        run.pool_total,
        run_time.as_secs_f64() * 1000.0,
        rss::mib(run_rss)
    ));
    report.budget(Budget::at_most(
        &format!("{backend} run, random 5 per agent (s)"),
        run_time.as_secs_f64(),
        1.0,
        |v| format!("{v:.2}"),
    ));
    report.budget(Budget::at_most(
        &format!("{backend} peak RSS, preview and run (MiB)"),
        rss::mib(preview_rss.max(run_rss)),
        200.0,
        |v| format!("{v:.0}"),
    ));

    Ok(())
}

/// 200 filtered first pages of the cases list through `app` (status and a staff member, newest
/// first), and the count the cases page shows above them ("N cases match").
async fn measure_pages(
    backend: &str,
    app: &App,
    bench: &Bench,
    label: &str,
    report: &mut Report,
) -> Result<()> {
    let admin = &bench.admin;
    let users = app.list_users(admin, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    let mut pages = Vec::new();
    let mut counts = Vec::new();
    for i in 0..200 {
        let user = &users[i % users.len()];
        let filter = CaseFilter {
            integration_ids: vec![bench.integration],
            agent_user_ids: vec![user.id],
            statuses: vec![STATUSES[i % STATUSES.len()].to_owned()],
            ..CaseFilter::default()
        };
        let started = Instant::now();
        app.list_cases(admin, &filter, PageRequest::first(50)).await?;
        pages.push(started.elapsed());
        let started = Instant::now();
        app.count_cases(admin, &filter).await?;
        counts.push(started.elapsed());
    }
    let (p50, p95) = percentiles(&mut pages);
    let (count_p50, count_p95) = percentiles(&mut counts);
    report.note(format!(
        "{backend}: filtered cases page{label} (staff member + status, 50 rows): p50 {:.1} ms, \
         p95 {:.1} ms; its count: p50 {:.1} ms, p95 {:.1} ms",
        p50.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0,
        count_p50.as_secs_f64() * 1000.0,
        count_p95.as_secs_f64() * 1000.0
    ));
    report.budget(Budget::at_most(
        &format!("{backend} cases page p95{label} (ms)"),
        p95.as_secs_f64() * 1000.0,
        20.0,
        |v| format!("{v:.1}"),
    ));
    Ok(())
}

/// The median and the 95th percentile.
fn percentiles(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort_unstable();
    (times[times.len() / 2], times[(times.len() * 95 / 100).min(times.len() - 1)])
}

/// Lists scheduled daily, each scoped to one team (random 5 per agent of the last 7 days, in
/// one of two statuses), then one `run_due_lists` pass a day later, when every one is due.
async fn scheduled(backend: &str, bench: &Bench, options: Options, report: &mut Report) -> Result<()> {
    for i in 0..options.scheduled_lists {
        let team = bench.teams[i % bench.teams.len()];
        let mut definition = bench_definition(bench);
        definition.name = format!("Scheduled {}", i + 1);
        definition.scope = ListScope { team_ids: vec![team], ..ListScope::default() };
        definition.filters.statuses = vec![["solved", "closed"][(i / bench.teams.len()) % 2].to_owned()];
        definition.schedule =
            Some(Schedule { every: Every::Day, at: "06:00".to_owned(), weekday: None, day: None });
        bench.app.create_list(&bench.admin, definition).await?;
    }
    bench.clock.advance(Duration::from_secs(86_400));
    rss::reset_peak();
    let started = Instant::now();
    let ran = bench.app.run_due_lists().await?;
    let elapsed = started.elapsed();
    report.note(format!(
        "{backend}: scheduled pass: {ran} of {} lists ran in {:.1} s ({:.0} ms a list), peak RSS {:.0} MiB",
        options.scheduled_lists,
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / ran.max(1) as f64,
        rss::mib(rss::own()?.peak)
    ));
    if ran != options.scheduled_lists as u64 {
        anyhow::bail!("{backend}: {ran} scheduled lists ran, {} were due", options.scheduled_lists);
    }
    report.budget(Budget::at_most(
        &format!("{backend} scheduled pass, {} lists (s)", options.scheduled_lists),
        elapsed.as_secs_f64(),
        60.0,
        |v| format!("{v:.1}"),
    ));
    Ok(())
}

/// Every stored case past retention (the clock a year and a month on), purged by `App::purge`;
/// each batch's duration comes from its `scoreline_purge_batch_seconds` histogram.
async fn purge(backend: &str, bench: &Bench, cases: usize, report: &mut Report) -> Result<()> {
    let batches = purge_batches();
    lock(batches).clear();
    bench.clock.advance(Duration::from_secs(400 * 86_400));
    let started = Instant::now();
    let purging = std::sync::atomic::AtomicBool::new(true);
    let (reports, waits) = tokio::join!(
        async {
            let reports = bench.app.purge(&bench.admin, false).await;
            purging.store(false, std::sync::atomic::Ordering::Relaxed);
            reports
        },
        sync_beside(bench, &purging)
    );
    let (reports, mut waits) = (reports?, waits?);
    let elapsed = started.elapsed();
    let purged: u64 = reports.iter().map(|r| r.cases).sum();
    if purged != cases as u64 {
        anyhow::bail!("{backend}: the purge removed {purged} cases of {cases}");
    }
    let mut times: Vec<f64> = lock(batches).clone();
    times.sort_unstable_by(f64::total_cmp);
    let max = times.last().copied().unwrap_or(0.0);
    let p99 = times.get((times.len() * 99 / 100).min(times.len().saturating_sub(1))).copied().unwrap_or(0.0);
    let in_batches: f64 = times.iter().sum();
    report.note(format!(
        "{backend}: purge: {purged} cases in {} batches of {}, {:.1} s ({:.1} s in the batches); \
         batch p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        bench.settings.purge_batch,
        elapsed.as_secs_f64(),
        in_batches,
        times.get(times.len() / 2).copied().unwrap_or(0.0) * 1000.0,
        p99 * 1000.0,
        max * 1000.0
    ));
    waits.sort_unstable_by(f64::total_cmp);
    report.note(format!(
        "{backend}: beside the purge, the sync stored {} one-case pages; each took p50 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms (its wait for the write lock, and its own work)",
        waits.len(),
        waits.get(waits.len() / 2).copied().unwrap_or(0.0) * 1000.0,
        waits.get(waits.len() * 99 / 100).copied().unwrap_or(0.0) * 1000.0,
        waits.last().copied().unwrap_or(0.0) * 1000.0
    ));
    report.budget(Budget::at_most(
        &format!("{backend} purge of {cases} expired cases (s)"),
        elapsed.as_secs_f64(),
        60.0,
        |v| format!("{v:.1}"),
    ));
    report.budget(Budget::at_most(
        &format!("{backend} longest purge batch (ms)"),
        max * 1000.0,
        100.0,
        |v| format!("{v:.1}"),
    ));
    Ok(())
}

/// What the sync would do during a purge: store a page (of one new case, not expired) every
/// 10 ms; returns how long each took. A purge batch holding the write lock shows here as the
/// wait of the page stored behind it.
async fn sync_beside(bench: &Bench, purging: &std::sync::atomic::AtomicBool) -> Result<Vec<f64>> {
    let mut took = Vec::new();
    while purging.load(std::sync::atomic::Ordering::Relaxed) {
        let now = bench.clock.now();
        let case = CaseRecord {
            source_id: format!("beside-{}", took.len()),
            short_id: None,
            status: "open".to_owned(),
            priority: Some(0),
            silo: "tickets".to_owned(),
            team_id: None,
            team_name: None,
            agent_id: Some("agent-0".to_owned()),
            agent_name: Some("Agent 0".to_owned()),
            created_at: now,
            updated_at: now,
            last_message_at: None,
            message_count: 0,
            event_count: 0,
            agent_message_count: 0,
            content: CaseContent {
                subject: Some("Stored beside the purge".to_owned()),
                requester: None,
                tags: Vec::new(),
                custom_fields: serde_json::json!({}),
                events: scoreline_core::RawJson::empty_array(),
            },
        };
        let started = Instant::now();
        bench.db.store_page(bench.integration, &[case], &Checkpoint::Cursor { updated_at: now }, now).await?;
        took.push(started.elapsed().as_secs_f64());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(took)
}

/// The durations the purge records, collected by this process's metrics recorder (installed
/// on first use).
fn purge_batches() -> &'static Mutex<Vec<f64>> {
    static BATCHES: OnceLock<Arc<Mutex<Vec<f64>>>> = OnceLock::new();
    BATCHES.get_or_init(|| {
        let batches = Arc::new(Mutex::new(Vec::new()));
        // Fails only if another recorder is installed, and then the batches stay unmeasured.
        let _ = metrics::set_global_recorder(PurgeBatchRecorder(batches.clone()));
        batches
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keeps every value of the purge batch histogram and drops every other metric.
struct PurgeBatchRecorder(Arc<Mutex<Vec<f64>>>);

struct Collect(Arc<Mutex<Vec<f64>>>);

impl metrics::HistogramFn for Collect {
    fn record(&self, value: f64) {
        lock(&self.0).push(value);
    }
}

impl metrics::Recorder for PurgeBatchRecorder {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}

    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }

    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }

    fn register_histogram(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        if key.name() == scoreline_app::PURGE_BATCH_SECONDS {
            metrics::Histogram::from_arc(Arc::new(Collect(self.0.clone())))
        } else {
            metrics::Histogram::noop()
        }
    }
}
