//! Sign-in: browser sessions, API tokens, password changes and resets, and the sign-in
//! throttle. Only the SHA-256 digest of a session, token or reset link is stored.

use scoreline_core::{
    ApiToken, ApiTokenId, AuditRecord, Page, PageRequest, SessionId, SignInAdmission, SignInAttemptId,
    Timestamp, User, UserId,
};
use sqlx::{Executor, QueryBuilder};
use uuid::Uuid;

use super::audit::write_audit;
use super::users::UserRow;
use super::{Backend, Database, WriteTransaction, count};
use crate::StoreResult;
use crate::model::{NewApiToken, NewPasswordReset, NewSession, SignInAttempt, SignInLimits, TokenDigest};

/// A token's last use is written when the recorded one is older than this, not on every request.
const LAST_USED_GRANULARITY_MILLIS: i64 = 60_000;

#[derive(sqlx::FromRow)]
struct SessionUserRow {
    session_id: Uuid,
    #[sqlx(flatten)]
    user: UserRow,
}

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(row: ApiTokenRow) -> Self {
        Self {
            id: ApiTokenId::from_uuid(row.id),
            user_id: UserId::from_uuid(row.user_id),
            name: row.name,
            created_at: Timestamp::from_millis(row.created_at),
            last_used_at: row.last_used_at.map(Timestamp::from_millis),
            expires_at: row.expires_at.map(Timestamp::from_millis),
            revoked_at: row.revoked_at.map(Timestamp::from_millis),
        }
    }
}

#[derive(sqlx::FromRow)]
struct AttemptCounts {
    pair: i64,
    client: i64,
    email: i64,
    email_recent: i64,
}

/// Revokes the user's live tokens (one, or all with `None`); how many were revoked.
async fn revoke_tokens(
    executor: impl Executor<'_, Database = Database>,
    user_id: UserId,
    token: Option<ApiTokenId>,
    at: Timestamp,
) -> StoreResult<u64> {
    let mut query = QueryBuilder::<Database>::new("UPDATE api_tokens SET revoked_at = ");
    query.push_bind(at.as_millis()).push(" WHERE user_id = ").push_bind(user_id.as_uuid());
    if let Some(token) = token {
        query.push(" AND id = ").push_bind(token.as_uuid());
    }
    query.push(" AND revoked_at IS NULL");
    Ok(query.build().execute(executor).await?.rows_affected())
}

/// Ends the user's sessions, all but `keep` when given.
async fn end_sessions(
    executor: impl Executor<'_, Database = Database>,
    user_id: UserId,
    keep: Option<SessionId>,
) -> StoreResult<()> {
    let mut query = QueryBuilder::<Database>::new("DELETE FROM sessions WHERE user_id = ");
    query.push_bind(user_id.as_uuid());
    if let Some(keep) = keep {
        query.push(" AND id <> ").push_bind(keep.as_uuid());
    }
    query.build().execute(executor).await?;
    Ok(())
}

/// Stores a new password hash; how many users it was written for (0 or 1).
async fn write_password(
    executor: impl Executor<'_, Database = Database>,
    user_id: UserId,
    password_hash: &str,
    at: Timestamp,
) -> StoreResult<u64> {
    let done = sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id.as_uuid())
        .bind(password_hash)
        .bind(at.as_millis())
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

