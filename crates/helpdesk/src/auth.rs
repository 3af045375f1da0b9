//! How requests authenticate: HTTP Basic with a personal access token, or an OAuth Bearer token
//! from a [`TokenSource`] that can refresh it.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::HelpDeskError;

/// Supplies OAuth access tokens. The application implements it over its stored tokens.
///
/// The client calls [`access_token`](Self::access_token) before a request and, when HelpDesk
/// answers 401, [`refresh_rejected`](Self::refresh_rejected) once with the token it sent, then
/// retries once. A second 401 becomes [`HelpDeskError::Authentication`].
///
/// A sound implementation, when several tasks or instances share one integration:
/// - `access_token` returns the stored token, refreshing first when it expires within a margin;
/// - a refresh runs under a per-integration lock (a row lock or lease across instances); inside
///   it, re-read the stored token: if it is no longer the one being replaced, someone else
///   already refreshed, so return theirs;
/// - otherwise call [`crate::OAuthClient::refresh`], store the new access token, expiry and any
///   rotated refresh token *before* returning it (a lost rotated token breaks the connection);
/// - on [`HelpDeskError::InvalidGrant`], mark the integration as needing re-authorization and
///   return the error.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token to use now (refreshed ahead of expiry by the implementation if it wants).
    async fn access_token(&self) -> Result<SecretString, HelpDeskError>;

    /// HelpDesk refused `rejected`. Return a token that is not `rejected`: the one another task
    /// already refreshed to, or a freshly refreshed one. An `invalid_grant` from the accounts
    /// service should come back as [`HelpDeskError::InvalidGrant`].
    async fn refresh_rejected(&self, rejected: &SecretString) -> Result<SecretString, HelpDeskError>;
}

/// A fixed Bearer token that cannot be refreshed (scripts, tests).
#[derive(Debug, Clone)]
pub struct StaticToken(pub SecretString);

#[async_trait::async_trait]
impl TokenSource for StaticToken {
    async fn access_token(&self) -> Result<SecretString, HelpDeskError> {
        Ok(self.0.clone())
    }

    async fn refresh_rejected(&self, _rejected: &SecretString) -> Result<SecretString, HelpDeskError> {
        Err(HelpDeskError::Authentication {
            status: 401,
            detail: Some("the static token was rejected and cannot be refreshed".into()),
        })
    }
}

/// The credentials of one HelpDesk account.
#[derive(Clone)]
pub enum Credentials {
    /// Text account id + personal access token, sent as HTTP Basic.
    PersonalAccessToken { account_id: String, token: SecretString },
    /// OAuth access tokens, sent as `Bearer`.
    OAuth(Arc<dyn TokenSource>),
}

impl Credentials {
    pub fn personal_access_token(account_id: impl Into<String>, token: SecretString) -> Self {
        Self::PersonalAccessToken { account_id: account_id.into(), token }
    }

    /// Parses `account_id:token` as one string. Splits at the first colon only: the token itself
    /// contains one (`dal:...`).
    pub fn from_basic_pair(pair: &SecretString) -> Result<Self, HelpDeskError> {
        match pair.expose_secret().split_once(':') {
            Some((account_id, token)) if !account_id.is_empty() && !token.is_empty() => {
                Ok(Self::personal_access_token(account_id, SecretString::from(token)))
            }
            _ => Err(HelpDeskError::InvalidRequest("credentials must look like <account id>:<token>".into())),
        }
    }

    pub fn oauth(source: Arc<dyn TokenSource>) -> Self {
        Self::OAuth(source)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PersonalAccessToken { account_id, .. } => f
                .debug_struct("PersonalAccessToken")
                .field("account_id", account_id)
                .field("token", &"[REDACTED]")
                .finish(),
            Self::OAuth(source) => f.debug_tuple("OAuth").field(source).finish(),
        }
    }
}

/// The credential one attempt is sent with; kept so a 401 can name the token it rejected.
pub(crate) enum Presented {
    Basic { account_id: String, token: SecretString },
    Bearer(SecretString),
}

impl Presented {
    pub(crate) async fn current(credentials: &Credentials) -> Result<Self, HelpDeskError> {
        Ok(match credentials {
            Credentials::PersonalAccessToken { account_id, token } => {
                Self::Basic { account_id: account_id.clone(), token: token.clone() }
            }
            Credentials::OAuth(source) => Self::Bearer(source.access_token().await?),
        })
    }

    /// The replacement after a 401, or `None` when these credentials cannot be refreshed.
    pub(crate) async fn refreshed(&self, credentials: &Credentials) -> Result<Option<Self>, HelpDeskError> {
        match (self, credentials) {
            (Self::Bearer(rejected), Credentials::OAuth(source)) => {
                Ok(Some(Self::Bearer(source.refresh_rejected(rejected).await?)))
            }
            _ => Ok(None),
        }
    }

    pub(crate) fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Self::Basic { account_id, token } => request.basic_auth(account_id, Some(token.expose_secret())),
            Self::Bearer(token) => request.bearer_auth(token.expose_secret()),
        }
    }

    /// The secret, to blank out of any server text quoted in an error.
    pub(crate) fn secret(&self) -> &str {
        match self {
            Self::Basic { token, .. } | Self::Bearer(token) => token.expose_secret(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_pairs_split_at_the_first_colon_and_debug_hides_the_token() {
        let credentials = Credentials::from_basic_pair(&SecretString::from("acc-1:dal:abc:def")).unwrap();
        let Credentials::PersonalAccessToken { account_id, token } = &credentials else {
            panic!("expected a personal access token");
        };
        assert_eq!(account_id, "acc-1");
        assert_eq!(token.expose_secret(), "dal:abc:def");
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("abc"), "{debug}");
        assert!(Credentials::from_basic_pair(&SecretString::from("no-colon")).is_err());
        assert!(Credentials::from_basic_pair(&SecretString::from(":token")).is_err());
    }
}
