use fantoccini::{Client, Locator};
use scoreline_core::{AuthMethod, Integration, IntegrationState, PageRequest};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{Browser, OAUTH_CALLBACK_PATH, TestApp, TestBackend};

const EMAIL: &str = "admin@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// The app wired to a simulator, and a browser signed in as a global admin; `None` without a
/// browser (allowed only when `SCORELINE_TEST_BROWSER` does not demand one).
async fn signed_in_browser() -> Option<(TestApp, Browser)> {
    let test =
        TestApp::with_helpdesk(TestBackend::Sqlite, SimConfig { tickets: 20, ..SimConfig::default() }).await;
    test.create_user(EMAIL, "global_admin", Some(PASSWORD)).await;
    let browser = Browser::start().await?;
    let client = &browser.client;
    client.goto(&test.url("/interactions/integrations")).await.unwrap();
    sign_in(client, EMAIL, PASSWORD).await;
    client.wait().for_url(&url(&test, "/interactions/integrations")).await.unwrap();
    Some((test, browser))
}

/// Fills in and submits the sign-in page the browser was sent to.
pub async fn sign_in(client: &Client, email: &str, password: &str) {
    client
        .wait()
        .for_element(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    client.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(password).await.unwrap();
    client.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
}

fn url(test: &TestApp, path: &str) -> url::Url {
    url::Url::parse(&test.url(path)).unwrap()
}

async fn integrations(test: &TestApp) -> Vec<Integration> {
    test.store().list_integrations(PageRequest::first(100)).await.unwrap().items
}

async fn text(client: &Client, css: &str) -> String {
    client.wait().for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

async fn exists(client: &Client, css: &str) -> bool {
    !client.find_all(Locator::Css(css)).await.unwrap().is_empty()
}

async fn fill(client: &Client, name: &str, value: &str) {
    let input = client.find(Locator::Css(&format!("#connect-form [name={name}]"))).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// From View Integrations (no integration yet) through the HelpDesk tile to the form, with the
/// method chosen and the label filled in.
async fn open_form(client: &Client, method: &str, label: &str) {
    client.wait().for_element(Locator::Id("tile-helpdesk")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Id("connect-form")).await.unwrap();
    client
        .find(Locator::Css(&format!("input[name=auth_method][value={method}]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(client, "label", label).await;
}

async fn submit(client: &Client) {
    client.find(Locator::Css("#connect-form button[type=submit]")).await.unwrap().click().await.unwrap();
}

/// Submits the OAuth form and waits for the simulator's consent page.
async fn start_oauth(test: &TestApp, client: &Client, label: &str) {
    open_form(client, "oauth", label).await;
    submit(client).await;
    client.wait().for_element(Locator::Id("allow")).await.unwrap();
    let consent = client.current_url().await.unwrap();
    assert!(consent.as_str().starts_with(&test.sim().accounts_url()), "{consent}");
}

/// The error page's heading and message.
async fn error_page(client: &Client) -> (String, String) {
    let message = text(client, "main p[role=alert]").await;
    (text(client, "main h1").await, message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_helpdesk_with_an_access_token() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    assert!(!exists(client, "#tile-add").await, "no integration yet, so no Add tile");
    assert!(text(client, "#tile-helpdesk").await.contains("HelpDesk"));

    open_form(client, "token", "HelpDesk EU").await;
    fill(client, "description", "Support inbox for Europe").await;
    fill(client, "account_id", &test.sim().account_id()).await;
    fill(client, "token", &test.sim().pat()).await;
    submit(client).await;

    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    let [integration] = integrations(&test).await.try_into().unwrap();
    assert_eq!(
        client.current_url().await.unwrap(),
        url(&test, &format!("/interactions/integrations/{}/connected", integration.id))
    );
    assert_eq!(
        (integration.auth_method, integration.state),
        (AuthMethod::Token, IntegrationState::Connected)
    );
    let manage_users = client.find(Locator::Id("manage-users")).await.unwrap();
    assert_eq!(
        manage_users.attr("href").await.unwrap().unwrap(),
        format!("/interactions/integrations/{}/users", integration.id)
    );

    client.find(Locator::LinkText("Back to View Integrations")).await.unwrap().click().await.unwrap();
    client.wait().for_url(&url(&test, "/interactions/integrations")).await.unwrap();
    let tile = text(client, ".tile.integration").await;
    for expected in ["HelpDesk EU", "Support inbox for Europe", "Access token", "Connected"] {
        assert!(tile.contains(expected), "{expected:?} missing from the tile: {tile}");
    }
    assert!(text(client, "#tile-add").await.contains("Add an Integration"));
    assert!(!exists(client, "#tile-helpdesk").await, "the first-integration tile is gone");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_comes_back_with_a_field_error_and_creates_nothing() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    open_form(client, "token", "HelpDesk EU").await;
    fill(client, "account_id", &test.sim().account_id()).await;
    fill(client, "token", "dal:this-token-is-unknown-to-helpdesk").await;
    submit(client).await;

    let error = text(client, ".field-error[data-field=token]").await;
    assert!(error.starts_with("HelpDesk rejected this Account ID or token"), "{error}");
    let value = |name: &'static str| async move {
        let input = client.find(Locator::Css(&format!("#connect-form [name={name}]"))).await.unwrap();
        input.prop("value").await.unwrap().unwrap_or_default()
    };
    assert_eq!(value("label").await, "HelpDesk EU", "the typed label is kept");
    assert_eq!(value("account_id").await, test.sim().account_id());
    assert_eq!(value("token").await, "", "the token is never sent back");
    assert!(integrations(&test).await.is_empty());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_helpdesk_by_oauth_through_the_consent_page() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    start_oauth(&test, client, "HelpDesk OAuth").await;
    let consent = client.current_url().await.unwrap();
    let query: std::collections::HashMap<_, _> = consent.query_pairs().into_owned().collect();
    assert_eq!(query.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(query.get("client_id"), Some(&test.sim().oauth_client_id()));
    assert_eq!(query.get("redirect_uri"), Some(&test.url(OAUTH_CALLBACK_PATH)));
    assert_eq!(query.get("code_challenge_method").map(String::as_str), Some("S256"));
    assert!(query.get("state").is_some_and(|state| state.len() >= 20), "{consent}");
    assert!(integrations(&test).await.is_empty(), "nothing exists before consent");

    client.find(Locator::Id("allow")).await.unwrap().click().await.unwrap();
    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    let [integration] = integrations(&test).await.try_into().unwrap();
    assert_eq!(integration.label, "HelpDesk OAuth");
    assert_eq!(
        (integration.auth_method, integration.state),
        (AuthMethod::Oauth, IntegrationState::Connected)
    );
    assert!(integration.credential_set);
    assert_eq!(
        client.current_url().await.unwrap(),
        url(&test, &format!("/interactions/integrations/{}/connected", integration.id))
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_consent_ends_on_a_clear_page_and_creates_nothing() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    start_oauth(&test, client, "HelpDesk OAuth").await;
    client.find(Locator::Id("deny")).await.unwrap().click().await.unwrap();

    let (heading, message) = error_page(client).await;
    assert_eq!(heading, "Something went wrong");
    assert!(message.starts_with("Access was not granted"), "{message}");
    assert_eq!(client.current_url().await.unwrap().path(), OAUTH_CALLBACK_PATH);
    assert!(integrations(&test).await.is_empty());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_replayed_callback_is_refused() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    start_oauth(&test, client, "HelpDesk OAuth").await;

    client.goto(&test.url(&format!("{OAUTH_CALLBACK_PATH}?state=forged&code=x"))).await.unwrap();
    let (_, message) = error_page(client).await;
    assert!(message.starts_with("This sign-in link is not valid"), "{message}");
    assert!(integrations(&test).await.is_empty());

    // The real flow is untouched by the forgery. Approve it as the consent form would, to learn
    // the callback URL, then let the browser (whose session started the flow) follow it twice.
    client.back().await.unwrap();
    let fields = client.find_all(Locator::Css("form:has(#allow) input[type=hidden]")).await.unwrap();
    let mut form = Vec::new();
    for field in fields {
        form.push((field.attr("name").await.unwrap().unwrap(), field.prop("value").await.unwrap().unwrap()));
    }
    assert!(form.contains(&("decision".to_owned(), "allow".to_owned())), "{form:?}");
    let answer =
        TestApp::http().post(format!("{}/", test.sim().accounts_url())).form(&form).send().await.unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let callback = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&test.url(OAUTH_CALLBACK_PATH)), "{callback}");

    client.goto(&callback).await.unwrap();
    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    assert_eq!(integrations(&test).await.len(), 1);

    client.goto(&callback).await.unwrap();
    let (_, message) = error_page(client).await;
    assert!(message.starts_with("This sign-in link is not valid"), "{message}");
    assert_eq!(integrations(&test).await.len(), 1, "a replay creates nothing more");
    browser.close().await;
}
