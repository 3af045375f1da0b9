//! The Manage Users page in a real browser: match by email, accept a suggestion, unmatch (these
//! two in place, through htmx), and create staff from an agent.

use fantoccini::{Client, Locator};
use scoreline_app::{Actor, CreateUser};
use scoreline_core::PageRequest;
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{Browser, TestApp, TestBackend};

use crate::agents::{connect_and_sync, support_team};
use crate::browser_integrations::sign_in;

const EMAIL: &str = "admin@example.com";
const PASSWORD: &str = "correct horse battery staple";

async fn row(client: &Client, agent_id: &str) -> fantoccini::elements::Element {
    client.wait().for_element(Locator::Css(&format!("tr[data-agent-id=\"{agent_id}\"]"))).await.unwrap()
}

async fn row_class(client: &Client, agent_id: &str) -> String {
    row(client, agent_id).await.attr("class").await.unwrap().unwrap_or_default()
}

async fn in_row(client: &Client, agent_id: &str, css: &str) -> fantoccini::elements::Element {
    row(client, agent_id).await.find(Locator::Css(css)).await.unwrap()
}

/// Clicks a button of the agent's row, which htmx posts, and waits for the row to be replaced.
async fn click_in_row(client: &Client, agent_id: &str, css: &str) {
    let old_row = row(client, agent_id).await;
    let old_page = client.find(Locator::Css("html")).await.unwrap();
    old_row.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
    while old_row.tag_name().await.is_ok() {
        tokio::task::yield_now().await;
    }
    assert!(old_page.tag_name().await.is_ok(), "the row changed in place, without loading the page again");
}

/// Clicks a button whose form posts and redirects back here, and waits for the new page.
async fn submit(client: &Client, button: fantoccini::elements::Element) {
    let old_page = client.find(Locator::Css("html")).await.unwrap();
    button.click().await.unwrap();
    // Until the old page is gone, the notice found next could still be the previous one's.
    while old_page.tag_name().await.is_ok() {
        tokio::task::yield_now().await;
    }
    client.wait().for_element(Locator::Id("notice")).await.unwrap();
}

/// "Held back: N cases" of the summary.
async fn held_back_total(client: &Client) -> u64 {
    let text = client.find(Locator::Id("held-back-total")).await.unwrap().text().await.unwrap();
    text.split(' ').next().unwrap().parse().unwrap()
}

async fn notice(client: &Client) -> String {
    client.find(Locator::Id("notice")).await.unwrap().text().await.unwrap()
}

async fn staff(test: &TestApp, name: &str, email: &str) {
    let input = CreateUser {
        email: email.to_owned(),
        name: name.to_owned(),
        role: "employee".to_owned(),
        password: None,
        team_ids: Vec::new(),
    };
    test.app.create_user(&Actor::System, input).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_matches_agents_on_the_manage_users_page() {
    let test = TestApp::with_helpdesk(
        TestBackend::Sqlite,
        SimConfig { agents: 5, tickets: 40, days: 7, ..SimConfig::default() },
    )
    .await;
    let id = connect_and_sync(&test).await;
    let agents = test.app.list_agents(&Actor::System, id).await.unwrap().agents;
    let [same_email, same_name, newcomer, ..] = agents.as_slice() else { panic!("agents") };
    let (same_email, same_name, newcomer) = (&same_email.agent, &same_name.agent, &newcomer.agent);
    staff(&test, &same_email.name, &same_email.email.to_uppercase()).await;
    staff(&test, &same_name.name, "someone.else@elsewhere.example").await;
    let team = support_team(&test).await;
    test.create_user(EMAIL, "global_admin", Some(PASSWORD)).await;

    let Some(browser) = Browser::start().await else { return };
    let client = &browser.client;
    let page = test.url(&format!("/interactions/integrations/{id}/users"));
    client.goto(&page).await.unwrap();
    sign_in(client, EMAIL, PASSWORD).await;
    client.wait().for_element(Locator::Id("auto-match")).await.unwrap();
    assert_eq!(row_class(client, &same_email.agent_id).await, "unmatched");
    let held_back = held_back_total(client).await;
    assert!(held_back > 0);

    // Match by email.
    submit(client, client.find(Locator::Id("auto-match")).await.unwrap()).await;
    assert_eq!(notice(client).await, "Matched 1 agent by email.");
    assert_eq!(row_class(client, &same_email.agent_id).await, "matched");
    let text = in_row(client, &same_email.agent_id, ".matched-user").await.text().await.unwrap();
    assert!(text.contains(&same_email.name) && text.contains("matched by email"), "{text}");

    // Accept the suggestion for the agent whose staff member has another email.
    let suggestion = in_row(client, &same_name.agent_id, "button.accept-suggestion").await;
    assert_eq!(suggestion.text().await.unwrap(), format!("Match {}", same_name.name));
    click_in_row(client, &same_name.agent_id, "button.accept-suggestion").await;
    assert_eq!(notice(client).await, "Match saved; the agent's cases count for the staff member now.");
    assert_eq!(row_class(client, &same_name.agent_id).await, "matched");
    let text = in_row(client, &same_name.agent_id, ".matched-user").await.text().await.unwrap();
    assert!(text.contains("someone.else@elsewhere.example") && text.contains("matched by hand"), "{text}");

    // Unmatch the first again: its cases are held back, and the totals say so at once.
    let before = held_back_total(client).await;
    click_in_row(client, &same_email.agent_id, "button.unmatch").await;
    let cases: u64 =
        in_row(client, &same_email.agent_id, ".case-count").await.text().await.unwrap().parse().unwrap();
    assert_eq!(held_back_total(client).await, before + cases);
    assert_eq!(notice(client).await, "Unmatched; the agent's cases are held back.");
    assert_eq!(row_class(client, &same_email.agent_id).await, "unmatched");
    let text = in_row(client, &same_email.agent_id, ".matched-user").await.text().await.unwrap();
    assert!(text.contains("unmatched by hand"), "{text}");

    // Create a staff member from the third agent, into the team.
    in_row(client, &newcomer.agent_id, "input[name=agent_ids]").await.click().await.unwrap();
    client
        .find(Locator::Css("#create-staff select[name=team_id]"))
        .await
        .unwrap()
        .select_by_value(&team.id.to_string())
        .await
        .unwrap();
    submit(client, client.find(Locator::Id("create-staff-submit")).await.unwrap()).await;
    assert_eq!(notice(client).await, "Created 1 staff member and matched them.");
    assert_eq!(row_class(client, &newcomer.agent_id).await, "matched");
    let members = test.store().list_team_members(team.id).await.unwrap();
    let [member] = members.as_slice() else { panic!("one member: {members:?}") };
    assert_eq!(
        (member.name.as_str(), member.email.clone()),
        (newcomer.name.as_str(), newcomer.email.trim().to_lowercase())
    );
    let matched = test.app.get_agent(&Actor::System, id, &newcomer.agent_id).await.unwrap();
    assert_eq!(matched.matched_user.map(|u| u.id), Some(member.id));
    let audit = test.store().list_audit(PageRequest::first(100)).await.unwrap().items;
    let changes: Vec<&str> =
        audit.iter().filter(|e| e.action.starts_with("agent.")).map(|e| e.action.as_str()).collect();
    assert_eq!(changes, ["agent.match", "agent.unmatch", "agent.match", "agent.match"]);
    browser.close().await;
}
