//! The evaluation flow in a real browser: from an assignment in My work, score a case beside its
//! conversation, save a draft, resume it from the case page, submit (the assignment is then
//! done); the agent disputes; a supervisor resolves it as changed; the agent sees the new score.

use fantoccini::{Client, Locator};
use reqwest::{Method, StatusCode};
use scoreline_app::Actor;
use scoreline_testkit::{Browser, PASSWORD, TestApp, TestBackend};
use serde_json::json;

use crate::evaluations::Scene;

/// Clicks `selector` and waits for the page it leads to.
async fn click_and_wait(client: &Client, selector: &str) {
    let old_page = client.find(Locator::Css("html")).await.unwrap();
    client.find(Locator::Css(selector)).await.unwrap().click().await.unwrap();
    while old_page.tag_name().await.is_ok() {
        tokio::task::yield_now().await;
    }
    client.wait().for_element(Locator::Css("main")).await.unwrap();
}

async fn pick(client: &Client, question: &str, option: &str) {
    let radio = format!("input[name='answer.{question}'][value='{option}']");
    client.find(Locator::Css(&radio)).await.unwrap().click().await.unwrap();
}

async fn text(client: &Client, selector: &str) -> String {
    client.wait().for_element(Locator::Css(selector)).await.unwrap().text().await.unwrap()
}

async fn sign_in_as(client: &Client, test: &TestApp, email: &str, path: &str) {
    client.goto(&test.url("/sign-out-page-that-does-not-exist")).await.unwrap();
    client.delete_all_cookies().await.unwrap();
    client.goto(&test.url(path)).await.unwrap();
    crate::browser_integrations::sign_in(client, email, PASSWORD).await;
    while client.current_url().await.unwrap().path() == "/sign-in" {
        tokio::task::yield_now().await;
    }
    client.wait().for_element(Locator::Css("main h1")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_beside_the_conversation_dispute_and_resolve() {
    let scene = Scene::new(TestBackend::Sqlite).await;
    let test = &scene.test;
    // People who sign in: a supervisor of the team, and an employee matched to the first agent.
    let supervisor = test.new_person("supervisor").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, supervisor.id).await.unwrap();
    let agent = test.new_person("employee").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, agent.id).await.unwrap();
    let first = &scene.matched.agents[0];
    test.app.match_agent(&Actor::System, scene.matched.id, &first.agent_id, agent.id).await.unwrap();
    // A list gives the supervisor one of the agent's cases.
    let (_, admin) = test.api_user("global_admin").await;
    let list = json!({
        "name": "Oldest first", "time_zone": "UTC", "integration_ids": [scene.matched.id],
        "scope": { "user_ids": [agent.id] }, "filters": { "date_field": "created" },
        "type": "sequential", "count": 1, "per": "total", "evaluators": [{ "user_id": supervisor.id }],
    });
    let (status, list) = test.call(&admin, Method::POST, "/api/v1/lists", Some(&list)).await;
    assert_eq!(status, StatusCode::CREATED, "{list}");
    let runs = format!("/api/v1/lists/{}/runs", list["id"].as_str().unwrap());
    let (status, run) = test.call(&admin, Method::POST, &runs, None).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let cases = [run["picked"][0]["case_id"].as_str().expect("one pick").to_owned()];
    let Some(browser) = Browser::start().await else { return };
    let client = &browser.client;

    // My work leads to the evaluate page: the conversation beside the scorecard.
    sign_in_as(client, test, &supervisor.email, "/work").await;
    click_and_wait(client, "#work .evaluate-case").await;
    click_and_wait(client, "#start button[type=submit]").await;
    assert!(client.find(Locator::Css(".conversation-pane .conversation")).await.is_ok());
    assert!(client.find(Locator::Css(".card-pane #evaluate")).await.is_ok());
    let evaluation_url = client.current_url().await.unwrap();

    // Answer two questions and save the draft; the running score follows.
    pick(client, &scene.question(0), &scene.option(0, 1)).await;
    pick(client, &scene.question(2), &scene.option(2, 1)).await;
    click_and_wait(client, "#evaluate button[value=save]").await;
    assert!(text(client, "#notice").await.contains("Draft saved."));
    // Resume: from the case page again, the same draft with its answers.
    client.goto(&test.url(&format!("/cases/{}", cases[0]))).await.unwrap();
    click_and_wait(client, "#evaluate").await;
    assert_eq!(client.current_url().await.unwrap(), evaluation_url, "the draft is resumed");
    let chosen = format!("input[name='answer.{}'][value='{}']", scene.question(0), scene.option(0, 1));
    assert!(client.find(Locator::Css(&chosen)).await.unwrap().is_selected().await.unwrap());

    // Submit refuses with the missing answer pointed out, then goes through.
    click_and_wait(client, "#evaluate button[value=submit]").await;
    let missing = format!("#q-{} .field-error", scene.question(1));
    assert_eq!(text(client, &missing).await, "needs an answer");
    pick(client, &scene.question(1), &scene.option(1, 1)).await;
    click_and_wait(client, "#evaluate button[value=submit]").await;
    assert!(text(client, "#notice").await.contains("Evaluation submitted."));
    assert_eq!(text(client, "#score").await, "100.00");
    client.goto(&test.url("/work")).await.unwrap();
    assert!(client.wait().for_element(Locator::Css("#no-work")).await.is_ok(), "the assignment is done");

    // The agent disputes it.
    sign_in_as(client, test, &agent.email, "/evaluations").await;
    click_and_wait(client, "#evaluations a").await;
    assert_eq!(text(client, "#score").await, "100.00");
    client
        .find(Locator::Css("#dispute textarea[name=reason]"))
        .await
        .unwrap()
        .send_keys("The answer was wrong, I know")
        .await
        .unwrap();
    click_and_wait(client, "#dispute button[type=submit]").await;
    assert!(text(client, "#notice").await.contains("Dispute sent"));

    // The supervisor resolves it as changed: the answer was wrong after all (fails everything).
    sign_in_as(client, test, &supervisor.email, evaluation_url.path()).await;
    client.find(Locator::Css("#resolve input[value=changed]")).await.unwrap().click().await.unwrap();
    client
        .find(Locator::Css("#resolve textarea[name=reason]"))
        .await
        .unwrap()
        .send_keys("Agreed: wrong answer")
        .await
        .unwrap();
    let wrong =
        format!("#resolve input[name='answer.{}'][value='{}']", scene.question(2), scene.option(2, 0));
    client.find(Locator::Css(&wrong)).await.unwrap().click().await.unwrap();
    click_and_wait(client, "#resolve button[type=submit]").await;
    assert!(text(client, "#notice").await.contains("Dispute resolved."));

    // The agent sees the new score, the outcome and both revisions.
    sign_in_as(client, test, &agent.email, evaluation_url.path()).await;
    assert_eq!(text(client, "#score").await, "0.00");
    assert_eq!(text(client, "#dispute-outcome").await, "changed");
    assert_eq!(client.find_all(Locator::Css("#revisions li")).await.unwrap().len(), 2);
    browser.close().await;
}

