//! The cases page and `GET /api/v1/cases` over cases stored with known attributes: every
//! filter, sorting and keyset paging by each date, counts, scope, and the GET form.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use scoreline_app::{Actor, CreateTeam};
use scoreline_core::{Clock, IntegrationId, TeamId, Timestamp, User};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{SeedCase, TestApp, TestBackend, on_both_backends};
use serde_json::Value;

pub struct Seeded {
    pub test: TestApp,
    pub integration: IntegrationId,
    pub tier1: TeamId,
    pub tier2: TeamId,
    pub ann: User,
    pub bob: User,
}

/// Days before the clock's now, plus `hours`, so that no two cases share a time.
pub fn ago(test: &TestApp, days: u64, hours: u64) -> Timestamp {
    test.clock
        .now()
        .saturating_sub(Duration::from_secs(days * 86_400))
        .saturating_add(Duration::from_secs(hours * 3600))
}

/// Ann (Tier 1) and Bob (Tier 2) are matched; the agent `hal` is not (held back).
async fn seeded(backend: TestBackend) -> Seeded {
    let test = TestApp::with_helpdesk(backend, SimConfig { tickets: 0, ..SimConfig::default() }).await;
    let integration = test.connect_token(|_| {}).await;
    let (group, tier1) = test.support_team().await;
    let tier2 = CreateTeam { group_id: Some(group), name: "Tier 2".to_owned() };
    let tier2 = test.app.create_team(&Actor::System, tier2).await.unwrap().id;
    let ann = test.seed_matched_agent(integration, "ann", "Ann Agent", Some(tier1)).await;
    let bob = test.seed_matched_agent(integration, "bob", "Bob Agent", Some(tier2)).await;
    test.seed_agent(integration, "hal").await;
    let cases = [
        SeedCase::new("c1", Some("ann"), ago(&test, 10, 0)).with(|c| {
            c.status = "open".into();
            c.priority = Some(10);
            c.tags = vec!["vip".into()];
            c.subject = "Refund please".into();
            c.updated_at = ago(&test, 1, 2);
            c.team_id = Some("hd-1".into());
            c.agent_messages = 3;
        }),
        SeedCase::new("c2", Some("ann"), ago(&test, 5, 0)).with(|c| c.silo = "archive".into()),
        SeedCase::new("c3", Some("bob"), ago(&test, 3, 0)).with(|c| {
            c.status = "pending".into();
            c.priority = Some(20);
            c.tags = vec!["vip".into(), "bug".into()];
            c.subject = "Bug in the 100% app_".into();
            c.updated_at = ago(&test, 2, 0);
            c.team_id = Some("hd-2".into());
            c.last_message_at = None;
            c.agent_messages = 0;
        }),
        SeedCase::new("c4", Some("hal"), ago(&test, 2, 5)),
        SeedCase::new("c5", Some("bob"), ago(&test, 1, 0)).with(|c| c.silo = "trash".into()),
        SeedCase::new("c6", Some("ann"), ago(&test, 400, 0)),
    ];
    test.seed_cases(integration, &cases).await;
    let cutoff = ago(&test, 300, 0);
    assert_eq!(test.store().purge_batch(integration, cutoff, 100, test.clock.now()).await.unwrap(), 1);
    Seeded { test, integration, tier1, tier2, ann, bob }
}

