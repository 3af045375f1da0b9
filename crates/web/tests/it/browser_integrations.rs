use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use scoreline_app::{Actor, App, RateLimit};
use scoreline_core::{AuthMethod, Disconnect, Integration, IntegrationId, IntegrationState, PageRequest};
use scoreline_helpdesk_sim::{Fault, ScriptedFault, SimConfig};
use scoreline_testkit::{Browser, OAUTH_CALLBACK_PATH, TestApp, TestBackend};

use crate::browser_results::screenshots;

const EMAIL: &str = "admin@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// The app wired to a simulator, and a browser signed in as a global admin; `None` without a
/// browser (allowed only when `SCORELINE_TEST_BROWSER` does not demand one).
async fn signed_in_browser() -> Option<(TestApp, Browser)> {
    signed_in_browser_with(SimConfig { tickets: 20, ..SimConfig::default() }).await
}

async fn signed_in_browser_with(sim: SimConfig) -> Option<(TestApp, Browser)> {
    let test = TestApp::with_helpdesk(TestBackend::Sqlite, sim).await;
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
    once_navigated(client, Locator::Css(css)).await.text().await.unwrap()
}

/// Waits for `locator`, on the page a click may still be navigating to. The browser aborts a
/// command that meets a navigation half-way ("aborted by navigation"), which only means: ask
/// again once the new page is there.
async fn once_navigated(client: &Client, locator: Locator<'_>) -> Element {
    for _ in 0..20 {
        match client.wait().for_element(locator).await {
            Ok(element) => return element,
            Err(CmdError::NotW3C(reason)) if reason.as_str() == Some("aborted by navigation") => {}
            Err(error) => panic!("waiting for {locator:?}: {error}"),
        }
    }
    panic!("waiting for {locator:?}: every try was aborted by a navigation")
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
    once_navigated(client, Locator::Id("tile-helpdesk")).await.click().await.unwrap();
    once_navigated(client, Locator::Id("connect-form")).await;
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
    once_navigated(client, Locator::Id("allow")).await;
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
async fn denied_consent_returns_to_the_form_as_it_was_filled_in() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    open_form(client, "oauth", "HelpDesk OAuth").await;
    fill(client, "description", "Brand two").await;
    fill(client, "backfill_weeks", "3").await;
    submit(client).await;
    once_navigated(client, Locator::Id("deny")).await.click().await.unwrap();

    let summary = text(client, "#connect-form-summary").await;
    assert!(summary.contains("Access was not granted"), "{summary}");
    screenshots(client, "connect-denied").await;
    assert_eq!(client.current_url().await.unwrap().path(), OAUTH_CALLBACK_PATH);
    assert_eq!(value(client, "label").await, "HelpDesk OAuth");
    assert_eq!(value(client, "description").await, "Brand two");
    assert_eq!(value(client, "backfill_weeks").await, "3");
    let oauth = client.find(Locator::Css("input[name=auth_method][value=oauth]")).await.unwrap();
    assert_eq!(oauth.prop("checked").await.unwrap().as_deref(), Some("true"));
    assert!(integrations(&test).await.is_empty());

    // The same form connects once HelpDesk grants access.
    submit(client).await;
    once_navigated(client, Locator::Id("allow")).await.click().await.unwrap();
    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    let [integration] = integrations(&test).await.try_into().unwrap();
    assert_eq!((integration.description.as_str(), integration.backfill_days), ("Brand two", 21));
    browser.close().await;
}

async fn value(client: &Client, name: &str) -> String {
    let input = client.find(Locator::Css(&format!("#connect-form [name={name}]"))).await.unwrap();
    input.prop("value").await.unwrap().unwrap_or_default()
}

