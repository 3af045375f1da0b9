//! The accounts service: consent page, code exchange, PKCE, refresh, revoke, info, limits.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Response;
use scoreline_helpdesk_sim::{Rotation, SimConfig};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{Api, body_of, spawn, spawn_default};

const REDIRECT: &str = "http://127.0.0.1:4567/oauth/callback";
const VERIFIER: &str = "a-verifier-that-is-long-enough-to-be-valid-0123456789-abcdefghijklmnop";

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

fn authorize_params(api: &Api, pkce: bool) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("response_type", "code".to_owned()),
        ("client_id", api.sim.oauth_client_id()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("state", "st4te-123".to_owned()),
    ];
    if pkce {
        params.push(("code_challenge", challenge()));
        params.push(("code_challenge_method", "S256".to_owned()));
    }
    params
}

fn location(response: &Response) -> url::Url {
    assert!(response.status().is_redirection(), "status {}", response.status());
    let target = response.headers()["location"].to_str().unwrap();
    url::Url::parse(target).unwrap()
}

fn param(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// Opens the consent page, checks it, and presses a button; returns where it redirects.
async fn consent(api: &Api, params: &[(&'static str, String)], decision: &str) -> url::Url {
    let page = api.http.get(api.accounts("/")).query(params).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/\">"));
    assert!(html.contains(">Allow</button>") && html.contains(">Deny</button>"));
    assert!(!html.contains("<script"));
    assert!(html.contains("st4te-123"), "the state rides along in hidden fields");
    let mut form = params.to_vec();
    form.push(("decision", decision.to_owned()));
    let response = api.http.post(api.accounts("/")).form(&form).send().await.unwrap();
    location(&response)
}

async fn code(api: &Api, pkce: bool) -> String {
    let back = consent(api, &authorize_params(api, pkce), "allow").await;
    assert_eq!(back.as_str().split('?').next().unwrap(), REDIRECT);
    assert_eq!(param(&back, "state").as_deref(), Some("st4te-123"));
    param(&back, "code").unwrap()
}

async fn token(api: &Api, form: &[(&str, String)]) -> (u16, Value) {
    let response = api.http.post(api.accounts("/v2/token")).form(form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn code_grant(api: &Api, code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("client_id", api.sim.oauth_client_id()),
        ("client_secret", api.sim.oauth_client_secret()),
        ("redirect_uri", REDIRECT.to_owned()),
    ]
}

fn refresh_grant(api: &Api, refresh: &str, secret: bool) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", refresh.to_owned()),
        ("client_id", api.sim.oauth_client_id()),
    ];
    if secret {
        form.push(("client_secret", api.sim.oauth_client_secret()));
    }
    form
}

fn assert_error((status, body): (u16, Value), expected_status: u16, error: &str, why: &str) {
    assert_eq!((status, body["error"].as_str()), (expected_status, Some(error)), "{why}: {body}");
}

