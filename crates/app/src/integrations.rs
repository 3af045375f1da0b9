//! Connecting HelpDesk: by personal access token or by OAuth, editing, reconnecting and
//! disconnecting. Credentials are checked against HelpDesk before anything is saved.

use std::time::Duration;

use scoreline_core::{
    AccountId, AuthMethod, BackfillDays, Description, Disconnect, FieldErrors, Integration, IntegrationId,
    IntegrationSettings, IntegrationState, Label, Page, PageRequest, Permission, Retention, SessionId,
    check_retention_covers_backfill,
};
use scoreline_helpdesk::{
    Credentials, ExposeSecret, HelpDeskClient, HelpDeskConfig, HelpDeskError, OAuthClient, Pkce, RateLimit,
    RetryPolicy, SecretString,
};
use scoreline_store::integrations::{NewCredentials, NewIntegration, OAuthFlow, OAuthTokens};
use serde::Deserialize;
use serde_json::json;

use crate::tokens::SecretToken;
use crate::{Actor, App, AppError, AppResult};

/// Where HelpDesk and its accounts service are, and this server's OAuth application.
#[derive(Debug, Clone)]
pub struct HelpDeskSettings {
    pub api_url: String,
    pub accounts_url: String,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<SecretString>,
    /// Where the accounts service sends the browser back to.
    pub oauth_redirect_uri: String,
    pub backfill_cap_days: u32,
    pub rate_limit: RateLimit,
}

impl Default for HelpDeskSettings {
    fn default() -> Self {
        Self {
            api_url: scoreline_helpdesk::DEFAULT_API_BASE_URL.to_owned(),
            accounts_url: scoreline_helpdesk::DEFAULT_ACCOUNTS_URL.to_owned(),
            oauth_client_id: None,
            oauth_client_secret: None,
            oauth_redirect_uri: "http://127.0.0.1:8080/interactions/integrations/oauth/callback".to_owned(),
            backfill_cap_days: 28,
            rate_limit: RateLimit::default(),
        }
    }
}

/// How long an admin has to approve access on the accounts server.
const OAUTH_FLOW_TTL: Duration = Duration::from_secs(10 * 60);

/// The installation form, as the UI and the API submit it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConnectIntegration {
    pub label: String,
    pub description: String,
    pub auth_method: String,
    pub account_id: String,
    pub token: Option<SecretString>,
    pub retention_value: Option<i64>,
    pub retention_unit: String,
    pub backfill_days: Option<i64>,
}

/// A change to an integration's settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UpdateIntegration {
    pub label: Option<String>,
    pub description: Option<String>,
    pub retention_value: Option<i64>,
    pub retention_unit: Option<String>,
    pub backfill_days: Option<i64>,
}

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

struct ValidConnect {
    settings: IntegrationSettings,
    method: AuthMethod,
    account_id: Option<AccountId>,
    token: Option<SecretString>,
}

impl App {
    fn helpdesk_settings(&self) -> &HelpDeskSettings {
        &self.settings().helpdesk
    }

    pub async fn list_integrations(&self, actor: &Actor, page: PageRequest) -> AppResult<Page<Integration>> {
        actor.require(Permission::ManageIntegrations)?;
        Ok(self.db().list_integrations(page).await?)
    }

    pub async fn get_integration(&self, actor: &Actor, id: IntegrationId) -> AppResult<Integration> {
        actor.require(Permission::ManageIntegrations)?;
        self.db().get_integration(id).await?.ok_or(AppError::NotFound("integration"))
    }

    /// Whether OAuth can be offered: an OAuth application is configured.
    pub fn oauth_available(&self) -> bool {
        self.helpdesk_settings().oauth_client_id.is_some()
    }

    fn validate_settings(
        &self,
        errors: &mut FieldErrors,
        label: &str,
        description: &str,
        retention: (Option<i64>, &str),
        backfill_days: Option<i64>,
    ) -> Option<IntegrationSettings> {
        let label = errors.check("label", Label::parse(label));
        let description = errors.check("description", Description::parse(description));
        let retention = match retention {
            (Some(value), unit) => errors.check("retention", Retention::parse(value, unit)),
            (None, _) => {
                errors.check("retention", Err("Retention is required: a number and a unit.".to_owned()))
            }
        };
        let cap = self.helpdesk_settings().backfill_cap_days;
        let backfill = match backfill_days {
            Some(days) => errors.check("backfill_days", BackfillDays::parse(days, cap)),
            None => Some(BackfillDays::DEFAULT),
        };
        if let (Some(retention), Some(backfill)) = (retention, backfill) {
            errors.check("retention", check_retention_covers_backfill(retention, backfill));
        }
        Some(IntegrationSettings {
            label: label?.into_inner(),
            description: description?.as_str().to_owned(),
            retention: retention?,
            backfill_days: backfill?.days(),
        })
    }

