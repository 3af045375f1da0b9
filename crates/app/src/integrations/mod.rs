//! Connecting HelpDesk: by personal access token or by OAuth, editing, reconnecting and
//! disconnecting. Credentials are checked against HelpDesk before anything is saved.
//! Validation of the forms is in `validation`, the OAuth flow in `oauth`, and the HelpDesk
//! clients an integration is reached through in `clients`.

mod clients;
mod oauth;
mod validation;

pub(crate) use clients::{quick_retry, read_license};
pub use oauth::{OAuthCallback, OAuthFailure, OAuthFinished, OAuthStart};

use scoreline_core::{
    AccountId, AuthMethod, Disconnect, FieldErrors, Integration, IntegrationId, IntegrationState, LicenseId,
    Page, PageRequest, Permission,
};
use scoreline_helpdesk::{ExposeSecret, RateLimit, SecretString};
use scoreline_store::integrations::{NewCredentials, NewIntegration};
use serde::Deserialize;
use serde_json::json;

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
    /// The same in weeks, as the pages ask; wins over `backfill_days`.
    pub backfill_weeks: Option<i64>,
    /// Connect although this HelpDesk account is connected already.
    pub allow_duplicate: bool,
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
    /// The same in weeks, as the pages ask; wins over `backfill_days`.
    pub backfill_weeks: Option<i64>,
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

    /// Connects with a personal access token, after HelpDesk accepted it. When HelpDesk does
    /// not name the license, it connects all the same: the duplicate check compares the
    /// Account ID only, and the integration's `license_id` stays `None` until a sync reads it.
    pub async fn connect_with_token(
        &self,
        actor: &Actor,
        input: ConnectIntegration,
    ) -> AppResult<Integration> {
        actor.require(Permission::ManageIntegrations)?;
        let allow_duplicate = input.allow_duplicate;
        let valid = self.validate_connect(input)?;
        let (Some(account_id), Some(token)) = (valid.account_id, valid.token) else {
            return Err(AppError::field("auth_method", "Use start_oauth for the OAuth method."));
        };
        let client = self.verify_token(&account_id, &token).await?;
        let license = read_license(&client).await;
        if !allow_duplicate {
            self.refuse_second_connection(Some(account_id.as_str()), license).await?;
        }
        let integration = NewIntegration {
            id: IntegrationId::new(),
            settings: valid.settings,
            auth_method: AuthMethod::Token,
            account_id: Some(account_id.as_str().to_owned()),
            license_id: license,
            created_at: self.clock().now(),
        };
        let audit = self.audit(
            actor,
            "integration.connect",
            "integration",
            &integration.id.to_string(),
            json!({
                "label": integration.settings.label, "auth_method": "token", "account_id": account_id.as_str(),
                "license_id": license.map(LicenseId::get),
            }),
        );
        Ok(self
            .db()
            .create_integration(&integration, &NewCredentials::Token(token), self.sealer(), &audit)
            .await?)
    }

    /// An account connected already is connected again only when the admin confirms it: two
    /// integrations of one account fetch every ticket twice. The HelpDesk account is its
    /// license; where either side's license is unknown (stored before it was read, or HelpDesk
    /// did not say) the Account IDs are compared instead.
    pub(super) async fn refuse_second_connection(
        &self,
        account_id: Option<&str>,
        license: Option<LicenseId>,
    ) -> AppResult<()> {
        let integrations = self.db().list_integrations(PageRequest::first(PageRequest::MAX_LIMIT)).await?;
        let matches: Vec<(&Integration, Match)> = integrations
            .items
            .iter()
            .filter_map(|i| Match::of(i, account_id, license).map(|how| (i, how)))
            .collect();
        let by_license = license.filter(|_| matches.iter().any(|(_, how)| *how == Match::License));
        let named = match (by_license, account_id) {
            (Some(license), _) => format!("License ID {license}"),
            (None, Some(account_id)) if !matches.is_empty() => format!("Account ID {account_id}"),
            _ => return Ok(()),
        };
        let existing: Vec<String> = matches
            .iter()
            .map(|(i, _)| format!("“{}” ({})", i.label, i.state.label().to_lowercase()))
            .collect();
        Err(AppError::AlreadyConnected(format!(
            "This HelpDesk account ({named}) is already connected as {}. A second integration fetches the same tickets again; confirm to connect it anyway.",
            existing.join(" and ")
        )))
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
            (Some(change.backfill_days.unwrap_or(i64::from(current.backfill_days))), change.backfill_weeks),
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
        // While the credentials still work.
        self.remove_webhooks(id).await;
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

/// How a stored integration is of the HelpDesk account being connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    License,
    AccountId,
}

impl Match {
    fn of(existing: &Integration, account_id: Option<&str>, license: Option<LicenseId>) -> Option<Self> {
        match (existing.license_id, license) {
            (Some(theirs), Some(ours)) => (theirs == ours).then_some(Self::License),
            _ => (account_id.is_some() && existing.account_id.as_deref() == account_id)
                .then_some(Self::AccountId),
        }
    }
}
