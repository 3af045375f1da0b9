//! Integrations, their sealed credentials with the OAuth refresh lock, and OAuth flows awaiting
//! their callback.

use scoreline_core::{
    AuditRecord, Disconnect, Integration, IntegrationId, IntegrationSettings, IntegrationState, LicenseId,
    Page, PageRequest, Retention, SessionId, Timestamp, UserId,
};
use secrecy::{ExposeSecret, SecretString};
use sqlx::types::Json;
use sqlx::{Executor, QueryBuilder};
use uuid::Uuid;

use super::audit::{commit_audited_change, write_audit};
use super::leases::REFRESH_LOCK;
use super::{Backend, Database, count};
use crate::integrations::{
    NewCredentials, NewIntegration, OAuthFlow, OAuthTokens, StoredCredentials, aad, last4,
};
use crate::model::TokenDigest;
use crate::{Sealer, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct IntegrationRow {
    id: Uuid,
    kind: String,
    label: String,
    description: String,
    auth_method: String,
    account_id: Option<String>,
    license_id: Option<i64>,
    retention_value: i64,
    retention_unit: String,
    backfill_days: i64,
    state: String,
    last_synced_at: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
    token_last4: Option<String>,
    credential_set: bool,
}

impl TryFrom<IntegrationRow> for Integration {
    type Error = StoreError;

    fn try_from(row: IntegrationRow) -> StoreResult<Self> {
        let corrupt =
            |what: &str, value: String| StoreError::Corrupt(format!("integrations.{what} = `{value}`"));
        let (value, unit) = (row.retention_value, row.retention_unit);
        Ok(Self {
            id: IntegrationId::from_uuid(row.id),
            kind: row.kind,
            label: row.label,
            description: row.description,
            auth_method: row
                .auth_method
                .parse()
                .map_err(|_| corrupt("auth_method", row.auth_method.clone()))?,
            account_id: row.account_id,
            license_id: row.license_id.map(LicenseId::new),
            retention: Retention::parse(value, &unit)
                .map_err(|_| corrupt("retention", format!("{value} {unit}")))?,
            backfill_days: u32::try_from(row.backfill_days)
                .map_err(|_| corrupt("backfill_days", row.backfill_days.to_string()))?,
            state: row.state.parse().map_err(|_| corrupt("state", row.state.clone()))?,
            credential_set: row.credential_set,
            token_last4: row.token_last4,
            last_synced_at: row.last_synced_at.map(Timestamp::from_millis),
            last_error: row.last_error,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct SealedCredentialsRow {
    version: i64,
    token_sealed: Option<String>,
    access_token_sealed: Option<String>,
    refresh_token_sealed: Option<String>,
    access_expires_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct OAuthFlowRow {
    user_id: Uuid,
    session_id: Option<Uuid>,
    integration_id: Uuid,
    reconnect: bool,
    allow_duplicate: bool,
    settings: Json<IntegrationSettings>,
    verifier_sealed: String,
    redirect_uri: String,
    created_at: i64,
    expires_at: i64,
}

/// Which integrations a read wants.
#[derive(Clone, Copy)]
enum Integrations {
    One(IntegrationId),
    Page(PageRequest),
}

/// Every read of integrations goes through here, in a transaction or on the pool.
async fn read_integrations(
    executor: impl Executor<'_, Database = Database>,
    wanted: Integrations,
) -> StoreResult<Vec<Integration>> {
    let mut query = QueryBuilder::<Database>::new(
        "SELECT i.id, i.kind, i.label, i.description, i.auth_method, i.account_id, i.license_id, i.retention_value,
                i.retention_unit, i.backfill_days, i.state, i.last_synced_at, i.last_error,
                i.created_at, i.updated_at, c.token_last4,
                (c.integration_id IS NOT NULL) AS credential_set
         FROM integrations i LEFT JOIN integration_credentials c ON c.integration_id = i.id",
    );
    match wanted {
        Integrations::One(id) => {
            query.push(" WHERE i.id = ").push_bind(id.as_uuid());
        }
        Integrations::Page(page) => {
            if let Some(after) = page.after {
                query.push(" WHERE i.id > ").push_bind(after);
            }
            query.push(" ORDER BY i.id LIMIT ").push_bind(i64::from(page.limit) + 1);
        }
    }
    let rows: Vec<IntegrationRow> = query.build_query_as().fetch_all(executor).await?;
    rows.into_iter().map(Integration::try_from).collect()
}

/// Upserts the sealed credentials of `id`; a new version, and any refresh lock let go.
async fn write_credentials(
    executor: impl Executor<'_, Database = Database>,
    id: IntegrationId,
    credentials: &NewCredentials,
    sealer: &Sealer,
    now: Timestamp,
) -> StoreResult<()> {
    let seal = |secret: &SecretString, column: &str| sealer.seal(secret.expose_secret(), &aad(id, column));
    let (token, last4, access, refresh, expires_at) = match credentials {
        NewCredentials::Token(token) => {
            (Some(seal(token, "token")?), Some(last4(token.expose_secret())), None, None, None)
        }
        NewCredentials::OAuth(tokens) => (
            None,
            None,
            Some(seal(&tokens.access_token, "access_token")?),
            tokens.refresh_token.as_ref().map(|t| seal(t, "refresh_token")).transpose()?,
            tokens.expires_at.map(Timestamp::as_millis),
        ),
    };
    sqlx::query(
        "INSERT INTO integration_credentials
             (integration_id, token_sealed, token_last4, access_token_sealed, refresh_token_sealed,
              access_expires_at, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
         ON CONFLICT (integration_id) DO UPDATE SET
             token_sealed = excluded.token_sealed, token_last4 = excluded.token_last4,
             access_token_sealed = excluded.access_token_sealed,
             refresh_token_sealed = excluded.refresh_token_sealed,
             access_expires_at = excluded.access_expires_at,
             version = integration_credentials.version + 1, updated_at = excluded.updated_at,
             refresh_lock_owner = NULL, refresh_lock_until = NULL",
    )
    .bind(id.as_uuid())
    .bind(token)
    .bind(last4)
    .bind(access)
    .bind(refresh)
    .bind(expires_at)
    .bind(now.as_millis())
    .execute(executor)
    .await?;
    Ok(())
}

impl Backend {
    pub(crate) async fn create_integration(
        &self,
        integration: &NewIntegration,
        credentials: &NewCredentials,
        sealer: &Sealer,
        audit: &AuditRecord,
    ) -> StoreResult<Integration> {
        let settings = &integration.settings;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO integrations
                 (id, kind, label, description, auth_method, account_id, license_id, retention_value,
                  retention_unit, backfill_days, state, created_at, updated_at)
             VALUES ($1, 'helpdesk', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(integration.id.as_uuid())
        .bind(&settings.label)
        .bind(&settings.description)
        .bind(integration.auth_method.as_str())
        .bind(integration.account_id.as_deref())
        .bind(integration.license_id.map(LicenseId::get))
        .bind(i64::from(settings.retention.value))
        .bind(settings.retention.unit.as_str())
        .bind(i64::from(settings.backfill_days))
        .bind(IntegrationState::Connected.as_str())
        .bind(integration.created_at.as_millis())
        .execute(&mut *tx)
        .await?;
        write_credentials(&mut *tx, integration.id, credentials, sealer, integration.created_at).await?;
        write_audit(&mut *tx, audit).await?;
        let created = read_integrations(&mut *tx, Integrations::One(integration.id)).await?.pop();
        let created = created.ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
        tx.commit().await?;
        Ok(created)
    }

    pub(crate) async fn get_integration(&self, id: IntegrationId) -> StoreResult<Option<Integration>> {
        Ok(read_integrations(&self.pool, Integrations::One(id)).await?.pop())
    }

    pub(crate) async fn list_integrations(&self, page: PageRequest) -> StoreResult<Page<Integration>> {
        let integrations = read_integrations(&self.pool, Integrations::Page(page)).await?;
        Ok(Page::from_overfetch(integrations, page.limit, |integration| integration.id.as_uuid()))
    }

    pub(crate) async fn count_integrations(&self) -> StoreResult<u64> {
        let integrations: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM integrations").fetch_one(&self.pool).await?;
        Ok(count(integrations))
    }

    /// `false` when there is no such integration.
    pub(crate) async fn update_integration_settings(
        &self,
        id: IntegrationId,
        settings: &IntegrationSettings,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE integrations SET label = $2, description = $3, retention_value = $4,
                 retention_unit = $5, backfill_days = $6, updated_at = $7
             WHERE id = $1",
        )
        .bind(id.as_uuid())
        .bind(&settings.label)
        .bind(&settings.description)
        .bind(i64::from(settings.retention.value))
        .bind(settings.retention.unit.as_str())
        .bind(i64::from(settings.backfill_days))
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        commit_audited_change(tx, updated, audit).await
    }

    /// Records the license of an integration that has none yet; `false` when it had one (or
    /// there is no such integration), so a license once read never changes.
    pub(crate) async fn fill_integration_license(
        &self,
        id: IntegrationId,
        license: LicenseId,
    ) -> StoreResult<bool> {
        let filled =
            sqlx::query("UPDATE integrations SET license_id = $2 WHERE id = $1 AND license_id IS NULL")
                .bind(id.as_uuid())
                .bind(license.get())
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(filled == 1)
    }

    /// Moves to `state` and records `last_error`; audited only when given a record.
    pub(crate) async fn set_integration_state(
        &self,
        id: IntegrationId,
        state: IntegrationState,
        last_error: Option<&str>,
        now: Timestamp,
        audit: Option<&AuditRecord>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE integrations SET state = $2, last_error = $3, updated_at = $4 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(state.as_str())
            .bind(last_error)
            .bind(now.as_millis())
            .execute(&mut *tx)
            .await?;
        if let Some(audit) = audit {
            write_audit(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the credentials and marks the integration connected.
    pub(crate) async fn replace_credentials(
        &self,
        id: IntegrationId,
        credentials: &NewCredentials,
        sealer: &Sealer,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        write_credentials(&mut *tx, id, credentials, sealer, now).await?;
        sqlx::query("UPDATE integrations SET state = $2, last_error = NULL, updated_at = $3 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(IntegrationState::Connected.as_str())
            .bind(now.as_millis())
            .execute(&mut *tx)
            .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn load_credentials(
        &self,
        id: IntegrationId,
        sealer: &Sealer,
    ) -> StoreResult<Option<StoredCredentials>> {
        let row: Option<SealedCredentialsRow> = sqlx::query_as(
            "SELECT version, token_sealed, access_token_sealed, refresh_token_sealed, access_expires_at
             FROM integration_credentials WHERE integration_id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let unseal = |sealed: Option<String>, column: &str| {
            sealed.map(|sealed| sealer.unseal(&sealed, &aad(id, column))).transpose()
        };
        let token = unseal(row.token_sealed, "token")?;
        let access = unseal(row.access_token_sealed, "access_token")?;
        let refresh = unseal(row.refresh_token_sealed, "refresh_token")?;
        let expires_at = row.access_expires_at.map(Timestamp::from_millis);
        Ok(Some(StoredCredentials {
            version: row.version,
            token,
            oauth: access.map(|access_token| OAuthTokens {
                access_token,
                refresh_token: refresh,
                expires_at,
            }),
        }))
    }

    /// Stores refreshed tokens if the credentials are still at `expected_version`.
    pub(crate) async fn store_refreshed_tokens(
        &self,
        id: IntegrationId,
        expected_version: i64,
        tokens: &OAuthTokens,
        sealer: &Sealer,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let access = sealer.seal(tokens.access_token.expose_secret(), &aad(id, "access_token"))?;
        let refresh = tokens
            .refresh_token
            .as_ref()
            .map(|t| sealer.seal(t.expose_secret(), &aad(id, "refresh_token")))
            .transpose()?;
        let updated = sqlx::query(
            "UPDATE integration_credentials SET access_token_sealed = $2,
                 refresh_token_sealed = COALESCE($3, refresh_token_sealed), access_expires_at = $4,
                 version = version + 1, updated_at = $5
             WHERE integration_id = $1 AND version = $6",
        )
        .bind(id.as_uuid())
        .bind(access)
        .bind(refresh)
        .bind(tokens.expires_at.map(Timestamp::as_millis))
        .bind(now.as_millis())
        .bind(expected_version)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// Takes the integration's refresh lock unless another live holder has it.
    pub(crate) async fn try_lock_refresh(
        &self,
        id: IntegrationId,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.take_lease(&REFRESH_LOCK, id, owner, until, now).await
    }

    pub(crate) async fn unlock_refresh(&self, id: IntegrationId, owner: &str) -> StoreResult<()> {
        self.release_lease(&REFRESH_LOCK, id, owner).await
    }

    pub(crate) async fn disconnect_integration(
        &self,
        id: IntegrationId,
        mode: Disconnect,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM integration_credentials WHERE integration_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        // Deliveries to its webhook URL are refused from now on, whatever HelpDesk still holds.
        sqlx::query("DELETE FROM webhook_endpoints WHERE integration_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        match mode {
            Disconnect::KeepCases => {
                sqlx::query(
                    "UPDATE integrations SET state = $2, last_error = NULL, updated_at = $3 WHERE id = $1",
                )
                .bind(id.as_uuid())
                .bind(IntegrationState::Disconnected.as_str())
                .bind(now.as_millis())
                .execute(&mut *tx)
                .await?;
            }
            Disconnect::RemoveEverything => {
                sqlx::query("DELETE FROM integrations WHERE id = $1")
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn create_oauth_flow(&self, flow: &OAuthFlow, sealer: &Sealer) -> StoreResult<()> {
        let verifier =
            sealer.seal(flow.pkce_verifier.expose_secret(), &aad(flow.integration_id, "pkce_verifier"))?;
        sqlx::query(
            "INSERT INTO oauth_flows (state_digest, user_id, session_id, integration_id, reconnect, settings,
                 verifier_sealed, redirect_uri, created_at, expires_at, allow_duplicate)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&flow.state_digest[..])
        .bind(flow.user_id.as_uuid())
        .bind(flow.session_id.map(|id| id.as_uuid()))
        .bind(flow.integration_id.as_uuid())
        .bind(flow.reconnect)
        .bind(Json(&flow.settings))
        .bind(verifier)
        .bind(&flow.redirect_uri)
        .bind(flow.created_at.as_millis())
        .bind(flow.expires_at.as_millis())
        .bind(flow.allow_duplicate)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes and returns the flow when it is the caller's (started by `user_id` in this
    /// session, or in none): the rightful admin can use a state once, whatever happens next,
    /// and someone else presenting it consumes nothing.
    pub(crate) async fn take_oauth_flow(
        &self,
        state_digest: &TokenDigest,
        user_id: UserId,
        session_id: Option<SessionId>,
        sealer: &Sealer,
    ) -> StoreResult<Option<OAuthFlow>> {
        let row: Option<OAuthFlowRow> = sqlx::query_as(
            "DELETE FROM oauth_flows
             WHERE state_digest = $1 AND user_id = $2 AND (session_id IS NULL OR session_id = $3)
             RETURNING user_id, session_id, integration_id, reconnect, allow_duplicate, settings,
                       verifier_sealed, redirect_uri, created_at, expires_at",
        )
        .bind(&state_digest[..])
        .bind(user_id.as_uuid())
        .bind(session_id.map(|id| id.as_uuid()))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let integration_id = IntegrationId::from_uuid(row.integration_id);
        Ok(Some(OAuthFlow {
            state_digest: *state_digest,
            user_id: UserId::from_uuid(row.user_id),
            session_id: row.session_id.map(SessionId::from_uuid),
            integration_id,
            reconnect: row.reconnect,
            allow_duplicate: row.allow_duplicate,
            settings: row.settings.0,
            pkce_verifier: sealer.unseal(&row.verifier_sealed, &aad(integration_id, "pkce_verifier"))?,
            redirect_uri: row.redirect_uri,
            created_at: Timestamp::from_millis(row.created_at),
            expires_at: Timestamp::from_millis(row.expires_at),
        }))
    }

    pub(crate) async fn delete_expired_oauth_flows(&self, now: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM oauth_flows WHERE expires_at <= $1")
            .bind(now.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
