//! What the app hands the store about integrations and their credentials. Secrets arrive and
//! leave as `SecretString`; the queries seal and unseal them, bound to their integration and column.

use scoreline_core::{
    AuthMethod, IntegrationId, IntegrationSettings, LicenseId, SessionId, Timestamp, UserId,
};
use secrecy::SecretString;

use crate::model::TokenDigest;

#[derive(Debug, Clone)]
pub struct NewIntegration {
    pub id: IntegrationId,
    pub settings: IntegrationSettings,
    pub auth_method: AuthMethod,
    pub account_id: Option<String>,
    pub license_id: Option<LicenseId>,
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
    /// The admin confirmed connecting an account that is connected already.
    pub allow_duplicate: bool,
    pub settings: IntegrationSettings,
    pub pkce_verifier: SecretString,
    pub redirect_uri: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
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
