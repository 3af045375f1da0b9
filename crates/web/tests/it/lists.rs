//! Lists over cases stored with known attributes, through the API, on both backends: each type,
//! per-agent and total counts, filters and exclusions, evaluator splits, never one's own case,
//! runs, skips with replacement, scope, refused definitions, and scheduled slots run exactly
//! once by two app instances on one database.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use scoreline_app::{Actor, App, CreateTeam};
use scoreline_core::{Clock, IntegrationId, TeamId, User};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{SeedCase, TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::case_filters::ago;

struct World {
    test: TestApp,
    integration: IntegrationId,
    tier1: TeamId,
    tier2: TeamId,
    ann: User,
    cid: User,
    bob: User,
    /// A supervisor of Tier 1 who is also a HelpDesk agent with cases.
    sue: User,
    /// A supervisor of Tier 1 who evaluates.
    sup: User,
    admin: String,
}

/// Ann (12 eligible cases), Cid (3) and Sue (4) in Tier 1, Bob (6) in Tier 2, Hal unmatched (4);
/// Ann also has cases that no list may pick: in trash, in spam, purged, open, and old.
async fn world(backend: TestBackend) -> World {
    let test = TestApp::with_helpdesk(backend, SimConfig { tickets: 0, ..SimConfig::default() }).await;
    let integration = test.connect_token(|_| {}).await;
    let (group, tier1) = test.support_team().await;
    let tier2 = CreateTeam { group_id: Some(group), name: "Tier 2".to_owned() };
    let tier2 = test.app.create_team(&Actor::System, tier2).await.unwrap().id;
    let ann = test.seed_matched_agent(integration, "ann", "Ann", Some(tier1)).await;
    let cid = test.seed_matched_agent(integration, "cid", "Cid", Some(tier1)).await;
    let bob = test.seed_matched_agent(integration, "bob", "Bob", Some(tier2)).await;
    let sue = test.seed_matched_agent(integration, "sue", "Sue", Some(tier1)).await;
    let change = scoreline_app::UpdateUser { role: Some("supervisor".to_owned()), ..Default::default() };
    let sue = test.app.update_user(&Actor::System, sue.id, change).await.unwrap();
    test.seed_agent(integration, "hal").await;
    let sup = test.new_person("supervisor").await;
    test.app.add_team_member(&Actor::System, tier1, sup.id).await.unwrap();
    let mut cases = Vec::new();
    let mut add = |agent: &str, n: u64, change: &dyn Fn(&mut SeedCase)| {
        let start = cases.len() as u64;
        for i in 0..n {
            let id = format!("{agent}-{}", start + i);
            cases.push(SeedCase::new(id, Some(agent), ago(&test, 1 + i % 5, i)).with(change));
        }
    };
    add("ann", 12, &|_| {});
    add("cid", 3, &|_| {});
    add("bob", 6, &|_| {});
    add("sue", 4, &|_| {});
    add("hal", 4, &|_| {});
    add("ann", 1, &|c| c.silo = "trash".into());
    add("ann", 1, &|c| c.silo = "spam".into());
    add("ann", 1, &|c| c.status = "open".into());
    add("ann", 1, &|c| {
        c.created_at = ago(&test, 20, 0);
        c.updated_at = ago(&test, 20, 0);
    });
    add("ann", 1, &|c| {
        c.created_at = ago(&test, 400, 0);
        c.updated_at = ago(&test, 400, 0);
        c.subject = "purged".into();
    });
    test.seed_cases(integration, &cases).await;
    let purged =
        test.store().purge_batch(integration, ago(&test, 300, 0), 100, test.clock.now()).await.unwrap();
    assert_eq!(purged, 1);
    let (_, admin) = test.api_user("global_admin").await;
    World { test, integration, tier1, tier2, ann, cid, bob, sue, sup, admin }
}

impl World {
    /// "Random 5 per agent, last 7 days, solved", with `change` applied.
    fn definition(&self, change: impl FnOnce(&mut Value)) -> Value {
        let mut definition = json!({
            "name": "Weekly sample", "time_zone": "Europe/Berlin",
            "integration_ids": [self.integration],
            "filters": { "date_field": "created", "relative": { "last_days": 7 }, "statuses": ["solved"] },
            "type": "random", "count": 5, "per": "agent",
            "evaluators": [{ "user_id": self.sup.id }, { "user_id": self.sue.id }],
            "replace_skipped": true,
        });
        change(&mut definition);
        definition
    }

    async fn create(&self, auth: &str, definition: &Value) -> Value {
        let (status, list) = self.test.call(auth, Method::POST, "/api/v1/lists", Some(definition)).await;
        assert_eq!(status, StatusCode::CREATED, "{list}");
        list
    }

    async fn run(&self, list: &Value) -> Value {
        let path = format!("/api/v1/lists/{}/runs", list["id"].as_str().unwrap());
        let (status, run) = self.test.call(&self.admin, Method::POST, &path, None).await;
        assert_eq!(status, StatusCode::CREATED, "{run}");
        run
    }

    /// The source ids of the picked cases.
    async fn picked_sources(&self, run: &Value) -> Vec<String> {
        let all = self.test.all_items(&self.admin, "/api/v1/cases?limit=500").await;
        let by_id: HashMap<&str, &str> =
            all.iter().map(|c| (c["id"].as_str().unwrap(), c["source_id"].as_str().unwrap())).collect();
        run["picked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| by_id[p["case_id"].as_str().unwrap()].to_owned())
            .collect()
    }
}

fn per_agent(run: &Value) -> HashMap<String, (u64, u64)> {
    run["per_agent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["user_id"].as_str().unwrap().to_owned(),
                (a["pool"].as_u64().unwrap(), a["picked"].as_u64().unwrap()),
            )
        })
        .collect()
}

on_both_backends!(
    random_per_agent_picks_only_eligible_cases_and_never_an_evaluators_own,
    totals_weights_sequential_all_and_manual,
    skips_are_replaced_from_the_same_agents_pool,
    bad_definitions_are_refused_field_by_field_and_scope_holds,
    scheduled_slots_run_exactly_once_across_two_instances,
    an_evaluation_answers_its_assignment_and_evaluated_cases_leave_the_pool,
    preview_and_run_count_the_pool_and_the_held_back_cases_in_one_walk,
);

