//! The audit log: who did what to which record.

use serde::Serialize;

use crate::{AuditEntryId, Timestamp, UserId};

/// Who did something, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditActor {
    pub user_id: Option<UserId>,
    /// An email, or `system` for work done by the command line or a scheduled job.
    pub label: String,
}

impl AuditActor {
    pub fn system() -> Self {
        Self { user_id: None, label: "system".to_owned() }
    }
}

/// One audit entry. `details` must never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: AuditEntryId,
    pub at: Timestamp,
    pub actor: AuditActor,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub details: serde_json::Value,
}
