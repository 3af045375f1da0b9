use scoreline_core::{
    AgentMatch, AuditRecord, CaseCounts, CaseFilter, CaseId, Disconnect, Group, GroupId, Integration,
    IntegrationId, IntegrationSettings, IntegrationState, Page, PageRequest, SessionId, StaffCandidate,
    StoredCase, SyncPhase, SyncState, Team, TeamId, Timestamp, User, UserId,
};

use crate::backends::{PostgresStore, SqliteStore};
use crate::integrations::{
    IntegrationStore, NewCredentials, NewIntegration, OAuthFlow, OAuthTokens, StoredCredentials,
};
use crate::matching::{AutoMatch, MatchingStore, StaffFromAgent};
use crate::model::{
    ImportedUser, NewApiToken, NewGroup, NewSession, NewTeam, NewUser, TokenDigest, UserChange,
    UserCredentials,
};
use crate::store::{Store, StoreResult};
use crate::sync::{AgentRecord, CaseRecord, Checkpoint, HelpDeskAgent, PageWrite, SyncStore, SyncWindow};
use crate::{Sealer, StoreError};

/// The configured database, chosen by the URL's scheme. Handlers hold this, not a generic.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Db {
    /// `sqlite://path/to/file.db` or `postgres://…` (also `postgresql://`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        match Self::backend_of(url)? {
            Backend::Sqlite => Ok(Db::Sqlite(SqliteStore::connect(url).await?)),
            Backend::Postgres => Ok(Db::Postgres(PostgresStore::connect(url).await?)),
        }
    }

    pub fn backend_of(url: &str) -> StoreResult<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config("database URL must start with sqlite:// or postgres://".to_owned()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(store) => store.migrate().await,
            Db::Postgres(store) => store.migrate().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(store) => store.close().await,
            Db::Postgres(store) => store.close().await,
        }
    }
}

macro_rules! dispatch {
    ($self:ident.$method:ident($($arg:expr),*)) => {
        match $self {
            Db::Sqlite(store) => store.$method($($arg),*).await,
            Db::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

impl Store for Db {
    async fn ping(&self) -> StoreResult<()> {
        dispatch!(self.ping())
    }
    async fn create_user(&self, user: &NewUser, audit: &AuditRecord) -> StoreResult<User> {
        dispatch!(self.create_user(user, audit))
    }
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        dispatch!(self.get_user(id))
    }
    async fn find_user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
        dispatch!(self.find_user_credentials(email))
    }
    async fn list_users(&self, page: PageRequest) -> StoreResult<Page<User>> {
        dispatch!(self.list_users(page))
    }
    async fn update_user(&self, id: UserId, change: &UserChange, audit: &AuditRecord) -> StoreResult<bool> {
        dispatch!(self.update_user(id, change, audit))
    }
    async fn set_user_active(
        &self,
        id: UserId,
        active: bool,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        dispatch!(self.set_user_active(id, active, at, audit))
    }
    async fn count_users(&self) -> StoreResult<u64> {
        dispatch!(self.count_users())
    }
    async fn import_users(&self, users: &[ImportedUser], at: Timestamp) -> StoreResult<()> {
        dispatch!(self.import_users(users, at))
    }
    async fn create_group(&self, group: &NewGroup, audit: &AuditRecord) -> StoreResult<Group> {
        dispatch!(self.create_group(group, audit))
    }
    async fn get_group(&self, id: GroupId) -> StoreResult<Option<Group>> {
        dispatch!(self.get_group(id))
    }
    async fn list_groups(&self, page: PageRequest) -> StoreResult<Page<Group>> {
        dispatch!(self.list_groups(page))
    }
    async fn create_team(&self, team: &NewTeam, audit: &AuditRecord) -> StoreResult<Team> {
        dispatch!(self.create_team(team, audit))
    }
    async fn get_team(&self, id: TeamId) -> StoreResult<Option<Team>> {
        dispatch!(self.get_team(id))
    }
    async fn list_teams(&self, page: PageRequest) -> StoreResult<Page<Team>> {
        dispatch!(self.list_teams(page))
    }
    async fn add_team_member(
        &self,
        team_id: TeamId,
        user_id: UserId,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        dispatch!(self.add_team_member(team_id, user_id, at, audit))
    }
    async fn list_team_members(&self, team_id: TeamId) -> StoreResult<Vec<User>> {
        dispatch!(self.list_team_members(team_id))
    }
    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        dispatch!(self.create_session(session))
    }
    async fn find_session_user(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionId, User)>> {
        dispatch!(self.find_session_user(digest, now))
    }
    async fn delete_session(&self, digest: &TokenDigest) -> StoreResult<()> {
        dispatch!(self.delete_session(digest))
    }
    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        dispatch!(self.delete_expired_sessions(now))
    }
    async fn create_api_token(&self, token: &NewApiToken, audit: &AuditRecord) -> StoreResult<()> {
        dispatch!(self.create_api_token(token, audit))
    }
    async fn use_api_token(&self, digest: &TokenDigest, now: Timestamp) -> StoreResult<Option<User>> {
        dispatch!(self.use_api_token(digest, now))
    }
    async fn record_sign_in_failure(&self, throttle_key: &str, at: Timestamp) -> StoreResult<()> {
        dispatch!(self.record_sign_in_failure(throttle_key, at))
    }
    async fn count_sign_in_failures(&self, throttle_key: &str, since: Timestamp) -> StoreResult<u64> {
        dispatch!(self.count_sign_in_failures(throttle_key, since))
    }
    async fn clear_sign_in_failures(&self, throttle_key: &str) -> StoreResult<()> {
        dispatch!(self.clear_sign_in_failures(throttle_key))
    }
    async fn append_audit(&self, audit: &AuditRecord) -> StoreResult<()> {
        dispatch!(self.append_audit(audit))
    }
    async fn list_audit(&self, page: PageRequest) -> StoreResult<Page<AuditRecord>> {
        dispatch!(self.list_audit(page))
    }
}