async fn random_per_agent_picks_only_eligible_cases_and_never_an_evaluators_own(backend: TestBackend) {
    let w = world(backend).await;
    let definition = w.definition(|_| {});
    let (status, preview) =
        w.test.call(&w.admin, Method::POST, "/api/v1/lists/preview", Some(&definition)).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["pool_total"], 12 + 3 + 6 + 4);
    assert_eq!(preview["held_back"], 4);
    assert_eq!(preview["would_pick"], 5 + 3 + 5 + 4);
    let (_, lists) = w.test.call(&w.admin, Method::GET, "/api/v1/lists", None).await;
    assert_eq!(lists["items"].as_array().unwrap().len(), 0, "a preview saves nothing");

    let list = w.create(&w.admin, &definition).await;
    assert_eq!(list["version"], 1);
    let run = w.run(&list).await;
    let agents = per_agent(&run);
    assert_eq!(agents[&w.ann.id.to_string()], (12, 5));
    assert_eq!(agents[&w.cid.id.to_string()], (3, 3));
    assert_eq!(agents[&w.bob.id.to_string()], (6, 5));
    assert_eq!(agents[&w.sue.id.to_string()], (4, 4));
    assert_eq!(run["held_back"], 4);
    let sources = w.picked_sources(&run).await;
    assert_eq!(sources.len(), 17);
    assert_eq!(sources.iter().collect::<HashSet<_>>().len(), 17, "no case twice");
    // Nothing held back, in trash or spam, purged, open or outside the window.
    for source in &sources {
        let number: u64 = source.split('-').nth(1).unwrap().parse().unwrap();
        let ineligible = source.starts_with("hal") || (source.starts_with("ann") && number >= 12);
        assert!(!ineligible, "{source}");
    }
    // Sue's cases all went to the other evaluator; the split is otherwise even.
    let mut load: HashMap<String, u64> = HashMap::new();
    for pick in run["picked"].as_array().unwrap() {
        let evaluator = pick["evaluator_id"].as_str().unwrap().to_owned();
        if pick["agent_user_id"] == w.sue.id.to_string() {
            assert_eq!(evaluator, w.sup.id.to_string());
        }
        assert!(pick["assignment_id"].is_string());
        *load.entry(evaluator).or_default() += 1;
    }
    assert_eq!(load.values().copied().collect::<HashSet<_>>(), HashSet::from([8, 9]), "{load:?}");
    // The run is on record as it was made.
    let path = format!("/api/v1/lists/{}/runs/{}", list["id"].as_str().unwrap(), run["id"].as_str().unwrap());
    let (_, again) = w.test.call(&w.admin, Method::GET, &path, None).await;
    assert_eq!(again, run);
    // A second run picks none of the cases the list already picked.
    let second = w.run(&list).await;
    let second_sources = w.picked_sources(&second).await;
    assert!(second_sources.iter().all(|s| !sources.contains(s)));
    assert_eq!(per_agent(&second)[&w.ann.id.to_string()], (7, 5));
}

