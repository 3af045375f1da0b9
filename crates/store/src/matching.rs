//! Matches between HelpDesk agents and staff. A match is a column on the agent row that cases
//! join through, so matching or unmatching changes what every case query sees at once.

use scoreline_core::{AuditRecord, UserId};

use crate::model::NewUser;

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
