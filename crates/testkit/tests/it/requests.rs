use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use scoreline_testkit::{TestApp, TestBackend};
use serde_json::{Value, json};

#[tokio::test]
async fn call_answers_the_status_and_the_json_body() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let (_, token) = test.api_user("global_admin").await;
    let (status, group) =
        test.call(&token, Method::POST, "/api/v1/groups", Some(&json!({ "name": "EMEA" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    assert_eq!(group["name"], "EMEA");
    let (status, error) = test.call(&token, Method::POST, "/api/v1/groups", Some(&json!({}))).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_input")));
}

#[tokio::test]
async fn all_items_walks_every_page_once() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let (_, token) = test.api_user("global_admin").await;
    for name in ["A", "B", "C"] {
        let (status, _) =
            test.call(&token, Method::POST, "/api/v1/groups", Some(&json!({ "name": name }))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let groups = test.all_items(&token, "/api/v1/groups?limit=2").await;
    let mut names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["A", "B", "C"]);
}

#[tokio::test]
async fn a_body_that_is_not_json_comes_back_as_a_string() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let (_, token) = test.api_user("global_admin").await;
    let (status, body) = test.call(&token, Method::GET, "/healthz", None).await;
    assert_eq!((status, body), (StatusCode::OK, Value::String("ok".to_owned())));
}

#[tokio::test]
async fn pages_and_forms_answer_status_location_and_text() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let (_, cookie) = test.signed_in("global_admin").await;
    let page = test.page(&cookie, "/users").await;
    assert_eq!((page.status, page.location), (StatusCode::OK, None));
    assert!(page.text.contains("<form"), "{}", page.text);

    let form = [("name", "Zed"), ("email", "zed@example.com"), ("role", "employee"), ("password", "")];
    let created = test.submit(&cookie, "/users", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    assert!(created.location.is_some_and(|to| to.starts_with("/users")));
    let bad = [("name", "Zed"), ("email", "nope"), ("role", "employee"), ("password", "")];
    let refused = test.submit(&cookie, "/users", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("value=\"Zed\""), "{}", refused.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_and_lands_on_the_page_it_asked_for() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let Some((user, browser)) = test.browser_as("global_admin", "/users").await else { return };
    let page = browser.client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page.contains(&user.email), "the new person is listed on Staff: {page}");
    browser.close().await;
}