async fn fill(client: &Client, name: &str, value: &str) {
    let input = client.find(Locator::Css(&format!("#builder [name='{name}']"))).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_and_publish_a_two_section_scorecard_with_a_fail_all_option() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let Some((_, browser)) = test.browser_as("global_admin", "/score/scorecards/new").await else { return };
    let client = &browser.client;
    fill(client, "name", "Support quality").await;
    fill(client, "sections[0].title", "Tone").await;
    fill(client, "sections[0].questions[0].text", "Greets the customer").await;
    // A second section: what was typed stays.
    click_and_wait(client, "#builder button[value='add-section:']").await;
    let kept = client.find(Locator::Css("#builder [name='sections[0].title']")).await.unwrap();
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("Tone"));
    fill(client, "sections[1].title", "Accuracy").await;
    fill(client, "sections[1].questions[0].text", "Gives the right answer").await;
    fill(client, "sections[1].questions[0].options[1].points", "3").await;
    client
        .find(Locator::Css(
            "#builder select[name='sections[1].questions[0].options[0].fail'] option[value=all]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The live preview follows: the new section's maximum, the fail rule.
    let section = "//aside[@id='preview']//h3[contains(., 'Accuracy') and contains(., 'max 3 points')]";
    client.wait().for_element(Locator::XPath(section)).await.unwrap();
    let fail = "//aside[@id='preview']//label[contains(., 'fails everything')]";
    client.wait().for_element(Locator::XPath(fail)).await.unwrap();
    click_and_wait(client, "#builder button[value=publish]").await;
    assert!(text(client, "#notice").await.contains("Published version 1."));
    assert!(text(client, "#scorecard-state").await.contains("version 1 published"));
    browser.close().await;
}