    fn validate_connect(&self, input: ConnectIntegration) -> AppResult<ValidConnect> {
        let mut errors = FieldErrors::new();
        let method = errors.check("auth_method", input.auth_method.parse::<AuthMethod>());
        let settings = self.validate_settings(
            &mut errors,
            &input.label,
            &input.description,
            (input.retention_value, &input.retention_unit),
            input.backfill_days,
        );
        let (mut account_id, mut token) = (None, None);
        match method {
            Some(AuthMethod::Token) => {
                account_id = errors.check("account_id", AccountId::parse(&input.account_id));
                token = match input.token.filter(|t| !t.expose_secret().trim().is_empty()) {
                    Some(t) => Some(SecretString::from(t.expose_secret().trim().to_owned())),
                    None => errors.check(
                        "token",
                        Err("Paste the personal access token from the Developers Console.".to_owned()),
                    ),
                };
            }
            Some(AuthMethod::Oauth) if !self.oauth_available() => {
                errors.push("auth_method", OAuthFailure::NotConfigured.to_string());
            }
            _ => {}
        }
        errors.into_result()?;
        match (settings, method) {
            (Some(settings), Some(method)) => Ok(ValidConnect { settings, method, account_id, token }),
            _ => Err(AppError::Internal("validated fields missing".to_owned())),
        }
    }

    /// Connects with a personal access token, after HelpDesk accepted it.
    pub async fn connect_with_token(
        &self,
        actor: &Actor,
        input: ConnectIntegration,
    ) -> AppResult<Integration> {
        actor.require(Permission::ManageIntegrations)?;
        let valid = self.validate_connect(input)?;
        let (Some(account_id), Some(token)) = (valid.account_id, valid.token) else {
            return Err(AppError::field("auth_method", "Use start_oauth for the OAuth method."));
        };
        self.verify_token(&account_id, &token).await?;
        let integration = NewIntegration {
            id: IntegrationId::new(),
            settings: valid.settings,
            auth_method: AuthMethod::Token,
            account_id: Some(account_id.as_str().to_owned()),
            created_at: self.clock().now(),
        };
        let audit = self.audit(
            actor,
            "integration.connect",
            "integration",
            &integration.id.to_string(),
            json!({ "label": integration.settings.label, "auth_method": "token", "account_id": account_id.as_str() }),
        );
        Ok(self
            .db()
            .create_integration(&integration, &NewCredentials::Token(token), self.sealer(), &audit)
            .await?)
    }

    /// One quick authenticated call; its failure becomes a message about the field to fix.
    async fn verify_token(&self, account_id: &AccountId, token: &SecretString) -> AppResult<()> {
        let credentials = Credentials::personal_access_token(account_id.as_str(), token.clone());
        let client = self.helpdesk_client_with(credentials, quick_retry(), QUICK_ATTEMPT_TIMEOUT)?;
        client.list_agents().await.map(drop).map_err(|error| verification_error(&error))
    }

    pub(crate) fn helpdesk_client_with(
        &self,
        credentials: Credentials,
        retry: RetryPolicy,
        attempt_timeout: Duration,
    ) -> AppResult<HelpDeskClient> {
        let settings = self.helpdesk_settings();
        let mut config = HelpDeskConfig::new(&settings.api_url)
            .map_err(|e| AppError::Internal(format!("HelpDesk API URL: {e}")))?;
        config.rate_limit = settings.rate_limit;
        config.retry = retry;
        config.attempt_timeout = attempt_timeout;
        HelpDeskClient::new(config, credentials, self.clock().clone())
            .map_err(|e| AppError::Internal(format!("HelpDesk client: {e}")))
    }

    pub(crate) fn oauth_client(&self) -> AppResult<OAuthClient> {
        let settings = self.helpdesk_settings();
        let client_id =
            settings.oauth_client_id.clone().ok_or(AppError::OAuth(OAuthFailure::NotConfigured))?;
        OAuthClient::new(
            &settings.accounts_url,
            client_id,
            settings.oauth_client_secret.clone(),
            self.clock().clone(),
        )
        .map_err(|e| AppError::Internal(format!("accounts URL: {e}")))
    }

