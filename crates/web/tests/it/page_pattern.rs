//! What every page shares: malformed ids answer 404, signed-in responses are never cached, the
//! flash message rides in a sealed cookie, a form given a non-number says so, and htmx gets
//! fragments where a browser without JavaScript gets the page.

use reqwest::StatusCode;
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::Value;

use crate::agents::connect_and_sync;
use crate::pages::follow;

on_both_backends!(malformed_ids_are_not_found_on_the_api_and_the_pages);

async fn malformed_ids_are_not_found_on_the_api_and_the_pages(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, cookie) = test.signed_in("global_admin").await;
    for path in [
        "/api/v1/integrations/not-an-id",
        "/api/v1/integrations/not-an-id/agents",
        "/api/v1/cases/12345",
        "/api/v1/users/x",
        "/api/v1/teams/x/members",
    ] {
        let response = test.get(&cookie, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{path}: {body}");
        assert!(body["request_id"].is_string(), "{path}: {body}");
    }
    let two_ids = TestApp::http()
        .put(test.url("/api/v1/integrations/nope/agents/7/match"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({ "user_id": uuid::Uuid::now_v7() }))
        .send()
        .await
        .unwrap();
    assert_eq!(two_ids.status(), StatusCode::NOT_FOUND);
    for path in ["/interactions/integrations/not-an-id", "/interactions/integrations/x/users", "/cases/12345"]
    {
        let response = test.get(&cookie, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<h1>Not found</h1>") && html.contains("Request id"), "{path}: {html}");
    }
}

#[tokio::test]
async fn signed_in_responses_are_never_cached_and_static_files_are() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let (_, cookie) = test.signed_in("global_admin").await;
    let (_, token) = test.api_user("employee").await;
    let cache_control = |response: &reqwest::Response| {
        response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned())
    };
    for (what, response) in [
        ("page", test.get(&cookie, "/interactions/integrations").await),
        ("API", test.get(&token, "/api/v1/me").await),
        ("API error", test.get(&token, "/api/v1/integrations").await),
        ("error page", test.get(&cookie, "/cases/12345").await),
    ] {
        assert_eq!(cache_control(&response).as_deref(), Some("no-store"), "{what}");
    }
    let css = test.get(&cookie, "/static/app.css").await;
    assert_eq!(cache_control(&css).as_deref(), Some("public, max-age=3600"));
    assert_eq!(cache_control(&test.get(&cookie, "/healthz").await), None);
}

