//! Sign-in: browser sessions, API tokens and the sign-in throttle. Only the SHA-256 digest of a
//! session or token is stored.

use scoreline_core::{AuditRecord, Scope, SessionId, Timestamp, User, UserId};
use uuid::Uuid;

use super::audit::write_audit;
use super::users::UserRow;
use super::{Backend, count};
use crate::StoreResult;
use crate::model::{NewApiToken, NewSession, TokenDigest};

#[derive(sqlx::FromRow)]
struct SessionUserRow {
    session_id: Uuid,
    #[sqlx(flatten)]
    user: UserRow,
}

impl Backend {
    pub(crate) async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.id.as_uuid())
        .bind(&session.token_digest[..])
        .bind(session.user_id.as_uuid())
        .bind(session.created_at.as_millis())
        .bind(session.expires_at.as_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The active user behind an unexpired session.
    pub(crate) async fn find_session_user(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionId, User)>> {
        let row: Option<SessionUserRow> = sqlx::query_as(
            "SELECT s.id AS session_id, u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = $3",
        )
        .bind(&digest[..])
        .bind(now.as_millis())
        .bind(true)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((SessionId::from_uuid(row.session_id), row.user.try_into()?))).transpose()
    }

    pub(crate) async fn delete_session(&self, digest: &TokenDigest) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&digest[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn create_api_token(&self, token: &NewApiToken, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id.as_uuid())
        .bind(&token.token_digest[..])
        .bind(token.user_id.as_uuid())
        .bind(&token.name)
        .bind(token.created_at.as_millis())
        .execute(&mut *tx)
        .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active user behind an unrevoked API token; records the use.
    pub(crate) async fn use_api_token(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        let user_id: Option<Uuid> = sqlx::query_scalar(
            "UPDATE api_tokens SET last_used_at = $2
             WHERE token_hash = $1 AND revoked_at IS NULL
             RETURNING user_id",
        )
        .bind(&digest[..])
        .bind(now.as_millis())
        .fetch_optional(&self.pool)
        .await?;
        let Some(user_id) = user_id else { return Ok(None) };
        let user = self.get_user(&Scope::Everything, UserId::from_uuid(user_id)).await?;
        Ok(user.filter(|user| user.active))
    }

    pub(crate) async fn record_sign_in_failure(&self, throttle_key: &str, at: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO sign_in_failures (throttle_key, at) VALUES ($1, $2)")
            .bind(throttle_key)
            .bind(at.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn count_sign_in_failures(
        &self,
        throttle_key: &str,
        since: Timestamp,
    ) -> StoreResult<u64> {
        let failures: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE throttle_key = $1 AND at >= $2")
                .bind(throttle_key)
                .bind(since.as_millis())
                .fetch_one(&self.pool)
                .await?;
        Ok(count(failures))
    }

    pub(crate) async fn clear_sign_in_failures(&self, throttle_key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1")
            .bind(throttle_key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
