//! What the sync engine hands the store and reads back: tickets as cases, checkpoints, backfill
//! windows and HelpDesk agents.

use std::collections::HashMap;

use scoreline_core::{CaseContent, IntegrationId, Timestamp, UserId, WebhookStatus};
use serde::Serialize;

use crate::model::TokenDigest;

/// A ticket as the sync writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub source_id: String,
    pub short_id: Option<String>,
    pub status: String,
    pub priority: Option<i64>,
    pub silo: String,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Option<Timestamp>,
    pub message_count: u32,
    pub event_count: u32,
    /// Public replies written by agents (the "minimum agent messages" filter of lists).
    pub agent_message_count: u32,
    pub content: CaseContent,
}

/// How new one version of a ticket is, as the upsert compares versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    pub updated_at: Timestamp,
    pub event_count: u32,
    pub silo: &'a str,
}

impl Version<'_> {
    /// The sync's newer-only rule: this version replaces `stored` when its `updatedAt` is newer,
    /// or the same with more events or another silo (HelpDesk's times may have whole seconds).
    pub fn replaces(&self, stored: &Version<'_>) -> bool {
        self.updated_at > stored.updated_at
            || (self.updated_at == stored.updated_at
                && (self.event_count > stored.event_count || self.silo != stored.silo))
    }
}

impl CaseRecord {
    pub fn version(&self) -> Version<'_> {
        Version { updated_at: self.updated_at, event_count: self.event_count, silo: &self.silo }
    }
}

/// Where a written page leaves the sync; saved in the same transaction as its cases.
#[derive(Debug, Clone, PartialEq)]
pub enum Checkpoint {
    /// Backfill: window `window_start` of `silo` continues after `after` (or is done).
    Window { silo: String, window_start: Timestamp, after: Option<(Timestamp, String)>, done: bool },
    /// Incremental: everything up to this `updatedAt` has been seen.
    Cursor { updated_at: Timestamp },
    /// A ticket fetched on a webhook's hint: where the sync stands does not move.
    Unchanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWrite {
    /// Cases inserted or changed; older versions are skipped.
    pub written: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncWindow {
    pub silo: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub after: Option<(Timestamp, String)>,
    pub done: bool,
}

/// Where an integration's webhook deliveries are accepted: the digest of the secret token in
/// their URL, and how the webhooks stood at the last check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub token_digest: TokenDigest,
    pub status: WebhookStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub agent_id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelpDeskAgent {
    pub integration_id: IntegrationId,
    pub agent_id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub status: String,
    /// Still listed by HelpDesk (agents removed there stay here for their cases).
    pub listed: bool,
    pub matched_user_id: Option<UserId>,
    pub case_count: u64,
}

/// Agent roles, and the event types of webhooks, are kept as one comma-separated column.
pub(crate) fn split_roles(column: &str) -> Vec<String> {
    column.split(',').filter(|role| !role.is_empty()).map(str::to_owned).collect()
}

/// One record per ticket, as applying them one by one would leave it: a later record replaces
/// an earlier one under the upsert's own rule (newer `updatedAt`, or the same one with more
/// events or another silo). A multi-row upsert may not touch a row twice on PostgreSQL.
pub(crate) fn newest_per_ticket(cases: &[CaseRecord]) -> Vec<&CaseRecord> {
    let mut kept: Vec<&CaseRecord> = Vec::with_capacity(cases.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(cases.len());
    for case in cases {
        match index.get(case.source_id.as_str()) {
            None => {
                index.insert(&case.source_id, kept.len());
                kept.push(case);
            }
            Some(&at) => {
                if case.version().replaces(&kept[at].version()) {
                    kept[at] = case;
                }
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use scoreline_core::{CaseContent, Timestamp};

    use super::{CaseRecord, newest_per_ticket};

    fn case(source_id: &str, updated_at: i64, event_count: u32, silo: &str) -> CaseRecord {
        CaseRecord {
            source_id: source_id.to_owned(),
            short_id: None,
            status: "open".to_owned(),
            priority: None,
            silo: silo.to_owned(),
            team_id: None,
            team_name: None,
            agent_id: None,
            agent_name: None,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(updated_at),
            last_message_at: None,
            message_count: 0,
            agent_message_count: 0,
            event_count,
            content: CaseContent {
                subject: None,
                requester: None,
                tags: Vec::new(),
                custom_fields: serde_json::Value::Null,
                events: scoreline_core::RawJson::empty_array(),
            },
        }
    }

    #[test]
    fn a_ticket_listed_twice_keeps_the_version_the_upsert_would_keep() {
        let cases = [
            case("a", 10, 2, "tickets"),
            case("b", 10, 1, "tickets"),
            case("a", 9, 5, "tickets"),  // older: ignored
            case("b", 10, 1, "archive"), // same version, moved: replaces
            case("a", 10, 3, "tickets"), // same time, more events: replaces
            case("c", 1, 0, "tickets"),
        ];
        let kept: Vec<(&str, i64, u32, &str)> = newest_per_ticket(&cases)
            .iter()
            .map(|c| (c.source_id.as_str(), c.updated_at.as_millis(), c.event_count, c.silo.as_str()))
            .collect();
        assert_eq!(kept, vec![("a", 10, 3, "tickets"), ("b", 10, 1, "archive"), ("c", 1, 0, "tickets")]);
    }

    #[test]
    fn roles_split_on_commas_and_skip_empties() {
        assert_eq!(super::split_roles("admin,,agent"), ["admin", "agent"]);
        assert!(super::split_roles("").is_empty());
    }
}
