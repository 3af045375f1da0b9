//! What a person signs in with besides a session: API tokens (named, expiring, listed and
//! revoked), their password (changed by them, or reset with a one-time link an admin gives).

use std::time::Duration;

use scoreline_core::{
    ApiToken, ApiTokenId, Email, NewPassword, Page, PageRequest, PasswordResetId, Permission, Scope,
    SessionId, Timestamp, User, UserId,
};
use scoreline_store::model::{NewApiToken, NewPasswordReset};
use serde::Deserialize;
use serde_json::json;

use crate::tokens::{API_TOKEN_PREFIX, PASSWORD_RESET_PREFIX};
use crate::{Actor, App, AppError, AppResult, IssuedToken, SecretToken};

/// A token to issue: its name and, optionally, how many days it works.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    pub name: String,
    pub expires_in_days: Option<u32>,
}

/// The longest expiry a token may be given: ten years.
const MAX_TOKEN_DAYS: u32 = 3650;

/// A change of one's own password: the current one proves it is really them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// A new reset link: its secret is shown once, to the admin who asked for it.
#[derive(Debug)]
pub struct PasswordResetLink {
    pub token: SecretToken,
    pub user: User,
    pub expires_at: Timestamp,
}

impl App {
    /// Issues an API token for the user with `email`. Users may issue their own; issuing
    /// for someone else takes the operator (the command line).
    pub async fn create_api_token(&self, actor: &Actor, email: &str, name: &str) -> AppResult<IssuedToken> {
        self.issue_api_token(actor, email, TokenRequest { name: name.to_owned(), expires_in_days: None })
            .await
    }

