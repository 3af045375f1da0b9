//! The audit log. Mutations write their record with [`write_audit`] in their own transaction.

use scoreline_core::{AuditActor, AuditEntryId, AuditRecord, Page, PageRequest, Timestamp, UserId};
use sqlx::Executor;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Backend, Database, WriteTransaction};
use crate::StoreResult;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Uuid,
    at: i64,
    actor_id: Option<Uuid>,
    actor_label: String,
    action: String,
    target_kind: String,
    target_id: String,
    details: Json<serde_json::Value>,
}

impl From<AuditRow> for AuditRecord {
    fn from(row: AuditRow) -> Self {
        Self {
            id: AuditEntryId::from_uuid(row.id),
            at: Timestamp::from_millis(row.at),
            actor: AuditActor { user_id: row.actor_id.map(UserId::from_uuid), label: row.actor_label },
            action: row.action,
            target_kind: row.target_kind,
            target_id: row.target_id,
            details: row.details.0,
        }
    }
}

pub(super) async fn write_audit(
    executor: impl Executor<'_, Database = Database>,
    audit: &AuditRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, actor_label, action, target_kind, target_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(audit.id.as_uuid())
    .bind(audit.at.as_millis())
    .bind(audit.actor.user_id.map(|id| id.as_uuid()))
    .bind(&audit.actor.label)
    .bind(&audit.action)
    .bind(&audit.target_kind)
    .bind(&audit.target_id)
    .bind(Json(&audit.details))
    .execute(executor)
    .await?;
    Ok(())
}

/// Ends an audited single-row change: `false` when no row was changed (nothing is written),
/// else the audit record is added and the transaction committed.
pub(super) async fn commit_audited_change(
    mut tx: WriteTransaction,
    changed: u64,
    audit: &AuditRecord,
) -> StoreResult<bool> {
    if changed == 0 {
        return Ok(false);
    }
    write_audit(&mut *tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

impl Backend {
    pub(crate) async fn append_audit(&self, audit: &AuditRecord) -> StoreResult<()> {
        write_audit(&self.pool, audit).await
    }

    /// Newest first.
    pub(crate) async fn list_audit(&self, page: PageRequest) -> StoreResult<Page<AuditRecord>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor_id, actor_label, action, target_kind, target_id, details FROM audit_log
             WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(page.after)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows.into_iter().map(AuditRecord::from).collect();
        Ok(Page::from_overfetch(items, page.limit, |entry| entry.id.as_uuid()))
    }
}
