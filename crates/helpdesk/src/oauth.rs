//! The LiveChat/Text accounts service: OAuth 2 authorization code flow with PKCE, refresh,
//! revoke and token info. Written directly on reqwest: four small calls, and this service needs
//! things a generic OAuth crate does not give (form *or* JSON answers, `DELETE /v2/token` revoke,
//! `/v2/info`).

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use scoreline_core::{SharedClock, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::client::parse_base_url;
use crate::error::error_detail;
use crate::http::{Exchange, build_client, exchange};
use crate::{HelpDeskError, Transient};

pub const DEFAULT_ACCOUNTS_URL: &str = "https://accounts.livechat.com";

/// Token calls are small; a slow accounts service should fail fast rather than hold a sync.
const TOKEN_CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// A PKCE pair: keep the verifier (with the `state`) until the callback, send the challenge.
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    /// A fresh 86-character verifier from 64 random bytes and its S256 challenge.
    pub fn generate() -> Self {
        let bytes: [[u8; 32]; 2] = rand::random();
        let verifier = URL_SAFE_NO_PAD.encode(bytes.concat());
        Self { challenge: Self::challenge_for(&verifier), verifier: SecretString::from(verifier) }
    }

    /// `BASE64URL(SHA256(verifier))` without padding (RFC 7636 S256).
    pub fn challenge_for(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce").field("verifier", &"[REDACTED]").field("challenge", &self.challenge).finish()
    }
}

/// The answer of a code exchange or a refresh.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// The refresh token to store now. After [`OAuthClient::refresh`] it is always present: the
    /// rotated one, or the one just used when the service did not send a new one (it does not
    /// rotate them for confidential clients). After a code exchange it may be absent.
    pub refresh_token: Option<SecretString>,
    /// From `expires_in`, read against the injected clock.
    pub expires_at: Option<Timestamp>,
    /// Comma-separated, as the service sends it.
    pub scope: Option<String>,
    pub token_type: String,
    pub account_id: Option<String>,
    pub organization_id: Option<String>,
}

/// What `/v2/info` says about an access token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    pub organization_id: Option<String>,
    pub scope: Option<String>,
    pub token_type: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// The accounts service client of one OAuth application.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    accounts_url: Url,
    client_id: String,
    client_secret: Option<SecretString>,
    clock: SharedClock,
}

impl OAuthClient {
    /// `client_secret` is `None` for a public client that relies on PKCE alone.
    pub fn new(
        accounts_url: &str,
        client_id: impl Into<String>,
        client_secret: Option<SecretString>,
        clock: SharedClock,
    ) -> Result<Self, HelpDeskError> {
        Ok(Self {
            http: build_client(TOKEN_CALL_TIMEOUT)?,
            accounts_url: parse_base_url(accounts_url)?,
            client_id: client_id.into(),
            client_secret,
            clock,
        })
    }

