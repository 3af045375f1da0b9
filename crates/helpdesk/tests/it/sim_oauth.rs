//! The OAuth flow end to end against the simulator's accounts service and API.

use std::sync::Arc;
use std::time::Duration;

use scoreline_helpdesk::{
    Credentials, ErrorKind, ExposeSecret, HelpDeskClient, HelpDeskError, OAuthClient, Pkce, SecretString,
    StaticToken, TokenSet, TokenSource,
};
use scoreline_helpdesk_sim::{SimConfig, SimHandle, Simulator};
use url::Url;

use crate::support::fast_config;

const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth/callback";

async fn spawn() -> SimHandle {
    Simulator::spawn(SimConfig { tickets: 10, oauth_auto_approve: true, ..SimConfig::default() })
        .await
        .unwrap()
}

fn oauth_for(sim: &SimHandle) -> OAuthClient {
    let secret = SecretString::from(sim.oauth_client_secret());
    OAuthClient::new(&sim.accounts_url(), sim.oauth_client_id(), Some(secret), Arc::new(sim.clock())).unwrap()
}

fn api_client(sim: &SimHandle, source: Arc<dyn TokenSource>) -> HelpDeskClient {
    let config = fast_config(&sim.api_base_url());
    HelpDeskClient::new(config, Credentials::oauth(source), Arc::new(sim.clock())).unwrap()
}

fn bearer(token: &SecretString) -> Arc<dyn TokenSource> {
    Arc::new(StaticToken(token.clone()))
}

/// What the admin's browser does: open the authorize URL (consent is automatic here) and come
/// back to the redirect URI with a code.
async fn authorize(oauth: &OAuthClient, pkce: &Pkce) -> SecretString {
    let url = oauth.authorize_url(REDIRECT_URI, "state-1", &pkce.challenge);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = browser.get(url).send().await.unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let location = answer.headers()[reqwest::header::LOCATION].to_str().unwrap();
    let callback = Url::parse(location).unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let param = |name: &str| callback.query_pairs().find(|(key, _)| key == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("state").as_deref(), Some("state-1"));
    SecretString::from(param("code").unwrap())
}

#[tokio::test]
async fn the_code_flow_gives_tokens_that_work_refresh_and_revoke() {
    let sim = spawn().await;
    let oauth = oauth_for(&sim);
    let pkce = Pkce::generate();
    let code = authorize(&oauth, &pkce).await;
    let tokens = oauth.exchange_code(&code, REDIRECT_URI, &pkce.verifier).await.unwrap();
    assert_eq!(tokens.expires_at, Some(sim.now().saturating_add(Duration::from_secs(28_800))));
    assert_eq!(tokens.account_id.as_deref(), Some(sim.account_id().as_str()));

    // A code is single use.
    let again = oauth.exchange_code(&code, REDIRECT_URI, &pkce.verifier).await.unwrap_err();
    assert!(matches!(again, HelpDeskError::InvalidGrant { .. }), "{again:?}");

    let info = oauth.token_info(&tokens.access_token).await.unwrap();
    assert_eq!(info.client_id.as_deref(), Some(sim.oauth_client_id().as_str()));
    assert!(!api_client(&sim, bearer(&tokens.access_token)).list_agents().await.unwrap().is_empty());

    let refresh_token = tokens.refresh_token.unwrap();
    let refreshed = oauth.refresh(&refresh_token).await.unwrap();
    assert_ne!(refreshed.access_token.expose_secret(), tokens.access_token.expose_secret());
    assert!(!api_client(&sim, bearer(&refreshed.access_token)).list_teams().await.unwrap().is_empty());

    oauth.revoke(&refreshed.access_token).await.unwrap();
    let error = api_client(&sim, bearer(&refreshed.access_token)).list_teams().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication, "{error}");
    // Revoking an access token revokes its refresh token too.
    let error = oauth.refresh(&refreshed.refresh_token.unwrap()).await.unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");
}

/// The shape the application's source should have: refresh once per rejected token, however
/// many requests saw it rejected.
#[derive(Debug)]
struct RefreshingSource {
    oauth: OAuthClient,
    tokens: tokio::sync::Mutex<TokenSet>,
}

#[async_trait::async_trait]
impl TokenSource for RefreshingSource {
    async fn access_token(&self) -> Result<SecretString, HelpDeskError> {
        Ok(self.tokens.lock().await.access_token.clone())
    }

    async fn refresh_rejected(&self, rejected: &SecretString) -> Result<SecretString, HelpDeskError> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access_token.expose_secret() != rejected.expose_secret() {
            return Ok(tokens.access_token.clone());
        }
        let refresh_token = tokens
            .refresh_token
            .clone()
            .ok_or(HelpDeskError::InvalidGrant { description: Some("no refresh token".into()) })?;
        *tokens = self.oauth.refresh(&refresh_token).await?;
        Ok(tokens.access_token.clone())
    }
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_for_concurrent_requests() {
    let sim = spawn().await;
    let oauth = oauth_for(&sim);
    let pkce = Pkce::generate();
    let code = authorize(&oauth, &pkce).await;
    let tokens = oauth.exchange_code(&code, REDIRECT_URI, &pkce.verifier).await.unwrap();
    let client = api_client(&sim, Arc::new(RefreshingSource { oauth, tokens: tokens.into() }));
    sim.clock().advance(Duration::from_secs(9 * 3600));
    sim.clear_requests();
    let (agents, teams, tags) = tokio::join!(client.list_agents(), client.list_teams(), client.list_tags());
    agents.unwrap();
    teams.unwrap();
    tags.unwrap();
    let refreshes =
        sim.requests().iter().filter(|record| record.method == "POST" && record.uri == "/v2/token").count();
    assert_eq!(refreshes, 1);
}