/// Ends for good what lets a user in besides their password: sessions, tokens and unused reset
/// links. Deactivation does this, so reactivating revives none of it.
pub(super) async fn revoke_credentials(
    tx: &mut WriteTransaction,
    user_id: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    end_sessions(&mut **tx, user_id, None).await?;
    revoke_tokens(&mut **tx, user_id, None, at).await?;
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id.as_uuid())
        .execute(&mut **tx)
        .await?;
    Ok(())
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
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, token_hash, user_id, name, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.id.as_uuid())
        .bind(&token.token_digest[..])
        .bind(token.user_id.as_uuid())
        .bind(&token.name)
        .bind(token.created_at.as_millis())
        .bind(token.expires_at.map(Timestamp::as_millis))
        .execute(&mut *tx)
        .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's tokens that are not revoked (expired ones included), oldest first.
    pub(crate) async fn list_api_tokens(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiToken>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT id, user_id, name, created_at, last_used_at, expires_at, revoked_at FROM api_tokens
             WHERE revoked_at IS NULL AND user_id = ",
        );
        query.push_bind(user_id.as_uuid());
        if let Some(after) = page.after {
            query.push(" AND id > ").push_bind(after);
        }
        query.push(" ORDER BY id LIMIT ").push_bind(i64::from(page.limit) + 1);
        let rows: Vec<ApiTokenRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let tokens = rows.into_iter().map(ApiToken::from).collect();
        Ok(Page::from_overfetch(tokens, page.limit, |token: &ApiToken| token.id.as_uuid()))
    }

    /// Revokes one of the user's tokens, or all of them; how many were live. The audit record
    /// is written only when one was.
    pub(crate) async fn revoke_api_tokens(
        &self,
        user_id: UserId,
        token: Option<ApiTokenId>,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let revoked = revoke_tokens(&mut *tx, user_id, token, at).await?;
        if revoked > 0 {
            write_audit(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// The active user behind a live API token (not revoked, not expired); records the use
    /// when the last recorded one is a minute old.
    pub(crate) async fn use_api_token(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        #[derive(sqlx::FromRow)]
        struct TokenUserRow {
            token_id: Uuid,
            last_used_at: Option<i64>,
            #[sqlx(flatten)]
            user: UserRow,
        }
        let row: Option<TokenUserRow> = sqlx::query_as(
            "SELECT t.id AS token_id, t.last_used_at,
                    u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
               AND u.active = $3",
        )
        .bind(&digest[..])
        .bind(now.as_millis())
        .bind(true)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.last_used_at.is_none_or(|last| last <= now.as_millis() - LAST_USED_GRANULARITY_MILLIS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(row.token_id)
                .bind(now.as_millis())
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(row.user.try_into()?))
    }

    /// Sets the user's password hash and ends their sessions, all but `keep`; `false` when
    /// there is no such user.
    pub(crate) async fn set_password(
        &self,
        user_id: UserId,
        password_hash: &str,
        keep: Option<SessionId>,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        if write_password(&mut *tx, user_id, password_hash, at).await? == 0 {
            return Ok(false);
        }
        end_sessions(&mut *tx, user_id, keep).await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a reset link for the user, replacing any unused one they had.
    pub(crate) async fn create_password_reset(
        &self,
        reset: &NewPasswordReset,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
            .bind(reset.user_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (id, token_hash, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(reset.id.as_uuid())
        .bind(&reset.token_digest[..])
        .bind(reset.user_id.as_uuid())
        .bind(reset.created_at.as_millis())
        .bind(reset.expires_at.as_millis())
        .execute(&mut *tx)
        .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active user an unused, unexpired reset link belongs to.
    pub(crate) async fn find_password_reset(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at
             FROM password_resets r JOIN users u ON u.id = r.user_id
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND u.active = $3",
        )
        .bind(&digest[..])
        .bind(now.as_millis())
        .bind(true)
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    /// Uses the reset link of `user_id` once: sets the password and ends every session of
    /// theirs. `false` when the link is used, expired or not theirs (nothing is written).
    pub(crate) async fn use_password_reset(
        &self,
        digest: &TokenDigest,
        user_id: UserId,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(
            "UPDATE password_resets SET used_at = $3
             WHERE token_hash = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(&digest[..])
        .bind(user_id.as_uuid())
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if used == 0 {
            return Ok(false);
        }
        write_password(&mut *tx, user_id, password_hash, now).await?;
        end_sessions(&mut *tx, user_id, None).await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Reserves a sign-in attempt before its password is checked, or says which limit refuses
    /// it. The email's and the address's lock rows are taken first (an upsert locks the row
    /// until commit on PostgreSQL; on SQLite the first write takes the database's write lock),
    /// so concurrent attempts are counted one after another and cannot outrun a limit.
    pub(crate) async fn reserve_sign_in(
        &self,
        attempt: &SignInAttempt,
        limits: &SignInLimits,
    ) -> StoreResult<SignInAdmission> {
        let mut tx = self.begin_write().await?;
        for key in [&attempt.email_key, &attempt.client_key] {
            sqlx::query(
                "INSERT INTO sign_in_locks (throttle_key, touched_at) VALUES ($1, $2)
                 ON CONFLICT (throttle_key) DO UPDATE SET touched_at = excluded.touched_at",
            )
            .bind(key)
            .bind(attempt.at.as_millis())
            .execute(&mut *tx)
            .await?;
        }
        let counts: AttemptCounts = sqlx::query_as(
            "SELECT
               (SELECT COUNT(*) FROM sign_in_attempts WHERE email_key = $1 AND client_key = $2 AND at >= $3) AS pair,
               (SELECT COUNT(*) FROM sign_in_attempts WHERE client_key = $2 AND at >= $3) AS client,
               (SELECT COUNT(*) FROM sign_in_attempts WHERE email_key = $1 AND at >= $3) AS email,
               (SELECT COUNT(*) FROM sign_in_attempts WHERE email_key = $1 AND at > $4) AS email_recent",
        )
        .bind(&attempt.email_key)
        .bind(&attempt.client_key)
        .bind(limits.since.as_millis())
        .bind(limits.spaced_since.as_millis())
        .fetch_one(&mut *tx)
        .await?;
        let admission = if count(counts.pair) >= limits.per_pair {
            SignInAdmission::PairLocked
        } else if count(counts.client) >= limits.per_client {
            SignInAdmission::ClientLocked
        } else if count(counts.email) >= limits.per_email && counts.email_recent > 0 {
            SignInAdmission::EmailSlowed
        } else {
            sqlx::query(
                "INSERT INTO sign_in_attempts (id, email_key, client_key, at) VALUES ($1, $2, $3, $4)",
            )
            .bind(attempt.id.as_uuid())
            .bind(&attempt.email_key)
            .bind(&attempt.client_key)
            .bind(attempt.at.as_millis())
            .execute(&mut *tx)
            .await?;
            SignInAdmission::Granted
        };
        tx.commit().await?;
        Ok(admission)
    }

    /// Gives back a reservation whose password was never checked.
    pub(crate) async fn release_sign_in(&self, attempt: SignInAttemptId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE id = $1")
            .bind(attempt.as_uuid())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// After a success: this attempt and the earlier failures of the same email from the same
    /// address are forgotten (failures from other addresses still count for the email).
    pub(crate) async fn clear_sign_in(&self, email_key: &str, client_key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE email_key = $1 AND client_key = $2")
            .bind(email_key)
            .bind(client_key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes what no longer counts or works: attempts and lock rows older than `before`,
    /// reset links past their expiry or used. How many rows went.
    pub(crate) async fn delete_stale_credentials(
        &self,
        before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let mut removed = 0;
        for (sql, at) in [
            ("DELETE FROM sign_in_attempts WHERE at < $1", before),
            ("DELETE FROM sign_in_locks WHERE touched_at < $1", before),
            ("DELETE FROM password_resets WHERE expires_at <= $1 OR used_at IS NOT NULL", now),
        ] {
            removed += sqlx::query(sql).bind(at.as_millis()).execute(&self.pool).await?.rows_affected();
        }
        Ok(removed)
    }
}