/// Whether the element is enabled: not disabled itself or by its fieldset.
async fn enabled(client: &Client, css: &str) -> bool {
    client.find(Locator::Css(css)).await.unwrap().is_enabled().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_chosen_method_is_active_and_a_failure_elsewhere_keeps_the_token() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    open_form(client, "oauth", "HelpDesk EU").await;
    assert!(!enabled(client, "#connect-form [name=token]").await, "no token under OAuth");
    assert!(!enabled(client, "#connect-form [name=account_id]").await);
    client.find(Locator::Css("input[name=auth_method][value=token]")).await.unwrap().click().await.unwrap();
    assert!(enabled(client, "#connect-form [name=token]").await);

    // A retention shorter than the backfill: the error is about retention, so the token stays,
    // though the page never contains it.
    fill(client, "account_id", &test.sim().account_id()).await;
    fill(client, "token", &test.sim().pat()).await;
    fill(client, "retention_value", "1").await;
    client
        .find(Locator::Css("#connect-form select[name=retention_unit] option[value=weeks]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(client, "backfill_weeks", "2").await;
    client.execute("window.notReloaded = true; return null;", vec![]).await.unwrap();
    submit(client).await;

    let summary = once_navigated(client, Locator::Id("connect-form-summary")).await;
    let message = summary.text().await.unwrap();
    assert!(message.contains("shorter than the backfill (2 weeks)"), "{message}");
    let focused = client.execute("return document.activeElement.id;", vec![]).await.unwrap();
    assert_eq!(focused, "connect-form-summary", "the summary takes the focus");
    let link = summary.find(Locator::Css("a")).await.unwrap();
    assert_eq!(link.attr("href").await.unwrap().as_deref(), Some("#connect-form-retention"));
    assert_eq!(value(client, "token").await, test.sim().pat(), "the token is kept");
    let source = client.source().await.unwrap();
    assert!(!source.contains(&test.sim().pat()), "the token is never written into the page");
    let kept = client.execute("return window.notReloaded === true;", vec![]).await.unwrap();
    assert_eq!(kept, true, "the form was swapped, not reloaded");
    screenshots(client, "connect-error").await;

    // Fixed, the same form connects with the kept token.
    fill(client, "retention_value", "3").await;
    submit(client).await;
    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    screenshots(client, "connected").await;
    assert_eq!(integrations(&test).await.len(), 1);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_an_account_again_asks_for_confirmation() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    test.connect_token(|input| input.label = "HelpDesk EU".to_owned()).await;
    client.goto(&test.url("/interactions/integrations/new")).await.unwrap();
    once_navigated(client, Locator::Id("connect-form")).await;
    // A colleague of the same HelpDesk account: another Account ID, the same license.
    let (colleague, colleague_pat) = test.sim().add_person();
    fill(client, "label", "HelpDesk again").await;
    fill(client, "account_id", &colleague).await;
    fill(client, "token", &colleague_pat).await;
    submit(client).await;

    let warning = text(client, ".field-error[data-field=confirm_duplicate]").await;
    let license = test.sim().license_id();
    assert!(
        warning.contains(&format!("(License ID {license}) is already connected as “HelpDesk EU”")),
        "{warning}"
    );
    assert_eq!(integrations(&test).await.len(), 1, "nothing created before confirming");
    assert_eq!(text(client, "#connect-form button[type=submit]").await, "Connect anyway");
    screenshots(client, "connect-duplicate").await;
    client.find(Locator::Css("input[name=confirm_duplicate]")).await.unwrap().click().await.unwrap();
    submit(client).await;
    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    assert_eq!(integrations(&test).await.len(), 2);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_license_helpdesk_does_not_name_is_told_on_the_confirmation_page() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    test.sim().script_fault(ScriptedFault::new("/v1/licenses", 10, Fault::Status { status: 503 }));
    client.goto(&test.url("/interactions/integrations/new")).await.unwrap();
    once_navigated(client, Locator::Id("connect-form")).await;
    fill(client, "label", "HelpDesk EU").await;
    fill(client, "account_id", &test.sim().account_id()).await;
    fill(client, "token", &test.sim().pat()).await;
    submit(client).await;
    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    let note = text(client, "#license-unknown").await;
    assert!(note.contains("could only compare the Account ID"), "{note}");
    screenshots(client, "connected-license-unknown").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_integration_says_so_and_reconnects_with_a_token() {
    let Some((test, browser)) = signed_in_browser().await else { return };
    let client = &browser.client;
    let id = test.connect_token(|_| {}).await;
    test.app.disconnect_integration(&Actor::System, id, Disconnect::KeepCases).await.unwrap();
    client.goto(&test.url(&format!("/interactions/integrations/{id}"))).await.unwrap();

    assert_eq!(text(client, "#integration-state").await, "Disconnected");
    let phase = text(client, "#sync-phase").await;
    assert!(phase.starts_with("Stopped"), "{phase}");
    assert!(!exists(client, "#disconnect").await, "no Disconnect for what is disconnected");
    assert!(!exists(client, "#sync-now").await);
    assert!(exists(client, "#remove").await);
    screenshots(client, "integration-disconnected").await;
    let token = client.find(Locator::Css("#token-form [name=token]")).await.unwrap();
    token.send_keys(&test.sim().pat()).await.unwrap();
    client.find(Locator::Id("reconnect")).await.unwrap().click().await.unwrap();
    let notice = text(client, "#notice").await;
    assert!(notice.starts_with("Reconnected"), "{notice}");
    assert_eq!(text(client, "#integration-state").await, "Connected");
    assert!(exists(client, "#disconnect").await);
    browser.close().await;
}

/// An app over the test's database and clock whose HelpDesk requests go at `per_second`, a
/// backfill window at a time: the sync a server would run, slow enough to watch.
fn paced_app(test: &TestApp, per_second: f64) -> App {
    let mut settings = test.app.settings().clone();
    settings.sync.concurrency = 1;
    settings.helpdesk.rate_limit = RateLimit { requests_per_second: per_second, burst: 1 };
    App::new(test.database.db.clone(), test.clock.clone(), test.sealer.clone(), settings)
}

/// The element at `xpath` once the page shows it: the status refreshes itself while a paced
/// sync runs, which may take many seconds to get there.
async fn wait_during_sync(client: &Client, xpath: &str) -> fantoccini::elements::Element {
    client.wait().at_most(Duration::from_secs(30)).for_element(Locator::XPath(xpath)).await.unwrap()
}

/// The backfill's millionths done, once they pass `above`.
async fn backfill_ppm_above(client: &Client, css_id: &str, above: u64) -> u64 {
    let xpath = format!("//*[@id='{css_id}' and number(@data-ppm) > {above}]");
    let ppm = wait_during_sync(client, &xpath).await.attr("data-ppm").await.unwrap().unwrap();
    ppm.parse().unwrap()
}

async fn sync_in_background(app: App, id: IntegrationId) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        app.sync_integration(id, None).await.expect("the sync run");
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_progress_advances_on_the_page_without_a_reload() {
    let sim = SimConfig { tickets: 400, days: 14, ..SimConfig::default() };
    let Some((test, browser)) = signed_in_browser_with(sim).await else { return };
    let client = &browser.client;
    let id = test.connect_token(|_| {}).await;
    test.clock.advance(Duration::from_secs(120));
    // 28 windows of one page or more at 4 requests a second: several seconds of backfill.
    test.sim().update_knobs(|knobs| knobs.latency_ms = 50);
    client.goto(&test.url(&format!("/interactions/integrations/{id}"))).await.unwrap();
    client.execute("window.notReloaded = true; return null;", vec![]).await.unwrap();
    let sync = sync_in_background(paced_app(&test, 4.0), id).await;

    let first = backfill_ppm_above(client, "backfill-percent", 0).await;
    assert_eq!(text(client, "#backfill-eta").await, "estimating the time left");
    let wait = text(client, "#rate-limit-wait").await;
    assert!(wait.starts_with("Waiting for HelpDesk's rate limit"), "{wait}");
    // Time passes on the app's clock: the rate so far gives an estimate.
    test.clock.advance(Duration::from_secs(10));
    let second = backfill_ppm_above(client, "backfill-percent", first).await;
    assert!(second > first, "{first} → {second}");
    let eta = text(client, "#backfill-eta").await;
    assert!(eta.ends_with("left") && !eta.starts_with("estimating"), "{eta}");
    let stored = text(client, "#backfill").await;
    assert!(stored.contains("cases stored"), "{stored}");
    screenshots(client, "integration-backfill").await;

    sync.await.unwrap();
    let finished = "//dd[@id='last-run' and starts-with(normalize-space(.), 'Finished')]";
    let last_run = wait_during_sync(client, finished).await;
    assert!(last_run.text().await.unwrap().contains("cases changed"));
    assert!(!exists(client, "#backfill").await, "done, the progress bar is gone");
    assert!(
        client.find(Locator::Id("sync-status")).await.unwrap().attr("hx-trigger").await.unwrap().is_none(),
        "idle, the status stops polling"
    );
    let kept = client.execute("return window.notReloaded === true;", vec![]).await.unwrap();
    assert_eq!(kept, true, "the page was never reloaded");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_reports_when_the_run_finished_and_the_tile_follows_the_backfill() {
    let sim = SimConfig { tickets: 400, days: 14, ..SimConfig::default() };
    let Some((test, browser)) = signed_in_browser_with(sim).await else { return };
    let client = &browser.client;
    let id = test.connect_token(|_| {}).await;
    test.clock.advance(Duration::from_secs(120));

    // The tile on View Integrations follows a backfill too.
    client.goto(&test.url("/interactions/integrations")).await.unwrap();
    client.execute("window.notReloaded = true; return null;", vec![]).await.unwrap();
    let backfill = sync_in_background(paced_app(&test, 4.0), id).await;
    let tile = format!("tile-status-{id}");
    let xpath =
        format!("//*[@id='{tile}']//*[contains(@class, 'backfill-percent') and number(@data-ppm) > 0]");
    wait_during_sync(client, &xpath).await;
    screenshots(client, "integrations-tile-backfill").await;
    backfill.await.unwrap();
    let done = format!("//*[@id='{tile}' and not(@hx-trigger) and contains(., 'Up to date')]");
    wait_during_sync(client, &done).await;

    // Two hours on, the backfill's run is "2 hours ago"; the one asked for now ends "just now".
    test.clock.advance(Duration::from_secs(2 * 3600));
    client.goto(&test.url(&format!("/interactions/integrations/{id}"))).await.unwrap();
    assert!(text(client, "#last-run").await.contains("2 hours ago"));
    client.execute("window.notReloaded = true; return null;", vec![]).await.unwrap();
    once_navigated(client, Locator::Id("sync-now")).await.click().await.unwrap();
    let requested = text(client, "#sync-activity").await;
    assert!(requested.starts_with("Sync requested"), "{requested}");
    // The run the scheduler would start for the request.
    let run = sync_in_background(paced_app(&test, 50.0), id).await;
    run.await.unwrap();
    let last_run =
        wait_during_sync(client, "//dd[@id='last-run' and contains(., 'Finished just now')]").await;
    let text = last_run.text().await.unwrap();
    assert!(text.contains("changed"), "{text}");
    assert!(!exists(client, "#sync-activity").await, "the request was served");
    screenshots(client, "integration-synced").await;
    let kept = client.execute("return window.notReloaded === true;", vec![]).await.unwrap();
    assert_eq!(kept, true, "the page was never reloaded");
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
