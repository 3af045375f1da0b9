//! `scoreline-bench lists`: generated cases matched to generated agents, then the list preview,
//! a random 5-per-agent run filtered by date and status, and filtered pages of the cases list,
//! on SQLite and (with a server URL) PostgreSQL; the budgets of DESIGN.md §6.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use scoreline_app::{
    Actor, App, ConnectIntegration, CreateGroup, CreateStaffFromAgents, CreateTeam, CreateUser,
};
use scoreline_core::{
    CaseContent, CaseFilter, Clock, EvaluatorShare, ListDefinition, ListFilters, ListKind, ManualClock,
    PageRequest, Per, Relative, Timestamp,
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

pub async fn run(
    backend: &str,
    db: Db,
    sim: &ChildSim,
    cases: usize,
    agents: usize,
    report: &mut Report,
) -> Result<()> {
    let clock = Arc::new(ManualClock::new(sim.now));
    let settings =
        measure::settings(sim, scoreline_app::RateLimit { requests_per_second: 1000.0, burst: 100 });
    let sealer = Arc::new(scoreline_store::Sealer::from_key(&[7; 32]));
    let app = App::new(db.clone(), clock.clone(), sealer, settings);
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
    let team = CreateTeam { group_id: Some(group.id), name: "Agents".to_owned() };
    let team = app.create_team(&Actor::System, team).await?;
    let records: Vec<AgentRecord> = (0..agents)
        .map(|i| AgentRecord {
            agent_id: format!("agent-{i}"),
            name: format!("Agent {i}"),
            email: format!("agent{i}@bench.example"),
            roles: vec!["agent".to_owned()],
            status: "active".to_owned(),
        })
        .collect();
    let now = clock.now();
    db.upsert_agents(integration, &records, now).await?;
    let input = CreateStaffFromAgents {
        agent_ids: records.iter().map(|a| a.agent_id.clone()).collect(),
        team_id: Some(team.id),
    };
    app.create_staff_from_agents(&Actor::System, integration, input).await?;
    let evaluator = CreateUser {
        email: "evaluator@bench.example".to_owned(),
        name: "Evaluator".to_owned(),
        role: "supervisor".to_owned(),
        password: None,
        team_ids: vec![team.id],
    };
    let evaluator = app.create_user(&Actor::System, evaluator).await?;

    eprintln!("{backend}: storing {cases} generated cases…");
    let started = Instant::now();
    let mut state = 42_u64;
    let day = 86_400_000_i64;
    let mut chunk = Vec::with_capacity(1000);
    for i in 0..cases {
        let created = now.as_millis() - (next(&mut state) % (90 * day as u64)) as i64;
        let agent = next(&mut state) as usize % agents;
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
            message_count: 3,
            event_count: 4,
            agent_message_count: 1,
            content: CaseContent {
                subject: Some(format!("Case {i}")),
                requester: None,
                tags: Vec::new(),
                custom_fields: serde_json::json!({}),
                events: serde_json::json!([]),
            },
        });
        if chunk.len() == 1000 || i + 1 == cases {
            let checkpoint = Checkpoint::Cursor { updated_at: now };
            db.store_page(integration, &chunk, &checkpoint, now).await?;
            chunk.clear();
        }
    }
    report.note(format!(
        "{backend}: stored {cases} cases of {agents} matched agents in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    let definition = ListDefinition {
        name: "Bench".to_owned(),
        time_zone: "UTC".to_owned(),
        integration_ids: vec![integration],
        filters: ListFilters {
            relative: Some(Relative::LastDays { last_days: 7 }),
            statuses: vec!["solved".to_owned()],
            ..ListFilters::default()
        },
        kind: ListKind::Random,
        count: Some(5),
        per: Per::Agent,
        evaluators: vec![EvaluatorShare { user_id: evaluator.id, weight: None }],
        ..ListDefinition::default()
    };
    let admin = app
        .create_user(
            &Actor::System,
            CreateUser {
                email: "admin@bench.example".to_owned(),
                name: "Admin".to_owned(),
                role: "global_admin".to_owned(),
                password: None,
                team_ids: Vec::new(),
            },
        )
        .await?;
    let admin = app.actor_for(admin).await?;

    let own_peak = rss::reset_peak();
    let started = Instant::now();
    let preview = app.preview_list(&admin, definition.clone()).await?;
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

    let list = app.create_list(&admin, definition).await?;
    rss::reset_peak();
    let started = Instant::now();
    let run = app.run_list(&admin, list.id, Vec::new()).await?;
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

    // Filtered pages of the cases list: status and a staff member, newest first.
    let users = app.list_users(&admin, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    let mut times = Vec::new();
    for i in 0..200 {
        let user = &users[i % users.len()];
        let filter = CaseFilter {
            integration_ids: vec![integration],
            agent_user_ids: vec![user.id],
            statuses: vec![STATUSES[i % STATUSES.len()].to_owned()],
            ..CaseFilter::default()
        };
        let started = Instant::now();
        app.list_cases(&admin, &filter, PageRequest::first(50)).await?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    let p95: Duration = times[times.len() * 95 / 100];
    report.note(format!(
        "{backend}: filtered cases page (staff member + status, 50 rows): p50 {:.1} ms, p95 {:.1} ms",
        times[times.len() / 2].as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0
    ));
    report.budget(Budget::at_most(
        &format!("{backend} cases page p95 (ms)"),
        p95.as_secs_f64() * 1000.0,
        20.0,
        |v| format!("{v:.1}"),
    ));
    Ok(())
}
