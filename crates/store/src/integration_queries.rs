//! The queries of [`crate::IntegrationStore`], written once for both backends (see `queries.rs`).

macro_rules! integration_select {
    ($filter:literal) => {
        concat!(
            "SELECT i.id, i.kind, i.label, i.description, i.auth_method, i.account_id, i.retention_value,
                    i.retention_unit, i.backfill_days, i.state, i.last_synced_at, i.last_error,
                    i.created_at, i.updated_at, c.token_last4,
                    (c.integration_id IS NOT NULL) AS credential_set
             FROM integrations i LEFT JOIN integration_credentials c ON c.integration_id = i.id ",
            $filter
        )
    };
}
pub(crate) use integration_select;

macro_rules! integration_from_row {
    ($row:expr) => {{
        let row = $row;
        let corrupt =
            |what: &str, value: String| StoreError::Corrupt(format!("integrations.{what} = `{value}`"));
        let auth_method: String = row.try_get("auth_method")?;
        let state: String = row.try_get("state")?;
        let unit: String = row.try_get("retention_unit")?;
        let value: i64 = row.try_get("retention_value")?;
        let backfill_days: i64 = row.try_get("backfill_days")?;
        Integration {
            id: IntegrationId::from_uuid(row.try_get("id")?),
            kind: row.try_get("kind")?,
            label: row.try_get("label")?,
            description: row.try_get("description")?,
            auth_method: auth_method.parse().map_err(|_| corrupt("auth_method", auth_method.clone()))?,
            account_id: row.try_get("account_id")?,
            retention: Retention::parse(value, &unit)
                .map_err(|_| corrupt("retention", format!("{value} {unit}")))?,
            backfill_days: u32::try_from(backfill_days)
                .map_err(|_| corrupt("backfill_days", backfill_days.to_string()))?,
            state: state.parse().map_err(|_| corrupt("state", state.clone()))?,
            credential_set: row.try_get("credential_set")?,
            token_last4: row.try_get("token_last4")?,
            last_synced_at: row.try_get::<Option<i64>, _>("last_synced_at")?.map(Timestamp::from_millis),
            last_error: row.try_get("last_error")?,
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
            updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        }
    }};
}
pub(crate) use integration_from_row;