    /// Validates the form and returns where to approve access. Nothing is created until the
    /// callback succeeds.
    pub async fn start_oauth(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        input: ConnectIntegration,
    ) -> AppResult<OAuthStart> {
        actor.require(Permission::ManageIntegrations)?;
        let valid = self.validate_connect(input)?;
        if valid.method != AuthMethod::Oauth {
            return Err(AppError::field(
                "auth_method",
                "Use connect_with_token for the access-token method.",
            ));
        }
        self.begin_oauth_flow(actor, session, IntegrationId::new(), valid.settings, false).await
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
        self.begin_oauth_flow(actor, session, id, settings, true).await
    }

    async fn begin_oauth_flow(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        integration_id: IntegrationId,
        settings: IntegrationSettings,
        reconnect: bool,
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
            reconnect,
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

    /// Completes the authorization the callback reports. The state is consumed whatever happens.
    pub async fn finish_oauth(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        callback: OAuthCallback,
    ) -> AppResult<Integration> {
        actor.require(Permission::ManageIntegrations)?;
        let user = actor.user().ok_or(AppError::Unauthenticated)?;
        let state = match &callback {
            OAuthCallback::Code { state, .. } | OAuthCallback::Refused { state, .. } => state,
        };
        let flow =
            self.db().take_oauth_flow(&SecretToken::from_presented(state).digest(), self.sealer()).await?;
        let flow = flow
            .filter(|flow| flow.user_id == user.id)
            .filter(|flow| flow.session_id.is_none() || flow.session_id == session)
            .filter(|flow| flow.expires_at > self.clock().now())
            .ok_or(AppError::OAuth(OAuthFailure::InvalidState))?;
        let code = match callback {
            OAuthCallback::Code { code, .. } => code,
            OAuthCallback::Refused { error, .. } => {
                tracing::info!(error, "OAuth authorization refused");
                return Err(AppError::OAuth(OAuthFailure::Denied));
            }
        };
        let oauth = self.oauth_client()?;
        let tokens =
            oauth.exchange_code(&code, &flow.redirect_uri, &flow.pkce_verifier).await.map_err(|error| {
                tracing::warn!(%error, "OAuth code exchange failed");
                AppError::OAuth(OAuthFailure::Exchange(error.to_string()))
            })?;
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
        client
            .list_agents()
            .await
            .map_err(|error| AppError::OAuth(OAuthFailure::Exchange(error.to_string())))?;

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
            return self.db().get_integration(id).await?.ok_or(AppError::NotFound("integration"));
        }
        let integration = NewIntegration {
            id,
            settings: flow.settings,
            auth_method: AuthMethod::Oauth,
            account_id: None,
            created_at: self.clock().now(),
        };
        let audit = self.audit(
            actor,
            "integration.connect",
            "integration",
            &id.to_string(),
            json!({ "label": integration.settings.label, "auth_method": "oauth" }),
        );
        Ok(self.db().create_integration(&integration, &credentials, self.sealer(), &audit).await?)
    }

    pub async fn update_integration(
        &self,
        actor: &Actor,
        id: IntegrationId,
        change: UpdateIntegration,
    ) -> AppResult<Integration> {
        let current = self.get_integration(actor, id).await?;
        let mut errors = FieldErrors::new();
        let unit = change.retention_unit.unwrap_or_else(|| current.retention.unit.as_str().to_owned());
        let settings = self.validate_settings(
            &mut errors,
            change.label.as_deref().unwrap_or(&current.label),
            change.description.as_deref().unwrap_or(&current.description),
            (Some(change.retention_value.unwrap_or(i64::from(current.retention.value))), &unit),
            Some(change.backfill_days.unwrap_or(i64::from(current.backfill_days))),
        );
        errors.into_result()?;
        let settings = settings.ok_or_else(|| AppError::Internal("validated fields missing".to_owned()))?;
        let audit = self.audit(actor, "integration.update", "integration", &id.to_string(), json!({
            "label": settings.label, "retention": settings.retention.to_string(), "backfill_days": settings.backfill_days,
        }));
        self.db().update_integration_settings(id, &settings, self.clock().now(), &audit).await?;
        self.get_integration(actor, id).await
    }