    /// Where to send the admin's browser. `state` must be single-use and bound to the session.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str, pkce_challenge: &str) -> Url {
        let mut url = self.accounts_url.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("code_challenge", pkce_challenge)
            .append_pair("code_challenge_method", "S256");
        url
    }

    /// Trades the callback's `code` for tokens.
    pub async fn exchange_code(
        &self,
        code: &SecretString,
        redirect_uri: &str,
        pkce_verifier: &SecretString,
    ) -> Result<TokenSet, HelpDeskError> {
        self.token_call(&[
            ("grant_type", "authorization_code"),
            ("code", code.expose_secret()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pkce_verifier.expose_secret()),
        ])
        .await
    }

    /// A new access token. An expired or revoked refresh token is [`HelpDeskError::InvalidGrant`].
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, HelpDeskError> {
        let mut tokens = self
            .token_call(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose_secret())])
            .await?;
        tokens.refresh_token.get_or_insert_with(|| refresh_token.clone());
        Ok(tokens)
    }

    /// Revokes an access or refresh token (and its pair). A token the service no longer knows
    /// counts as revoked.
    pub async fn revoke(&self, token: &SecretString) -> Result<(), HelpDeskError> {
        let request = self.http.delete(self.endpoint("token")).bearer_auth(token.expose_secret());
        let answer = exchange(request, TOKEN_CALL_TIMEOUT).await?;
        if answer.status.is_success() || answer.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(self.error_of(&answer, &[token.expose_secret()]))
    }

    /// Validates an access token and says whose it is and until when.
    pub async fn token_info(&self, access_token: &SecretString) -> Result<TokenInfo, HelpDeskError> {
        let request = self.http.get(self.endpoint("info")).bearer_auth(access_token.expose_secret());
        let answer = exchange(request, TOKEN_CALL_TIMEOUT).await?;
        let secrets = [access_token.expose_secret()];
        if !answer.status.is_success() {
            return Err(self.error_of(&answer, &secrets));
        }
        let fields = decode_fields(&answer)?;
        Ok(TokenInfo {
            account_id: text_field(&fields, "account_id"),
            client_id: text_field(&fields, "client_id"),
            organization_id: text_field(&fields, "organization_id"),
            scope: text_field(&fields, "scope"),
            token_type: text_field(&fields, "token_type"),
            expires_at: self.expires_at(&fields),
        })
    }

    async fn token_call(&self, grant: &[(&str, &str)]) -> Result<TokenSet, HelpDeskError> {
        let secret = self.client_secret.as_ref().map(ExposeSecret::expose_secret);
        let mut form: Vec<(&str, &str)> = grant.to_vec();
        form.push(("client_id", &self.client_id));
        if let Some(secret) = secret {
            form.push(("client_secret", secret));
        }
        let request = self.http.post(self.endpoint("token")).form(&form);
        let answer = exchange(request, TOKEN_CALL_TIMEOUT).await?;
        // Never quote the grant's code or tokens, nor our secret, back in an error.
        let secrets: Vec<&str> = grant
            .iter()
            .filter(|(name, _)| *name != "grant_type" && *name != "redirect_uri")
            .map(|(_, value)| *value)
            .chain(secret)
            .collect();
        if !answer.status.is_success() {
            return Err(self.error_of(&answer, &secrets));
        }
        let fields = decode_fields(&answer)?;
        let access_token = text_field(&fields, "access_token").ok_or_else(|| {
            HelpDeskError::UnexpectedResponse("the token answer has no access_token".into())
        })?;
        Ok(TokenSet {
            access_token: SecretString::from(access_token),
            refresh_token: text_field(&fields, "refresh_token").map(SecretString::from),
            expires_at: self.expires_at(&fields),
            scope: text_field(&fields, "scope"),
            token_type: text_field(&fields, "token_type").unwrap_or_else(|| "Bearer".into()),
            account_id: text_field(&fields, "account_id"),
            organization_id: text_field(&fields, "organization_id"),
        })
    }

    fn endpoint(&self, name: &str) -> Url {
        let mut url = self.accounts_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["v2", name]);
        }
        url
    }

    fn expires_at(&self, fields: &Map<String, Value>) -> Option<Timestamp> {
        let seconds = match fields.get("expires_in")? {
            Value::Number(number) => number.as_u64()?,
            Value::String(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        Some(self.clock.now().saturating_add(Duration::from_secs(seconds)))
    }

    fn error_of(&self, answer: &Exchange, secrets: &[&str]) -> HelpDeskError {
        let status = answer.status.as_u16();
        let fields = decode_fields(answer).unwrap_or_default();
        let code = text_field(&fields, "error");
        let detail = || error_detail(&answer.body, secrets);
        match code.as_deref() {
            Some("invalid_grant") => HelpDeskError::InvalidGrant {
                description: text_field(&fields, "error_description")
                    .and_then(|text| error_detail(text.as_bytes(), secrets)),
            },
            _ if status == 429 || (answer.status.is_server_error() && status != 501) => {
                HelpDeskError::Retryable(Transient::Status { status, retry_after: None, detail: detail() })
            }
            // The token itself was refused (token info, revoke).
            Some("unauthorized" | "access_denied") | None if status == 401 || status == 403 => {
                HelpDeskError::Authentication { status, detail: detail() }
            }
            Some(code) => HelpDeskError::OAuth {
                status,
                code: code.to_owned(),
                description: text_field(&fields, "error_description")
                    .and_then(|text| error_detail(text.as_bytes(), secrets)),
            },
            None => HelpDeskError::Permanent { status, detail: detail() },
        }
    }
}

/// The answer's fields, whether the service sent JSON or a form-encoded body.
fn decode_fields(answer: &Exchange) -> Result<Map<String, Value>, HelpDeskError> {
    let is_form = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        return Ok(url::form_urlencoded::parse(&answer.body)
            .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
            .collect());
    }
    match serde_json::from_slice(&answer.body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(HelpDeskError::Retryable(Transient::InvalidBody("expected a JSON object".into()))),
        Err(error) => Err(HelpDeskError::Retryable(Transient::InvalidBody(error.to_string()))),
    }
}

fn text_field(fields: &Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenges_are_s256_of_the_verifier_and_verifiers_are_fresh() {
        assert_eq!(
            // Computed independently with Python's hashlib and base64.
            Pkce::challenge_for("dBjftJeZ4CJP-ZjGq1QNTYGNPiE_xgj-79qkpT0m5pPY7KG"),
            "aVRHoftktMmvb8m9CAjOhYgAlj8S2ctdAqrc4qBl8AY"
        );
        let pkce = Pkce::generate();
        let verifier = pkce.verifier.expose_secret();
        assert!((43..=128).contains(&verifier.len()));
        assert_eq!(pkce.challenge, Pkce::challenge_for(verifier));
        assert_ne!(Pkce::generate().challenge, pkce.challenge);
        assert!(!format!("{pkce:?}").contains(verifier));
    }
}
