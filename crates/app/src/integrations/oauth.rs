//! Connecting and reconnecting by OAuth: the flow bound to the admin's session, with PKCE,
//! and the callback that finishes it.

use std::time::Duration;

use scoreline_core::{
    AccountId, AuthMethod, Integration, IntegrationId, IntegrationSettings, Permission, SessionId,
};
use scoreline_helpdesk::{Credentials, Pkce, SecretString};
use scoreline_store::integrations::{NewCredentials, NewIntegration, OAuthFlow, OAuthTokens};
use serde_json::json;

use super::ConnectIntegration;
use super::clients::{QUICK_ATTEMPT_TIMEOUT, quick_retry, read_license};
use crate::tokens::SecretToken;
use crate::{Actor, App, AppError, AppResult};

/// How long an admin has to approve access on the accounts server.
const OAUTH_FLOW_TTL: Duration = Duration::from_secs(10 * 60);

/// Where to send the admin's browser to approve access.
#[derive(Debug)]
pub struct OAuthStart {
    pub integration_id: IntegrationId,
    pub authorize_url: String,
}

/// What the accounts server sent back to the callback.
#[derive(Debug)]
pub enum OAuthCallback {
    Code { state: String, code: SecretString },
    Refused { state: String, error: String },
}

/// How a callback ended.
#[derive(Debug)]
pub enum OAuthFinished {
    Connected(Integration),
    /// Nothing was connected, for `problem`: the admin refused at HelpDesk, HelpDesk refused
    /// the code, or the account is connected already and the admin did not confirm a second
    /// connection. `settings` are the form as the admin filled it in, to show it again;
    /// `reconnect_of` the integration a reconnection was for.
    Returned {
        settings: IntegrationSettings,
        reconnect_of: Option<IntegrationId>,
        problem: AppError,
    },
}

/// Why an OAuth connection did not complete. Each gets its own page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthFailure {
    #[error("Access was not granted on the HelpDesk side, so nothing was connected.")]
    Denied,
    #[error(
        "This sign-in link is not valid: it expired, was already used, or was not started from this browser. Nothing was connected; start again from View Integrations."
    )]
    InvalidState,
    #[error("HelpDesk did not accept the authorization ({0}). Nothing was connected; start again.")]
    Exchange(String),
    #[error(
        "OAuth is not configured on this server: set SCORELINE_OAUTH_CLIENT_ID and SCORELINE_OAUTH_CLIENT_SECRET, or connect with an access token."
    )]
    NotConfigured,
}

impl App {
    /// Validates the form and returns where to approve access. Nothing is created until the
    /// callback succeeds.
    pub async fn start_oauth(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        input: ConnectIntegration,
    ) -> AppResult<OAuthStart> {
        actor.require(Permission::ManageIntegrations)?;
        let allow_duplicate = input.allow_duplicate;
        let valid = self.validate_connect(input)?;
        if valid.method != AuthMethod::Oauth {
            return Err(AppError::field(
                "auth_method",
                "Use connect_with_token for the access-token method.",
            ));
        }
        let flow = FlowKind { reconnect: false, allow_duplicate };
        self.begin_oauth_flow(actor, session, IntegrationId::new(), valid.settings, flow).await
    }

    /// Sends the admin back to the accounts server to authorize an existing integration again;
    /// its cases and settings stay.
    pub async fn start_reconnect(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        id: IntegrationId,
    ) -> AppResult<OAuthStart> {
        let integration = self.get_integration(actor, id).await?;
        if integration.auth_method != AuthMethod::Oauth {
            return Err(AppError::field(
                "auth_method",
                "This integration uses an access token: replace the token instead.",
            ));
        }
        let settings = IntegrationSettings {
            label: integration.label,
            description: integration.description,
            retention: integration.retention,
            backfill_days: integration.backfill_days,
        };
        self.begin_oauth_flow(
            actor,
            session,
            id,
            settings,
            FlowKind { reconnect: true, allow_duplicate: true },
        )
        .await
    }

    async fn begin_oauth_flow(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        integration_id: IntegrationId,
        settings: IntegrationSettings,
        kind: FlowKind,
    ) -> AppResult<OAuthStart> {
        let user = actor.user().ok_or(AppError::Unauthenticated)?;
        let oauth = self.oauth_client()?;
        let state = SecretToken::generate("");
        let pkce = Pkce::generate();
        let redirect_uri = self.helpdesk_settings().oauth_redirect_uri.clone();
        let now = self.clock().now();
        self.db().delete_expired_oauth_flows(now).await?;
        let flow = OAuthFlow {
            state_digest: state.digest(),
            user_id: user.id,
            session_id: session,
            integration_id,
            reconnect: kind.reconnect,
            allow_duplicate: kind.allow_duplicate,
            settings,
            pkce_verifier: pkce.verifier,
            redirect_uri: redirect_uri.clone(),
            created_at: now,
            expires_at: now.saturating_add(OAUTH_FLOW_TTL),
        };
        self.db().create_oauth_flow(&flow, self.sealer()).await?;
        let authorize_url = oauth.authorize_url(&redirect_uri, state.expose(), &pkce.challenge).to_string();
        Ok(OAuthStart { integration_id, authorize_url })
    }

