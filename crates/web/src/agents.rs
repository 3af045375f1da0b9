//! HelpDesk agents and their matches to staff: *Manage Users* and
//! `/api/v1/integrations/{id}/agents`.

use crate::extract::PathId;

pub mod api;
pub mod ui;

/// A HelpDesk agent's `ID` in a path: text as HelpDesk gives it, not one of our UUIDs.
pub struct AgentKey(pub String);

impl PathId for AgentKey {
    const WHAT: &'static str = "agent";

    fn from_segment(segment: &str) -> Option<Self> {
        // No agent id holds a control character; a NUL would only reach PostgreSQL and fail there.
        Some(Self(segment.to_owned())).filter(|key| !key.0.is_empty() && !key.0.chars().any(char::is_control))
    }
}