#[tokio::test]
async fn the_flash_message_is_sealed_shown_once_and_forgeries_are_dropped() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let (_, cookie) = test.signed_in("global_admin").await;
    let created = TestApp::http()
        .post(test.url("/users"))
        .header("cookie", &cookie)
        .form(&[("name", "Ada"), ("email", "ada@example.com"), ("role", "employee"), ("password", "")])
        .send()
        .await
        .unwrap();
    let flash = crate::pages::flash_cookie(&created);
    assert!(!flash.contains("ada@example.com"), "the message is sealed: {flash}");
    let shown = test.get(&format!("{cookie}; {flash}"), "/users").await;
    let cleared = shown.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.starts_with("scoreline_flash=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert!(shown.text().await.unwrap().contains(r#"id="notice">Created ada@example.com.</p>"#));

    let forged = test.get(&format!("{cookie}; scoreline_flash=v1.abc.def.ghi"), "/users").await;
    assert!(forged.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert!(!forged.text().await.unwrap().contains(r#"id="notice""#));
}

#[tokio::test]
async fn settings_given_a_non_number_come_back_with_the_field_error() {
    let test =
        TestApp::with_helpdesk(TestBackend::Sqlite, SimConfig { tickets: 5, ..SimConfig::default() }).await;
    let id = connect_and_sync(&test).await;
    let (_, cookie) = test.signed_in("global_admin").await;
    let post = |form: [(&'static str, &'static str); 5]| {
        TestApp::http()
            .post(test.url(&format!("/interactions/integrations/{id}")))
            .header("cookie", cookie.clone())
            .form(&form)
            .send()
    };
    let refused = post([
        ("label", "Renamed"),
        ("description", ""),
        ("retention_value", "six"),
        ("retention_unit", "months"),
        ("backfill_weeks", "2"),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains(r#"data-field="retention">Retention must be a whole number."#), "{html}");
    assert!(html.contains(r#"value="six""#) && html.contains(r#"value="Renamed""#), "what was typed is kept");
    assert!(html.contains(r#"aria-invalid="true""#));
    let kept = test.app.get_integration(&scoreline_app::Actor::System, id).await.unwrap();
    assert_eq!((kept.label.as_str(), kept.retention.value), ("HelpDesk", 1), "nothing was saved");

    let saved = post([
        ("label", "Renamed"),
        ("description", ""),
        ("retention_value", "2"),
        ("retention_unit", "months"),
        ("backfill_weeks", "2"),
    ])
    .await
    .unwrap();
    let (location, page) = follow(&test, &cookie, saved).await;
    assert_eq!(location, format!("/interactions/integrations/{id}"));
    assert!(page.contains("Settings saved."), "{page}");

    // A refusal about the whole form is shown too, though its button is gone by then.
    let keep = scoreline_core::Disconnect::KeepCases;
    test.app.disconnect_integration(&scoreline_app::Actor::System, id, keep).await.unwrap();
    let refused = TestApp::http()
        .post(test.url(&format!("/interactions/integrations/{id}/sync")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.unwrap();
    assert!(html.contains(r#"id="sync-form-error""#) && html.contains("not connected"), "{html}");
}

on_both_backends!(htmx_gets_fragments_and_other_clients_the_page);

async fn htmx_gets_fragments_and_other_clients_the_page(backend: TestBackend) {
    let test =
        TestApp::with_helpdesk(backend, SimConfig { agents: 2, tickets: 5, ..SimConfig::default() }).await;
    let id = connect_and_sync(&test).await;
    let (employee, _) = test.api_user("employee").await;
    let (_, cookie) = test.signed_in("global_admin").await;
    let agents = test.app.list_agents(&scoreline_app::Actor::System, id).await.unwrap().agents;
    let [agent, other, ..] = agents.as_slice() else { panic!("two agents") };
    let (agent, other) = (&agent.agent, &other.agent);
    let path = |agent_id: &str| test.url(&format!("/interactions/integrations/{id}/users/{agent_id}/match"));
    let post = |agent_id: &str, htmx: bool, user_id: String| {
        let mut request = TestApp::http().post(path(agent_id)).header("cookie", cookie.clone());
        if htmx {
            request = request.header("hx-request", "true");
        }
        request.form(&[("user_id", user_id)]).send()
    };

    let row = post(&agent.agent_id, true, employee.id.to_string()).await.unwrap();
    assert_eq!(row.status(), StatusCode::OK);
    let html = row.text().await.unwrap();
    assert!(
        html.trim_start().starts_with(&format!(
            "<tr data-agent-id=\"{0}\" id=\"agent-{0}\" class=\"matched\">",
            agent.agent_id
        )),
        "{html}"
    );
    assert!(!html.contains("<html") && html.contains(r#"id="match-summary" hx-swap-oob="true""#), "{html}");
    assert!(html.contains("Match saved"), "the message comes along: {html}");

    let refused = post(&other.agent_id, true, "not-an-id".to_owned()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains(r#"data-field="user_id">Choose the staff member to match."#), "{html}");
    assert!(html.contains(r#"aria-invalid="true""#), "{html}");

    let page = post(&other.agent_id, false, employee.id.to_string()).await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "without htmx the form redirects");

    let status = test.get(&cookie, &format!("/interactions/integrations/{id}/status")).await;
    let html = status.text().await.unwrap();
    assert!(html.starts_with(r#"<dl class="facts" id="sync-status""#) && !html.contains("<html"), "{html}");
    let anonymous = TestApp::http()
        .get(test.url(&format!("/interactions/integrations/{id}/status")))
        .header("hx-request", "true")
        .header("hx-current-url", test.url(&format!("/interactions/integrations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["hx-redirect"],
        format!("/sign-in?next=%2Finteractions%2Fintegrations%2F{id}").as_str(),
        "the whole window goes to sign in, and back afterwards"
    );
}
