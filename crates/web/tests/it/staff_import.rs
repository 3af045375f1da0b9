//! Staff from CSV: a preview with per-line problems, and an import that is all or nothing.

use reqwest::StatusCode;
use scoreline_core::PageRequest;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::agents::support_team;
use crate::pages::follow;

async fn post(test: &TestApp, token: &str, path: &str, csv: &str) -> (StatusCode, Value) {
    let response = TestApp::http()
        .post(test.url(path))
        .bearer_auth(token)
        .json(&json!({ "csv": csv }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

const BAD: &str = "email,name,role,team
ada@example.com,\"Lovelace, Ada\",employee,Support / Tier 1
not-an-email,Bob,employee,
carol@example.com,Carol,wizard,
ADA@example.com,Ada Again,,
dan@example.com,Dan,employee,Nowhere
existing@example.com,Eve,,
";

on_both_backends!(bad_rows_are_reported_by_line_and_nothing_is_half_imported);

async fn bad_rows_are_reported_by_line_and_nothing_is_half_imported(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    test.create_user("existing@example.com", "employee", None).await;
    let team = support_team(&test).await;
    let users_before = test.store().count_users().await.unwrap();

    let (status, preview) = post(&test, &admin, "/api/v1/users/import/preview", BAD).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["valid"], false);
    let rows = preview["rows"].as_array().unwrap();
    let bad: Vec<u64> = rows
        .iter()
        .filter(|r| !r["errors"].as_array().unwrap().is_empty())
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(bad, [3, 4, 5, 6, 7], "{preview}");
    assert_eq!(rows[0]["name"], "Lovelace, Ada");
    assert!(rows[3]["errors"][0].as_str().unwrap().contains("line 2"), "{preview}");

    let (status, refused) = post(&test, &admin, "/api/v1/users/import", BAD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let fields: Vec<&str> =
        refused["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["line 3", "line 4", "line 5", "line 6", "line 7"]);
    assert_eq!(test.store().count_users().await.unwrap(), users_before, "nothing from a failed import");

    let (status, refused) = post(&test, &admin, "/api/v1/users/import", "mail,name\na@b.io,A\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused["fields"][0]["message"].as_str().unwrap().starts_with("Line 1"), "{refused}");

    let good = "email,name,role,team\nada@example.com,\"Lovelace, Ada\",employee,Support / Tier 1\nbob@example.com,Bob,supervisor,tier 1\ncarol@example.com,Carol,,\n";
    let (status, created) = post(&test, &admin, "/api/v1/users/import", good).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let roles: Vec<&str> =
        created["items"].as_array().unwrap().iter().map(|u| u["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["employee", "supervisor", "employee"]);
    assert_eq!(test.store().count_users().await.unwrap(), users_before + 3);
    assert_eq!(test.store().list_team_members(team.id).await.unwrap().len(), 2);
    let audit = test.store().list_audit(PageRequest::first(50)).await.unwrap().items;
    assert_eq!(audit.iter().filter(|e| e.action == "user.create" && e.details["import"] == true).count(), 3);
    let (status, again) = post(&test, &admin, "/api/v1/users/import", good).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "already there: {again}");

    // Team admins may not create admins above them; supervisors may not import at all.
    let (_, team_admin) = test.api_user("team_admin").await;
    let (_, preview) =
        post(&test, &team_admin, "/api/v1/users/import/preview", "email,name,role\nx@y.io,X,global_admin\n")
            .await;
    assert!(preview["rows"][0]["errors"][0].as_str().unwrap().starts_with("role:"), "{preview}");
    let (_, supervisor) = test.api_user("supervisor").await;
    let (status, _) = post(&test, &supervisor, "/api/v1/users/import/preview", good).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The Staff page: Preview lists the problems by line; Import of a good file redirects.
    let (_, cookie) = test.signed_in("global_admin").await;
    let http = TestApp::http();
    let page = http
        .post(test.url("/users/import"))
        .header("cookie", &cookie)
        .form(&[("csv", BAD), ("action", "import")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Nothing was imported") && html.contains("<tr data-line=\"3\" class=\"bad\">"),
        "{html}"
    );
    let done = http
        .post(test.url("/users/import"))
        .header("cookie", &cookie)
        .form(&[("csv", "email,name\nfay@example.com,Fay\n"), ("action", "import")])
        .send()
        .await
        .unwrap();
    let (location, page) = follow(&test, &cookie, done).await;
    assert_eq!(location, "/users");
    assert!(page.contains("Imported 1 staff member."), "{page}");
}
