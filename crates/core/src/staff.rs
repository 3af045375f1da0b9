//! Staff as the rest of Scoreline shows them: users, groups and teams. Read back from storage,
//! they hold plain values that were validated on the way in.

use serde::Serialize;

use crate::{GroupId, Role, TeamId, Timestamp, UserId};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
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
