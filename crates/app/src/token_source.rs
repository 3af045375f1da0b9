//! OAuth access tokens of one integration, refreshed ahead of expiry, one refresh at a time
//! across tasks (a mutex) and across servers (a lock row), stored before they are used.

use std::sync::Arc;
use std::time::Duration;

use scoreline_core::{AuthMethod, IntegrationId};
use scoreline_helpdesk::{
    Credentials, ExposeSecret, HelpDeskClient, HelpDeskError, RetryPolicy, SecretString, TokenSource,
};
use scoreline_store::integrations::{OAuthTokens, StoredCredentials};

use crate::{App, AppError, AppResult};

/// Refresh when the token has less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long one server may hold the refresh lock before another may take over.
const REFRESH_LOCK_TTL: Duration = Duration::from_secs(30);
/// How often to look whether another server finished refreshing.
const REFRESH_POLL: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct IntegrationTokens {
    app: App,
    integration_id: IntegrationId,
}

impl App {
    /// A HelpDesk client for a stored integration, with its credentials.
    pub async fn helpdesk_client(&self, id: IntegrationId, retry: RetryPolicy) -> AppResult<HelpDeskClient> {
        let integration = self.db().get_integration(id).await?.ok_or(AppError::NotFound("integration"))?;
        let credentials = match integration.auth_method {
            AuthMethod::Token => {
                let stored = self.load_credentials(id).await?;
                let token = stored.token.ok_or(AppError::NotFound("credentials"))?;
                Credentials::personal_access_token(integration.account_id.unwrap_or_default(), token)
            }
            AuthMethod::Oauth => {
                Credentials::oauth(Arc::new(IntegrationTokens { app: self.clone(), integration_id: id }))
            }
        };
        self.integration_client(id, credentials, retry, self.settings().sync.attempt_timeout)
    }

    async fn load_credentials(&self, id: IntegrationId) -> AppResult<StoredCredentials> {
        self.db().load_credentials(id, self.sealer()).await?.ok_or(AppError::NotFound("credentials"))
    }
}

impl IntegrationTokens {
    async fn stored(&self) -> Result<(i64, OAuthTokens), HelpDeskError> {
        let stored = self.app.load_credentials(self.integration_id).await.map_err(unavailable)?;
        let tokens = stored.oauth.ok_or_else(|| unavailable(AppError::NotFound("OAuth tokens")))?;
        Ok((stored.version, tokens))
    }

    /// Refreshes unless the stored tokens moved past `seen_version` meanwhile.
    async fn refresh(&self, seen_version: i64) -> Result<SecretString, HelpDeskError> {
        let in_process = self.app.refresh_lock(self.integration_id);
        let _one_task_at_a_time = in_process.lock().await;
        let owner = self.app.instance_id();
        loop {
            if let Some(newer) = self.newer_than(seen_version).await? {
                return Ok(newer);
            }
            let now = self.app.clock().now();
            let locked = self
                .app
                .db()
                .try_lock_refresh(self.integration_id, owner, now.saturating_add(REFRESH_LOCK_TTL), now)
                .await
                .map_err(|e| unavailable(e.into()))?;
            if !locked {
                // Another server is refreshing: wait for its tokens to appear.
                tokio::time::sleep(REFRESH_POLL).await;
                continue;
            }
            // Checked again under the lock: a holder may have finished just before we took it.
            let outcome = match self.newer_than(seen_version).await {
                Ok(Some(newer)) => Ok(newer),
                Ok(None) => match self.stored().await {
                    Ok((version, tokens)) => self.refresh_locked(version, &tokens).await,
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            };
            let _ = self.app.db().unlock_refresh(self.integration_id, owner).await;
            return outcome;
        }
    }

    /// The stored access token, if the credentials moved past `seen_version`.
    async fn newer_than(&self, seen_version: i64) -> Result<Option<SecretString>, HelpDeskError> {
        let (version, tokens) = self.stored().await?;
        Ok((version != seen_version).then_some(tokens.access_token))
    }

    async fn refresh_locked(
        &self,
        version: i64,
        tokens: &OAuthTokens,
    ) -> Result<SecretString, HelpDeskError> {
        let refresh_token = tokens.refresh_token.clone().ok_or(HelpDeskError::InvalidGrant {
            description: Some("no refresh token is stored".to_owned()),
        })?;
        let oauth = self.app.oauth_client().map_err(unavailable)?;
        let fresh = match oauth.refresh(&refresh_token).await {
            Ok(fresh) => fresh,
            Err(error) => {
                if matches!(error, HelpDeskError::InvalidGrant { .. }) {
                    let reason = "HelpDesk no longer accepts this authorization; reconnect it.";
                    if let Err(store_error) =
                        self.app.mark_needs_reauthorization(self.integration_id, reason).await
                    {
                        tracing::error!(integration_id = %self.integration_id, error = %store_error, "could not record needs re-authorization");
                    }
                }
                return Err(error);
            }
        };
        let new_tokens = OAuthTokens {
            access_token: fresh.access_token.clone(),
            refresh_token: fresh.refresh_token,
            expires_at: fresh.expires_at,
        };
        // Stored before use: a rotated refresh token that is lost breaks the connection.
        let stored = self
            .app
            .db()
            .store_refreshed_tokens(
                self.integration_id,
                version,
                &new_tokens,
                self.app.sealer(),
                self.app.clock().now(),
            )
            .await
            .map_err(|e| unavailable(e.into()))?;
        if !stored {
            return Err(unavailable(AppError::Internal("credentials changed during a refresh".to_owned())));
        }
        tracing::info!(integration_id = %self.integration_id, "OAuth access token refreshed");
        Ok(fresh.access_token)
    }
}

#[async_trait::async_trait]
impl TokenSource for IntegrationTokens {
    async fn access_token(&self) -> Result<SecretString, HelpDeskError> {
        let (version, tokens) = self.stored().await?;
        let now = self.app.clock().now();
        match tokens.expires_at {
            Some(expires_at) if expires_at <= now.saturating_add(REFRESH_MARGIN) => {
                self.refresh(version).await
            }
            _ => Ok(tokens.access_token),
        }
    }

    async fn refresh_rejected(&self, rejected: &SecretString) -> Result<SecretString, HelpDeskError> {
        let (version, tokens) = self.stored().await?;
        if tokens.access_token.expose_secret() != rejected.expose_secret() {
            return Ok(tokens.access_token);
        }
        self.refresh(version).await
    }
}

fn unavailable(error: AppError) -> HelpDeskError {
    HelpDeskError::TokenUnavailable(Box::new(error))
}