impl IntegrationStore for Db {
    async fn create_integration(
        &self,
        integration: &NewIntegration,
        credentials: &NewCredentials,
        sealer: &Sealer,
        audit: &AuditRecord,
    ) -> StoreResult<Integration> {
        dispatch!(self.create_integration(integration, credentials, sealer, audit))
    }
    async fn get_integration(&self, id: IntegrationId) -> StoreResult<Option<Integration>> {
        dispatch!(self.get_integration(id))
    }
    async fn list_integrations(&self, page: PageRequest) -> StoreResult<Page<Integration>> {
        dispatch!(self.list_integrations(page))
    }
    async fn count_integrations(&self) -> StoreResult<u64> {
        dispatch!(self.count_integrations())
    }
    async fn update_integration_settings(
        &self,
        id: IntegrationId,
        settings: &IntegrationSettings,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        dispatch!(self.update_integration_settings(id, settings, now, audit))
    }
    async fn set_integration_state(
        &self,
        id: IntegrationId,
        state: IntegrationState,
        last_error: Option<&str>,
        now: Timestamp,
        audit: Option<&AuditRecord>,
    ) -> StoreResult<()> {
        dispatch!(self.set_integration_state(id, state, last_error, now, audit))
    }
    async fn replace_credentials(
        &self,
        id: IntegrationId,
        credentials: &NewCredentials,
        sealer: &Sealer,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        dispatch!(self.replace_credentials(id, credentials, sealer, now, audit))
    }
    async fn load_credentials(
        &self,
        id: IntegrationId,
        sealer: &Sealer,
    ) -> StoreResult<Option<StoredCredentials>> {
        dispatch!(self.load_credentials(id, sealer))
    }
    async fn store_refreshed_tokens(
        &self,
        id: IntegrationId,
        expected_version: i64,
        tokens: &OAuthTokens,
        sealer: &Sealer,
        now: Timestamp,
    ) -> StoreResult<bool> {
        dispatch!(self.store_refreshed_tokens(id, expected_version, tokens, sealer, now))
    }
    async fn try_lock_refresh(
        &self,
        id: IntegrationId,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        dispatch!(self.try_lock_refresh(id, owner, until, now))
    }
    async fn unlock_refresh(&self, id: IntegrationId, owner: &str) -> StoreResult<()> {
        dispatch!(self.unlock_refresh(id, owner))
    }
    async fn disconnect_integration(
        &self,
        id: IntegrationId,
        mode: Disconnect,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        dispatch!(self.disconnect_integration(id, mode, now, audit))
    }
    async fn create_oauth_flow(&self, flow: &OAuthFlow, sealer: &Sealer) -> StoreResult<()> {
        dispatch!(self.create_oauth_flow(flow, sealer))
    }
    async fn take_oauth_flow(
        &self,
        state_digest: &TokenDigest,
        sealer: &Sealer,
    ) -> StoreResult<Option<OAuthFlow>> {
        dispatch!(self.take_oauth_flow(state_digest, sealer))
    }
    async fn delete_expired_oauth_flows(&self, now: Timestamp) -> StoreResult<u64> {
        dispatch!(self.delete_expired_oauth_flows(now))
    }
}

