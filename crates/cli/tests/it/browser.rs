use fantoccini::Locator;
use scoreline_testkit::Browser;

use crate::{Server, run_with_stdin, scoreline};

const PASSWORD: &str = "correct horse battery staple";

fn create_user(dir: &std::path::Path, email: &str, role: &str) {
    let mut command = scoreline(dir, &[]);
    command.args([
        "users",
        "create",
        "--email",
        email,
        "--name",
        "Browser Person",
        "--role",
        role,
        "--password-stdin",
    ]);
    let output = run_with_stdin(command, &format!("{PASSWORD}\n"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn an_admin_created_at_the_console_signs_in_with_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    create_user(dir.path(), "admin@example.com", "global_admin");
    create_user(dir.path(), "agent@example.com", "employee");
    let server = Server::start(dir.path(), &[]);
    let Some(browser) = Browser::start().await else { return };
    let client = &browser.client;

    browser.sign_in(&server.url("/"), "admin@example.com", "wrong password here").await;
    let error = client.wait().for_element(Locator::Id("sign-in-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("do not match"), "{error}");

    browser.sign_in(&server.url("/"), "admin@example.com", PASSWORD).await;
    // Home shows one's counts; the integrations are one click away.
    client.wait().for_element(Locator::Id("home-counts")).await.unwrap();
    client.goto(&server.url("/interactions/integrations")).await.unwrap();
    let heading = client.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, "Integrations");
    let crumbs = client.find(Locator::Css(".crumbs")).await.unwrap().text().await.unwrap();
    assert_eq!(crumbs, "Score ▸ Interactions ▸ View Integrations");

    client.find(Locator::Css(".who button")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css("input[name=email]")).await.unwrap();

    browser.sign_in(&server.url("/"), "agent@example.com", PASSWORD).await;
    // The sign-in page has a `main h1` too: wait for the redirect home, not for any heading.
    client.wait().for_url(&url::Url::parse(&server.url("/")).unwrap()).await.unwrap();
    client.goto(&server.url("/interactions/integrations")).await.unwrap();
    let heading = client.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, "Not allowed");
    browser.close().await;
}
