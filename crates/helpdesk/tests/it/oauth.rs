//! The accounts service client: authorize URL, code exchange, refresh, revoke, token info.

use std::collections::HashMap;
use std::time::Duration;

use scoreline_core::{Clock, Timestamp};
use scoreline_helpdesk::{ErrorKind, ExposeSecret, HelpDeskError, OAuthClient, Pkce, SecretString};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::manual_clock;

const NOW: &str = "2026-01-01T00:00:00Z";

fn client(server: &MockServer, secret: Option<&str>) -> OAuthClient {
    OAuthClient::new(&server.uri(), "client-1", secret.map(SecretString::from), manual_clock(NOW)).unwrap()
}

fn form_of(request: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&request.body).into_owned().collect()
}

fn token_answer() -> serde_json::Value {
    json!({
        "access_token": "dal:access-1", "refresh_token": "refresh-1", "expires_in": 28800,
        "token_type": "Bearer", "scope": "accounts--my:ro", "account_id": "acc-1",
        "organization_id": "org-1"
    })
}

#[tokio::test]
async fn the_authorize_url_asks_for_a_code_with_state_and_an_s256_challenge() {
    let server = MockServer::start().await;
    let pkce = Pkce::generate();
    let url = client(&server, None).authorize_url("https://qa.example.com/cb?x", "st-1", &pkce.challenge);
    assert_eq!(url.path(), "/");
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let expected = [
        ("response_type", "code"),
        ("client_id", "client-1"),
        ("redirect_uri", "https://qa.example.com/cb?x"),
        ("state", "st-1"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    assert_eq!(query.len(), expected.len());
    for (name, value) in expected {
        assert_eq!(query[name], value, "{name}");
    }
}

#[tokio::test]
async fn a_code_is_exchanged_with_verifier_and_secret_and_a_json_answer_is_read() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let pkce = Pkce::generate();
    let tokens = client(&server, Some("shh"))
        .exchange_code(&SecretString::from("code-1"), "https://qa.example.com/cb", &pkce.verifier)
        .await
        .unwrap();
    let debug = format!("{tokens:?}");
    assert!(!debug.contains("access-1") && !debug.contains("refresh-1"), "{debug}");
    assert_eq!(tokens.access_token.expose_secret(), "dal:access-1");
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "refresh-1");
    let now = Timestamp::parse_rfc3339(NOW).unwrap();
    assert_eq!(tokens.expires_at, Some(now.saturating_add(Duration::from_secs(28800))));
    assert_eq!(tokens.scope.as_deref(), Some("accounts--my:ro"));
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.account_id.as_deref(), Some("acc-1"));
    let sent = form_of(&server.received_requests().await.unwrap()[0]);
    let expected = [
        ("grant_type", "authorization_code"),
        ("code", "code-1"),
        ("redirect_uri", "https://qa.example.com/cb"),
        ("code_verifier", pkce.verifier.expose_secret()),
        ("client_id", "client-1"),
        ("client_secret", "shh"),
    ];
    for (name, value) in expected {
        assert_eq!(sent[name], value, "{name}");
    }
}

#[tokio::test]
async fn a_form_encoded_token_answer_is_read_too() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "access_token=dal%3Aaccess-2&token_type=Bearer&expires_in=60&scope=a%2Cb",
            "application/x-www-form-urlencoded",
        ))
        .mount(&server)
        .await;
    let tokens = client(&server, None)
        .exchange_code(&SecretString::from("c"), "https://x/cb", &SecretString::from("v"))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "dal:access-2");
    assert!(tokens.refresh_token.is_none());
    assert_eq!(tokens.scope.as_deref(), Some("a,b"));
    let now = Timestamp::parse_rfc3339(NOW).unwrap();
    assert_eq!(tokens.expires_at, Some(now.saturating_add(Duration::from_secs(60))));
    let sent = form_of(&server.received_requests().await.unwrap()[0]);
    assert!(!sent.contains_key("client_secret"), "a public client sends no secret");
}

