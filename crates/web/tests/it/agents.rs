//! Matching HelpDesk agents to staff over the API: automatic matching by email, suggestions,
//! manual match and unmatch, held-back cases, and who may change matches.

use std::collections::HashMap;

use reqwest::StatusCode;
use scoreline_app::{Actor, ConnectIntegration, CreateGroup, CreateTeam};
use scoreline_core::{IntegrationId, PageRequest, Team};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use secrecy::SecretString;
use serde_json::{Value, json};

/// The team "Tier 1" of the group "Support".
pub async fn support_team(test: &TestApp) -> Team {
    let group =
        test.app.create_group(&Actor::System, CreateGroup { name: "Support".to_owned() }).await.unwrap();
    let team = CreateTeam { group_id: Some(group.id), name: "Tier 1".to_owned() };
    test.app.create_team(&Actor::System, team).await.unwrap()
}

/// Connects the simulator's account and runs the first sync, so agents and cases are stored.
pub async fn connect_and_sync(test: &TestApp) -> IntegrationId {
    test.clock.set(test.sim().now());
    let input = ConnectIntegration {
        label: "HelpDesk".to_owned(),
        description: String::new(),
        auth_method: "token".to_owned(),
        account_id: test.sim().account_id(),
        token: Some(SecretString::from(test.sim().pat())),
        retention_value: Some(1),
        retention_unit: "months".to_owned(),
        backfill_days: Some(14),
        allow_duplicate: true,
        ..ConnectIntegration::default()
    };
    let integration = test.app.connect_with_token(&Actor::System, input).await.unwrap();
    test.clock.advance(std::time::Duration::from_secs(120));
    test.app.sync_integration(integration.id, None).await.unwrap();
    integration.id
}

async fn synced(backend: TestBackend) -> (TestApp, IntegrationId, String) {
    let test =
        TestApp::with_helpdesk(backend, SimConfig { tickets: 150, days: 10, ..SimConfig::default() }).await;
    let id = connect_and_sync(&test).await;
    let (_, admin) = test.api_user("global_admin").await;
    (test, id, admin)
}

