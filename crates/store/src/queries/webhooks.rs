//! Webhook endpoints: which integration a delivery's URL token belongs to, and how its
//! HelpDesk webhooks stood at the last check.

use scoreline_core::{IntegrationId, IntegrationState, Timestamp, WebhookStatus};
use uuid::Uuid;

use super::Backend;
use crate::StoreResult;
use crate::model::TokenDigest;
use crate::sync::{WebhookEndpoint, split_roles};

/// A delivery is noted at most this often, so a burst of them costs one write.
const DELIVERY_NOTE_EVERY_MS: i64 = 60_000;

#[derive(sqlx::FromRow)]
struct EndpointRow {
    token_digest: Vec<u8>,
    event_types: String,
    checked_at: i64,
    last_error: Option<String>,
    last_delivery_at: Option<i64>,
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = crate::StoreError;

    fn try_from(row: EndpointRow) -> StoreResult<Self> {
        let token_digest = TokenDigest::try_from(row.token_digest.as_slice())
            .map_err(|_| crate::StoreError::Corrupt("webhook_endpoints.token_digest".to_owned()))?;
        Ok(Self {
            token_digest,
            status: WebhookStatus {
                event_types: split_roles(&row.event_types),
                checked_at: Timestamp::from_millis(row.checked_at),
                last_error: row.last_error,
                last_delivery_at: row.last_delivery_at.map(Timestamp::from_millis),
            },
        })
    }
}

impl Backend {
    pub(crate) async fn webhook_endpoint(
        &self,
        integration_id: IntegrationId,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        let row: Option<EndpointRow> = sqlx::query_as(
            "SELECT token_digest, event_types, checked_at, last_error, last_delivery_at
             FROM webhook_endpoints WHERE integration_id = $1",
        )
        .bind(integration_id.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        row.map(WebhookEndpoint::try_from).transpose()
    }

    /// Creates or replaces the endpoint: its token digest and the outcome of a check. The time
    /// of the last delivery stays while the token does. Only for a connected integration: false
    /// when it was disconnected meanwhile.
    pub(crate) async fn save_webhook_endpoint(
        &self,
        integration_id: IntegrationId,
        endpoint: &WebhookEndpoint,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let status = &endpoint.status;
        let saved = sqlx::query(
            "INSERT INTO webhook_endpoints
                 (integration_id, token_digest, event_types, checked_at, last_error, created_at)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM integrations WHERE id = $1 AND state = $7)
             ON CONFLICT (integration_id) DO UPDATE SET
                 last_delivery_at = CASE WHEN webhook_endpoints.token_digest = excluded.token_digest
                                         THEN webhook_endpoints.last_delivery_at END,
                 token_digest = excluded.token_digest, event_types = excluded.event_types,
                 checked_at = excluded.checked_at, last_error = excluded.last_error",
        )
        .bind(integration_id.as_uuid())
        .bind(&endpoint.token_digest[..])
        .bind(status.event_types.join(","))
        .bind(status.checked_at.as_millis())
        .bind(status.last_error.as_deref())
        .bind(now.as_millis())
        .bind(IntegrationState::Connected.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(saved == 1)
    }

    pub(crate) async fn delete_webhook_endpoint(&self, integration_id: IntegrationId) -> StoreResult<()> {
        sqlx::query("DELETE FROM webhook_endpoints WHERE integration_id = $1")
            .bind(integration_id.as_uuid())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The connected integration whose webhook URL carries the token with this digest.
    pub(crate) async fn find_webhook_integration(
        &self,
        digest: &TokenDigest,
    ) -> StoreResult<Option<IntegrationId>> {
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT e.integration_id FROM webhook_endpoints e
             JOIN integrations i ON i.id = e.integration_id
             WHERE e.token_digest = $1 AND i.state = $2",
        )
        .bind(&digest[..])
        .bind(IntegrationState::Connected.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(IntegrationId::from_uuid))
    }

    /// Notes that a delivery came, unless one was noted within the last minute.
    pub(crate) async fn note_webhook_delivery(
        &self,
        integration_id: IntegrationId,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_endpoints SET last_delivery_at = $2
             WHERE integration_id = $1 AND (last_delivery_at IS NULL OR last_delivery_at <= $3)",
        )
        .bind(integration_id.as_uuid())
        .bind(now.as_millis())
        .bind(now.as_millis() - DELIVERY_NOTE_EVERY_MS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