#[tokio::test]
async fn a_refresh_sends_the_refresh_grant_and_keeps_an_unrotated_refresh_token() {
    let server = MockServer::start().await;
    let rotated = ResponseTemplate::new(200).set_body_json(token_answer());
    let unrotated = ResponseTemplate::new(200)
        .set_body_json(json!({ "access_token": "dal:access-2", "expires_in": 60, "token_type": "Bearer" }));
    let recorder = crate::support::Recorder::new([rotated, unrotated]);
    Mock::given(method("POST")).and(path("/v2/token")).respond_with(recorder.clone()).mount(&server).await;
    let oauth = client(&server, Some("shh"));
    let tokens = oauth.refresh(&SecretString::from("refresh-0")).await.unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "dal:access-1");
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "refresh-1");
    let sent = form_of(&recorder.requests()[0].1);
    assert_eq!(sent["grant_type"], "refresh_token");
    assert_eq!(sent["refresh_token"], "refresh-0");
    let tokens = oauth.refresh(&SecretString::from("refresh-1")).await.unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "dal:access-2");
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "refresh-1");
}

#[tokio::test]
async fn invalid_grant_is_its_own_error_and_never_quotes_the_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "refresh token refresh-0 is revoked",
            "request_id": "r1"
        })))
        .mount(&server)
        .await;
    let error = client(&server, Some("shh")).refresh(&SecretString::from("refresh-0")).await.unwrap_err();
    assert!(matches!(error, HelpDeskError::InvalidGrant { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Authentication);
    let message = error.to_string();
    assert!(message.contains("invalid_grant"), "{message}");
    assert!(!message.contains("refresh-0"), "{message}");
}

#[tokio::test]
async fn other_oauth_errors_keep_their_code() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client", "error_description": "wrong client"
        })))
        .mount(&server)
        .await;
    let error = client(&server, Some("shh")).refresh(&SecretString::from("r")).await.unwrap_err();
    assert!(
        matches!(&error, HelpDeskError::OAuth { status: 401, code, .. } if code == "invalid_client"),
        "{error:?}"
    );
}

#[tokio::test]
async fn token_calls_never_follow_redirects() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/token"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/elsewhere", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer()))
        .expect(0)
        .mount(&server)
        .await;
    let error = client(&server, Some("shh"))
        .exchange_code(&SecretString::from("code-1"), "https://x/cb", &SecretString::from("v"))
        .await
        .unwrap_err();
    assert!(matches!(error, HelpDeskError::Permanent { status: 302, .. }), "{error:?}");
}

#[tokio::test]
async fn revoke_deletes_the_token_and_an_unknown_token_counts_as_revoked() {
    for status in [200, 404] {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .and(path("/v2/token"))
            .and(header("authorization", "Bearer dal:access-1"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({})))
            .expect(1)
            .mount(&server)
            .await;
        client(&server, None).revoke(&SecretString::from("dal:access-1")).await.unwrap();
    }
}

#[tokio::test]
async fn token_info_reads_the_owner_and_the_remaining_lifetime() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/info"))
        .and(header("authorization", "Bearer dal:access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "dal:access-1", "account_id": "acc-1", "client_id": "client-1",
            "expires_in": 100, "organization_id": "org-1", "scope": "accounts--my:ro",
            "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    let clock = manual_clock(NOW);
    let oauth = OAuthClient::new(&server.uri(), "client-1", None, clock.clone()).unwrap();
    let info = oauth.token_info(&SecretString::from("dal:access-1")).await.unwrap();
    assert_eq!(info.account_id.as_deref(), Some("acc-1"));
    assert_eq!(info.client_id.as_deref(), Some("client-1"));
    assert_eq!(info.expires_at, Some(clock.now().saturating_add(Duration::from_secs(100))));
}

#[tokio::test]
async fn an_expired_token_is_an_authentication_error_for_token_info() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/info"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "unauthorized", "error_description": "invalid token"
        })))
        .mount(&server)
        .await;
    let error = client(&server, None).token_info(&SecretString::from("stale")).await.unwrap_err();
    assert!(matches!(error, HelpDeskError::Authentication { status: 401, .. }), "{error:?}");
}
