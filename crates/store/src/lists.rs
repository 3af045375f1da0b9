//! What the store takes to save lists, runs and assignments, and what a pool read needs.

use scoreline_core::{
    AssignmentId, CaseFilter, CaseId, DateField, Exclusions, ListDefinition, ListId, ListScope, RunId, Scope,
    TeamId, Timestamp, UserId,
};

/// A list's new version (the first one on create).
#[derive(Debug, Clone)]
pub struct ListVersion {
    pub id: ListId,
    pub version: u32,
    pub definition: ListDefinition,
    /// The teams the list's scope covers: who sees the list follows from them.
    pub teams: Vec<TeamId>,
    /// The scope is the whole organisation (only global admins see the list).
    pub whole_scope: bool,
    pub by: UserId,
    pub at: Timestamp,
}

/// Which cases a list's pool holds (DESIGN.md §7.2), minus what this list already picked.
#[derive(Debug, Clone)]
pub struct PoolQuery {
    /// Whose exclusions apply; `None` for a preview of an unsaved list.
    pub list_id: Option<ListId>,
    /// The filters, the integrations and the resolved window; matching and content are set by
    /// the store (matched, not purged, not in trash or spam).
    pub filter: CaseFilter,
    pub staff: ListScope,
    /// The scope of whoever runs it (the system's for a schedule).
    pub within: Scope,
    pub exclude: Exclusions,
    /// Oldest first by this date (sequential order); the others do not need an order.
    pub date_field: DateField,
    pub oldest_first: bool,
    /// Only this staff member's cases (a replacement).
    pub agent: Option<UserId>,
    /// Text the subject must also contain (a person searching the pool of a manual list).
    pub search: Option<String>,
    /// Whether the walk also counts the window's held-back cases (a preview's or a run's
    /// figure), so the window is read once.
    pub count_held_back: bool,
}

#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: RunId,
    pub list_id: ListId,
    pub list_version: u32,
    pub seed: u64,
    pub slot_at: Option<Timestamp>,
    pub window_from: Option<Timestamp>,
    pub window_to: Option<Timestamp>,
    pub pool_total: u64,
    pub held_back: u64,
    pub started_by: Option<UserId>,
    pub at: Timestamp,
    /// Per staff member: pool size and how many were picked.
    pub agents: Vec<(UserId, u64, u64)>,
    pub picks: Vec<NewPick>,
}

#[derive(Debug, Clone, Copy)]
pub struct NewPick {
    pub case_id: CaseId,
    pub agent_user_id: UserId,
    pub position: u32,
    pub rank: u32,
    pub pool: u64,
    pub evaluator_id: Option<UserId>,
    /// The assignment made for it, when it has an evaluator.
    pub assignment_id: Option<AssignmentId>,
}

/// A replacement for a skipped assignment, from the same agent's pool.
#[derive(Debug, Clone, Copy)]
pub struct NewAssignment {
    pub id: AssignmentId,
    pub list_id: Option<ListId>,
    pub run_id: Option<RunId>,
    pub case_id: CaseId,
    pub evaluator_id: UserId,
    pub agent_user_id: UserId,
    pub replaces: Option<AssignmentId>,
    pub at: Timestamp,
}
