//! Groups, teams and their members over the API and the Groups and teams page.

use reqwest::StatusCode;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::agents::support_team;
use crate::pages::follow;

on_both_backends!(teams_gain_members_over_the_api_and_the_page);

async fn teams_gain_members_over_the_api_and_the_page(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let (employee, _) = test.api_user("employee").await;
    let team = support_team(&test).await;
    let http = TestApp::http();
    let members_path = test.url(&format!("/api/v1/teams/{}/members", team.id));
    let added = http
        .post(&members_path)
        .bearer_auth(&admin)
        .json(&json!({ "user_id": employee.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::NO_CONTENT);
    let members: Value =
        http.get(&members_path).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(members["items"][0]["id"].as_str(), Some(employee.id.to_string().as_str()));
    let (_, supervisor) = test.api_user("supervisor").await;
    let refused = http
        .post(&members_path)
        .bearer_auth(&supervisor)
        .json(&json!({ "user_id": employee.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let missing = http
        .get(test.url(&format!("/api/v1/teams/{}/members", uuid::Uuid::now_v7())))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The page: a group, a team in it, a member; an empty name is reported.
    let (_, cookie) = test.signed_in("global_admin").await;
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        http.post(test.url(path)).header("cookie", cookie.clone()).form(&form).send()
    };
    let created = post("/teams/groups", vec![("name", "Billing".to_owned())]).await.unwrap();
    let (location, page) = follow(&test, &cookie, created).await;
    assert_eq!(location, "/teams");
    assert!(page.contains("Created the group Billing."), "{page}");
    let groups: Value =
        http.get(test.url("/api/v1/groups")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let billing = groups["items"].as_array().unwrap().iter().find(|g| g["name"] == "Billing").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = post("/teams", vec![("group_id", billing), ("name", "Refunds".to_owned())]).await.unwrap();
    assert!(follow(&test, &cookie, created).await.1.contains("Created the team Refunds."));
    let refused = post("/teams", vec![("group_id", String::new()), ("name", String::new())]).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let added = post(&format!("/teams/{}/members", team.id), vec![("user_id", employee.id.to_string())])
        .await
        .unwrap();
    assert!(follow(&test, &cookie, added).await.1.contains("Member added."));
    let page =
        http.get(test.url("/teams")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Billing") && page.contains("Refunds") && page.contains("Tier 1"), "{page}");
    assert!(page.contains(&employee.email), "members are listed: {page}");
}
