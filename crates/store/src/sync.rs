//! What the sync engine keeps: cases with their content, HelpDesk agents, sync state and
//! backfill windows, and the lease that lets one server at a time sync an integration.

use std::future::Future;

use crate::store::StoreResult;
use scoreline_core::{
    CaseContent, CaseCounts, CaseFilter, CaseId, IntegrationId, Page, PageRequest, StoredCase, SyncPhase,
    SyncState, Timestamp, UserId,
};
use serde::Serialize;

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
