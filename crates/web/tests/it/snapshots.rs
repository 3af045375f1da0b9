//! The JSON shapes of the main API responses, and the main HTML fragments (the navigation each
//! role gets, a refused form with its errors beside the fields), as snapshots under
//! `snapshots/`. Ids, times, cursors and request ids differ from run to run and are redacted;
//! one snapshot set serves both backends. After an intended change of shape: `INSTA_UPDATE=always cargo test -p
//! scoreline-web snapshots`, then review the diff.

use reqwest::{Method, StatusCode};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{MatchedIntegration, TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

const CANARY_SUBJECT: &str = "Where is my parcel?";

on_both_backends!(
    integration_shapes,
    case_shapes,
    staff_shapes,
    agent_shapes,
    error_shapes,
    navigation_by_role,
    refused_forms,
);

/// Fields whose values change between runs; `null` stays visible as `null`.
const RUN_DEPENDENT: [(&str, &str); 12] = [
    (".**.id", "[id]"),
    (".**.integration_id", "[id]"),
    (".**.user_id", "[id]"),
    (".**.group_id", "[id]"),
    (".**.request_id", "[request id]"),
    (".**.next_cursor", "[cursor]"),
    (".**.created_at", "[time]"),
    (".**.updated_at", "[time]"),
    (".**.last_synced_at", "[time]"),
    (".**.finished_at", "[time]"),
    (".**.last_message_at", "[time]"),
    (".**.date", "[time]"),
];

fn snapshot(name: &str, value: &Value) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for (selector, placeholder) in RUN_DEPENDENT {
        settings.add_redaction(
            selector,
            insta::dynamic_redaction(move |value, _| {
                if value.is_nil() { value } else { insta::internals::Content::from(placeholder) }
            }),
        );
    }
    settings.bind(|| insta::assert_json_snapshot!(name, value));
}

/// A small simulated account, with one ticket of known content among the generated ones.
async fn helpdesk(backend: TestBackend) -> TestApp {
    let config = SimConfig { agents: 3, tickets: 12, days: 7, ..SimConfig::default() };
    let test = TestApp::with_helpdesk(backend, config).await;
    let canary = json!({
        "subject": CANARY_SUBJECT,
        "message": { "text": "It was due on Monday." },
        "requester": { "email": "customer@example.com", "name": "A Customer" }
    });
    test.sim().create_ticket(&canary).unwrap();
    test
}

