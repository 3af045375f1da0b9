//! Matches between HelpDesk agents and staff, as Manage Users shows them.

use serde::Serialize;

use crate::{IntegrationId, UserId};

/// Who made a match: the email rule, or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchSource {
    Auto,
    /// Chosen by a person; automatic matching leaves the agent alone from then on, also when the
    /// choice was to leave it unmatched.
    Manual,
}

impl MatchSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Auto, Self::Manual].into_iter().find(|source| source.as_str() == text)
    }
}

/// The staff member an agent is matched to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedUser {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub active: bool,
}

/// A HelpDesk agent with its match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentMatch {
    pub integration_id: IntegrationId,
    pub agent_id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub status: String,
    pub listed: bool,
    pub case_count: u64,
    pub matched_user: Option<MatchedUser>,
    /// `None` when nobody and no rule has touched the agent yet.
    pub match_source: Option<MatchSource>,
}

impl AgentMatch {
    /// Cases not offered to lists because the agent is matched to nobody.
    pub fn held_back_count(&self) -> u64 {
        if self.matched_user.is_some() { 0 } else { self.case_count }
    }
}

/// An active staff member as matching compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCandidate {
    pub id: UserId,
    pub name: String,
    /// Normalised (see [`crate::Email`]).
    pub email: String,
}