    /// Replaces a token integration's access token (and Account ID), once HelpDesk accepts them.
    pub async fn replace_token(
        &self,
        actor: &Actor,
        id: IntegrationId,
        account_id: &str,
        token: SecretString,
    ) -> AppResult<Integration> {
        let current = self.get_integration(actor, id).await?;
        if current.auth_method != AuthMethod::Token {
            return Err(AppError::field("token", "This integration uses OAuth: reconnect it instead."));
        }
        let mut errors = FieldErrors::new();
        let account_text = if account_id.trim().is_empty() {
            current.account_id.clone().unwrap_or_default()
        } else {
            account_id.to_owned()
        };
        let account = errors.check("account_id", AccountId::parse(&account_text));
        if token.expose_secret().trim().is_empty() {
            errors.push("token", "Paste the new personal access token.");
        }
        errors.into_result()?;
        let account = account.ok_or_else(|| AppError::Internal("validated fields missing".to_owned()))?;
        if current.account_id.as_deref() != Some(account.as_str()) {
            return Err(AppError::field(
                "account_id",
                "The Account ID of an integration cannot change; connect the other account as a new integration.",
            ));
        }
        let token = SecretString::from(token.expose_secret().trim().to_owned());
        self.verify_token(&account, &token).await?;
        let audit = self.audit(actor, "integration.token.replace", "integration", &id.to_string(), json!({}));
        self.db()
            .replace_credentials(id, &NewCredentials::Token(token), self.sealer(), self.clock().now(), &audit)
            .await?;
        self.get_integration(actor, id).await
    }

    /// Deletes the credentials at once (revoking OAuth tokens) and keeps or removes the cases.
    pub async fn disconnect_integration(
        &self,
        actor: &Actor,
        id: IntegrationId,
        mode: Disconnect,
    ) -> AppResult<()> {
        let integration = self.get_integration(actor, id).await?;
        if integration.auth_method == AuthMethod::Oauth {
            self.revoke_oauth_tokens(id).await;
        }
        let action = match mode {
            Disconnect::KeepCases => "integration.disconnect",
            Disconnect::RemoveEverything => "integration.remove",
        };
        let audit =
            self.audit(actor, action, "integration", &id.to_string(), json!({ "label": integration.label }));
        self.db().disconnect_integration(id, mode, self.clock().now(), &audit).await?;
        Ok(())
    }

    /// Best effort: the credentials are deleted here whatever the accounts service says.
    async fn revoke_oauth_tokens(&self, id: IntegrationId) {
        let Ok(Some(stored)) = self.db().load_credentials(id, self.sealer()).await else { return };
        let (Some(tokens), Ok(oauth)) = (stored.oauth, self.oauth_client()) else { return };
        let token = tokens.refresh_token.unwrap_or(tokens.access_token);
        if let Err(error) = oauth.revoke(&token).await {
            tracing::warn!(integration_id = %id, %error, "could not revoke the OAuth token; it was deleted here");
        }
    }

    /// Records that HelpDesk refused an integration's credentials.
    pub(crate) async fn mark_needs_reauthorization(&self, id: IntegrationId, reason: &str) -> AppResult<()> {
        let audit = self.audit(
            &Actor::System,
            "integration.needs_reauthorization",
            "integration",
            &id.to_string(),
            json!({ "reason": reason }),
        );
        self.db()
            .set_integration_state(
                id,
                IntegrationState::NeedsReauthorization,
                Some(reason),
                self.clock().now(),
                Some(&audit),
            )
            .await?;
        Ok(())
    }
}

/// The client's own default: an admin's check keeps the limit it always had.
const QUICK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// An admin is waiting for the answer: a few quick retries only.
fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(2),
        max_total_wait: Duration::from_secs(10),
    }
}

fn verification_error(error: &HelpDeskError) -> AppError {
    match error.kind() {
        scoreline_helpdesk::ErrorKind::Authentication => {
            AppError::Validation(vec![scoreline_core::FieldError::new(
                "token",
                "HelpDesk rejected this Account ID or token. Check both in the Developers Console; the token needs the accounts--my:ro scope.",
            )])
        }
        scoreline_helpdesk::ErrorKind::Retryable | scoreline_helpdesk::ErrorKind::GaveUp => {
            AppError::Upstream(format!(
                "HelpDesk could not be reached ({error}). Nothing was saved; try again in a moment."
            ))
        }
        _ => AppError::Upstream(format!("HelpDesk refused the check ({error}). Nothing was saved.")),
    }
}