async fn v1_status(api: &Api, token: &str) -> u16 {
    let response = api.http.get(api.url("/v1/tickets")).bearer_auth(token).send().await.unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn consent_code_token_then_the_api_accepts_the_bearer() {
    let api = spawn_default().await;
    let code = code(&api, false).await;
    assert!(code.contains(':'), "codes carry a region prefix that must survive URL encoding");
    let (status, body) = token(&api, &code_grant(&api, &code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 28_800);
    assert_eq!(body["account_id"], api.sim.account_id());
    for key in ["access_token", "refresh_token", "scope", "organization_id"] {
        assert!(body[key].is_string(), "{key}");
    }
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(v1_status(&api, access).await, 200);

    let info = body_of(api.http.get(api.accounts("/v2/info")).bearer_auth(access)).await;
    assert_eq!(info["client_id"], api.sim.oauth_client_id());
    assert_eq!(info["expires_in"], 28_800);
    api.sim.clock().advance(Duration::from_secs(3600));
    let info = body_of(api.http.get(api.accounts("/v2/info")).query(&[("code", access)])).await;
    assert_eq!(info["expires_in"], 28_800 - 3600);

    api.sim.clock().advance(Duration::from_secs(7 * 3600));
    assert_eq!(v1_status(&api, access).await, 401, "expired after 8 hours of sim time");
    let info = api.http.get(api.accounts("/v2/info")).bearer_auth(access).send().await.unwrap();
    assert_eq!(info.status(), 401);
    let (status, refreshed) =
        token(&api, &refresh_grant(&api, body["refresh_token"].as_str().unwrap(), true)).await;
    assert_eq!(status, 200);
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(v1_status(&api, access).await, 200);

    let revoked = api.http.delete(api.accounts("/v2/token")).bearer_auth(access).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(revoked.json::<Value>().await.unwrap(), json!({}));
    assert_eq!(v1_status(&api, access).await, 401);
    let again = api.http.delete(api.accounts("/v2/token")).query(&[("code", access)]).send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_error(
        token(&api, &refresh_grant(&api, refreshed["refresh_token"].as_str().unwrap(), true)).await,
        401,
        "invalid_grant",
        "revoking the access token revokes its refresh token",
    );
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let api = spawn_default().await;
    let back = consent(&api, &authorize_params(&api, false), "deny").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("st4te-123"));
    assert_eq!(param(&back, "code"), None);
}

#[tokio::test]
async fn codes_are_single_use_short_lived_and_bound_to_the_redirect_uri() {
    let api = spawn_default().await;
    let first = code(&api, false).await;
    assert_eq!(token(&api, &code_grant(&api, &first)).await.0, 200);
    let (status, reused) = token(&api, &code_grant(&api, &first)).await;
    assert_eq!((status, reused["error"].as_str()), (401, Some("invalid_grant")));
    assert!(reused["error_description"].is_string());
    assert!(reused["request_id"].is_string());
    assert!(reused.get("sub_error").is_some());

    let second = code(&api, false).await;
    let mut wrong_redirect = code_grant(&api, &second);
    wrong_redirect[4].1 = "http://127.0.0.1:4567/other".to_owned();
    assert_eq!(token(&api, &wrong_redirect).await.1["error"], "invalid_grant");

    let third = code(&api, false).await;
    api.sim.clock().advance(Duration::from_secs(301));
    assert_eq!(token(&api, &code_grant(&api, &third)).await.1["error"], "invalid_grant");

    let fourth = code(&api, false).await;
    let mut wrong_secret = code_grant(&api, &fourth);
    wrong_secret[3].1 = "nope".to_owned();
    assert_error(token(&api, &wrong_secret).await, 401, "invalid_client", "");
}

#[tokio::test]
async fn pkce_s256_is_checked_and_public_refresh_tokens_rotate() {
    let api = spawn_default().await;
    let public = |code: &str, verifier: Option<&str>| {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("client_id", api.sim.oauth_client_id()),
            ("redirect_uri", REDIRECT.to_owned()),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier.to_owned()));
        }
        form
    };
    let wrong = code(&api, true).await;
    assert_error(
        token(&api, &public(&wrong, Some("not-the-verifier-not-the-verifier-not-the-verifier"))).await,
        401,
        "invalid_grant",
        "",
    );
    let missing = code(&api, true).await;
    assert_eq!(token(&api, &public(&missing, None)).await.1["error"], "invalid_grant");
    let no_pkce = code(&api, false).await;
    assert_eq!(
        token(&api, &public(&no_pkce, None)).await.1["error"],
        "invalid_client",
        "no secret and no PKCE"
    );

    let good = code(&api, true).await;
    let (status, body) = token(&api, &public(&good, Some(VERIFIER))).await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = token(&api, &refresh_grant(&api, &refresh, false)).await;
    assert_eq!(status, 200);
    assert_ne!(rotated["refresh_token"], refresh.as_str());
    assert_error(
        token(&api, &refresh_grant(&api, &refresh, false)).await,
        401,
        "invalid_grant",
        "rotated refresh tokens are single-use",
    );
}

#[tokio::test]
async fn rotation_is_an_option() {
    let api = spawn_default().await;
    let (_, body) = token(&api, &code_grant(&api, &code(&api, false).await)).await;
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let (_, same) = token(&api, &refresh_grant(&api, &refresh, true)).await;
    assert_eq!(same["refresh_token"], refresh.as_str(), "confidential clients keep their refresh token");
    api.sim.update_options(|options| options.refresh_rotation = Rotation::Always);
    let (_, rotated) = token(&api, &refresh_grant(&api, &refresh, true)).await;
    assert_ne!(rotated["refresh_token"], refresh.as_str());
    assert_eq!(token(&api, &refresh_grant(&api, &refresh, true)).await.0, 401);
    api.sim.update_options(|options| options.refresh_rotation = Rotation::Never);
    let newest = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(token(&api, &refresh_grant(&api, newest, true)).await.1["refresh_token"], newest);
}

