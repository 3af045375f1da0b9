//! Integrations and their credentials. Secrets arrive and leave as `SecretString`; they are
//! sealed and unsealed here, bound to their integration and column.

use std::future::Future;

use scoreline_core::{
    AuditRecord, AuthMethod, Disconnect, Integration, IntegrationId, IntegrationSettings, IntegrationState,
    Page, PageRequest, SessionId, Timestamp, UserId,
};
use secrecy::SecretString;

use crate::Sealer;
use crate::model::TokenDigest;
use crate::store::StoreResult;

#[derive(Debug, Clone)]
pub struct NewIntegration {
    pub id: IntegrationId,
    pub settings: IntegrationSettings,
    pub auth_method: AuthMethod,
    pub account_id: Option<String>,
    pub created_at: Timestamp,
}

/// Credentials to store, in the clear; they are sealed before they reach the database.
#[derive(Debug, Clone)]
pub enum NewCredentials {
    Token(SecretString),
    OAuth(OAuthTokens),
}

#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<Timestamp>,
}

/// Stored credentials, unsealed. `version` changes with every write, so a refresh can tell
/// whether someone else refreshed first.
#[derive(Debug, Clone)]
pub struct StoredCredentials {
    pub version: i64,
    pub token: Option<SecretString>,
    pub oauth: Option<OAuthTokens>,
}

/// An OAuth authorization in progress: what to create (or reconnect) once the callback comes.
#[derive(Debug, Clone)]
pub struct OAuthFlow {
    pub state_digest: TokenDigest,
    pub user_id: UserId,
    pub session_id: Option<SessionId>,
    pub integration_id: IntegrationId,
    /// Reconnect an existing integration instead of creating one.
    pub reconnect: bool,
    pub settings: IntegrationSettings,
    pub pkce_verifier: SecretString,
    pub redirect_uri: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

pub trait IntegrationStore: Send + Sync {
    fn create_integration(
        &self,
        integration: &NewIntegration,
        credentials: &NewCredentials,
        sealer: &Sealer,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<Integration>> + Send;
    fn get_integration(
        &self,
        id: IntegrationId,
    ) -> impl Future<Output = StoreResult<Option<Integration>>> + Send;
    fn list_integrations(
        &self,
        page: PageRequest,
    ) -> impl Future<Output = StoreResult<Page<Integration>>> + Send;
    fn count_integrations(&self) -> impl Future<Output = StoreResult<u64>> + Send;
    fn update_integration_settings(
        &self,
        id: IntegrationId,
        settings: &IntegrationSettings,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Moves to `state` and records `last_error`; audited only when given a record.
    fn set_integration_state(
        &self,
        id: IntegrationId,
        state: IntegrationState,
        last_error: Option<&str>,
        now: Timestamp,
        audit: Option<&AuditRecord>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Replaces the credentials and marks the integration connected.
    fn replace_credentials(
        &self,
        id: IntegrationId,
        credentials: &NewCredentials,
        sealer: &Sealer,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn load_credentials(
        &self,
        id: IntegrationId,
        sealer: &Sealer,
    ) -> impl Future<Output = StoreResult<Option<StoredCredentials>>> + Send;
    /// Stores refreshed tokens if the credentials are still at `expected_version`.
    fn store_refreshed_tokens(
        &self,
        id: IntegrationId,
        expected_version: i64,
        tokens: &OAuthTokens,
        sealer: &Sealer,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Takes the integration's refresh lock unless another live holder has it.
    fn try_lock_refresh(
        &self,
        id: IntegrationId,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn unlock_refresh(&self, id: IntegrationId, owner: &str) -> impl Future<Output = StoreResult<()>> + Send;
    fn disconnect_integration(
        &self,
        id: IntegrationId,
        mode: Disconnect,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    fn create_oauth_flow(
        &self,
        flow: &OAuthFlow,
        sealer: &Sealer,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Removes and returns the flow: a state can be used once, whatever happens next.
    fn take_oauth_flow(
        &self,
        state_digest: &TokenDigest,
        sealer: &Sealer,
    ) -> impl Future<Output = StoreResult<Option<OAuthFlow>>> + Send;
    fn delete_expired_oauth_flows(&self, now: Timestamp) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// Associated data for a sealed column: a value sealed for one integration and column
/// cannot be moved to another.
pub(crate) fn aad(id: IntegrationId, column: &str) -> String {
    format!("integration/{id}/{column}")
}

pub(crate) fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}