async fn ok(test: &TestApp, auth: &str, path: &str) -> Value {
    let (status, body) = test.call(auth, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn integration_shapes(backend: TestBackend) {
    let test = helpdesk(backend).await;
    test.clock.set(test.sim().now());
    let (_, admin) = test.api_user("global_admin").await;
    let body = json!({
        "kind": "helpdesk", "label": "HelpDesk EU", "description": "Support inbox",
        "auth": { "method": "token", "account_id": test.sim().account_id(), "token": test.sim().pat() },
        "retention": { "value": 6, "unit": "months" }, "backfill_days": 14
    });
    let (status, created) = test.call(&admin, Method::POST, "/api/v1/integrations", Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    snapshot("integration_created", &created);

    let id = created["id"].as_str().unwrap();
    test.clock.advance(std::time::Duration::from_secs(120));
    test.app.sync_integration(id.parse().unwrap(), None).await.unwrap();
    snapshot("integration", &ok(&test, &admin, &format!("/api/v1/integrations/{id}")).await);
    snapshot("integration_list", &ok(&test, &admin, "/api/v1/integrations").await);
}

/// [`helpdesk`] connected, synced and matched, with a global admin's API token.
async fn synced_and_matched(backend: TestBackend) -> (TestApp, MatchedIntegration, String) {
    let test = helpdesk(backend).await;
    let matched = test.connected_with_matched_agents().await;
    let (_, admin) = test.api_user("global_admin").await;
    (test, matched, admin)
}

async fn case_shapes(backend: TestBackend) {
    let (test, matched, admin) = synced_and_matched(backend).await;
    let page = ok(&test, &admin, &format!("/api/v1/cases?integration_id={}&limit=2", matched.id)).await;
    snapshot("case_list_page", &page);

    let all = ok(&test, &admin, "/api/v1/cases?limit=500").await;
    let canary = all["items"].as_array().unwrap().iter().find(|c| c["subject"] == CANARY_SUBJECT).unwrap();
    let case = ok(&test, &admin, &format!("/api/v1/cases/{}", canary["id"].as_str().unwrap())).await;
    snapshot("case_with_messages", &case);
}

async fn staff_shapes(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let (group_id, team_id) = test.support_team().await;
    let person = json!({
        "email": "ada@example.com", "name": "Ada Lovelace", "role": "supervisor", "team_ids": [team_id]
    });
    let (status, user) = test.call(&admin, Method::POST, "/api/v1/users", Some(&person)).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    snapshot("user", &ok(&test, &admin, &format!("/api/v1/users/{}", user["id"].as_str().unwrap())).await);

    let teams = ok(&test, &admin, "/api/v1/teams").await;
    let team = teams["items"].as_array().unwrap().iter().find(|t| t["id"] == team_id.to_string()).unwrap();
    assert_eq!(team["group_id"], group_id.to_string());
    snapshot("team", team);
}

async fn agent_shapes(backend: TestBackend) {
    let (test, matched, admin) = synced_and_matched(backend).await;
    let agents = ok(&test, &admin, &format!("/api/v1/integrations/{}/agents?limit=2", matched.id)).await;
    snapshot("agent_list", &agents);
}

async fn error_shapes(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let (status, invalid) = test.call(&admin, Method::POST, "/api/v1/users", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    snapshot("error_invalid_input", &invalid);

    let missing = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
    let (status, not_found) = test.call(&admin, Method::GET, &missing, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    snapshot("error_not_found", &not_found);
}

/// The part of `html` from `start` up to and including the first `end` after it.
fn fragment<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("no `{start}` in {html}"));
    let length = html[from..].find(end).unwrap_or_else(|| panic!("no `{end}` after `{start}`")) + end.len();
    &html[from..from + length]
}

/// Markup with what differs between runs replaced: ids (UUIDs, with or without hyphens) and
/// `<time>` elements.
fn redact_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<time") {
        out.push_str(&rest[..at]);
        let close = rest[at..].find("</time>").map_or(rest.len(), |i| at + i + "</time>".len());
        out.push_str("[time]");
        rest = &rest[close..];
    }
    out.push_str(rest);
    let mut redacted = String::with_capacity(out.len());
    let mut run = String::new();
    for c in out.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() || c == '-' {
            run.push(c);
            continue;
        }
        let digits = run.chars().filter(char::is_ascii_hexdigit).count();
        redacted.push_str(if digits >= 32 { "[id]" } else { &run });
        run.clear();
        redacted.push(c);
    }
    redacted.pop();
    redacted
}

fn snapshot_html(name: &str, html: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, redact_html(html)));
}

/// What each role finds in the navigation: only what their permissions open.
async fn navigation_by_role(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    for role in ["global_admin", "group_admin", "team_admin", "supervisor", "employee"] {
        let (_, cookie) = test.signed_in(role).await;
        let home = test.page(&cookie, "/").await;
        let landing = home.location.unwrap_or_else(|| "/".to_owned());
        let page = test.page(&cookie, &landing).await;
        assert_eq!(page.status, StatusCode::OK, "{role} lands on {landing}");
        snapshot_html(&format!("nav_{role}"), fragment(&page.text, "<nav aria-label=\"Main\">", "</nav>"));
    }
}

/// A refused form: each message beside its field, what was typed kept, the password not.
async fn refused_forms(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let refused = test
        .submit("", "/sign-in", &[("email", "nobody@example.com"), ("password", "wrong"), ("next", "/")])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    snapshot_html(
        "form_sign_in_refused",
        fragment(&refused.text, "<form method=\"post\" action=\"/sign-in\"", "</form>"),
    );

    let (_, admin) = test.signed_in("global_admin").await;
    let typed =
        [("email", "not an email"), ("name", "Ada Lovelace"), ("role", "employee"), ("password", "short")];
    let refused = test.submit(&admin, "/users", &typed).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.text.contains("value=\"short\""), "the password is not sent back");
    snapshot_html(
        "form_new_user_refused",
        fragment(
            &refused.text,
            "<form method=\"post\" action=\"/users\" class=\"stack\" id=\"new-user\"",
            "</form>",
        ),
    );
}
