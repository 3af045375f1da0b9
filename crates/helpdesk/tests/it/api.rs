//! Requests as sent (headers, auth, paths) and answers as read, for every endpoint.

use std::sync::Arc;

use base64::Engine as _;
use scoreline_helpdesk::{Credentials, ErrorKind, HelpDeskError, SecretString, USER_AGENT};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    ACCOUNT_ID, PAT, Recorder, RotatingToken, client_with, fast_config, pat_client, ticket_json,
};

#[tokio::test]
async fn every_request_carries_user_agent_accept_and_basic_auth_split_at_the_first_colon() {
    let server = MockServer::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_ID}:{PAT}"));
    assert_eq!(USER_AGENT, concat!("scoreline/", env!("CARGO_PKG_VERSION")));
    Mock::given(method("GET"))
        .and(path("/v1/agents"))
        .and(header("user-agent", USER_AGENT))
        .and(header("accept", "application/json"))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "ID": "a1", "name": "Ann", "email": "ann@example.com", "roles": ["owner"],
              "status": "active", "teamIDs": ["t1"], "settings": {"theme": "dark"} }
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let pair = SecretString::from(format!("{ACCOUNT_ID}:{PAT}"));
    let client = client_with(fast_config(&server.uri()), Credentials::from_basic_pair(&pair).unwrap());
    let agents = client.list_agents().await.unwrap();
    assert_eq!(agents[0].id, "a1");
    assert_eq!(agents[0].team_ids, ["t1"]);
    assert!(agents[0].extra.contains_key("settings"));
}

#[test]
fn the_client_and_its_futures_can_move_between_tasks() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let client = pat_client("http://127.0.0.1:9");
    let tickets = client.list_tickets(scoreline_helpdesk::TicketQuery::default());
    assert_send(&tickets);
    let agents = async move { client.list_agents().await };
    assert_send(&agents);
}

#[tokio::test]
async fn teams_tags_licenses_and_one_ticket_are_read_from_their_paths() {
    let server = MockServer::start().await;
    let answers = [
        ("/v1/teams", json!([{ "ID": "t1", "name": "Support" }])),
        ("/v1/tags", json!([{ "ID": "g1", "name": "vip", "teamID": null }])),
        ("/v1/licenses", json!([{ "ID": 13381337, "defaultTeamID": "t1" }])),
        // The id is escaped into one path segment.
        ("/v1/tickets/a%2Fb", ticket_json("a/b", "2024-05-02T11:00:00.000Z")),
    ];
    for (route, body) in answers {
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = pat_client(&server.uri());
    assert_eq!(client.list_teams().await.unwrap()[0].name.as_deref(), Some("Support"));
    assert_eq!(client.list_tags().await.unwrap()[0].team_id, None);
    assert_eq!(client.list_licenses().await.unwrap()[0].id, 13_381_337);
    assert_eq!(client.get_ticket("a/b").await.unwrap().id, "a/b");
}

#[tokio::test]
async fn a_missing_ticket_is_a_permanent_not_found_without_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/tickets/nope"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Not found", "details": "ticket"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = pat_client(&server.uri()).get_ticket("nope").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert_eq!(error.kind(), ErrorKind::Permanent);
    assert!(error.to_string().contains("Not found - ticket"), "{error}");
}

#[tokio::test]
async fn an_expired_oauth_token_is_refreshed_once_and_the_request_retried() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer old-token"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer new-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let tokens = RotatingToken::new("old-token", "new-token");
    let client = client_with(fast_config(&server.uri()), Credentials::oauth(tokens.clone()));
    assert!(client.list_teams().await.unwrap().is_empty());
    assert_eq!(tokens.refreshes(), 1);
}

#[tokio::test]
async fn a_revoked_token_is_an_authentication_error_after_one_refresh_not_a_loop() {
    let server = MockServer::start().await;
    let recorder = Recorder::new([ResponseTemplate::new(401)
        .set_body_json(json!({"error": "Unauthorized", "details": "token revoked-secret is revoked"}))]);
    Mock::given(path("/v1/agents")).respond_with(recorder.clone()).mount(&server).await;
    let tokens = RotatingToken::new("revoked-secret", "also-revoked");
    let client = client_with(fast_config(&server.uri()), Credentials::oauth(tokens.clone()));
    let error = client.list_agents().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(error.needs_reauthorization());
    assert!(matches!(error, HelpDeskError::Authentication { status: 401, .. }));
    assert_eq!(recorder.count(), 2, "one attempt and one retry after the refresh");
    assert_eq!(tokens.refreshes(), 1);
    // The body echoes the first, rejected token: no token may ever show.
    assert!(!error.to_string().contains("revoked-secret"), "{error}");
}

#[tokio::test]
async fn a_rejected_personal_token_or_a_403_fails_at_once() {
    for status in [401, 403] {
        let server = MockServer::start().await;
        Mock::given(path("/v1/licenses"))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
        let error = pat_client(&server.uri()).list_licenses().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication, "{status}");
        assert!(error.to_string().contains("rejected the credentials"), "{error}");
    }
}

#[tokio::test]
async fn errors_never_quote_the_token_or_a_whole_body() {
    let server = MockServer::start().await;
    let echo = format!("Authorization was Basic {PAT} {}", "x".repeat(5000));
    Mock::given(path("/v1/teams"))
        .respond_with(ResponseTemplate::new(400).set_body_string(echo))
        .mount(&server)
        .await;
    let error = pat_client(&server.uri()).list_teams().await.unwrap_err();
    let message = error.to_string();
    assert_eq!(error.kind(), ErrorKind::Permanent);
    assert!(!message.contains(PAT), "{message}");
    assert!(message.contains("[REDACTED]"), "{message}");
    assert!(message.len() < 400, "{} chars", message.len());
    let debug = format!("{:?}", crate::support::pat_credentials());
    assert!(!debug.contains(PAT), "{debug}");
}

#[tokio::test]
async fn a_token_source_failure_is_reported_without_sending_anything() {
    #[derive(Debug)]
    struct Broken;
    #[async_trait::async_trait]
    impl scoreline_helpdesk::TokenSource for Broken {
        async fn access_token(&self) -> Result<SecretString, HelpDeskError> {
            Err(HelpDeskError::InvalidGrant { description: None })
        }
        async fn refresh_rejected(&self, _: &SecretString) -> Result<SecretString, HelpDeskError> {
            unreachable!("nothing was sent")
        }
    }
    let server = MockServer::start().await;
    let client = client_with(fast_config(&server.uri()), Credentials::oauth(Arc::new(Broken)));
    let error = client.list_agents().await.unwrap_err();
    assert!(error.needs_reauthorization());
    assert!(server.received_requests().await.unwrap().is_empty());
}
