//! Matches between HelpDesk agents and staff. A match is a column on the agent row that cases
//! join through, so matching or unmatching changes what every case query sees at once.

use std::future::Future;

use scoreline_core::{IntegrationId, TeamId, Timestamp, UserId};
use serde::Serialize;

use crate::model::{AuditRecord, NewUser};
use crate::store::StoreResult;

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
    /// Normalised (see `scoreline_core::Email`).
    pub email: String,
}

/// One automatic match to apply, with its audit record.
#[derive(Debug, Clone)]
pub struct AutoMatch {
    pub agent_id: String,
    pub user_id: UserId,
    pub audit: AuditRecord,
}

/// A staff member to create from an agent, put in a team and matched to it.
#[derive(Debug, Clone)]
pub struct StaffFromAgent {
    pub agent_id: String,
    pub user: NewUser,
    /// The user's creation, their membership and the match.
    pub audits: Vec<AuditRecord>,
}

pub trait MatchingStore: Send + Sync {
    /// Every agent of the integration, by name.
    fn list_agent_matches(
        &self,
        integration_id: IntegrationId,
    ) -> impl Future<Output = StoreResult<Vec<AgentMatch>>> + Send;
    fn get_agent_match(
        &self,
        integration_id: IntegrationId,
        agent_id: &str,
    ) -> impl Future<Output = StoreResult<Option<AgentMatch>>> + Send;
    /// Active staff, by name.
    fn list_staff_candidates(&self) -> impl Future<Output = StoreResult<Vec<StaffCandidate>>> + Send;
    /// Sets (or with `None` clears) an agent's match by hand; `false` when there is no such agent.
    fn set_agent_match(
        &self,
        integration_id: IntegrationId,
        agent_id: &str,
        user_id: Option<UserId>,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Applies the matches whose agent is still unmatched and was never set by hand, each with its
    /// audit record, in one transaction; returns the agent ids that were matched.
    fn apply_auto_matches(
        &self,
        integration_id: IntegrationId,
        matches: &[AutoMatch],
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
    /// Creates the staff, adds them to the team and matches them, all or nothing. Fails with a
    /// conflict when an agent was matched meanwhile or an email is taken.
    fn create_staff_from_agents(
        &self,
        integration_id: IntegrationId,
        team_id: TeamId,
        staff: &[StaffFromAgent],
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
