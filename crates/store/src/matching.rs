//! Matches between HelpDesk agents and staff. A match is a column on the agent row that cases
//! join through, so matching or unmatching changes what every case query sees at once.

use std::future::Future;

use scoreline_core::{AgentMatch, AuditRecord, IntegrationId, StaffCandidate, TeamId, Timestamp, UserId};

use crate::model::NewUser;
use crate::store::StoreResult;

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
