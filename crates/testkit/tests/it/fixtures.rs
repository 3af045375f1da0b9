use scoreline_app::Actor;
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};

on_both_backends!(
    every_listed_agent_gets_a_matched_employee_of_the_support_team,
    connect_token_takes_changes_to_the_form,
);

async fn small_helpdesk(backend: TestBackend) -> TestApp {
    let config = SimConfig { agents: 6, tickets: 40, days: 7, ..SimConfig::default() };
    TestApp::with_helpdesk(backend, config).await
}

async fn every_listed_agent_gets_a_matched_employee_of_the_support_team(backend: TestBackend) {
    let test = small_helpdesk(backend).await;
    let matched = test.connected_with_matched_agents().await;
    assert_eq!(matched.agents.len(), 6, "{matched:?}");

    let directory = test.app.list_agents(&Actor::System, matched.id).await.unwrap();
    assert_eq!((directory.matched, directory.unmatched), (6, 0));
    let members = test.app.list_team_members(&Actor::System, matched.team_id).await.unwrap();
    for agent in &matched.agents {
        let member = members.iter().find(|m| m.id == agent.user_id).expect("a member of Tier 1");
        assert_eq!(member.role.as_str(), "employee");
        assert_eq!(member.email, agent.email.trim().to_lowercase());
    }
    let overview = test.app.integration_overview(&Actor::System, matched.id).await.unwrap();
    assert!(overview.cases.total > 0, "the first sync stored cases");
    assert_eq!(overview.cases.held_back, 0, "every case has a matched agent");
}

async fn connect_token_takes_changes_to_the_form(backend: TestBackend) {
    let test = small_helpdesk(backend).await;
    let id = test.connect_token(|form| form.label = "Brand B".to_owned()).await;
    let integration = test.app.get_integration(&Actor::System, id).await.unwrap();
    assert_eq!((integration.label.as_str(), integration.backfill_days), ("Brand B", 14));
}
