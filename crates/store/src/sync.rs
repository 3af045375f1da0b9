//! What the sync engine keeps: cases with their content, HelpDesk agents, sync state and
//! backfill windows, and the lease that lets one server at a time sync an integration.

use std::future::Future;

use scoreline_core::{CaseId, IntegrationId, Timestamp, UserId};
use serde::Serialize;
use serde_json::Value;

use crate::model::{Page, PageRequest};
use crate::store::StoreResult;

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
    pub content: CaseContent,
}

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

/// Where a written page leaves the sync; saved in the same transaction as its cases.
#[derive(Debug, Clone, PartialEq)]
pub enum Checkpoint {
    /// Backfill: window `window_start` of `silo` continues after `after` (or is done).
    Window { silo: String, window_start: Timestamp, after: Option<(Timestamp, String)>, done: bool },
    /// Incremental: everything up to this `updatedAt` has been seen.
    Cursor { updated_at: Timestamp },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWrite {
    /// Cases inserted or changed; older versions are skipped.
    pub written: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Never synced yet.
    Pending,
    Backfilling,
    Live,
    Paused,
    NeedsReauthorization,
    Error,
}

impl SyncPhase {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Backfilling => "backfilling",
            Self::Live => "live",
            Self::Paused => "paused",
            Self::NeedsReauthorization => "needs_reauthorization",
            Self::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Backfilling, Self::Live, Self::Paused, Self::NeedsReauthorization, Self::Error]
            .into_iter()
            .find(|phase| phase.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncState {
    pub phase: SyncPhase,
    /// The incremental cursor: the greatest `updatedAt` HelpDesk has shown us.
    pub cursor_updated_at: Option<Timestamp>,
    pub tickets_stored: u64,
    pub pages_fetched: u64,
    pub windows_total: u64,
    pub windows_done: u64,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// A "sync now" request not yet served.
    pub requested_at: Option<Timestamp>,
    /// When this state last changed (a page, a phase, an error).
    pub changed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncWindow {
    pub silo: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub after: Option<(Timestamp, String)>,
    pub done: bool,
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

pub trait SyncStore: Send + Sync {
    /// Writes a page of cases (newer versions only) and its checkpoint in one transaction.
    fn store_page(
        &self,
        integration_id: IntegrationId,
        cases: &[CaseRecord],
        checkpoint: &Checkpoint,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<PageWrite>> + Send;
    /// The integration's sync state, created as `pending` when missing.
    fn sync_state(
        &self,
        integration_id: IntegrationId,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<SyncState>> + Send;
    fn set_sync_phase(
        &self,
        integration_id: IntegrationId,
        phase: SyncPhase,
        last_error: Option<&str>,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Marks a completed run; clears any error and an answered "sync now".
    fn record_sync_success(
        &self,
        integration_id: IntegrationId,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn request_sync(
        &self,
        integration_id: IntegrationId,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Takes or renews the lease unless another live holder has it.
    fn acquire_sync_lease(
        &self,
        integration_id: IntegrationId,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn release_sync_lease(
        &self,
        integration_id: IntegrationId,
        owner: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Adds the windows that do not exist yet.
    fn plan_windows(
        &self,
        integration_id: IntegrationId,
        windows: &[SyncWindow],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn sync_windows(
        &self,
        integration_id: IntegrationId,
    ) -> impl Future<Output = StoreResult<Vec<SyncWindow>>> + Send;
    /// Replaces the listed agents; agents no longer listed are kept, marked unlisted.
    fn upsert_agents(
        &self,
        integration_id: IntegrationId,
        agents: &[AgentRecord],
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn list_helpdesk_agents(
        &self,
        integration_id: IntegrationId,
    ) -> impl Future<Output = StoreResult<Vec<HelpDeskAgent>>> + Send;
    fn list_cases(
        &self,
        filter: &CaseFilter,
        page: PageRequest,
    ) -> impl Future<Output = StoreResult<Page<StoredCase>>> + Send;
    fn get_case(&self, id: CaseId) -> impl Future<Output = StoreResult<Option<StoredCase>>> + Send;
    fn count_cases(&self, integration_id: IntegrationId) -> impl Future<Output = StoreResult<u64>> + Send;
    /// All cases, and those held back because their agent is matched to nobody.
    fn case_counts(
        &self,
        integration_id: IntegrationId,
    ) -> impl Future<Output = StoreResult<CaseCounts>> + Send;
    /// Cases whose content a purge with this cutoff would remove.
    fn count_purgeable(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Makes deleted content leave the database files (SQLite: checkpoint and truncate the WAL).
    fn flush_deleted(&self) -> impl Future<Output = StoreResult<()>> + Send;
    /// The greatest `updatedAt` among the integration's cases.
    fn newest_case_update(
        &self,
        integration_id: IntegrationId,
    ) -> impl Future<Output = StoreResult<Option<Timestamp>>> + Send;
    /// Removes the content of up to `batch` cases last active before `cutoff`; returns how many.
    fn purge_batch(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
        batch: u32,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}
