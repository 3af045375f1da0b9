//! Editing, deactivating and reactivating staff over the API and the Staff page.

use reqwest::StatusCode;
use scoreline_app::{Actor, CreateGroup, CreateTeam};
use scoreline_core::PageRequest;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::pages::follow;

async fn patch(test: &TestApp, token: &str, id: impl std::fmt::Display, body: Value) -> (StatusCode, Value) {
    let response = TestApp::http()
        .patch(test.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn page_text(test: &TestApp, path: &str, cookie: &str) -> String {
    TestApp::http().get(test.url(path)).header("cookie", cookie).send().await.unwrap().text().await.unwrap()
}

async fn me_status(test: &TestApp, token: &str) -> StatusCode {
    TestApp::http().get(test.url("/api/v1/me")).bearer_auth(token).send().await.unwrap().status()
}

on_both_backends!(
    staff_are_edited_and_deactivated_within_their_reach,
    the_staff_page_searches_shows_teams_and_edits_a_person,
);

async fn staff_are_edited_and_deactivated_within_their_reach(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (admin, admin_token) = test.api_user("global_admin").await;
    let (employee, employee_token) = test.api_user("employee").await;
    assert_eq!(me_status(&test, &employee_token).await, StatusCode::OK);

    let (status, body) = patch(&test, &admin_token, employee.id, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);
    assert_eq!(me_status(&test, &employee_token).await, StatusCode::UNAUTHORIZED, "tokens stop working");
    let audit = test.store().list_audit(PageRequest::first(1)).await.unwrap().items;
    assert_eq!(
        (audit[0].action.as_str(), audit[0].target_id.clone()),
        ("user.deactivate", employee.id.to_string())
    );
    let (status, body) = patch(&test, &admin_token, employee.id, json!({ "active": true })).await;
    assert_eq!((status, body["active"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(
        me_status(&test, &employee_token).await,
        StatusCode::UNAUTHORIZED,
        "deactivation revoked the token for good: reactivation does not revive it"
    );

    // Nobody deactivates themselves, someone above them, or anyone without the right. The team
    // admin shares a team with both, so scope lets them see each.
    let (status, body) = patch(&test, &admin_token, admin.id, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (team_admin_user, team_admin) = test.api_user("team_admin").await;
    let (supervisor_user, supervisor) = test.api_user("supervisor").await;
    let group = test.app.create_group(&Actor::System, CreateGroup { name: "Support".into() }).await.unwrap();
    let team = CreateTeam { group_id: Some(group.id), name: "Tier 1".into() };
    let team = test.app.create_team(&Actor::System, team).await.unwrap();
    for member in [admin.id, employee.id, team_admin_user.id, supervisor_user.id] {
        test.app.add_team_member(&Actor::System, team.id, member).await.unwrap();
    }
    let (status, _) = patch(&test, &team_admin, admin.id, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = patch(&test, &supervisor, employee.id, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = patch(&test, &team_admin, employee.id, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::OK, "a team admin manages employees: {body}");
    let (status, _) = patch(&test, &admin_token, uuid::Uuid::now_v7(), json!({ "active": false })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = patch(&test, &admin_token, employee.id, json!({ "nickname": "x" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Editing: email, name and role, within the caller's reach.
    let edit = json!({ "email": " Ada.New@Example.com ", "name": "Ada New", "role": "supervisor" });
    let (status, body) = patch(&test, &admin_token, employee.id, edit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["email"].as_str(), body["name"].as_str(), body["role"].as_str()),
        (Some("ada.new@example.com"), Some("Ada New"), Some("supervisor"))
    );
    let audit = test.store().list_audit(PageRequest::first(1)).await.unwrap().items;
    assert_eq!(
        (audit[0].action.as_str(), audit[0].details["previous_role"].as_str()),
        ("user.update", Some("employee"))
    );
    let (status, body) = patch(&test, &admin_token, employee.id, json!({ "email": admin.email })).await;
    assert_eq!(
        (status, body["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("email")),
        "{body}"
    );
    let (status, body) = patch(&test, &team_admin, employee.id, json!({ "role": "group_admin" })).await;
    assert_eq!(
        (status, body["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("role")),
        "{body}"
    );
    let (status, body) = patch(&test, &admin_token, admin.id, json!({ "role": "employee" })).await;
    assert_eq!(
        (status, body["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("role")),
        "{body}"
    );
    let (status, _) = patch(&test, &team_admin, admin.id, json!({ "name": "Renamed" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // On the Staff page: a signed-in user is signed out by deactivation; Reactivate brings them back.
    let (signed_in, cookie) = test.signed_in("supervisor").await;
    let (_, admin_cookie) = test.signed_in("global_admin").await;
    let http = TestApp::http();
    let page = page_text(&test, "/users", &admin_cookie).await;
    assert!(page.contains(&format!("action=\"/users/{}/active\"", signed_in.id)), "{page}");
    let answer = http
        .post(test.url(&format!("/users/{}/active", signed_in.id)))
        .header("cookie", &admin_cookie)
        .form(&[("active", "false")])
        .send()
        .await
        .unwrap();
    let page = http.get(test.url("/users")).header("cookie", &cookie).send().await.unwrap();
    assert!(page.status().is_redirection(), "the session ended");
    let (location, listed) = follow(&test, &admin_cookie, answer).await;
    assert_eq!(location, "/users");
    assert!(listed.contains(&format!("Deactivated {}.", signed_in.email)), "{listed}");
    assert!(listed.contains(&format!("<tr data-user-id=\"{}\">", signed_in.id)));
    assert!(listed.contains("class=\"link reactivate\""), "{listed}");
}

async fn the_staff_page_searches_shows_teams_and_edits_a_person(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let group = test.app.create_group(&Actor::System, CreateGroup { name: "Care".to_owned() }).await.unwrap();
    let team = CreateTeam { group_id: Some(group.id), name: "Billing".to_owned() };
    let team = test.app.create_team(&Actor::System, team).await.unwrap();
    let (lead, lead_cookie) = test.signed_in("team_admin").await;
    let (member, _) = test.api_user("employee").await;
    let (loner, _) = test.api_user("supervisor").await;
    let (admin, _) = test.api_user("global_admin").await;
    for user in [&lead, &member] {
        test.app.add_team_member(&Actor::System, team.id, user.id).await.unwrap();
    }
    let (_, cookie) = test.signed_in("global_admin").await;
    let row = |user: &scoreline_core::User| format!("data-user-id=\"{}\"", user.id);

    let everyone = page_text(&test, "/users", &cookie).await;
    assert!(everyone.contains("Care / Billing") && everyone.contains("no team"), "{everyone}");
    let billing = page_text(&test, "/users?q=BILLING", &cookie).await;
    assert!(billing.contains(&row(&lead)) && billing.contains(&row(&member)), "team names are searched");
    assert!(!billing.contains(&row(&loner)));
    let employees = page_text(&test, "/users?q=billing&show=employee", &cookie).await;
    assert!(employees.contains(&row(&member)) && !employees.contains(&row(&lead)), "{employees}");
    let nobody = page_text(&test, "/users?q=nobody-at-all", &cookie).await;
    assert!(nobody.contains("Nobody matches this search"), "{nobody}");

    // The edit page: a bad email is reported at its field and nothing changes; then it saves.
    let edit = page_text(&test, &format!("/users/{}/edit", member.id), &cookie).await;
    assert!(edit.contains("Care / Billing") && edit.contains(&member.email), "{edit}");
    let post = |cookie: &str, form: &[(&str, &str)]| {
        TestApp::http()
            .post(test.url(&format!("/users/{}", member.id)))
            .header("cookie", cookie.to_owned())
            .form(&form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
            .send()
    };
    let refused =
        post(&cookie, &[("name", "Renamed Person"), ("email", "not-an-email"), ("role", "employee")])
            .await
            .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"edit-user-email-error\"") || page.contains("email"), "{page}");
    assert!(page.contains("value=\"Renamed Person\""), "what was typed stays: {page}");
    let unchanged = test.app.get_user(&Actor::System, member.id).await.unwrap();
    assert_eq!(unchanged.name, member.name);
    let saved = post(
        &cookie,
        &[("name", "Renamed Person"), ("email", "renamed@example.com"), ("role", "supervisor")],
    )
    .await
    .unwrap();
    let (location, page) = follow(&test, &cookie, saved).await;
    assert_eq!(location, format!("/users/{}/edit", member.id));
    assert!(page.contains("Saved renamed@example.com.") && page.contains("Renamed Person"), "{page}");
    let changed = test.app.get_user(&Actor::System, member.id).await.unwrap();
    assert_eq!((changed.email.as_str(), changed.role.as_str()), ("renamed@example.com", "supervisor"));

    // A team admin edits nobody above them, nor outside their teams: both are not found.
    for user in [&admin, &loner] {
        let status = TestApp::http()
            .get(test.url(&format!("/users/{}/edit", user.id)))
            .header("cookie", &lead_cookie)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", user.email);
    }
}