    /// Completes the authorization the callback reports. The state is consumed whatever happens,
    /// but only by the admin (and session) that started the flow.
    pub async fn finish_oauth(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        callback: OAuthCallback,
    ) -> AppResult<OAuthFinished> {
        actor.require(Permission::ManageIntegrations)?;
        let user = actor.user().ok_or(AppError::Unauthenticated)?;
        let state = match &callback {
            OAuthCallback::Code { state, .. } | OAuthCallback::Refused { state, .. } => state,
        };
        // Only the admin who started the flow, in the session they started it in, consumes it.
        let digest = SecretToken::from_presented(state).digest();
        let flow = self.db().take_oauth_flow(&digest, user.id, session, self.sealer()).await?;
        let flow = flow
            .filter(|flow| flow.expires_at > self.clock().now())
            .ok_or(AppError::OAuth(OAuthFailure::InvalidState))?;
        let reconnect_of = flow.reconnect.then_some(flow.integration_id);
        let returned = |settings: &IntegrationSettings, failure: OAuthFailure| OAuthFinished::Returned {
            settings: settings.clone(),
            reconnect_of,
            problem: AppError::field("auth_method", failure.to_string()),
        };
        let code = match callback {
            OAuthCallback::Code { code, .. } => code,
            OAuthCallback::Refused { error, .. } => {
                tracing::info!(error, "OAuth authorization refused");
                return Ok(returned(&flow.settings, OAuthFailure::Denied));
            }
        };
        let oauth = self.oauth_client()?;
        let tokens = match oauth.exchange_code(&code, &flow.redirect_uri, &flow.pkce_verifier).await {
            Ok(tokens) => tokens,
            Err(error) => {
                tracing::warn!(%error, "OAuth code exchange failed");
                return Ok(returned(&flow.settings, OAuthFailure::Exchange(error.to_string())));
            }
        };
        // The token answer names the account it grants; the integration page shows it.
        let account_id = tokens
            .account_id
            .as_deref()
            .and_then(|text| AccountId::parse(text).ok())
            .map(|id| id.as_str().to_owned());
        let tokens = OAuthTokens {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_at: tokens.expires_at,
        };
        let client = self.helpdesk_client_with(
            Credentials::oauth(std::sync::Arc::new(scoreline_helpdesk::StaticToken(
                tokens.access_token.clone(),
            ))),
            quick_retry(),
            QUICK_ATTEMPT_TIMEOUT,
        )?;
        if let Err(error) = client.list_agents().await {
            return Ok(returned(&flow.settings, OAuthFailure::Exchange(error.to_string())));
        }
        let license = read_license(&client).await;
        if !flow.allow_duplicate
            && let Err(problem) = self.refuse_second_connection(account_id.as_deref(), license).await
        {
            // Not kept: the admin confirms with a new authorization, so no unused grant lingers.
            let token = tokens.refresh_token.as_ref().unwrap_or(&tokens.access_token);
            if let Err(error) = oauth.revoke(token).await {
                tracing::warn!(%error, "could not revoke the unused OAuth token");
            }
            return Ok(OAuthFinished::Returned { settings: flow.settings, reconnect_of, problem });
        }

        let credentials = NewCredentials::OAuth(tokens);
        let id = flow.integration_id;
        if flow.reconnect {
            let audit = self.audit(
                actor,
                "integration.reconnect",
                "integration",
                &id.to_string(),
                json!({ "auth_method": "oauth" }),
            );
            self.db()
                .replace_credentials(id, &credentials, self.sealer(), self.clock().now(), &audit)
                .await?;
            if let Some(license) = license {
                self.db().fill_integration_license(id, license).await?;
            }
            let integration =
                self.db().get_integration(id).await?.ok_or(AppError::NotFound("integration"))?;
            return Ok(OAuthFinished::Connected(integration));
        }
        let integration = NewIntegration {
            id,
            settings: flow.settings,
            auth_method: AuthMethod::Oauth,
            account_id,
            license_id: license,
            created_at: self.clock().now(),
        };
        let audit = self.audit(
            actor,
            "integration.connect",
            "integration",
            &id.to_string(),
            json!({
                "label": integration.settings.label, "auth_method": "oauth",
                "license_id": license.map(scoreline_core::LicenseId::get),
            }),
        );
        let created = self.db().create_integration(&integration, &credentials, self.sealer(), &audit).await?;
        Ok(OAuthFinished::Connected(created))
    }
}

/// What an OAuth flow is for.
#[derive(Debug, Clone, Copy)]
struct FlowKind {
    reconnect: bool,
    allow_duplicate: bool,
}