async fn totals_weights_sequential_all_and_manual(backend: TestBackend) {
    let w = world(backend).await;
    // Total count, weighted 3:1 by largest remainder.
    let lead = w.test.new_person("team_admin").await;
    w.test.app.add_team_member(&Actor::System, w.tier1, lead.id).await.unwrap();
    let total = w.definition(|d| {
        d["per"] = json!("total");
        d["count"] = json!(8);
        d["scope"] = json!({ "user_ids": [w.ann.id, w.bob.id] });
        d["evaluators"] = json!([{ "user_id": w.sup.id, "weight": 3 }, { "user_id": lead.id, "weight": 1 }]);
    });
    let run = w.run(&w.create(&w.admin, &total).await).await;
    let total_picks: HashSet<Value> =
        run["picked"].as_array().unwrap().iter().map(|p| p["case_id"].clone()).collect();
    let picks = run["picked"].as_array().unwrap();
    assert_eq!(picks.len(), 8);
    assert_eq!(run["pool_total"], 18);
    let to_sup = picks.iter().filter(|p| p["evaluator_id"] == w.sup.id.to_string()).count();
    assert_eq!(to_sup, 6);
    assert!(picks.iter().all(|p| p["pool"] == 18));

    // Sequential: the oldest two per agent, then the next two.
    let sequential = w.definition(|d| {
        d["type"] = json!("sequential");
        d["count"] = json!(2);
        d["scope"] = json!({ "user_ids": [w.cid.id] });
    });
    let list = w.create(&w.admin, &sequential).await;
    let first = w.picked_sources(&w.run(&list).await).await;
    let second = w.picked_sources(&w.run(&list).await).await;
    let third = w.picked_sources(&w.run(&list).await).await;
    // Cid's cases: cid-12 is 1 day old, cid-13 2 days, cid-14 3 days.
    assert_eq!(first, ["cid-14", "cid-13"]);
    assert_eq!(second, ["cid-12"]);
    assert!(third.is_empty());

    // All: the whole pool of Tier 2; then nothing new. Team scope by team id.
    let all = w.definition(|d| {
        d["type"] = json!("all");
        d.as_object_mut().unwrap().remove("count");
        d["scope"] = json!({ "team_ids": [w.tier2] });
    });
    let list = w.create(&w.admin, &all).await;
    assert_eq!(w.picked_sources(&w.run(&list).await).await.len(), 6);
    assert!(w.picked_sources(&w.run(&list).await).await.is_empty());

    // Manual: chosen cases of the pool; a case outside it is refused and nothing is written.
    let manual = w.definition(|d| {
        d["type"] = json!("manual");
        d["scope"] = json!({ "user_ids": [w.ann.id] });
        d["exclude"] = json!({ "assigned_elsewhere": true });
    });
    let list = w.create(&w.admin, &manual).await;
    let cases =
        w.test.all_items(&w.admin, &format!("/api/v1/cases?agent_user_id={}&limit=500", w.ann.id)).await;
    let id_of = |source: &str| cases.iter().find(|c| c["source_id"] == source).unwrap()["id"].clone();
    let path = format!("/api/v1/lists/{}/runs", list["id"].as_str().unwrap());
    let outside = json!({ "case_ids": [id_of("ann-0"), id_of("ann-29")] });
    let (status, body) = w.test.call(&w.admin, Method::POST, &path, Some(&outside)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Ann's eligible cases: those the total list gave out are open elsewhere, so excluded.
    let eligible: Vec<Value> = (0..12).map(|n| id_of(&format!("ann-{n}"))).collect();
    let elsewhere =
        eligible.iter().find(|id| total_picks.contains(*id)).expect("the total list picked one of Ann's");
    let free = eligible.iter().find(|id| !total_picks.contains(*id)).expect("and left one");
    let (status, body) =
        w.test.call(&w.admin, Method::POST, &path, Some(&json!({ "case_ids": [elsewhere] }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) =
        w.test.call(&w.admin, Method::POST, &path, Some(&json!({ "case_ids": [free] }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["picked"].as_array().unwrap().len(), 1);
    assert_eq!(body["picked"][0]["case_id"], *free);
    let (_, work) = w.test.call(&w.admin, Method::GET, "/api/v1/lists", None).await;
    assert_eq!(work["items"].as_array().unwrap().len(), 4);
}

async fn skips_are_replaced_from_the_same_agents_pool(backend: TestBackend) {
    let w = world(backend).await;
    let definition = w.definition(|d| {
        d["scope"] = json!({ "user_ids": [w.ann.id] });
        d["count"] = json!(2);
        d["evaluators"] = json!([{ "user_id": w.sup.id }]);
    });
    let list = w.create(&w.admin, &definition).await;
    let run = w.run(&list).await;
    let sup = w.test.app.create_api_token(&Actor::System, &w.sup.email, "t").await.unwrap();
    let sup = sup.token.expose().to_owned();
    let (status, work) =
        w.test.call(&sup, Method::GET, "/api/v1/assignments?evaluator_id=me&status=open", None).await;
    assert_eq!(status, StatusCode::OK, "{work}");
    let items = work["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["list_name"], "Weekly sample");
    let first = items[0]["id"].as_str().unwrap();
    let path = format!("/api/v1/assignments/{first}/skip");
    let (status, body) = w.test.call(&sup, Method::POST, &path, Some(&json!({ "reason": "  " }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "reason");
    // Someone else's assignment is not found.
    let (other, _) = w.test.api_user("supervisor").await;
    let other = w.test.app.create_api_token(&Actor::System, &other.email, "t").await.unwrap();
    let (status, _) =
        w.test.call(other.token.expose(), Method::POST, &path, Some(&json!({ "reason": "mine now" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, skipped) =
        w.test.call(&sup, Method::POST, &path, Some(&json!({ "reason": "Customer language" }))).await;
    assert_eq!(status, StatusCode::OK, "{skipped}");
    assert_eq!(skipped["skipped"]["status"], "skipped");
    assert_eq!(skipped["skipped"]["skip_reason"], "Customer language");
    let replacement = &skipped["replacement"];
    assert_eq!(replacement["agent_user_id"], w.ann.id.to_string());
    assert_eq!(replacement["replaces"], first);
    let picked: Vec<&Value> = run["picked"].as_array().unwrap().iter().map(|p| &p["case_id"]).collect();
    assert!(!picked.contains(&&replacement["case_id"]), "a case the run had not picked");
    let (status, _) = w.test.call(&sup, Method::POST, &path, Some(&json!({ "reason": "again" }))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, work) =
        w.test.call(&sup, Method::GET, "/api/v1/assignments?evaluator_id=me&status=open", None).await;
    assert_eq!(work["items"].as_array().unwrap().len(), 2, "the replacement takes the skipped one's place");
    // The run itself did not change.
    let run_path =
        format!("/api/v1/lists/{}/runs/{}", list["id"].as_str().unwrap(), run["id"].as_str().unwrap());
    let (_, again) = w.test.call(&w.admin, Method::GET, &run_path, None).await;
    assert_eq!(again, run);
}

async fn bad_definitions_are_refused_field_by_field_and_scope_holds(backend: TestBackend) {
    let w = world(backend).await;
    let employee = w.test.app.create_api_token(&Actor::System, &w.ann.email, "t").await.unwrap();
    let bad = w.definition(|d| {
        d["name"] = json!("");
        d["time_zone"] = json!("Mars/Olympus");
        d["integration_ids"] = json!([uuid::Uuid::now_v7()]);
        d["count"] = json!(0);
        d["scope"] = json!({ "user_ids": [uuid::Uuid::now_v7()] });
        d["evaluators"] = json!([{ "user_id": w.ann.id }]);
        d["schedule"] = json!({ "every": "week", "at": "25:61" });
    });
    let (status, body) = w.test.call(&w.admin, Method::POST, "/api/v1/lists", Some(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut fields: Vec<&str> =
        body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    fields.dedup();
    assert_eq!(
        fields,
        [
            "count",
            "evaluators",
            "integration_ids",
            "name",
            "schedule.at",
            "schedule.weekday",
            "scope.user_ids",
            "time_zone"
        ]
    );
    let (status, _) = w.test.call(&w.admin, Method::POST, "/api/v1/lists/preview", Some(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, lists) = w.test.call(&w.admin, Method::GET, "/api/v1/lists", None).await;
    assert!(lists["items"].as_array().unwrap().is_empty(), "nothing saved");
    let (status, body) = w
        .test
        .call(&w.admin, Method::POST, "/api/v1/lists", Some(&json!({ "name": "x", "colour": "red" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // A team admin of Tier 1 builds lists of Tier 1 only.
    let lead = w.test.create_user("lead@example.com", "team_admin", None).await;
    w.test.app.add_team_member(&Actor::System, w.tier1, lead.id).await.unwrap();
    let lead = w.test.app.create_api_token(&Actor::System, "lead@example.com", "t").await.unwrap();
    let lead = lead.token.expose().to_owned();
    let outside = w.definition(|d| d["scope"] = json!({ "team_ids": [w.tier2] }));
    let (status, body) = w.test.call(&lead, Method::POST, "/api/v1/lists", Some(&outside)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "scope.team_ids");
    let bob_only = w.definition(|d| d["scope"] = json!({ "user_ids": [w.bob.id] }));
    let (status, _) = w.test.call(&lead, Method::POST, "/api/v1/lists", Some(&bob_only)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Without a scope, the lead's list covers their teams: Bob's cases are not in its pool.
    let own = w.create(&lead, &w.definition(|_| {})).await;
    let (_, preview) =
        w.test.call(&lead, Method::POST, "/api/v1/lists/preview", Some(&w.definition(|_| {}))).await;
    assert_eq!(preview["pool_total"], 12 + 3 + 4, "{preview}");
    // The admin's organisation-wide list is not the lead's to see.
    let everyone = w.create(&w.admin, &w.definition(|_| {})).await;
    let path = format!("/api/v1/lists/{}", everyone["id"].as_str().unwrap());
    assert_eq!(w.test.call(&lead, Method::GET, &path, None).await.0, StatusCode::NOT_FOUND);
    let path = format!("/api/v1/lists/{}", own["id"].as_str().unwrap());
    assert_eq!(w.test.call(&w.admin, Method::GET, &path, None).await.0, StatusCode::OK);
    // Employees build no lists.
    let (status, _) =
        w.test.call(employee.token.expose(), Method::POST, "/api/v1/lists", Some(&bob_only)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Edit makes a new version; archive and restore.
    let (status, edited) =
        w.test.call(&lead, Method::PATCH, &path, Some(&json!({ "count": 2, "name": "Two each" }))).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["version"].as_u64(), edited["count"].as_u64()), (Some(2), Some(2)));
    let (status, body) = w.test.call(&lead, Method::PATCH, &path, Some(&json!({ "count": 0 }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, archived) = w.test.call(&lead, Method::POST, &format!("{path}/archive"), None).await;
    assert_eq!(archived["archived"], true);
    let (status, _) = w.test.call(&lead, Method::POST, &format!("{path}/runs"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, restored) = w.test.call(&lead, Method::POST, &format!("{path}/restore"), None).await;
    assert_eq!((restored["archived"].as_bool(), restored["version"].as_u64()), (Some(false), Some(2)));
    let _ = w.sue;
}

async fn scheduled_slots_run_exactly_once_across_two_instances(backend: TestBackend) {
    let w = world(backend).await;
    let tz_now = w.test.clock.now();
    // A daily slot at the current UTC hour's next full hour, in UTC.
    let next_hour = (tz_now.as_millis() / 3_600_000 + 1) * 3_600_000;
    let at = time::OffsetDateTime::from_unix_timestamp(next_hour / 1000).unwrap();
    let schedule = json!({ "every": "day", "at": format!("{:02}:00", at.hour()) });
    let definition = w.definition(|d| {
        d["time_zone"] = json!("UTC");
        d["schedule"] = schedule;
        d["count"] = json!(1);
    });
    let list = w.create(&w.admin, &definition).await;
    let second = App::new(
        w.test.database.db.clone(),
        w.test.clock.clone(),
        w.test.sealer.clone(),
        w.test.app.settings().clone(),
    );
    // Yesterday's slot came before the list existed: nothing runs.
    assert_eq!(w.test.app.run_due_lists().await.unwrap() + second.run_due_lists().await.unwrap(), 0);
    w.test.clock.advance(Duration::from_secs(3600));
    let (one, two) = tokio::join!(w.test.app.run_due_lists(), second.run_due_lists());
    assert_eq!(one.unwrap() + two.unwrap(), 1, "one slot, one run, whichever server made it");
    assert_eq!(w.test.app.run_due_lists().await.unwrap() + second.run_due_lists().await.unwrap(), 0);
    // Three days down: only the latest missed slot runs.
    w.test.clock.advance(Duration::from_secs(3 * 86_400 + 60));
    let (one, two) = tokio::join!(second.run_due_lists(), w.test.app.run_due_lists());
    assert_eq!(one.unwrap() + two.unwrap(), 1);
    let (_, runs) = w
        .test
        .call(&w.admin, Method::GET, &format!("/api/v1/lists/{}/runs", list["id"].as_str().unwrap()), None)
        .await;
    let slots: Vec<&str> =
        runs["items"].as_array().unwrap().iter().map(|r| r["slot_at"].as_str().unwrap()).collect();
    assert_eq!(slots.len(), 2, "{runs}");
    let latest = scoreline_core::Timestamp::from_millis(next_hour + 3 * 86_400_000).to_rfc3339();
    assert_eq!(slots[0], latest);
    let _ = (w.tier2, w.cid);
}

on_both_backends!(the_list_pages_build_preview_run_and_explain);

async fn the_list_pages_build_preview_run_and_explain(backend: TestBackend) {
    let w = world(backend).await;
    let (_, admin) = w.test.signed_in("global_admin").await;
    let empty = w.test.page(&admin, "/lists").await;
    assert!(empty.text.contains("No lists yet"), "{}", empty.text);
    let form = w.test.page(&admin, "/lists/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains(r#"hx-post="/lists/preview""#));
    let integration = w.integration.to_string();
    let (sup, sue) = (w.sup.id.to_string(), w.sue.id.to_string());
    let fields = vec![
        ("name", "Weekly sample"),
        ("time_zone", "Europe/Berlin"),
        ("integration_ids", integration.as_str()),
        ("date_field", "created"),
        ("window", "last_days"),
        ("last_days", "7"),
        ("statuses", "solved"),
        ("kind", "random"),
        ("count", "5"),
        ("per", "agent"),
        ("evaluator_ids", sup.as_str()),
        ("evaluator_ids", sue.as_str()),
        ("weight_for", sup.as_str()),
        ("weights", ""),
        ("weight_for", sue.as_str()),
        ("weights", ""),
        ("replace_skipped", "on"),
        ("every", ""),
        ("at", "07:00"),
    ];
    // The live preview answers the part alone to htmx; the Preview button the whole page.
    let part = TestApp::http()
        .post(w.test.url("/lists/preview"))
        .header("cookie", &admin)
        .header("hx-request", "true")
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(part.starts_with("<div id=\"preview\""), "{part}");
    assert!(
        part.contains("<strong>25</strong> cases are in the pool")
            && part.contains("would pick <strong id=\"preview-would-pick\">17</strong>"),
        "{part}"
    );
    assert!(part.contains("4 more pass the filters but are held back"), "{part}");
    let mut bad = fields.clone();
    bad.retain(|(name, _)| *name != "count");
    bad.push(("count", "0"));
    let page = w.test.submit(&admin, "/lists/preview", &bad).await;
    assert!(
        page.text.contains("Pick at least one case.") && page.text.contains("id=\"list-form\""),
        "{}",
        page.text
    );
    // Saving with a problem shows it beside its field; nothing is saved.
    let refused = w.test.submit(&admin, "/lists", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains(r#"data-field="count""#), "{}", refused.text);
    let saved = w.test.submit(&admin, "/lists", &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let list_path = saved.location.unwrap();
    let detail = w.test.page(&admin, &list_path).await;
    assert!(
        detail.text.contains("Random, 5 per agent, last 7 days and today, Solved")
            && detail.text.contains("No runs yet"),
        "{}",
        detail.text
    );
    let ran = w.test.submit(&admin, &format!("{list_path}/runs"), &[]).await;
    assert_eq!(ran.status, StatusCode::SEE_OTHER, "{}", ran.text);
    let run_path = ran.location.unwrap();
    let run = w.test.page(&admin, &run_path).await;
    assert!(
        run.text.contains("<h1>Run of Weekly sample <small"),
        "named by its list, then its time: {}",
        run.text
    );
    assert!(run.text.contains("in the random order of seed"), "{}", run.text);
    assert!(
        run.text.contains("of Sue&#39;s pool of 4") || run.text.contains("of Sue's pool of 4"),
        "{}",
        run.text
    );
    assert!(run.text.contains("given to"), "{}", run.text);
    // The evaluator's My work lists the cases; a skip needs a reason and is replaced.
    let sup_cookie = w.test.sign_in(&w.sup.email, scoreline_testkit::PASSWORD).await;
    let home = w.test.page(&sup_cookie, "/").await;
    assert!(home.text.contains("open assignments in My work"), "{}", home.text);
    let work = w.test.page(&sup_cookie, "/work").await;
    let first =
        work.text.split("data-assignment-id=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let refused = w.test.submit(&sup_cookie, &format!("/work/{first}/skip"), &[("reason", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("Say why you skip this case."));
    let skipped =
        w.test.submit(&sup_cookie, &format!("/work/{first}/skip"), &[("reason", "Not in English")]).await;
    assert_eq!(skipped.status, StatusCode::SEE_OTHER, "{}", skipped.text);
    let run = w.test.page(&admin, &run_path).await;
    assert!(run.text.contains("Skipped: Not in English"), "{}", run.text);
    let index = w.test.page(&admin, "/lists").await;
    assert!(index.text.contains("Weekly sample"));
    let edit = w.test.page(&admin, &format!("{list_path}/edit")).await;
    assert!(edit.text.contains("Saving makes version 2") && edit.text.contains(r#"value="Weekly sample""#));
}

on_both_backends!(a_lists_group_scope_and_scorecard_come_from_the_form_and_preselect_the_evaluation);

/// The form scopes a list by group and names its scorecard (an existing one, not archived); an
/// evaluator starting on one of its assignments finds that scorecard chosen.
async fn a_lists_group_scope_and_scorecard_come_from_the_form_and_preselect_the_evaluation(
    backend: TestBackend,
) {
    let w = world(backend).await;
    let mut cards = Vec::new();
    for name in ["Accuracy", "Tone", "Retired"] {
        let card = crate::scorecards::two_section_card(name);
        let (_, card) = w.test.call(&w.admin, Method::POST, "/api/v1/scorecards", Some(&card)).await;
        let id = card["id"].as_str().unwrap().to_owned();
        let publish = format!("/api/v1/scorecards/{id}/publish");
        assert_eq!(w.test.call(&w.admin, Method::POST, &publish, None).await.0, StatusCode::CREATED);
        cards.push(id);
    }
    let archive = format!("/api/v1/scorecards/{}/archive", cards[2]);
    assert_eq!(w.test.call(&w.admin, Method::POST, &archive, None).await.0, StatusCode::OK);
    for (scorecard, message) in
        [(uuid::Uuid::now_v7().to_string(), "No scorecard has the id"), (cards[2].clone(), "is archived")]
    {
        let definition = w.definition(|d| d["scorecard_id"] = json!(scorecard));
        let (status, body) = w.test.call(&w.admin, Method::POST, "/api/v1/lists", Some(&definition)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["fields"][0]["field"], "scorecard_id", "{body}");
        assert!(body["fields"][0]["message"].as_str().unwrap().contains(message), "{body}");
    }

    let (_, admin) = w.test.signed_in("global_admin").await;
    let groups =
        w.test.app.list_groups(&Actor::System, scoreline_core::PageRequest::first(10)).await.unwrap();
    let group = groups.items[0].id.to_string();
    let form = w.test.page(&admin, "/lists/new").await;
    assert!(form.text.contains(&format!(r#"name="group_ids" value="{group}""#)), "{}", form.text);
    assert!(form.text.contains(&format!(r#"<option value="{}">Tone"#, cards[1])), "{}", form.text);
    assert!(!form.text.contains(&format!(r#"value="{}""#, cards[2])), "no archived scorecard offered");
    let integration = w.integration.to_string();
    let sup = w.sup.id.to_string();
    let mut fields = vec![
        ("name", "Group sample"),
        ("time_zone", "UTC"),
        ("integration_ids", integration.as_str()),
        ("group_ids", group.as_str()),
        ("date_field", "created"),
        ("window", "last_days"),
        ("last_days", "7"),
        ("statuses", "solved"),
        ("kind", "random"),
        ("count", "2"),
        ("per", "agent"),
        ("evaluator_ids", sup.as_str()),
        ("weight_for", sup.as_str()),
        ("weights", ""),
        ("scorecard_id", cards[1].as_str()),
    ];
    let mut bad = fields.clone();
    bad.retain(|(name, _)| *name != "scorecard_id");
    bad.push(("scorecard_id", cards[2].as_str()));
    let refused = w.test.submit(&admin, "/lists", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains(r#"data-field="scorecard_id""#), "{}", refused.text);
    fields.push(("replace_skipped", "on"));
    let saved = w.test.submit(&admin, "/lists", &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let list_path = saved.location.unwrap();
    let (_, list) = w.test.call(&w.admin, Method::GET, &format!("/api/v1{list_path}"), None).await;
    assert_eq!(list["scope"]["group_ids"], json!([group]), "{list}");
    assert_eq!(list["scorecard_id"], json!(cards[1]), "{list}");
    let edit = w.test.page(&admin, &format!("{list_path}/edit")).await;
    assert!(edit.text.contains(&format!(r#"value="{group}" checked"#)), "{}", edit.text);
    assert!(edit.text.contains(&format!(r#"<option value="{}" selected>Tone"#, cards[1])), "{}", edit.text);
    // The group holds both teams: everyone's eligible cases are in the pool (Hal is held back).
    let run = w.run(&list).await;
    assert_eq!(run["per_agent"].as_array().unwrap().len(), 4, "{run}");

    let token = w.test.app.create_api_token(&Actor::System, &w.sup.email, "t").await.unwrap();
    let work =
        w.test.all_items(token.token.expose(), "/api/v1/assignments?evaluator_id=me&status=open").await;
    let assignment = &work[0];
    let cookie = w.test.sign_in(&w.sup.email, scoreline_testkit::PASSWORD).await;
    let path = format!(
        "/cases/{}/evaluate?assignment={}",
        assignment["case_id"].as_str().unwrap(),
        assignment["id"].as_str().unwrap()
    );
    let choose = w.test.page(&cookie, &path).await;
    assert_eq!(choose.status, StatusCode::OK, "{}", choose.text);
    assert!(choose.text.contains(&format!(r#"value="{}" checked"#, cards[1])), "{}", choose.text);
    assert!(!choose.text.contains(&format!(r#"value="{}" checked"#, cards[0])), "{}", choose.text);
    // Without the assignment the first scorecard is chosen, as before.
    let plain = format!("/cases/{}/evaluate", assignment["case_id"].as_str().unwrap());
    let choose = w.test.page(&cookie, &plain).await;
    assert!(choose.text.contains(&format!(r#"value="{}" checked"#, cards[0])), "{}", choose.text);
}

on_both_backends!(a_manual_lists_cases_are_ticked_in_its_pool_page_by_page);

/// The cases the page offers to tick: the `case_ids` checkboxes' values, in order.
fn offered(html: &str) -> Vec<String> {
    html.split(r#"name="case_ids" value=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// A manual list's page shows its pool newest first, 20 at a time, searchable by subject; the
/// ticked cases are what a run picks, in the order shown.
async fn a_manual_lists_cases_are_ticked_in_its_pool_page_by_page(backend: TestBackend) {
    let w = world(backend).await;
    let manual = w.definition(|d| {
        d["type"] = json!("manual");
        d["evaluators"] = json!([{ "user_id": w.sup.id }]);
    });
    let list = w.create(&w.admin, &manual).await;
    let list_path = format!("/lists/{}", list["id"].as_str().unwrap());
    let (_, admin) = w.test.signed_in("global_admin").await;
    let page = w.test.page(&admin, &list_path).await;
    assert!(page.text.contains("25 cases in the pool"), "{}", page.text);
    assert!(!page.text.contains(r#"id="run-now""#), "a manual list runs with ticked cases");
    let first = offered(&page.text);
    assert_eq!(first.len(), 20);
    let next = page.text.split(r#"<a href=""#).find(|a| a.contains(r#"id="pool-next""#)).unwrap();
    let next = next.split('"').next().unwrap().replace("&#38;", "&");
    let older = w.test.page(&admin, &next).await;
    let second = offered(&older.text);
    assert_eq!(second.len(), 5, "{}", older.text);
    assert!(!older.text.contains(r#"id="pool-next""#));
    let all: HashSet<&String> = first.iter().chain(&second).collect();
    assert_eq!(all.len(), 25, "every case once over the pages");
    let search = w.test.page(&admin, &format!("{list_path}?q=ANN-1")).await;
    assert!(search.text.contains("3 cases in the pool with “ANN-1” in the subject"), "{}", search.text);
    let none = w.test.page(&admin, &format!("{list_path}?q=nothing-like-this")).await;
    assert!(none.text.contains("No case of the pool has"), "{}", none.text);

    // Nothing ticked: said beside the actions, nothing run.
    let refused = w.test.submit(&admin, &format!("{list_path}/runs"), &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("Choose the cases to pick from the pool."), "{}", refused.text);
    let ticked = [("case_ids", second[1].as_str()), ("case_ids", first[0].as_str())];
    let ran = w.test.submit(&admin, &format!("{list_path}/runs"), &ticked).await;
    assert_eq!(ran.status, StatusCode::SEE_OTHER, "{}", ran.text);
    let run_path = ran.location.unwrap();
    let (_, run) = w.test.call(&w.admin, Method::GET, &format!("/api/v1{run_path}"), None).await;
    let picked: Vec<&str> =
        run["picked"].as_array().unwrap().iter().map(|p| p["case_id"].as_str().unwrap()).collect();
    assert_eq!(picked, [second[1].as_str(), first[0].as_str()], "in the order ticked");
    let page = w.test.page(&admin, &list_path).await;
    assert!(page.text.contains("23 cases in the pool"), "picked cases leave the pool: {}", page.text);
}

/// Waits until `css` holds an element whose text contains `text`.
async fn wait_for_text(client: &fantoccini::Client, css: &str, text: &str) -> String {
    loop {
        if let Ok(element) = client.find(fantoccini::Locator::Css(css)).await
            && let Ok(found) = element.text().await
            && found.contains(text)
        {
            return found;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_list_is_built_with_its_preview_run_and_worked_on() {
    use fantoccini::Locator;
    let w = world(TestBackend::Sqlite).await;
    let Some(browser) = scoreline_testkit::Browser::start().await else { return };
    let client = &browser.client;
    w.test.create_user("qa@example.com", "global_admin", Some(scoreline_testkit::PASSWORD)).await;
    client.goto(&w.test.url("/lists/new")).await.unwrap();
    crate::browser_integrations::sign_in(client, "qa@example.com", scoreline_testkit::PASSWORD).await;
    let name = client.wait().for_element(Locator::Css("#list-form [name=name]")).await.unwrap();
    name.send_keys("Weekly sample").await.unwrap();
    // The defaults are random, 5 per agent, last 7 days, solved; the one integration is ticked.
    let evaluator = format!("#list-form input[name=evaluator_ids][value='{}']", w.sup.id);
    client.find(Locator::Css(&evaluator)).await.unwrap().click().await.unwrap();
    let summary = wait_for_text(client, "#preview-summary", "would pick 17").await;
    assert!(summary.contains("25 cases are in the pool"), "{summary}");
    assert!(summary.contains("4 more pass the filters but are held back"), "{summary}");
    client.find(Locator::Id("save-list")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Id("run-now")).await.unwrap().click().await.unwrap();
    let why = wait_for_text(client, "#picks", "in the random order of seed").await;
    assert!(why.contains("given to"), "{why}");
    crate::browser_results::screenshots(client, "list-run").await;

    client.find(Locator::Css(".who button")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css("input[name=email]")).await.unwrap();
    client.goto(&w.test.url("/work")).await.unwrap();
    crate::browser_integrations::sign_in(client, &w.sup.email, scoreline_testkit::PASSWORD).await;
    let first = client.wait().for_element(Locator::Css("#work a.open-case")).await.unwrap();
    first.click().await.unwrap();
    let lists = wait_for_text(client, "#case-lists", "Weekly sample").await;
    assert!(lists.contains("todo"), "{lists}");
    client.goto(&w.test.url("/work")).await.unwrap();
    let reason = client.wait().for_element(Locator::Css("#work tbody tr input[name=reason]")).await.unwrap();
    crate::browser_results::screenshots(client, "my-work").await;
    client.set_window_size(800, 1000).await.unwrap();
    let date = client.find(Locator::Css("#work tbody .when-date")).await.unwrap();
    assert!(!date.is_displayed().await.unwrap(), "at 800 px the date gives its room to the case");
    client.set_window_size(1366, 768).await.unwrap();
    reason.send_keys("Customer wrote in Finnish").await.unwrap();
    client.find(Locator::Css("#work tbody tr button.skip-case")).await.unwrap().click().await.unwrap();
    let notice = wait_for_text(client, "#notice", "Skipped").await;
    assert!(notice.contains("A case of the same agent took its place"), "{notice}");
    let open = wait_for_text(client, "main .meta", "open, oldest first").await;
    assert!(open.starts_with("17 open"), "the replacement keeps the count: {open}");
    browser.close().await;
}

on_both_backends!(relative_windows_count_calendar_days_in_the_lists_time_zone_across_a_change_of_clocks);

/// Clocks in Berlin went back on 26 Oct 2025. "Last 7 days" at noon on 1 Nov starts at
/// midnight of 25 Oct in Berlin, 22:00 UTC on the 24th (summer time), not 23:00.
async fn relative_windows_count_calendar_days_in_the_lists_time_zone_across_a_change_of_clocks(
    backend: TestBackend,
) {
    let test = TestApp::with_helpdesk(backend, SimConfig { tickets: 0, ..SimConfig::default() }).await;
    let integration = test.connect_token(|_| {}).await;
    let (_, team) = test.support_team().await;
    test.seed_matched_agent(integration, "ann", "Ann", Some(team)).await;
    let sup = test.new_person("supervisor").await;
    let at = |text: &str| scoreline_core::Timestamp::parse_rfc3339(text).unwrap();
    test.clock.set(at("2025-11-01T11:00:00Z"));
    let cases = [
        ("before", "2025-10-24T21:59:59Z"),
        ("berlin-midnight", "2025-10-24T22:00:00Z"),
        ("after-gap", "2025-10-24T23:30:00Z"),
        ("utc-midnight", "2025-10-25T00:00:00Z"),
    ];
    let seeds: Vec<SeedCase> =
        cases.iter().map(|(id, when)| SeedCase::new(*id, Some("ann"), at(when))).collect();
    test.seed_cases(integration, &seeds).await;
    let (_, admin) = test.api_user("global_admin").await;
    let definition = |tz: &str| {
        json!({
            "name": "DST", "time_zone": tz, "integration_ids": [integration],
            "filters": { "date_field": "created", "relative": { "last_days": 7 } },
            "type": "all", "evaluators": [{ "user_id": sup.id }],
        })
    };
    let (status, berlin) =
        test.call(&admin, Method::POST, "/api/v1/lists/preview", Some(&definition("Europe/Berlin"))).await;
    assert_eq!(status, StatusCode::OK, "{berlin}");
    assert_eq!(berlin["pool_total"], 3, "{berlin}");
    assert_eq!(berlin["window_from"], "2025-10-24T22:00:00Z");
    let (_, utc) = test.call(&admin, Method::POST, "/api/v1/lists/preview", Some(&definition("UTC"))).await;
    assert_eq!(utc["pool_total"], 1, "{utc}");
    let (_, new_york) =
        test.call(&admin, Method::POST, "/api/v1/lists/preview", Some(&definition("America/New_York"))).await;
    assert_eq!(new_york["window_from"], "2025-10-25T04:00:00Z", "{new_york}");
}

/// Starting an evaluation from an assignment puts it in progress, submitting it closes it, and
/// a list that excludes evaluated cases no longer finds the case.
async fn an_evaluation_answers_its_assignment_and_evaluated_cases_leave_the_pool(backend: TestBackend) {
    let w = world(backend).await;
    let definition = w.definition(|d| {
        d["scope"] = json!({ "user_ids": [w.ann.id] });
        d["count"] = json!(2);
        d["evaluators"] = json!([{ "user_id": w.sup.id }]);
    });
    let list = w.create(&w.admin, &definition).await;
    w.run(&list).await;
    let card = crate::scorecards::two_section_card("Quality");
    let (_, card) = w.test.call(&w.admin, Method::POST, "/api/v1/scorecards", Some(&card)).await;
    let publish = format!("/api/v1/scorecards/{}/publish", card["id"].as_str().unwrap());
    let (status, version) = w.test.call(&w.admin, Method::POST, &publish, None).await;
    assert_eq!(status, StatusCode::CREATED, "{version}");
    let question = |s: usize, q: usize| version["sections"][s]["questions"][q].clone();
    let sup = w.test.app.create_api_token(&Actor::System, &w.sup.email, "t").await.unwrap();
    let sup = sup.token.expose().to_owned();
    let open = "/api/v1/assignments?evaluator_id=me&status=open";
    let work = w.test.all_items(&sup, open).await;
    assert_eq!(work.len(), 2);
    let (first, second) = (&work[0], &work[1]);

    // An assignment answers only an evaluation of its own case, by its own evaluator.
    let mismatched = json!({ "case_id": second["case_id"], "scorecard_version_id": version["id"],
        "assignment_id": first["id"] });
    let (status, refused) = w.test.call(&sup, Method::POST, "/api/v1/evaluations", Some(&mismatched)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["fields"][0]["field"], "assignment_id");
    let start = json!({ "case_id": first["case_id"], "scorecard_version_id": version["id"],
        "assignment_id": first["id"] });
    let (status, draft) = w.test.call(&w.admin, Method::POST, "/api/v1/evaluations", Some(&start)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "someone else's assignment: {draft}");
    let (status, draft) = w.test.call(&sup, Method::POST, "/api/v1/evaluations", Some(&start)).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let work = w.test.all_items(&sup, open).await;
    let started = work.iter().find(|a| a["id"] == first["id"]).expect("still open while a draft");
    assert_eq!(started["status"], "in_progress");

    let pick = |s: usize, q: usize, o: usize| {
        let question = question(s, q);
        json!({ "question_id": question["id"], "option_id": question["options"][o]["id"], "comment": "noted" })
    };
    let answers = json!({ "answers": [pick(0, 0, 0), pick(0, 1, 1), pick(1, 0, 1)], "submit": true });
    let path = format!("/api/v1/evaluations/{}", draft["id"].as_str().unwrap());
    let (status, submitted) = w.test.call(&sup, Method::PATCH, &path, Some(&answers)).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let work = w.test.all_items(&sup, open).await;
    assert_eq!(work.iter().map(|a| &a["id"]).collect::<Vec<_>>(), [&second["id"]], "the first is done");
    let done = w.test.all_items(&sup, "/api/v1/assignments?evaluator_id=me&status=done").await;
    assert_eq!(done.iter().map(|a| &a["id"]).collect::<Vec<_>>(), [&first["id"]]);

    // Another list over Ann's cases: excluding evaluated ones leaves out exactly the scored case.
    let all = |exclude_evaluated: bool| {
        w.definition(|d| {
            d["name"] = json!("Everything of Ann");
            d["scope"] = json!({ "user_ids": [w.ann.id] });
            d["type"] = json!("all");
            d.as_object_mut().unwrap().remove("count");
            d["exclude"] = json!({ "evaluated": exclude_evaluated });
        })
    };
    for (exclude_evaluated, pool) in [(false, 12), (true, 11)] {
        let (status, preview) =
            w.test.call(&w.admin, Method::POST, "/api/v1/lists/preview", Some(&all(exclude_evaluated))).await;
        assert_eq!((status, preview["pool_total"].as_u64()), (StatusCode::OK, Some(pool)), "{preview}");
    }
}

/// The preview and the run read the window once for both the pool and the held-back cases: the
/// pool keeps the list's scope, the actor's scope and active staff only, while the held-back
/// count is every case of the window whose agent nobody is matched to, whoever asks.
async fn preview_and_run_count_the_pool_and_the_held_back_cases_in_one_walk(backend: TestBackend) {
    let w = world(backend).await;
    // Cid leaves: his cases are neither in a pool nor held back (his agent is still matched).
    w.test.app.set_user_active(&Actor::System, w.cid.id, false).await.unwrap();
    let counted = |pool: &Value| {
        let agents: HashMap<String, u64> = pool["per_agent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["user_id"].as_str().unwrap().to_owned(), a["pool"].as_u64().unwrap()))
            .collect();
        (pool["pool_total"].as_u64().unwrap(), pool["held_back"].as_u64().unwrap(), agents)
    };
    let expect = |pairs: &[(&User, u64)]| -> HashMap<String, u64> {
        pairs.iter().map(|(user, pool)| (user.id.to_string(), *pool)).collect()
    };

    let tier2 = w.definition(|d| d["scope"] = json!({ "team_ids": [w.tier2] }));
    let (status, preview) = w.test.call(&w.admin, Method::POST, "/api/v1/lists/preview", Some(&tier2)).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(counted(&preview), (6, 4, expect(&[(&w.bob, 6)])), "the list's scope: Tier 2");

    let lead = w.test.create_user("lead@example.com", "team_admin", None).await;
    w.test.app.add_team_member(&Actor::System, w.tier1, lead.id).await.unwrap();
    let lead = w.test.app.create_api_token(&Actor::System, "lead@example.com", "t").await.unwrap();
    let lead = lead.token.expose().to_owned();
    let everyone = w.definition(|_| {});
    let (status, preview) = w.test.call(&lead, Method::POST, "/api/v1/lists/preview", Some(&everyone)).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(counted(&preview), (12 + 4, 4, expect(&[(&w.ann, 12), (&w.sue, 4)])), "the lead's: Tier 1");

    // A sequential run walks the window oldest first; the count is the same.
    let sequential = w.definition(|d| d["type"] = json!("sequential"));
    let list = w.create(&w.admin, &sequential).await;
    let run = w.run(&list).await;
    assert_eq!(run["pool_total"], 12 + 6 + 4);
    assert_eq!(run["held_back"], 4);
}
