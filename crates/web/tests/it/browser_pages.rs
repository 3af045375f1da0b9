//! The page pattern in a real browser: a refused form keeps what was typed and says what is
//! wrong beside the field; the message after a saved form is shown once, not again on reload.

use fantoccini::{Client, Locator};
use scoreline_testkit::{Browser, TestApp, TestBackend};

use crate::browser_integrations::sign_in;

const EMAIL: &str = "admin@example.com";
const PASSWORD: &str = "correct horse battery staple";

async fn fill(client: &Client, name: &str, value: &str) {
    let input = client.find(Locator::Css(&format!("#new-user [name={name}]"))).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

async fn value(client: &Client, name: &str) -> String {
    let input = client.find(Locator::Css(&format!("#new-user [name={name}]"))).await.unwrap();
    input.prop("value").await.unwrap().unwrap_or_default()
}

/// Submits the Add a person form and waits for the page it leads to.
async fn submit(client: &Client) {
    let old_page = client.find(Locator::Css("html")).await.unwrap();
    client.find(Locator::Css("#new-user button[type=submit]")).await.unwrap().click().await.unwrap();
    while old_page.tag_name().await.is_ok() {
        tokio::task::yield_now().await;
    }
    client.wait().for_element(Locator::Css("#new-user")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_form_keeps_what_was_typed_and_a_saved_one_says_so_once() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    test.create_user(EMAIL, "global_admin", Some(PASSWORD)).await;
    let Some(browser) = Browser::start().await else { return };
    let client = &browser.client;
    client.goto(&test.url("/users")).await.unwrap();
    sign_in(client, EMAIL, PASSWORD).await;
    client.wait().for_element(Locator::Id("new-user")).await.unwrap();

    // Someone has this email already: the page comes back with the message beside the field.
    fill(client, "name", "Zed Agent").await;
    fill(client, "email", EMAIL).await;
    fill(client, "password", "a secret nobody sees again").await;
    submit(client).await;
    let field = client.find(Locator::Css("#new-user .field:has(#new-user-email)")).await.unwrap();
    let error = field.find(Locator::Css(".field-error")).await.unwrap();
    assert_eq!(error.attr("id").await.unwrap().as_deref(), Some("new-user-email-error"));
    assert!(!error.text().await.unwrap().is_empty());
    let email = client.find(Locator::Id("new-user-email")).await.unwrap();
    assert_eq!(email.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    assert_eq!(email.attr("aria-describedby").await.unwrap().as_deref(), Some("new-user-email-error"));
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("new-user-email"),
        "the problem has the focus"
    );
    assert_eq!(value(client, "name").await, "Zed Agent", "the typed name is kept");
    assert_eq!(value(client, "email").await, EMAIL);
    assert_eq!(value(client, "password").await, "", "a password is never sent back");

    // Corrected, it is saved: the next page says so once.
    fill(client, "email", "zed@example.com").await;
    fill(client, "password", "").await;
    submit(client).await;
    let notice = client.find(Locator::Id("notice")).await.unwrap().text().await.unwrap();
    assert_eq!(notice, "Created zed@example.com.");
    assert!(!client.current_url().await.unwrap().as_str().contains('?'), "no message in the address");
    client.refresh().await.unwrap();
    client.wait().for_element(Locator::Css("#staff")).await.unwrap();
    assert!(client.find_all(Locator::Id("notice")).await.unwrap().is_empty(), "gone on reload");
    let staff = client.find(Locator::Id("staff")).await.unwrap().text().await.unwrap();
    assert!(staff.contains("zed@example.com"), "{staff}");
    // A row's actions stand side by side, not stacked.
    let (edit, deactivate) = ("#staff tr:has(a.edit) a.edit", "#staff tr:has(a.edit) button.deactivate");
    let edit = client.find(Locator::Css(edit)).await.unwrap().rectangle().await.unwrap();
    let deactivate = client.find(Locator::Css(deactivate)).await.unwrap().rectangle().await.unwrap();
    assert!(deactivate.0 > edit.0 && (deactivate.1 - edit.1).abs() < 10.0, "{edit:?} {deactivate:?}");
    crate::browser_results::screenshots(client, "staff").await;
    browser.close().await;
}

/// An htmx request that fails is not silent: when the scorecard builder's preview is asked for
/// after the database went away (a 5xx), a message says so at the top of the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_htmx_request_says_so_at_the_top_of_the_page() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    test.create_user(EMAIL, "global_admin", Some(PASSWORD)).await;
    let Some(browser) = Browser::start().await else { return };
    let client = &browser.client;
    client.goto(&test.url("/score/scorecards/new")).await.unwrap();
    sign_in(client, EMAIL, PASSWORD).await;
    let name = client.wait().for_element(Locator::Css("#builder [name=name]")).await.unwrap();
    assert!(client.find_all(Locator::Id("request-error")).await.unwrap().is_empty());

    test.store().close().await;
    name.send_keys("Quality").await.unwrap();
    let alert = client.wait().for_element(Locator::Css("main #flash #request-error")).await.unwrap();
    assert_eq!(alert.attr("role").await.unwrap().as_deref(), Some("alert"));
    let text = alert.text().await.unwrap();
    assert!(text.contains("could not do this just now (error 5"), "{text}");
    assert!(text.contains("Reference: "), "the request id, to quote: {text}");
    browser.close().await;
}