#[tokio::test]
async fn the_26th_access_token_silently_revokes_the_oldest() {
    let api = spawn_default().await;
    let (_, first) = token(&api, &code_grant(&api, &code(&api, false).await)).await;
    let refresh = first["refresh_token"].as_str().unwrap();
    let mut issued = vec![first["access_token"].as_str().unwrap().to_owned()];
    for _ in 0..25 {
        let (status, body) = token(&api, &refresh_grant(&api, refresh, true)).await;
        assert_eq!(status, 200);
        issued.push(body["access_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(v1_status(&api, &issued[0]).await, 401);
    for access in &issued[1..] {
        assert_eq!(v1_status(&api, access).await, 200);
    }
}

#[tokio::test]
async fn json_bodies_and_the_code_grant_spelling_are_accepted() {
    let api = spawn_default().await;
    let code = code(&api, false).await;
    let body = json!({
        "grant_type": "code",
        "code": code,
        "client_id": api.sim.oauth_client_id(),
        "client_secret": api.sim.oauth_client_secret(),
        "redirect_uri": REDIRECT,
    });
    let response = api.http.post(api.accounts("/v2/token")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    api.sim.update_options(|options| options.accept_code_grant_type = false);
    let response = api.http.post(api.accounts("/v2/token")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    let response = api
        .http
        .post(api.accounts("/v2/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body["invalid_fields"].is_object());
}

#[tokio::test]
async fn authorize_errors_go_to_the_ooops_page() {
    let api = spawn_default().await;
    let mut params = authorize_params(&api, false);
    params[2].1 = "https://evil.example/callback".to_owned();
    let response = api.http.get(api.accounts("/")).query(&params).send().await.unwrap();
    let target = location(&response);
    assert_eq!(target.path(), "/ooops");
    assert_eq!(param(&target, "oauth_exception").as_deref(), Some("invalid_request"));
    let page = api.http.get(target.as_str()).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("invalid_request"));
    let mut params = authorize_params(&api, false);
    params[1].1 = "unknown".to_owned();
    let response = api.http.get(api.accounts("/")).query(&params).send().await.unwrap();
    assert_eq!(param(&location(&response), "oauth_exception").as_deref(), Some("invalid_client"));
    for bad in [
        "http://127.0.0.1:4567/cb?x=1",
        "http://127.0.0.1:4567/cb#frag",
        "http://127.0.0.1:4567/a/../b",
        "https://127.0.0.1:4567/cb",
    ] {
        assert!(!scoreline_helpdesk_sim::redirect_allowed(&api.sim.redirect_uris(), bad), "{bad}");
    }
    assert!(scoreline_helpdesk_sim::redirect_allowed(&api.sim.redirect_uris(), "http://localhost:1/x"));
    let exact = ["https://app.example.com/oauth".to_owned()];
    assert!(scoreline_helpdesk_sim::redirect_allowed(&exact, "https://app.example.com/oauth/callback"));
    assert!(!scoreline_helpdesk_sim::redirect_allowed(&exact, "https://app.example.com:8443/oauth"));
    assert!(!scoreline_helpdesk_sim::redirect_allowed(&exact, "https://app.example.com/other"));
}

#[tokio::test]
async fn implicit_grant_and_auto_approve() {
    let api = spawn(SimConfig { oauth_auto_approve: true, ..SimConfig::default() }).await;
    let response = api.http.get(api.accounts("/")).query(&authorize_params(&api, true)).send().await.unwrap();
    let back = location(&response);
    assert!(param(&back, "code").is_some(), "auto-approve skips the page");
    let mut params = authorize_params(&api, false);
    params[0].1 = "token".to_owned();
    let response = api.http.get(api.accounts("/")).query(&params).send().await.unwrap();
    let back = location(&response);
    let fragment: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(back.fragment().unwrap().as_bytes()).into_owned().collect();
    assert_eq!(fragment["token_type"], "Bearer");
    assert_eq!(fragment["expires_in"], "28800");
    assert_eq!(fragment["state"], "st4te-123");
    assert_eq!(v1_status(&api, &fragment["access_token"]).await, 200);
}

#[tokio::test]
async fn the_26th_refresh_token_silently_revokes_the_oldest() {
    let api = spawn_default().await;
    let mut refresh = Vec::new();
    for _ in 0..26 {
        let (status, body) = token(&api, &code_grant(&api, &code(&api, false).await)).await;
        assert_eq!(status, 200);
        refresh.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert_error(token(&api, &refresh_grant(&api, &refresh[0], true)).await, 401, "invalid_grant", "capped");
    assert_eq!(token(&api, &refresh_grant(&api, &refresh[1], true)).await.0, 200);
}

#[tokio::test]
async fn the_redirect_limit_is_an_option() {
    let api = spawn_default().await;
    api.sim.update_options(|options| options.authorize_redirect_limit = true);
    let visit = || api.http.get(api.accounts("/")).query(&authorize_params(&api, false)).send();
    for _ in 0..3 {
        assert_eq!(visit().await.unwrap().status(), 200);
    }
    let limited = visit().await.unwrap();
    assert_eq!(param(&location(&limited), "oauth_exception").as_deref(), Some("too_many_redirects"));
    api.sim.clock().advance(Duration::from_secs(30));
    assert_eq!(visit().await.unwrap().status(), 200);
}
