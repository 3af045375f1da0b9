//! The HelpDesk and accounts clients an integration is reached through, and the quick check
//! of a token an admin waits for.

use std::time::Duration;

use scoreline_core::{AccountId, IntegrationId, LicenseId};
use scoreline_helpdesk::{
    Credentials, HelpDeskClient, HelpDeskConfig, HelpDeskError, OAuthClient, Pacer, PacerStatus, RetryPolicy,
    SecretString,
};

use super::OAuthFailure;
use crate::{App, AppError, AppResult};

impl App {
    /// One quick authenticated call; its failure becomes a message about the field to fix.
    /// Answers the client that passed it, for what else connecting reads.
    pub(super) async fn verify_token(
        &self,
        account_id: &AccountId,
        token: &SecretString,
    ) -> AppResult<HelpDeskClient> {
        let credentials = Credentials::personal_access_token(account_id.as_str(), token.clone());
        let client = self.helpdesk_client_with(credentials, quick_retry(), QUICK_ATTEMPT_TIMEOUT)?;
        client.list_agents().await.map_err(|error| verification_error(&error))?;
        Ok(client)
    }

    /// A client with a pacer of its own: for one-off checks before an integration exists.
    pub(crate) fn helpdesk_client_with(
        &self,
        credentials: Credentials,
        retry: RetryPolicy,
        attempt_timeout: Duration,
    ) -> AppResult<HelpDeskClient> {
        let config = self.helpdesk_config(retry, attempt_timeout)?;
        HelpDeskClient::new(config, credentials, self.clock().clone())
            .map_err(|e| AppError::Internal(format!("HelpDesk client: {e}")))
    }

    /// A client of an integration: its requests pass the integration's one pacer, so every
    /// run and every window shares what the pacer learned about HelpDesk's rate limit.
    pub(crate) fn integration_client(
        &self,
        id: IntegrationId,
        credentials: Credentials,
        retry: RetryPolicy,
        attempt_timeout: Duration,
    ) -> AppResult<HelpDeskClient> {
        let config = self.helpdesk_config(retry, attempt_timeout)?;
        let pacer = self.pacer(id)?;
        HelpDeskClient::with_pacer(config, credentials, self.clock().clone(), pacer)
            .map_err(|e| AppError::Internal(format!("HelpDesk client: {e}")))
    }

    /// What the pacer of an integration's HelpDesk requests has done in this process.
    pub fn pacer_status(&self, id: IntegrationId) -> AppResult<PacerStatus> {
        Ok(self.pacer(id)?.status())
    }

    /// The pacer of an integration's HelpDesk requests in this process.
    pub(crate) fn pacer(&self, id: IntegrationId) -> AppResult<Pacer> {
        let mut pacers = self.inner.pacers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(pacer) = pacers.get(&id) {
            return Ok(pacer.clone());
        }
        let pacer = Pacer::new(self.helpdesk_settings().rate_limit)
            .map_err(|e| AppError::Internal(format!("HelpDesk rate limit: {e}")))?;
        pacers.insert(id, pacer.clone());
        Ok(pacer)
    }

    fn helpdesk_config(&self, retry: RetryPolicy, attempt_timeout: Duration) -> AppResult<HelpDeskConfig> {
        let settings = self.helpdesk_settings();
        let mut config = HelpDeskConfig::new(&settings.api_url)
            .map_err(|e| AppError::Internal(format!("HelpDesk API URL: {e}")))?;
        config.rate_limit = settings.rate_limit;
        config.retry = retry;
        config.attempt_timeout = attempt_timeout;
        Ok(config)
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
}

/// The license the credentials reach: the first one `GET /v1/licenses` lists ("normally
/// only one"). `None` when HelpDesk did not say (an error, an empty or unreadable answer):
/// that must not keep anyone from connecting, so it is logged and the caller goes on without.
pub(crate) async fn read_license(client: &HelpDeskClient) -> Option<LicenseId> {
    match client.list_licenses().await {
        Ok(licenses) => {
            let license = licenses.first().map(|license| LicenseId::new(license.id));
            if license.is_none() {
                tracing::warn!("HelpDesk listed no license for these credentials");
            }
            license
        }
        Err(error) => {
            tracing::warn!(%error, "could not read the HelpDesk license");
            None
        }
    }
}

/// The client's own default: an admin's check keeps the limit it always had.
pub(super) const QUICK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// An admin is waiting for the answer, or a webhook's ticket should arrive within seconds: a
/// few quick retries only.
pub(crate) fn quick_retry() -> RetryPolicy {
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
