//! Cases as stored from HelpDesk tickets, and how they are filtered and counted.

use serde::Serialize;
use serde_json::Value;

use crate::{CaseId, IntegrationId, Timestamp, UserId};

/// The part of a case that retention removes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseContent {
    pub subject: Option<String>,
    /// `{ "name": …, "email": … }`
    pub requester: Option<Value>,
    pub tags: Vec<String>,
    pub custom_fields: Value,
    /// The ticket's events as HelpDesk sent them (messages, notes, status and assignment changes).
    pub events: Value,
}

/// A stored case as the API shows it; `content` is `None` once purged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCase {
    pub id: CaseId,
    pub integration_id: IntegrationId,
    pub source_id: String,
    pub short_id: Option<String>,
    pub status: String,
    pub priority: Option<i64>,
    pub silo: String,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    /// The Scoreline user matched to the assigned agent.
    pub agent_user_id: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Option<Timestamp>,
    pub message_count: u32,
    pub event_count: u32,
    pub purged_at: Option<Timestamp>,
    /// Gone once purged, like everything in `content`.
    pub subject: Option<String>,
    pub requester: Option<Value>,
    pub tags: Vec<String>,
    /// The full content (with events), read for one case only.
    pub content: Option<CaseContent>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CaseCounts {
    pub total: u64,
    pub held_back: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub integration_id: Option<IntegrationId>,
    pub agent_user_id: Option<UserId>,
    pub status: Option<String>,
    pub updated_from: Option<Timestamp>,
    pub updated_to: Option<Timestamp>,
}