impl SyncStore for Db {
    async fn store_page(
        &self,
        integration_id: IntegrationId,
        cases: &[CaseRecord],
        checkpoint: &Checkpoint,
        now: Timestamp,
    ) -> StoreResult<PageWrite> {
        dispatch!(self.store_page(integration_id, cases, checkpoint, now))
    }
    async fn sync_state(&self, integration_id: IntegrationId, now: Timestamp) -> StoreResult<SyncState> {
        dispatch!(self.sync_state(integration_id, now))
    }
    async fn set_sync_phase(
        &self,
        integration_id: IntegrationId,
        phase: SyncPhase,
        last_error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<()> {
        dispatch!(self.set_sync_phase(integration_id, phase, last_error, now))
    }
    async fn record_sync_success(&self, integration_id: IntegrationId, now: Timestamp) -> StoreResult<()> {
        dispatch!(self.record_sync_success(integration_id, now))
    }
    async fn request_sync(&self, integration_id: IntegrationId, now: Timestamp) -> StoreResult<()> {
        dispatch!(self.request_sync(integration_id, now))
    }
    async fn acquire_sync_lease(
        &self,
        integration_id: IntegrationId,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        dispatch!(self.acquire_sync_lease(integration_id, owner, until, now))
    }
    async fn release_sync_lease(&self, integration_id: IntegrationId, owner: &str) -> StoreResult<()> {
        dispatch!(self.release_sync_lease(integration_id, owner))
    }
    async fn plan_windows(&self, integration_id: IntegrationId, windows: &[SyncWindow]) -> StoreResult<()> {
        dispatch!(self.plan_windows(integration_id, windows))
    }
    async fn sync_windows(&self, integration_id: IntegrationId) -> StoreResult<Vec<SyncWindow>> {
        dispatch!(self.sync_windows(integration_id))
    }
    async fn upsert_agents(
        &self,
        integration_id: IntegrationId,
        agents: &[AgentRecord],
        now: Timestamp,
    ) -> StoreResult<()> {
        dispatch!(self.upsert_agents(integration_id, agents, now))
    }
    async fn list_helpdesk_agents(&self, integration_id: IntegrationId) -> StoreResult<Vec<HelpDeskAgent>> {
        dispatch!(self.list_helpdesk_agents(integration_id))
    }
    async fn list_cases(&self, filter: &CaseFilter, page: PageRequest) -> StoreResult<Page<StoredCase>> {
        dispatch!(self.list_cases(filter, page))
    }
    async fn get_case(&self, id: CaseId) -> StoreResult<Option<StoredCase>> {
        dispatch!(self.get_case(id))
    }
    async fn count_cases(&self, integration_id: IntegrationId) -> StoreResult<u64> {
        dispatch!(self.count_cases(integration_id))
    }
    async fn case_counts(&self, integration_id: IntegrationId) -> StoreResult<CaseCounts> {
        dispatch!(self.case_counts(integration_id))
    }
    async fn count_purgeable(&self, integration_id: IntegrationId, cutoff: Timestamp) -> StoreResult<u64> {
        dispatch!(self.count_purgeable(integration_id, cutoff))
    }
    async fn flush_deleted(&self) -> StoreResult<()> {
        dispatch!(self.flush_deleted())
    }
    async fn newest_case_update(&self, integration_id: IntegrationId) -> StoreResult<Option<Timestamp>> {
        dispatch!(self.newest_case_update(integration_id))
    }
    async fn purge_batch(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
        batch: u32,
        now: Timestamp,
    ) -> StoreResult<u64> {
        dispatch!(self.purge_batch(integration_id, cutoff, batch, now))
    }
}

impl MatchingStore for Db {
    async fn list_agent_matches(&self, integration_id: IntegrationId) -> StoreResult<Vec<AgentMatch>> {
        dispatch!(self.list_agent_matches(integration_id))
    }
    async fn get_agent_match(
        &self,
        integration_id: IntegrationId,
        agent_id: &str,
    ) -> StoreResult<Option<AgentMatch>> {
        dispatch!(self.get_agent_match(integration_id, agent_id))
    }
    async fn list_staff_candidates(&self) -> StoreResult<Vec<StaffCandidate>> {
        dispatch!(self.list_staff_candidates())
    }
    async fn set_agent_match(
        &self,
        integration_id: IntegrationId,
        agent_id: &str,
        user_id: Option<UserId>,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        dispatch!(self.set_agent_match(integration_id, agent_id, user_id, audit))
    }
    async fn apply_auto_matches(
        &self,
        integration_id: IntegrationId,
        matches: &[AutoMatch],
    ) -> StoreResult<Vec<String>> {
        dispatch!(self.apply_auto_matches(integration_id, matches))
    }
    async fn create_staff_from_agents(
        &self,
        integration_id: IntegrationId,
        team_id: TeamId,
        staff: &[StaffFromAgent],
        at: Timestamp,
    ) -> StoreResult<()> {
        dispatch!(self.create_staff_from_agents(integration_id, team_id, staff, at))
    }
}