    /// Issues a named API token, expiring after `expires_in_days` when given.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        email: &str,
        request: TokenRequest,
    ) -> AppResult<IssuedToken> {
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
        let mut errors = scoreline_core::FieldErrors::new();
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push("name", "Name the token in 1 to 100 characters.");
        }
        if let Some(days) = request.expires_in_days
            && !(1..=MAX_TOKEN_DAYS).contains(&days)
        {
            errors.push("expires_in_days", format!("Choose 1 to {MAX_TOKEN_DAYS} days, or no expiry."));
        }
        if !user.active {
            errors.push("email", "This person is deactivated; reactivate them first.");
        }
        errors.into_result()?;
        let now = self.clock().now();
        let expires_at = request
            .expires_in_days
            .map(|days| now.saturating_add(Duration::from_secs(u64::from(days) * 86_400)));
        let token = SecretToken::generate(API_TOKEN_PREFIX);
        let id = ApiTokenId::new();
        let audit = self.audit(
            actor,
            "api_token.create",
            "user",
            &user.id.to_string(),
            json!({ "token_id": id, "name": name, "expires_at": expires_at.map(Timestamp::to_rfc3339) }),
        );
        let new_token = NewApiToken {
            id,
            token_digest: token.digest(),
            user_id: user.id,
            name: name.to_owned(),
            created_at: now,
            expires_at,
        };
        self.db().create_api_token(&new_token, &audit).await?;
        let listed = ApiToken {
            id,
            user_id: user.id,
            name: new_token.name,
            created_at: now,
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        Ok(IssuedToken { token, user_email: user.email, listed })
    }

    /// The user behind an API token, if the token is live.
    pub async fn api_token_actor(&self, token: &SecretToken) -> AppResult<Option<Actor>> {
        if !token.expose().starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        match self.db().use_api_token(&token.digest(), self.clock().now()).await? {
            Some(user) => Ok(Some(self.actor_for(user).await?)),
            None => Ok(None),
        }
    }

    /// `user_id`'s tokens that are not revoked: their own, or someone the actor manages.
    pub async fn list_api_tokens(
        &self,
        actor: &Actor,
        user_id: UserId,
        page: PageRequest,
    ) -> AppResult<Page<ApiToken>> {
        self.credentials_owner(actor, user_id).await?;
        Ok(self.db().list_api_tokens(user_id, page).await?)
    }

    /// Revokes one token of `user_id`'s; a token that is not theirs or already revoked is not found.
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        user_id: UserId,
        token_id: ApiTokenId,
    ) -> AppResult<()> {
        self.credentials_owner(actor, user_id).await?;
        let audit = self.audit(
            actor,
            "api_token.revoke",
            "user",
            &user_id.to_string(),
            json!({ "token_id": token_id }),
        );
        match self.db().revoke_api_tokens(user_id, Some(token_id), self.clock().now(), &audit).await? {
            0 => Err(AppError::NotFound("API token")),
            _ => Ok(()),
        }
    }

    /// Revokes every token of `user_id`'s; how many were live.
    pub async fn revoke_all_api_tokens(&self, actor: &Actor, user_id: UserId) -> AppResult<u64> {
        self.credentials_owner(actor, user_id).await?;
        let audit = self.audit(actor, "api_token.revoke_all", "user", &user_id.to_string(), json!({}));
        Ok(self.db().revoke_api_tokens(user_id, None, self.clock().now(), &audit).await?)
    }

    /// The person whose credentials the actor acts on: themselves, or someone in their scope
    /// whose role they may grant (DESIGN.md §7.1); anyone else is not found or forbidden.
    async fn credentials_owner(&self, actor: &Actor, user_id: UserId) -> AppResult<User> {
        if let Some(me) = actor.user()
            && me.id == user_id
        {
            return Ok(me.clone());
        }
        actor.require(Permission::ManageStaff)?;
        let user = self.user_in_scope(actor, user_id).await?;
        match actor.user() {
            Some(me) if !actor.may_grant(user.role) => {
                Err(AppError::PermissionDenied { role: me.role, permission: Permission::ManageStaff })
            }
            _ => Ok(user),
        }
    }

    /// Changes the signed-in person's password. The current password is checked under the
    /// sign-in throttle; the new one follows the rules of account creation. Every other session
    /// of theirs ends (`session`, the one asking, stays).
    pub async fn change_password(
        &self,
        actor: &Actor,
        session: Option<SessionId>,
        client: &str,
        change: PasswordChange,
    ) -> AppResult<()> {
        let user = actor.user().cloned().ok_or(AppError::Unauthenticated)?;
        let new_password = NewPassword::parse(&change.new_password)
            .map_err(|message| AppError::field("new_password", message))?;
        if change.new_password == change.current_password {
            return Err(AppError::field("new_password", "Choose a password different from the current one."));
        }
        let (email_key, client_key) = (crate::auth::email_key(&user.email), format!("client:{client}"));
        let checked =
            self.check_password_throttled(&email_key, &client_key, &user.email, &change.current_password);
        if checked.await?.is_none_or(|found| found.id != user.id) {
            return Err(AppError::field("current_password", "This is not your current password."));
        }
        self.db().clear_sign_in(&email_key, &client_key).await?;
        let hash = self.hash_password(new_password.expose().to_owned()).await?;
        let audit = self.audit(actor, "user.password.change", "user", &user.id.to_string(), json!({}));
        if !self.db().set_password(user.id, &hash, session, self.clock().now(), &audit).await? {
            return Err(AppError::NotFound("user"));
        }
        Ok(())
    }

    /// Sets a password from the command line (the operator's `users set-password`): every
    /// session of the user ends.
    pub async fn set_password(&self, actor: &Actor, email: &str, password: &str) -> AppResult<User> {
        actor.require(Permission::ManageStaff)?;
        let password =
            NewPassword::parse(password).map_err(|message| AppError::field("password", message))?;
        let user = self
            .find_user_by_email(actor, email)
            .await?
            .ok_or_else(|| AppError::field("email", "No user has this email."))?;
        let user = self.credentials_owner(actor, user.id).await?;
        let hash = self.hash_password(password.expose().to_owned()).await?;
        let audit = self.audit(actor, "user.password.set", "user", &user.id.to_string(), json!({}));
        if !self.db().set_password(user.id, &hash, None, self.clock().now(), &audit).await? {
            return Err(AppError::NotFound("user"));
        }
        Ok(user)
    }

    /// A one-time link that lets `user_id` set a new password, for an admin to pass on. It
    /// expires, works once, replaces any earlier link, and only its digest is stored.
    pub async fn create_password_reset(
        &self,
        actor: &Actor,
        user_id: UserId,
    ) -> AppResult<PasswordResetLink> {
        actor.require(Permission::ManageStaff)?;
        if actor.user().is_some_and(|me| me.id == user_id) {
            return Err(AppError::field("id", "Change your own password on your account page."));
        }
        let user = self.credentials_owner(actor, user_id).await?;
        if !user.active {
            return Err(AppError::field("id", "This person is deactivated; reactivate them first."));
        }
        let token = SecretToken::generate(PASSWORD_RESET_PREFIX);
        let now = self.clock().now();
        let expires_at = now.saturating_add(self.settings().password_reset_ttl);
        let reset = NewPasswordReset {
            id: PasswordResetId::new(),
            token_digest: token.digest(),
            user_id,
            created_at: now,
            expires_at,
        };
        let audit = self.audit(
            actor,
            "user.password.reset_link",
            "user",
            &user_id.to_string(),
            json!({ "reset_id": reset.id, "expires_at": expires_at.to_rfc3339() }),
        );
        self.db().create_password_reset(&reset, &audit).await?;
        Ok(PasswordResetLink { token, user, expires_at })
    }

    /// Whose password a reset link sets, while it is unused and unexpired.
    pub async fn password_reset_user(&self, token: &SecretToken) -> AppResult<Option<User>> {
        if !token.expose().starts_with(PASSWORD_RESET_PREFIX) {
            return Ok(None);
        }
        Ok(self.db().find_password_reset(&token.digest(), self.clock().now()).await?)
    }

    /// Uses a reset link: sets the password and ends every session of its user. A used,
    /// expired or unknown link is not found.
    pub async fn reset_password(&self, token: &SecretToken, new_password: &str) -> AppResult<User> {
        let user = self.password_reset_user(token).await?.ok_or(AppError::NotFound("reset link"))?;
        let password =
            NewPassword::parse(new_password).map_err(|message| AppError::field("new_password", message))?;
        let hash = self.hash_password(password.expose().to_owned()).await?;
        let themselves = Actor::User { user: user.clone(), scope: Scope::Own(user.id) };
        let audit = self.audit(&themselves, "user.password.reset", "user", &user.id.to_string(), json!({}));
        if !self.db().use_password_reset(&token.digest(), user.id, &hash, self.clock().now(), &audit).await? {
            return Err(AppError::NotFound("reset link"));
        }
        Ok(user)
    }
}
