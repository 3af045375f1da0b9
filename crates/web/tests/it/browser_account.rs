//! The profile section of the account page in a real browser: a token is created, its secret
//! shown once, and revoked.

use fantoccini::Locator;
use scoreline_testkit::{TestApp, TestBackend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_created_shown_once_and_revoked() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let Some((user, browser)) = test.browser_as("supervisor", "/account").await else { return };
    let client = &browser.client;
    client.wait().for_element(Locator::Id("no-tokens")).await.unwrap();

    let name = client.find(Locator::Css("#new-token [name=name]")).await.unwrap();
    name.send_keys("weekly report").await.unwrap();
    client.find(Locator::Css("#new-token button[type=submit]")).await.unwrap().click().await.unwrap();
    let secret =
        client.wait().for_element(Locator::Id("issued-token-value")).await.unwrap().text().await.unwrap();
    assert!(secret.starts_with("slk_"), "{secret}");
    let (status, me) = test.call(&secret, reqwest::Method::GET, "/api/v1/me", None).await;
    assert_eq!((status, me["email"].as_str()), (reqwest::StatusCode::OK, Some(user.email.as_str())));
    let row = client.find(Locator::Css("#tokens tbody tr")).await.unwrap();
    assert!(row.text().await.unwrap().contains("weekly report"));

    client.goto(&test.url("/account")).await.unwrap();
    client.wait().for_element(Locator::Id("tokens")).await.unwrap();
    assert!(client.find(Locator::Id("issued-token")).await.is_err(), "the secret is shown only once");
    assert!(!client.source().await.unwrap().contains(&secret));

    client.find(Locator::Css("#tokens button.danger")).await.unwrap().click().await.unwrap();
    let notice = client.wait().for_element(Locator::Id("notice")).await.unwrap().text().await.unwrap();
    assert!(notice.contains("revoked"), "{notice}");
    client.find(Locator::Id("no-tokens")).await.unwrap();
    let (status, _) = test.call(&secret, reqwest::Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    browser.close().await;
}