/// The source ids a query lists, in order, following every page.
async fn listed(test: &TestApp, auth: &str, query: &str) -> Vec<String> {
    test.all_items(auth, &format!("/api/v1/cases?{query}"))
        .await
        .iter()
        .map(|case| case["source_id"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends!(every_filter_narrows_the_cases, the_cases_page_keeps_its_filters_in_the_address);

async fn every_filter_narrows_the_cases(backend: TestBackend) {
    let s = seeded(backend).await;
    let test = &s.test;
    let (_, admin) = test.api_user("global_admin").await;
    // Newest first by updated, then by each date field; paging one by one gives the same order.
    assert_eq!(listed(test, &admin, "").await, ["c1", "c5", "c4", "c3", "c2", "c6"]);
    assert_eq!(listed(test, &admin, "limit=1").await, ["c1", "c5", "c4", "c3", "c2", "c6"]);
    assert_eq!(listed(test, &admin, "sort=created&limit=2").await, ["c5", "c4", "c3", "c2", "c1", "c6"]);
    assert_eq!(listed(test, &admin, "sort=last_message&limit=1").await, ["c5", "c4", "c2", "c1", "c6", "c3"]);

    let id = s.integration;
    let cases = [
        (format!("integration_id={id}"), vec!["c1", "c5", "c4", "c3", "c2", "c6"]),
        (format!("integration_id={}", uuid::Uuid::now_v7()), vec![]),
        (format!("agent_user_id={}", s.ann.id), vec!["c1", "c2", "c6"]),
        (
            format!("agent_user_id={}&agent_user_id={}", s.ann.id, s.bob.id),
            vec!["c1", "c5", "c3", "c2", "c6"],
        ),
        (format!("team_id={}", s.tier2), vec!["c5", "c3"]),
        (format!("team_id={}&status=solved", s.tier1), vec!["c2", "c6"]),
        ("status=open&status=pending".to_owned(), vec!["c1", "c3"]),
        ("priority=20".to_owned(), vec!["c3"]),
        ("priority=10&priority=20".to_owned(), vec!["c1", "c3"]),
        ("helpdesk_team_id=hd-1".to_owned(), vec!["c1"]),
        ("tag=bug".to_owned(), vec!["c3"]),
        ("tag=vip,nothing".to_owned(), vec!["c1", "c3"]),
        ("subject=REFUND".to_owned(), vec!["c1"]),
        // LIKE's wildcards are plain text.
        ("subject=100%25%20app_".to_owned(), vec!["c3"]),
        ("subject=%25".to_owned(), vec!["c3"]),
        ("min_agent_messages=2".to_owned(), vec!["c1"]),
        ("matched=false".to_owned(), vec!["c4"]),
        ("matched=true&purged=false".to_owned(), vec!["c1", "c5", "c3", "c2"]),
        ("purged=true".to_owned(), vec!["c6"]),
        ("silo=trash&silo=archive".to_owned(), vec!["c5", "c2"]),
    ];
    for (query, expected) in cases {
        assert_eq!(listed(test, &admin, &query).await, expected, "{query}");
    }
    // Date ranges: a day is taken whole; RFC 3339 times are exact; the ranges combine.
    let day = |at: Timestamp| at.to_rfc3339()[..10].to_owned();
    let query = format!("created_from={}&created_to={}", day(ago(test, 5, 0)), day(ago(test, 3, 0)));
    assert_eq!(listed(test, &admin, &query).await, ["c3", "c2"], "{query}");
    let query = format!(
        "updated_to={}&last_message_from={}",
        ago(test, 1, 1).to_rfc3339(),
        ago(test, 2, 1).to_rfc3339()
    );
    assert_eq!(listed(test, &admin, &query).await, ["c5", "c4"], "{query}");

    // Counts follow the filter; held back is counted for those who see it.
    let counts = test.get_json(&admin, "/api/v1/cases?limit=1").await;
    assert_eq!(counts["items"].as_array().unwrap().len(), 1);

    // Bad values are refused, each named.
    let (status, body) = test
        .call(
            &admin,
            Method::GET,
            "/api/v1/cases?created_from=soon&priority=high&matched=maybe&sort=size&team_id=x",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut fields: Vec<&str> =
        body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["created_from", "matched", "priority", "sort", "team_id"]);

    // Scope: a team admin of Tier 1 sees Ann's cases only; an employee their own; neither the
    // held-back case.
    let team_admin = test.create_user("lead@example.com", "team_admin", None).await;
    test.app.add_team_member(&Actor::System, s.tier1, team_admin.id).await.unwrap();
    let lead = test.app.create_api_token(&Actor::System, "lead@example.com", "t").await.unwrap();
    let lead = lead.token.expose().to_owned();
    assert_eq!(listed(test, &lead, "").await, ["c1", "c2", "c6"]);
    assert_eq!(listed(test, &lead, "matched=false").await, Vec::<String>::new());
    let bob = test.app.create_api_token(&Actor::System, &s.bob.email, "t").await.unwrap();
    assert_eq!(listed(test, bob.token.expose(), "").await, ["c5", "c3"]);
}

async fn the_cases_page_keeps_its_filters_in_the_address(backend: TestBackend) {
    let s = seeded(backend).await;
    let test = &s.test;
    let (_, admin) = test.signed_in("global_admin").await;
    let page = test.page(&admin, "/cases").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("6 cases match · 1 held back"), "{}", page.text);
    assert!(page.text.contains("Score ▸ Interactions ▸ Cases"));

    // Filters come back ticked; the count follows; the next page keeps the filters.
    let page = test.page(&admin, "/cases?status=solved&status=open&limit=2").await;
    assert!(page.text.contains("5 cases match"), "{}", page.text);
    assert!(page.text.contains(r#"value="solved" checked"#) && page.text.contains(r#"value="open" checked"#));
    assert!(!page.text.contains(r#"value="pending" checked"#));
    let next = page.text.split("id=\"next-page\"").next().unwrap().rsplit("href=\"").next().unwrap();
    let next = next.split('"').next().unwrap().replace("&#38;", "&");
    assert!(
        next.contains("status=solved") && next.contains("status=open") && next.contains("cursor="),
        "{next}"
    );
    let second = test.page(&admin, &next).await;
    assert_eq!(second.status, StatusCode::OK, "{next}: {}", second.text);
    assert!(
        second.text.contains("/cases/") && second.text.contains("5 cases match"),
        "{next}: {}",
        second.text
    );

    // Nothing matches: the page says what to do.
    let none = test.page(&admin, "/cases?subject=no-such-words").await;
    assert!(none.text.contains("No case matches these filters") && none.text.contains("clear every filter"));
    // A bad value is shown beside its field, with the page, not an error page.
    let bad = test.page(&admin, "/cases?created_from=tomorrow").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains(r#"data-field="created_from""#), "{}", bad.text);
    assert!(bad.text.contains(r#"value="tomorrow""#));

    // The case page links its integration, the ticket in HelpDesk and the matched staff member.
    let cases = test.all_items(&admin, "/api/v1/cases?tag=bug").await;
    let case_id = cases[0]["id"].as_str().unwrap();
    let case = test.page(&admin, &format!("/cases/{case_id}")).await;
    assert!(case.text.contains(&format!("href=\"/interactions/integrations/{}\"", s.integration)));
    // The agent web app's page of the ticket (the simulator serves one beside its API), not the API.
    let ticket = format!("href=\"{}/tickets/c3\"", test.sim().api_base_url());
    assert!(case.text.contains(&ticket), "the ticket link: {}", case.text);
    assert!(case.text.contains("Bob Agent"));

    // The integration page lists its newest cases and links to them all, filtered.
    let detail = test.page(&admin, &format!("/interactions/integrations/{}", s.integration)).await;
    assert!(detail.text.contains(&format!("/cases?integration_id={}", s.integration)));
    let first_case = detail.text.find("/cases/").unwrap();
    assert!(detail.text[first_case..].starts_with(&format!("/cases/{}", cases_of(test, &admin, "c1").await)));

    // Employees reach the page from the navigation and see only their own cases.
    let ann = test.sign_in(&s.ann.email, scoreline_testkit::PASSWORD).await;
    let own = test.page(&ann, "/cases").await;
    assert!(own.text.contains("3 cases match"), "{}", own.text);
    assert!(own.text.contains(r#"href="/cases" aria-current="page""#));
    let _ = s.tier2;
}

async fn cases_of(test: &TestApp, auth: &str, source_id: &str) -> String {
    let all: Vec<Value> = test.all_items(auth, "/api/v1/cases").await;
    all.iter().find(|c| c["source_id"] == source_id).unwrap()["id"].as_str().unwrap().to_owned()
}
