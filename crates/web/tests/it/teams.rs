//! Groups, teams and their members over the API and the Groups and teams page.

use reqwest::StatusCode;
use scoreline_app::{Actor, CreateGroup};
use scoreline_core::PageRequest;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::agents::support_team;
use crate::pages::follow;

on_both_backends!(
    teams_gain_members_over_the_api_and_the_page,
    groups_and_teams_are_renamed_and_members_taken_out_within_reach,
);

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

async fn groups_and_teams_are_renamed_and_members_taken_out_within_reach(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let team = support_team(&test).await;
    let other = support_team_named(&test, "Tier 2", team.group_id).await;
    let elsewhere =
        test.app.create_group(&Actor::System, CreateGroup { name: "Elsewhere".to_owned() }).await.unwrap();
    let outside = support_team_named(&test, "Far away", elsewhere.id).await;
    let (employee, _) = test.api_user("employee").await;
    let (lead, lead_token) = test.api_user("group_admin").await;
    let (peer, _) = test.api_user("group_admin").await;
    for (user, team_id) in [(&employee, team.id), (&lead, team.id), (&peer, team.id)] {
        test.app.add_team_member(&Actor::System, team_id, user.id).await.unwrap();
    }
    let call = async |token: &str, method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = TestApp::http().request(method, test.url(&path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json::<Value>().await.unwrap_or(Value::Null))
    };
    use reqwest::Method;

    // Renames: a team by its group admin, a group only by a global admin; names stay unique.
    let (status, renamed) = call(
        &lead_token,
        Method::PATCH,
        format!("/api/v1/teams/{}", team.id),
        Some(json!({"name": "First line"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "First line");
    let (status, _) = call(
        &lead_token,
        Method::PATCH,
        format!("/api/v1/groups/{}", team.group_id),
        Some(json!({"name": "X"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &lead_token,
        Method::PATCH,
        format!("/api/v1/teams/{}", outside.id),
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a team outside the group admin's reach is not found");
    let (status, taken) = call(
        &admin,
        Method::PATCH,
        format!("/api/v1/teams/{}", other.id),
        Some(json!({"name": "First line"})),
    )
    .await;
    assert!(status.is_client_error() && taken.to_string().contains("already has a team"), "{status} {taken}");
    let (status, empty) =
        call(&admin, Method::PATCH, format!("/api/v1/groups/{}", team.group_id), Some(json!({"name": " "})))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{empty}");
    let (status, group) = call(
        &admin,
        Method::PATCH,
        format!("/api/v1/groups/{}", team.group_id),
        Some(json!({"name": "Care"})),
    )
    .await;
    assert_eq!((status, group["name"].as_str()), (StatusCode::OK, Some("Care")));

    // Taking out: the employee, by the lead; never a peer or oneself.
    let member = |user: &scoreline_core::User| format!("/api/v1/teams/{}/members/{}", team.id, user.id);
    let (status, _) = call(&lead_token, Method::DELETE, member(&peer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a group admin cannot take out another group admin");
    let (status, own) = call(&lead_token, Method::DELETE, member(&lead), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{own}");
    let (status, _) = call(&lead_token, Method::DELETE, member(&employee), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&lead_token, Method::DELETE, member(&employee), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "out already");
    let members = test.app.list_team_members(&Actor::System, team.id).await.unwrap();
    assert!(members.iter().all(|user| user.id != employee.id));
    let audit = test.store().list_audit(PageRequest::first(100)).await.unwrap().items;
    for action in ["team.rename", "group.rename", "team.member.remove"] {
        assert_eq!(audit.iter().filter(|record| record.action == action).count(), 1, "{action}");
    }

    // The page: rename forms, Remove beside each member, counts in words.
    let (_, cookie) = test.signed_in("global_admin").await;
    let page = TestApp::http()
        .get(test.url("/teams"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("2 members") && page.contains("Nobody in this team yet"), "{page}");
    assert!(!page.contains("member(s)"));
    let renamed = TestApp::http()
        .post(test.url(&format!("/teams/{}/name", other.id)))
        .header("cookie", &cookie)
        .form(&[("name", "Second line")])
        .send()
        .await
        .unwrap();
    let (location, page) = follow(&test, &cookie, renamed).await;
    assert_eq!(location, format!("/teams#team-{}", other.id));
    assert!(page.contains("Renamed the team to Second line."), "{page}");
    let removed = TestApp::http()
        .post(test.url(&format!("/teams/{}/members/{}/remove", team.id, peer.id)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let page = follow(&test, &cookie, removed).await.1;
    assert!(page.contains("Taken out of the team.") && page.contains("1 member<"), "{page}");
    let refused = TestApp::http()
        .post(test.url(&format!("/teams/{}/name", other.id)))
        .header("cookie", &cookie)
        .form(&[("name", "First line")])
        .send()
        .await
        .unwrap();
    let refused_status = refused.status();
    let page = refused.text().await.unwrap();
    assert!(refused_status.is_client_error() && page.contains("already has a team"), "{page}");
    assert!(page.contains("<details class=\"rename\" open"), "the failed rename stays open: {page}");
}

async fn support_team_named(
    test: &TestApp,
    name: &str,
    group_id: scoreline_core::GroupId,
) -> scoreline_core::Team {
    let input = scoreline_app::CreateTeam { group_id: Some(group_id), name: name.to_owned() };
    test.app.create_team(&Actor::System, input).await.unwrap()
}