/// Upserts the sealed credentials of `$id` inside transaction `$tx`.
macro_rules! write_credentials {
    ($tx:expr, $id:expr, $credentials:expr, $sealer:expr, $now:expr) => {{
        let id: IntegrationId = $id;
        let sealer: &Sealer = $sealer;
        let seal =
            |secret: &SecretString, column: &str| sealer.seal(secret.expose_secret(), &aad(id, column));
        let (token, last4, access, refresh, expires_at) = match $credentials {
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
        .bind($now.as_millis())
        .execute($tx)
        .await?;
    }};
}
pub(crate) use write_credentials;

macro_rules! impl_integration_store {
    ($store:ty) => {
        impl $crate::IntegrationStore for $store {
            async fn create_integration(
                &self,
                integration: &NewIntegration,
                credentials: &NewCredentials,
                sealer: &Sealer,
                audit: &AuditRecord,
            ) -> StoreResult<Integration> {
                let settings = &integration.settings;
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO integrations
                         (id, kind, label, description, auth_method, account_id, retention_value,
                          retention_unit, backfill_days, state, created_at, updated_at)
                     VALUES ($1, 'helpdesk', $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(integration.id.as_uuid())
                .bind(&settings.label)
                .bind(&settings.description)
                .bind(integration.auth_method.as_str())
                .bind(integration.account_id.as_deref())
                .bind(i64::from(settings.retention.value))
                .bind(settings.retention.unit.as_str())
                .bind(i64::from(settings.backfill_days))
                .bind(IntegrationState::Connected.as_str())
                .bind(integration.created_at.as_millis())
                .execute(&mut *tx)
                .await?;
                write_credentials!(&mut *tx, integration.id, credentials, sealer, integration.created_at);
                write_audit!(&mut *tx, audit);
                let row = sqlx::query(integration_select!("WHERE i.id = $1"))
                    .bind(integration.id.as_uuid())
                    .fetch_one(&mut *tx)
                    .await?;
                let created = integration_from_row!(&row);
                tx.commit().await?;
                Ok(created)
            }

            async fn get_integration(&self, id: IntegrationId) -> StoreResult<Option<Integration>> {
                let row = sqlx::query(integration_select!("WHERE i.id = $1"))
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row { Some(row) => Some(integration_from_row!(&row)), None => None })
            }

            async fn list_integrations(&self, page: PageRequest) -> StoreResult<Page<Integration>> {
                let rows = sqlx::query(integration_select!("WHERE ($1 IS NULL OR i.id > $1) ORDER BY i.id LIMIT $2"))
                    .bind(page.after)
                    .bind(i64::from(page.limit) + 1)
                    .fetch_all(&self.pool)
                    .await?;
                let items = rows.iter().map(|row| Ok(integration_from_row!(row))).collect::<StoreResult<Vec<_>>>()?;
                Ok(Page::from_overfetch(items, page.limit, |integration| integration.id.as_uuid()))
            }

            async fn count_integrations(&self) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM integrations").fetch_one(&self.pool).await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn update_integration_settings(
                &self,
                id: IntegrationId,
                settings: &IntegrationSettings,
                now: Timestamp,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
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
                if updated == 0 {
                    return Ok(false);
                }
                write_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn set_integration_state(
                &self,
                id: IntegrationId,
                state: IntegrationState,
                last_error: Option<&str>,
                now: Timestamp,
                audit: Option<&AuditRecord>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE integrations SET state = $2, last_error = $3, updated_at = $4 WHERE id = $1")
                    .bind(id.as_uuid())
                    .bind(state.as_str())
                    .bind(last_error)
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
                if let Some(audit) = audit {
                    write_audit!(&mut *tx, audit);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn replace_credentials(
                &self,
                id: IntegrationId,
                credentials: &NewCredentials,
                sealer: &Sealer,
                now: Timestamp,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                write_credentials!(&mut *tx, id, credentials, sealer, now);
                sqlx::query("UPDATE integrations SET state = $2, last_error = NULL, updated_at = $3 WHERE id = $1")
                    .bind(id.as_uuid())
                    .bind(IntegrationState::Connected.as_str())
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
                write_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn load_credentials(&self, id: IntegrationId, sealer: &Sealer) -> StoreResult<Option<StoredCredentials>> {
                let row = sqlx::query(
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
                let token = unseal(row.try_get("token_sealed")?, "token")?;
                let access = unseal(row.try_get("access_token_sealed")?, "access_token")?;
                let refresh = unseal(row.try_get("refresh_token_sealed")?, "refresh_token")?;
                let expires_at = row.try_get::<Option<i64>, _>("access_expires_at")?.map(Timestamp::from_millis);
                Ok(Some(StoredCredentials {
                    version: row.try_get("version")?,
                    token,
                    oauth: access.map(|access_token| OAuthTokens { access_token, refresh_token: refresh, expires_at }),
                }))
            }

            async fn store_refreshed_tokens(
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

            async fn try_lock_refresh(
                &self,
                id: IntegrationId,
                owner: &str,
                until: Timestamp,
                now: Timestamp,
            ) -> StoreResult<bool> {
                Ok(take_lease!(
                    &self.pool,
                    "integration_credentials",
                    "refresh_lock_owner",
                    "refresh_lock_until",
                    id,
                    owner,
                    until,
                    now
                ))
            }

            async fn unlock_refresh(&self, id: IntegrationId, owner: &str) -> StoreResult<()> {
                release_lease!(&self.pool, "integration_credentials", "refresh_lock_owner", "refresh_lock_until", id, owner);
                Ok(())
            }

            async fn disconnect_integration(
                &self,
                id: IntegrationId,
                mode: Disconnect,
                now: Timestamp,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM integration_credentials WHERE integration_id = $1")
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                match mode {
                    Disconnect::KeepCases => {
                        sqlx::query("UPDATE integrations SET state = $2, last_error = NULL, updated_at = $3 WHERE id = $1")
                            .bind(id.as_uuid())
                            .bind(IntegrationState::Disconnected.as_str())
                            .bind(now.as_millis())
                            .execute(&mut *tx)
                            .await?;
                    }
                    Disconnect::RemoveEverything => {
                        sqlx::query("DELETE FROM integrations WHERE id = $1").bind(id.as_uuid()).execute(&mut *tx).await?;
                    }
                }
                write_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn create_oauth_flow(&self, flow: &OAuthFlow, sealer: &Sealer) -> StoreResult<()> {
                let verifier = sealer.seal(flow.pkce_verifier.expose_secret(), &aad(flow.integration_id, "pkce_verifier"))?;
                sqlx::query(
                    "INSERT INTO oauth_flows (state_digest, user_id, session_id, integration_id, reconnect, settings,
                         verifier_sealed, redirect_uri, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&flow.state_digest[..])
                .bind(flow.user_id.as_uuid())
                .bind(flow.session_id.map(|id| id.as_uuid()))
                .bind(flow.integration_id.as_uuid())
                .bind(flow.reconnect)
                .bind(sqlx::types::Json(&flow.settings))
                .bind(verifier)
                .bind(&flow.redirect_uri)
                .bind(flow.created_at.as_millis())
                .bind(flow.expires_at.as_millis())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_oauth_flow(&self, state_digest: &TokenDigest, sealer: &Sealer) -> StoreResult<Option<OAuthFlow>> {
                let row = sqlx::query(
                    "DELETE FROM oauth_flows WHERE state_digest = $1
                     RETURNING state_digest, user_id, session_id, integration_id, reconnect, settings,
                               verifier_sealed, redirect_uri, created_at, expires_at",
                )
                .bind(&state_digest[..])
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let integration_id = IntegrationId::from_uuid(row.try_get("integration_id")?);
                let settings: sqlx::types::Json<IntegrationSettings> = row.try_get("settings")?;
                let sealed: String = row.try_get("verifier_sealed")?;
                let session_id: Option<uuid::Uuid> = row.try_get("session_id")?;
                Ok(Some(OAuthFlow {
                    state_digest: *state_digest,
                    user_id: UserId::from_uuid(row.try_get("user_id")?),
                    session_id: session_id.map(SessionId::from_uuid),
                    integration_id,
                    reconnect: row.try_get("reconnect")?,
                    settings: settings.0,
                    pkce_verifier: sealer.unseal(&sealed, &aad(integration_id, "pkce_verifier"))?,
                    redirect_uri: row.try_get("redirect_uri")?,
                    created_at: Timestamp::from_millis(row.try_get("created_at")?),
                    expires_at: Timestamp::from_millis(row.try_get("expires_at")?),
                }))
            }

            async fn delete_expired_oauth_flows(&self, now: Timestamp) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM oauth_flows WHERE expires_at <= $1")
                    .bind(now.as_millis())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_integration_store;
