//! Sign-in, sessions and API tokens.

use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use scoreline_core::{ApiTokenId, Email, SessionId, User};
use scoreline_store::model::{NewApiToken, NewSession};
use serde_json::json;

use crate::tokens::{API_TOKEN_PREFIX, SESSION_PREFIX};
use crate::{Actor, App, AppError, AppResult, IssuedToken, SecretToken};

/// Sign-in throttling: failures are counted per email and per client address, in the
/// database so that every server process sees the same counts.
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    pub window: Duration,
    pub max_failures_per_email: u64,
    pub max_failures_per_client: u64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self { window: Duration::from_secs(15 * 60), max_failures_per_email: 5, max_failures_per_client: 30 }
    }
}

/// A started session: the cookie value and who it belongs to.
#[derive(Debug)]
pub struct SignedIn {
    pub session: SecretToken,
    pub user: User,
    pub expires_in: Duration,
}

impl App {
    /// Checks the password and starts a session. Unknown emails cost the same time as wrong
    /// passwords, and both get the same answer.
    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> AppResult<SignedIn> {
        let email_key = format!("email:{}", email.trim().to_lowercase());
        let client_key = format!("client:{client}");
        self.check_throttle(&email_key, self.settings().throttle.max_failures_per_email).await?;
        self.check_throttle(&client_key, self.settings().throttle.max_failures_per_client).await?;

        let credentials = match Email::parse(email) {
            Ok(email) => self.db().find_user_credentials(email.as_str()).await?,
            Err(_) => None,
        };
        let stored_hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
        let verified = verify_password(password.to_owned(), stored_hash).await?;
        let user = match credentials {
            Some(credentials) if verified && credentials.user.active => credentials.user,
            _ => {
                let now = self.clock().now();
                self.db().record_sign_in_failure(&email_key, now).await?;
                self.db().record_sign_in_failure(&client_key, now).await?;
                tracing::info!(client, "sign-in refused");
                return Err(AppError::InvalidCredentials);
            }
        };
        self.db().clear_sign_in_failures(&email_key).await?;

        let session = SecretToken::generate(SESSION_PREFIX);
        let now = self.clock().now();
        let ttl = self.settings().session_ttl;
        self.db()
            .create_session(&NewSession {
                id: SessionId::new(),
                token_digest: session.digest(),
                user_id: user.id,
                created_at: now,
                expires_at: now.saturating_add(ttl),
            })
            .await?;
        tracing::info!(user_id = %user.id, "signed in");
        Ok(SignedIn { session, user, expires_in: ttl })
    }

    async fn check_throttle(&self, key: &str, max_failures: u64) -> AppResult<()> {
        let window = self.settings().throttle.window;
        let since = self.clock().now().saturating_sub(window);
        if self.db().count_sign_in_failures(key, since).await? >= max_failures {
            return Err(AppError::Throttled { retry_after_secs: window.as_secs() });
        }
        Ok(())
    }

    /// The user behind a session cookie, if the session is valid.
    pub async fn session_actor(&self, session: &SecretToken) -> AppResult<Option<Actor>> {
        Ok(self.session(session).await?.map(|(_, actor)| actor))
    }

    /// The session row and its user, for flows bound to one browser session.
    pub async fn session(&self, session: &SecretToken) -> AppResult<Option<(SessionId, Actor)>> {
        match self.db().find_session_user(&session.digest(), self.clock().now()).await? {
            Some((id, user)) => Ok(Some((id, self.actor_for(user).await?))),
            None => Ok(None),
        }
    }

    pub async fn sign_out(&self, session: &SecretToken) -> AppResult<()> {
        self.db().delete_session(&session.digest()).await?;
        Ok(())
    }

    /// Removes the sessions past their expiry; returns how many.
    pub async fn delete_expired_sessions(&self) -> AppResult<u64> {
        Ok(self.db().delete_expired_sessions(self.clock().now()).await?)
    }

    /// The user behind an API token, if the token is valid.
    pub async fn api_token_actor(&self, token: &SecretToken) -> AppResult<Option<Actor>> {
        if !token.expose().starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        match self.db().use_api_token(&token.digest(), self.clock().now()).await? {
            Some(user) => Ok(Some(self.actor_for(user).await?)),
            None => Ok(None),
        }
    }

    /// Issues an API token for the user with `email`. Users may issue their own; issuing
    /// for someone else takes the operator (the command line).
    pub async fn create_api_token(&self, actor: &Actor, email: &str, name: &str) -> AppResult<IssuedToken> {
        let email = Email::parse(email).map_err(|message| AppError::field("email", message))?;
        let user = self
            .db()
            .find_user_credentials(email.as_str())
            .await?
            .ok_or_else(|| AppError::field("email", "No user has this email."))?
            .user;
        if let Some(acting) = actor.user()
            && acting.id != user.id
        {
            return Err(AppError::NotFound("user"));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::field("name", "Name the token in 1 to 100 characters."));
        }
        let token = SecretToken::generate(API_TOKEN_PREFIX);
        let id = ApiTokenId::new();
        let audit = self.audit(
            actor,
            "api_token.create",
            "user",
            &user.id.to_string(),
            json!({ "token_id": id, "name": name }),
        );
        self.db()
            .create_api_token(
                &NewApiToken {
                    id,
                    token_digest: token.digest(),
                    user_id: user.id,
                    name: name.to_owned(),
                    created_at: self.clock().now(),
                },
                &audit,
            )
            .await?;
        Ok(IssuedToken { token, user_email: user.email })
    }
}

/// Hashes with argon2id off the async workers: it takes tens of milliseconds by design.
pub(crate) async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hashing task failed: {e}")))?
}

/// Verifies against the stored hash, or against a fixed dummy hash when there is none, so
/// that the answer takes as long for unknown users as for wrong passwords.
async fn verify_password(password: String, stored: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash_text = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(hash) = PasswordHash::new(&hash_text) else {
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &hash).is_ok() && known
    })
    .await
    .map_err(|e| AppError::Internal(format!("password check task failed: {e}")))
}

/// The argon2id hash of a random string nobody knows, with default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2NvcmVsaW5lZHVtbXk$2b7DJt6pfHp3h4GLtW0DfXjiWHtiw2fI1V3Fk6yD+RE";

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_parses_so_unknown_users_pay_a_full_verification() {
        assert!(argon2::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }
}
