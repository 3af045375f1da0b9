//! Cases as stored from HelpDesk tickets, and how they are filtered and counted.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CaseId, GroupId, IntegrationId, RawJson, TeamId, Timestamp, UserId};

/// The part of a case that retention removes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseContent {
    pub subject: Option<String>,
    /// `{ "name": …, "email": … }`
    pub requester: Option<Value>,
    pub tags: Vec<String>,
    pub custom_fields: Value,
    /// The ticket's events as HelpDesk sent them (messages, notes, status and assignment changes),
    /// as the JSON text received.
    pub events: RawJson,
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
    /// Public replies written by agents.
    pub agent_message_count: u32,
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

/// A date of a case that filters and sorting can use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateField {
    Created,
    #[default]
    Updated,
    LastMessage,
}

impl DateField {
    pub const ALL: [DateField; 3] = [DateField::Created, DateField::Updated, DateField::LastMessage];

    pub const fn as_str(self) -> &'static str {
        match self {
            DateField::Created => "created",
            DateField::Updated => "updated",
            DateField::LastMessage => "last_message",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            DateField::Created => "Created",
            DateField::Updated => "Updated",
            DateField::LastMessage => "Last message",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|field| field.as_str() == text)
            .ok_or_else(|| "Choose created, updated or last_message.".to_owned())
    }
}

/// `from ≤ date < to` on one date field; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub field: DateField,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Which cases a read wants: the one filter of the cases page, the cases API and list pools.
/// Every empty `Vec` and `None` means "no restriction"; values within one `Vec` are alternatives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub integration_ids: Vec<IntegrationId>,
    /// Staff members matched to the case's agent.
    pub agent_user_ids: Vec<UserId>,
    /// Scoreline teams of the matched staff member.
    pub team_ids: Vec<TeamId>,
    /// Scoreline groups of the matched staff member's teams.
    pub group_ids: Vec<GroupId>,
    pub statuses: Vec<String>,
    pub priorities: Vec<i64>,
    pub helpdesk_team_ids: Vec<String>,
    /// Cases carrying any of these tags.
    pub tags: Vec<String>,
    /// Every range must hold.
    pub dates: Vec<DateRange>,
    /// Case-insensitive text in the subject.
    pub subject_contains: Option<String>,
    /// At least this many public replies by agents.
    pub min_agent_messages: Option<u32>,
    /// `Some(true)`: the agent is matched to staff; `Some(false)`: held back (an agent, unmatched).
    pub matched: Option<bool>,
    pub purged: Option<bool>,
    /// `tickets`, `archive`, `trash`, `spam`.
    pub silos: Vec<String>,
    /// Newest first by this date, then by id.
    pub sort: DateField,
}

impl CaseFilter {
    pub fn of_integration(id: IntegrationId) -> Self {
        Self { integration_ids: vec![id], ..Self::default() }
    }
}

/// The HelpDesk statuses, each with how people read it.
pub const CASE_STATUSES: [(&str, &str); 5] = [
    ("open", "Open"),
    ("pending", "Pending"),
    ("onhold", "On hold"),
    ("solved", "Solved"),
    ("closed", "Closed"),
];

/// A HelpDesk status as people read it (`onhold` is "On hold"); one we do not know, as it came.
pub fn status_label(status: &str) -> &str {
    CASE_STATUSES.iter().find(|(value, _)| *value == status).map_or(status, |(_, label)| label)
}
