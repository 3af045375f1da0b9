//! Rows as the rest of Scoreline sees them. Inputs take validated newtypes; rows read back
//! hold plain values that were validated on the way in.

use scoreline_core::{
    ApiTokenId, AuditEntryId, Email, GroupId, PersonName, Role, SessionId, TeamId, Timestamp, UnitName,
    UserId,
};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A user as sign-in needs it: with the stored password hash, if any.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub name: PersonName,
    pub role: Role,
    /// An argon2id PHC string; `None` for staff who never sign in.
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
}

/// New values for a user's editable fields.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub email: Email,
    pub name: PersonName,
    pub role: Role,
    pub at: Timestamp,
}

/// A user created by a bulk import, with their team and audit records.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub user: NewUser,
    pub team_id: Option<TeamId>,
    pub audits: Vec<AuditRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub id: GroupId,
    pub name: UnitName,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: TeamId,
    pub group_id: GroupId,
    pub name: String,
    pub member_count: u64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub id: TeamId,
    pub group_id: GroupId,
    pub name: UnitName,
    pub created_at: Timestamp,
}

/// Only the SHA-256 digest of a session or API token is ever stored.
pub type TokenDigest = [u8; 32];

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub token_digest: TokenDigest,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: ApiTokenId,
    pub token_digest: TokenDigest,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
}

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

/// Keyset paging over UUIDv7 ids, which sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts, when there is one.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says that more exist.
    pub(crate) fn from_overfetch(mut items: Vec<T>, limit: u32, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = limit as usize;
        let next_after = if items.len() > limit {
            items.truncate(limit);
            items.last().map(id_of)
        } else {
            None
        };
        Self { items, next_after }
    }
}