async fn call(
    test: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = TestApp::http().request(method, test.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(test: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = call(test, token, reqwest::Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn agents(test: &TestApp, token: &str, id: IntegrationId) -> Value {
    get(test, token, &format!("/api/v1/integrations/{id}/agents?limit=500")).await
}

fn items(list: &Value) -> &Vec<Value> {
    list["items"].as_array().unwrap()
}

/// Creates a staff member over the API; returns their id.
async fn create_staff(test: &TestApp, token: &str, name: &str, email: &str) -> String {
    let (status, user) = call(
        test,
        token,
        reqwest::Method::POST,
        "/api/v1/users",
        Some(json!({ "name": name, "email": email, "role": "employee" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

/// Upper case where the agent has lower and the other way round: the same address, other case.
fn swap_case(email: &str) -> String {
    email
        .chars()
        .map(|c| {
            if c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect()
}

async fn cases_of(test: &TestApp, token: &str, user_id: &str) -> usize {
    items(&get(test, token, &format!("/api/v1/cases?agent_user_id={user_id}&limit=500")).await).len()
}

on_both_backends!(
    auto_match_matches_every_agent_by_email_and_keeps_choices_made_by_hand,
    unmatched_agents_get_name_suggestions_and_their_cases_count_once_matched,
    team_admins_and_supervisors_cannot_change_matches,
    manage_users_searches_filters_and_keeps_the_place_after_a_match,
);

async fn auto_match_matches_every_agent_by_email_and_keeps_choices_made_by_hand(backend: TestBackend) {
    let (test, id, admin) = synced(backend).await;
    let before = agents(&test, &admin, id).await;
    assert_eq!(items(&before).len(), 25, "{before}");
    assert_eq!((before["matched"].as_u64(), before["unmatched"].as_u64()), (Some(0), Some(25)));
    assert!(before["held_back_total"].as_u64().unwrap() > 0);
    let mut paged = Vec::new();
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let page =
            get(&test, &admin, &format!("/api/v1/integrations/{id}/agents?limit=10&cursor={cursor}")).await;
        assert!(items(&page).len() <= 10);
        paged.extend(items(&page).iter().map(|a| a["agent_id"].clone()));
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(paged, items(&before).iter().map(|a| a["agent_id"].clone()).collect::<Vec<_>>());
    let mut staff = HashMap::new();
    for agent in items(&before) {
        let email = agent["email"].as_str().unwrap();
        assert_ne!(swap_case(email), email);
        let user = create_staff(&test, &admin, agent["name"].as_str().unwrap(), &swap_case(email)).await;
        staff.insert(agent["agent_id"].as_str().unwrap().to_owned(), user);
    }

    let path = format!("/api/v1/integrations/{id}/agents/auto-match");
    let (status, report) = call(&test, &admin, reqwest::Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["matched"].as_array().unwrap().len(), 25, "{report}");
    let after = agents(&test, &admin, id).await;
    assert_eq!((after["matched"].as_u64(), after["unmatched"].as_u64()), (Some(25), Some(0)));
    assert_eq!(after["held_back_total"], 0);
    for agent in items(&after) {
        assert_eq!(
            agent["matched_user"]["id"].as_str(),
            Some(staff[agent["agent_id"].as_str().unwrap()].as_str())
        );
        assert_eq!(agent["match_source"], "auto");
        assert_eq!(agent["held_back_count"], 0);
        assert!(agent["suggestions"].as_array().unwrap().is_empty());
    }
    let audit = test.store().list_audit(PageRequest::first(500)).await.unwrap().items;
    assert_eq!(audit.iter().filter(|entry| entry.action == "agent.match").count(), 25);
    let (_, again) = call(&test, &admin, reqwest::Method::POST, &path, None).await;
    assert!(again["matched"].as_array().unwrap().is_empty(), "nothing left to match: {again}");

    // Choices made by hand survive automatic matching, whether a match or an unmatch.
    let [first, second, ..] = items(&after).as_slice() else { panic!("agents") };
    let (first_id, second_id) = (first["agent_id"].as_str().unwrap(), second["agent_id"].as_str().unwrap());
    let match_path = |agent: &str| format!("/api/v1/integrations/{id}/agents/{agent}/match");
    let (status, unmatched) = call(&test, &admin, reqwest::Method::DELETE, &match_path(first_id), None).await;
    assert_eq!(status, StatusCode::OK, "{unmatched}");
    assert_eq!(
        (unmatched["matched_user"].clone(), unmatched["match_source"].as_str()),
        (Value::Null, Some("manual"))
    );
    let other = &staff[first_id];
    let (status, rematched) =
        call(&test, &admin, reqwest::Method::PUT, &match_path(second_id), Some(json!({ "user_id": other })))
            .await;
    assert_eq!(status, StatusCode::OK, "{rematched}");
    assert_eq!(rematched["match_source"], "manual");
    call(&test, &admin, reqwest::Method::POST, &path, None).await;
    test.clock.advance(std::time::Duration::from_secs(600));
    test.app.sync_integration(id, None).await.unwrap();
    let kept = agents(&test, &admin, id).await;
    let find = |agent_id: &str| items(&kept).iter().find(|a| a["agent_id"] == agent_id).unwrap().clone();
    assert_eq!(find(first_id)["matched_user"], Value::Null);
    assert_eq!(find(second_id)["matched_user"]["id"].as_str(), Some(other.as_str()));

    // An agent added in HelpDesk is matched by the next sync's refresh of the agents.
    test.sim().add_agent("Nova Newcomer", "  Nova.Newcomer@Example.COM");
    let newcomer = create_staff(&test, &admin, "Nova Newcomer", "nova.newcomer@example.com").await;
    test.clock.advance(std::time::Duration::from_secs(600));
    test.app.sync_integration(id, None).await.unwrap();
    let refreshed = agents(&test, &admin, id).await;
    let nova = items(&refreshed).iter().find(|a| a["name"] == "Nova Newcomer").expect("new agent listed");
    assert_eq!(nova["matched_user"]["id"].as_str(), Some(newcomer.as_str()));
    assert_eq!(nova["match_source"], "auto");
}

async fn unmatched_agents_get_name_suggestions_and_their_cases_count_once_matched(backend: TestBackend) {
    let (test, id, admin) = synced(backend).await;
    let listed = agents(&test, &admin, id).await;
    let mut by_cases: Vec<&Value> = items(&listed).iter().collect();
    by_cases.sort_by_key(|a| std::cmp::Reverse(a["case_count"].as_u64().unwrap()));
    let changed: Vec<String> =
        by_cases[..5].iter().map(|a| a["agent_id"].as_str().unwrap().to_owned()).collect();
    let mut staff = HashMap::new();
    for agent in items(&listed) {
        let agent_id = agent["agent_id"].as_str().unwrap();
        let email = if changed.iter().any(|c| c == agent_id) {
            format!("moved.{}@elsewhere.example", staff.len())
        } else {
            swap_case(agent["email"].as_str().unwrap())
        };
        staff.insert(
            agent_id.to_owned(),
            create_staff(&test, &admin, agent["name"].as_str().unwrap(), &email).await,
        );
    }
    let (status, report) = call(
        &test,
        &admin,
        reqwest::Method::POST,
        &format!("/api/v1/integrations/{id}/agents/auto-match"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["matched"].as_array().unwrap().len(), 20, "{report}");

    let after = agents(&test, &admin, id).await;
    assert_eq!((after["matched"].as_u64(), after["unmatched"].as_u64()), (Some(20), Some(5)));
    let mut held_back = 0;
    for agent in items(&after).iter().filter(|a| a["matched_user"].is_null()) {
        let agent_id = agent["agent_id"].as_str().unwrap();
        assert!(changed.iter().any(|c| c == agent_id), "{agent}");
        let case_count = agent["case_count"].as_u64().unwrap();
        assert!(case_count > 0);
        assert_eq!(agent["held_back_count"].as_u64(), Some(case_count));
        held_back += case_count;
        let suggestions = agent["suggestions"].as_array().unwrap();
        let best = &suggestions[0];
        assert_eq!(best["name"], agent["name"], "{agent}");
        assert_eq!(best["score"], 1.0);
        assert!(
            suggestions
                .iter()
                .any(|s| s["score"] == 1.0 && s["user_id"].as_str() == Some(staff[agent_id].as_str())),
            "{agent}"
        );
    }
    assert_eq!(after["held_back_total"].as_u64(), Some(held_back));
    let integration = get(&test, &admin, &format!("/api/v1/integrations/{id}")).await;
    assert_eq!(integration["held_back_count"].as_u64(), Some(held_back));

    // A manual match releases the agent's cases at once, without a sync.
    let agent_id = &changed[0];
    let user_id = &staff[agent_id];
    let case_count =
        items(&after).iter().find(|a| &a["agent_id"] == agent_id).unwrap()["case_count"].as_u64().unwrap();
    assert_eq!(cases_of(&test, &admin, user_id).await, 0);
    let path = format!("/api/v1/integrations/{id}/agents/{agent_id}/match");
    let (status, matched) =
        call(&test, &admin, reqwest::Method::PUT, &path, Some(json!({ "user_id": user_id }))).await;
    assert_eq!(status, StatusCode::OK, "{matched}");
    assert_eq!(
        (matched["matched_user"]["id"].as_str(), matched["match_source"].as_str()),
        (Some(user_id.as_str()), Some("manual"))
    );
    assert_eq!(cases_of(&test, &admin, user_id).await as u64, case_count);
    let now = agents(&test, &admin, id).await;
    assert_eq!(now["held_back_total"].as_u64(), Some(held_back - case_count));
    let audit = test.store().list_audit(PageRequest::first(10)).await.unwrap().items;
    let entry = audit.iter().find(|e| e.action == "agent.match").unwrap();
    assert_eq!(entry.target_id, format!("{id}/{agent_id}"));
    assert_eq!(entry.details["source"], "manual");

    // Unmatching withdraws them again, and is audited.
    let (status, _) = call(&test, &admin, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cases_of(&test, &admin, user_id).await, 0);
    let audit = test.store().list_audit(PageRequest::first(1)).await.unwrap().items;
    assert_eq!(
        (audit[0].action.as_str(), audit[0].details["previous_user_id"].as_str()),
        ("agent.unmatch", Some(user_id.as_str()))
    );

    // Bad input: a missing staff member, an unknown agent.
    let (status, body) =
        call(&test, &admin, reqwest::Method::PUT, &path, Some(json!({ "user_id": uuid::Uuid::now_v7() })))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "user_id");
    let unknown = format!("/api/v1/integrations/{id}/agents/no-such-agent/match");
    let (status, _) =
        call(&test, &admin, reqwest::Method::PUT, &unknown, Some(json!({ "user_id": user_id }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn team_admins_and_supervisors_cannot_change_matches(backend: TestBackend) {
    let test =
        TestApp::with_helpdesk(backend, SimConfig { tickets: 20, agents: 5, ..SimConfig::default() }).await;
    let id = connect_and_sync(&test).await;
    let (_, admin) = test.api_user("global_admin").await;
    let (user, _) = test.api_user("employee").await;
    let agent_id = test.app.list_agents(&Actor::System, id).await.unwrap().agents[0].agent.agent_id.clone();
    let match_path = format!("/api/v1/integrations/{id}/agents/{agent_id}/match");
    let auto_path = format!("/api/v1/integrations/{id}/agents/auto-match");
    let match_body = json!({ "user_id": user.id });
    for role in ["team_admin", "supervisor"] {
        let (_, token) = test.api_user(role).await;
        let (status, _) =
            call(&test, &token, reqwest::Method::PUT, &match_path, Some(match_body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} PUT");
        let (status, _) = call(&test, &token, reqwest::Method::DELETE, &match_path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} DELETE");
        let (status, _) = call(&test, &token, reqwest::Method::POST, &auto_path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} auto-match");
        // They may look.
        agents(&test, &token, id).await;
    }
    let (_, employee) = test.api_user("employee").await;
    let (status, _) =
        call(&test, &employee, reqwest::Method::GET, &format!("/api/v1/integrations/{id}/agents"), None)
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Staff from agents: all or nothing.
    let team = support_team(&test).await;
    let listed = agents(&test, &admin, id).await;
    let [first, second, ..] = items(&listed).as_slice() else { panic!("agents") };
    let taken = create_staff(&test, &admin, "Taken", &swap_case(second["email"].as_str().unwrap())).await;
    let users_before = test.store().count_users().await.unwrap();
    let staff_path = format!("/api/v1/integrations/{id}/agents/staff");
    let both = json!({ "agent_ids": [first["agent_id"], second["agent_id"]], "team_id": team.id });
    let (status, body) = call(&test, &admin, reqwest::Method::POST, &staff_path, Some(both)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["fields"][0]["field"], "agent_ids");
    assert_eq!(test.store().count_users().await.unwrap(), users_before, "nothing created");
    let one = json!({ "agent_ids": [first["agent_id"]], "team_id": team.id });
    let (status, body) = call(&test, &admin, reqwest::Method::POST, &staff_path, Some(one)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created = &body["items"][0];
    assert_eq!(
        (created["name"].clone(), created["role"].as_str()),
        (first["name"].clone(), Some("employee"))
    );
    let agent_id = first["agent_id"].as_str().unwrap();
    let matched = test.app.get_agent(&Actor::System, id, agent_id).await.unwrap();
    assert_eq!(matched.matched_user.map(|u| u.id.to_string()), created["id"].as_str().map(str::to_owned));
    assert_eq!(test.store().list_team_members(team.id).await.unwrap().len(), 1);

    // A group admin matches staff of their groups: both belong to Support's team.
    let (group_admin_user, group_admin) = test.api_user("group_admin").await;
    for member in [group_admin_user.id, user.id, taken.parse().unwrap()] {
        test.app.add_team_member(&Actor::System, team.id, member).await.unwrap();
    }
    let (status, matched) =
        call(&test, &group_admin, reqwest::Method::PUT, &match_path, Some(match_body)).await;
    assert_eq!(status, StatusCode::OK, "{matched}");
    let (status, _) = call(&test, &group_admin, reqwest::Method::POST, &auto_path, None).await;
    assert_eq!(status, StatusCode::OK);
    let audit = test.store().list_audit(PageRequest::first(50)).await.unwrap().items;
    // Staff from an agent, the group admin's match, and "Taken" matched by email; refused calls
    // changed nothing.
    assert_eq!(audit.iter().filter(|e| e.action.starts_with("agent.")).count(), 3, "{audit:?}");
}

async fn manage_users_searches_filters_and_keeps_the_place_after_a_match(backend: TestBackend) {
    let (test, id, admin) = synced(backend).await;
    let listed = agents(&test, &admin, id).await;
    let first = &items(&listed)[0];
    let (name, agent_id) = (first["name"].as_str().unwrap(), first["agent_id"].as_str().unwrap());
    let (_, cookie) = test.signed_in("global_admin").await;
    let path = format!("/interactions/integrations/{id}/users");
    let rows = |html: &str| html.matches("data-agent-id=").count();

    let everyone = test.page(&cookie, &path).await;
    assert_eq!(rows(&everyone.text), items(&listed).len(), "every agent without a search");
    // The search is by any part of the name, in any case.
    let part: String = name.chars().take(4).collect::<String>().to_uppercase();
    let found = test.page(&cookie, &format!("{path}?q={}", urlencode(&part))).await;
    let expected = items(&listed)
        .iter()
        .filter(|agent| {
            let hay = [&agent["name"], &agent["email"]].map(|v| v.as_str().unwrap().to_lowercase());
            hay.iter().any(|text| text.contains(&part.to_lowercase()))
        })
        .count();
    assert_eq!(rows(&found.text), expected, "{part}");
    assert!(found.text.contains(&format!("value=\"{part}\"")), "the search stays in its box");
    let nobody = test.page(&cookie, &format!("{path}?q=no-such-agent-anywhere")).await;
    assert_eq!(rows(&nobody.text), 0);
    assert!(nobody.text.contains("No agent matches this search"), "{}", nobody.text);

    // Without htmx, a match returns to the agent's own row.
    let staff = create_staff(&test, &admin, "Searched Person", "searched.person@example.com").await;
    let matched = test.submit(&cookie, &format!("{path}/{agent_id}/match"), &[("user_id", &staff)]).await;
    assert_eq!(matched.status, StatusCode::SEE_OTHER);
    assert_eq!(matched.location.unwrap(), format!("{path}#agent-{agent_id}"));
    let unmatched = test.page(&cookie, &format!("{path}?show=unmatched")).await;
    let matched_only = test.page(&cookie, &format!("{path}?show=matched")).await;
    assert!(!unmatched.text.contains(&format!("data-agent-id=\"{agent_id}\"")));
    assert!(matched_only.text.contains(&format!("data-agent-id=\"{agent_id}\"")));
    assert_eq!(rows(&unmatched.text) + rows(&matched_only.text), items(&listed).len());
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
