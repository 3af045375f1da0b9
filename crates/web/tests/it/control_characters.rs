//! NUL and other control characters in input are refused with 422 beside the field on both
//! backends (PostgreSQL cannot store NUL in text), never a 500; tabs and line breaks pass.
//! Sign-in sends the browser only to paths on this site.

use reqwest::{Method, StatusCode};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{PASSWORD, TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(control_characters_are_refused_where_they_enter, sign_in_follows_only_paths_on_this_site);

async fn control_characters_are_refused_where_they_enter(backend: TestBackend) {
    let test =
        TestApp::with_helpdesk(backend, SimConfig { tickets: 10, agents: 2, ..SimConfig::default() }).await;
    let integration = test.connect_and_sync().await;
    let (_, admin) = test.api_user("global_admin").await;
    let refused = |status: StatusCode, body: &Value, field: &str| {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["fields"][0]["field"], field, "{body}");
        assert!(body["fields"][0]["message"].as_str().unwrap().contains("control characters"), "{body}");
    };

    // JSON: a NUL anywhere, named by its path; nothing is written.
    let patch = json!({ "description": "before\u{0}after" });
    let path = format!("/api/v1/integrations/{integration}");
    let (status, body) = test.call(&admin, Method::PATCH, &path, Some(&patch)).await;
    refused(status, &body, "description");
    let person = json!({ "email": "nul@example.com", "name": "Nul\u{1}Person", "role": "employee" });
    let (status, body) = test.call(&admin, Method::POST, "/api/v1/users", Some(&person)).await;
    refused(status, &body, "name");
    let staff = json!({ "agent_ids": ["a\u{0}b"], "team_id": null });
    let (status, body) = test
        .call(&admin, Method::POST, &format!("/api/v1/integrations/{integration}/agents/staff"), Some(&staff))
        .await;
    refused(status, &body, "agent_ids[0]");
    let (_, after) = test.call(&admin, Method::GET, &path, None).await;
    assert_ne!(after["description"], "before\u{0}after");

    // Tabs and line breaks are text.
    let patch = json!({ "description": "line one\r\nline\ttwo" });
    let (status, body) = test.call(&admin, Method::PATCH, &path, Some(&patch)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Query strings and path segments.
    let (status, body) = test.call(&admin, Method::GET, "/api/v1/cases?status=%00", None).await;
    refused(status, &body, "status");
    let agent_path = format!("/api/v1/integrations/{integration}/agents/a%00b/match");
    for method in [Method::PUT, Method::DELETE] {
        let body = json!({ "user_id": uuid::Uuid::now_v7() });
        let (status, answer) = test.call(&admin, method, &agent_path, Some(&body)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no agent id holds a NUL: {answer}");
    }

    // A form post: sign-in with a NUL in the email.
    let reply = test.submit("", "/sign-in", &[("email", "a\u{0}@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
}

async fn sign_in_follows_only_paths_on_this_site(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, cookie) = test.signed_in("global_admin").await;
    for (next, expected) in [
        ("/users", "/users"),
        ("/%09%5C127.0.0.1:18099/x", "/"),
        ("//evil.example/x", "/"),
        ("/%0A", "/"),
        ("/%0D%0ASet-Cookie:%20x=1", "/"),
        ("https://evil.example/", "/"),
    ] {
        let reply = test.page(&cookie, &format!("/sign-in?next={next}")).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next}: {}", reply.text);
        assert_eq!(reply.location.as_deref(), Some(expected), "{next}");
    }
}
