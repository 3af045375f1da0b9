//! [`Db`], the store the app holds: SQLite or PostgreSQL, chosen by URL, with every query of
//! `queries/` forwarded to the backend in one line.

use scoreline_core::{
    AgentMatch, Agreed, ApiToken, ApiTokenId, Assignment, AssignmentId, AuditRecord, Calibration,
    CalibrationFilter, CalibrationId, CaseCounts, CaseFilter, CaseId, DateField, Disconnect, Dispute,
    DisputeId, Evaluation, EvaluationFilter, EvaluationId, ExportCursor, ExportedEvaluation, Group, GroupId,
    Integration, IntegrationId, IntegrationSettings, IntegrationState, LicenseId, List, ListDefinition,
    ListId, ListRun, Page, PageRequest, PoolSink, RateLimitWait, ResultFilter, ResultSink, Revision, RunId,
    Scope, Scorecard, ScorecardDefinition, ScorecardId, ScorecardVersion, ScorecardVersionId, SessionId,
    SignInAdmission, SignInAttemptId, StaffCandidate, StoredCase, SyncPhase, SyncState, Team, TeamId,
    Timestamp, UnitName, User, UserId,
};

use crate::integrations::{NewCredentials, NewIntegration, OAuthFlow, OAuthTokens, StoredCredentials};
use crate::lists::{ListVersion, NewAssignment, NewRun, PoolQuery};
use crate::matching::{AutoMatch, StaffFromAgent};
use crate::model::{
    DisputeResolution, EvaluationWrite, ImportedUser, Membership, NewApiToken, NewGroup, NewPasswordReset,
    NewScorecard, NewSession, NewTeam, NewUser, SignInAttempt, SignInLimits, TokenDigest, UserChange,
    UserCredentials,
};
use crate::sync::{
    AgentRecord, CaseRecord, Checkpoint, HelpDeskAgent, PageWrite, SyncWindow, WebhookEndpoint,
};
use crate::{PostgresStore, Sealer, SqliteStore, StoreError, StoreResult};

/// The configured database, chosen by the URL's scheme. Handlers hold this, not a generic.
/// Mutations take the audit record they produce, and write both in one transaction.
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

    pub async fn close(&self) {
        match self {
            Db::Sqlite(store) => store.close().await,
            Db::Postgres(store) => store.close().await,
        }
    }
}

/// Each line `name(Type, …) -> T;` becomes `pub async fn name(&self, arg1: Type, …) -> StoreResult<T>`
/// (without `-> T`, `StoreResult<()>`) running the backend's query of that name; its parameters
/// are named and documented where it is written, in `queries/`.
macro_rules! forward {
    ($($name:ident($($ty:ty),*) $(-> $ret:ty)?;)*) => {
        impl Db {
            $(forward!(@method $name [$($ty),*] [arg1 arg2 arg3 arg4 arg5 arg6] [] [$($ret)?]);)*
        }
    };
    // Names the next parameter.
    (@method $name:ident [$ty:ty $(, $rest:ty)*] [$arg:ident $($args:ident)*] [$($named:tt)*] $ret:tt) => {
        forward!(@method $name [$($rest),*] [$($args)*] [$($named)* $arg: $ty,] $ret);
    };
    (@method $name:ident [] [$($unused:ident)*] [$($arg:ident: $ty:ty,)*] [$($ret:ty)?]) => {
        pub async fn $name(&self, $($arg: $ty),*) -> StoreResult<forward!(@returns $($ret)?)> {
            match self {
                Db::Sqlite(store) => store.$name($($arg),*).await,
                Db::Postgres(store) => store.$name($($arg),*).await,
            }
        }
    };
    (@returns) => { () };
    (@returns $ret:ty) => { $ret };
}

forward! {
    migrate();
    ping();
    refresh_statistics();

    // users.rs
    create_user(&NewUser, &AuditRecord) -> User;
    get_user(&Scope, UserId) -> Option<User>;
    user_names(&[UserId]) -> Vec<(UserId, String)>;
    find_user_credentials(&str) -> Option<UserCredentials>;
    list_users(&Scope, PageRequest) -> Page<User>;
    list_staff_candidates(&Scope) -> Vec<StaffCandidate>;
    update_user(UserId, &UserChange, &AuditRecord) -> bool;
    set_user_active(UserId, bool, Timestamp, &AuditRecord) -> bool;
    count_users() -> u64;
    import_users(&[ImportedUser], Timestamp);
    create_group(&NewGroup, &AuditRecord) -> Group;
    get_group(&Scope, GroupId) -> Option<Group>;
    list_groups(&Scope, PageRequest) -> Page<Group>;
    create_team(&NewTeam, &AuditRecord) -> Team;
    get_team(&Scope, TeamId) -> Option<Team>;
    list_teams(&Scope, PageRequest) -> Page<Team>;
    add_team_member(TeamId, UserId, Timestamp, &AuditRecord);
    remove_team_member(TeamId, UserId, &AuditRecord) -> bool;
    rename_group(GroupId, &UnitName, &AuditRecord) -> bool;
    rename_team(TeamId, &UnitName, &AuditRecord) -> bool;
    list_team_members(TeamId) -> Vec<User>;
    teams_of(UserId) -> Vec<TeamId>;
    teams_of_groups_of(UserId) -> Vec<TeamId>;

    // sessions.rs
    create_session(&NewSession);
    find_session_user(&TokenDigest, Timestamp) -> Option<(SessionId, User)>;
    delete_session(&TokenDigest);
    delete_expired_sessions(Timestamp) -> u64;
    create_api_token(&NewApiToken, &AuditRecord);
    list_api_tokens(UserId, PageRequest) -> Page<ApiToken>;
    revoke_api_tokens(UserId, Option<ApiTokenId>, Timestamp, &AuditRecord) -> u64;
    use_api_token(&TokenDigest, Timestamp) -> Option<User>;
    set_password(UserId, &str, Option<SessionId>, Timestamp, &AuditRecord) -> bool;
    create_password_reset(&NewPasswordReset, &AuditRecord);
    find_password_reset(&TokenDigest, Timestamp) -> Option<User>;
    use_password_reset(&TokenDigest, UserId, &str, Timestamp, &AuditRecord) -> bool;
    reserve_sign_in(&SignInAttempt, &SignInLimits) -> SignInAdmission;
    release_sign_in(SignInAttemptId);
    clear_sign_in(&str, &str);
    delete_stale_credentials(Timestamp, Timestamp) -> u64;

    // audit.rs
    append_audit(&AuditRecord);
    list_audit(PageRequest) -> Page<AuditRecord>;

    // integrations.rs
    create_integration(&NewIntegration, &NewCredentials, &Sealer, &AuditRecord) -> Integration;
    get_integration(IntegrationId) -> Option<Integration>;
    list_integrations(PageRequest) -> Page<Integration>;
    count_integrations() -> u64;
    update_integration_settings(IntegrationId, &IntegrationSettings, Timestamp, &AuditRecord) -> bool;
    fill_integration_license(IntegrationId, LicenseId) -> bool;
    set_integration_state(IntegrationId, IntegrationState, Option<&str>, Timestamp, Option<&AuditRecord>);
    replace_credentials(IntegrationId, &NewCredentials, &Sealer, Timestamp, &AuditRecord);
    load_credentials(IntegrationId, &Sealer) -> Option<StoredCredentials>;
    store_refreshed_tokens(IntegrationId, i64, &OAuthTokens, &Sealer, Timestamp) -> bool;
    try_lock_refresh(IntegrationId, &str, Timestamp, Timestamp) -> bool;
    unlock_refresh(IntegrationId, &str);
    disconnect_integration(IntegrationId, Disconnect, Timestamp, &AuditRecord);
    create_oauth_flow(&OAuthFlow, &Sealer);
    take_oauth_flow(&TokenDigest, UserId, Option<SessionId>, &Sealer) -> Option<OAuthFlow>;
    delete_expired_oauth_flows(Timestamp) -> u64;

    // sync.rs
    store_page(IntegrationId, &[CaseRecord], &Checkpoint, Timestamp) -> PageWrite;
    sync_state(IntegrationId, Timestamp) -> SyncState;
    set_sync_phase(IntegrationId, SyncPhase, Option<&str>, Timestamp);
    record_sync_success(IntegrationId, u64, Timestamp);
    record_sync_failure(IntegrationId, SyncPhase, &str, Timestamp);
    note_rate_limit(IntegrationId, Option<RateLimitWait>);
    note_backfill_resumed(IntegrationId, u32, Timestamp);
    request_sync(IntegrationId, Timestamp);
    acquire_sync_lease(IntegrationId, &str, Timestamp, Timestamp) -> bool;
    release_sync_lease(IntegrationId, &str);
    plan_windows(IntegrationId, &[SyncWindow]);
    sync_windows(IntegrationId) -> Vec<SyncWindow>;
    upsert_agents(IntegrationId, &[AgentRecord], Timestamp);

    // webhooks.rs
    webhook_endpoint(IntegrationId) -> Option<WebhookEndpoint>;
    save_webhook_endpoint(IntegrationId, &WebhookEndpoint, Timestamp) -> bool;
    delete_webhook_endpoint(IntegrationId);
    find_webhook_integration(&TokenDigest) -> Option<IntegrationId>;
    note_webhook_delivery(IntegrationId, Timestamp);

    // cases.rs
    list_cases(&Scope, &CaseFilter, PageRequest) -> Page<StoredCase>;
    count_filtered_cases(&Scope, &CaseFilter) -> CaseCounts;
    get_case(&Scope, CaseId) -> Option<StoredCase>;
    find_cases_by_reference(&Scope, &str) -> Vec<StoredCase>;
    cases_by_ids(&Scope, &[CaseId]) -> Vec<StoredCase>;
    count_cases(IntegrationId) -> u64;
    case_counts(IntegrationId) -> CaseCounts;
    newest_case_update(IntegrationId) -> Option<Timestamp>;
    case_version(IntegrationId, &str) -> Option<(Timestamp, u32, String)>;
    count_purgeable(IntegrationId, Timestamp) -> u64;
    count_held_for_disputes(IntegrationId, Timestamp) -> u64;
    count_held_for_calibrations(IntegrationId, Timestamp) -> u64;
    purge_batch(IntegrationId, Timestamp, u32, Timestamp) -> u64;
    flush_deleted();

    // lists.rs
    save_list_version(&ListVersion, &AuditRecord);
    set_list_archived(ListId, Option<Timestamp>, &AuditRecord) -> bool;
    get_list(&Scope, ListId) -> Option<List>;
    list_lists(&Scope, bool, PageRequest) -> Page<List>;
    list_definition(ListId, u32) -> Option<ListDefinition>;
    stream_pool(&PoolQuery, &mut (dyn PoolSink + '_)) -> u64;
    list_picked_positions(ListId, DateField) -> Vec<(UserId, Timestamp, CaseId)>;
    create_run(&NewRun, &AuditRecord) -> bool;
    get_run(ListId, RunId) -> Option<ListRun>;
    list_runs(ListId, PageRequest) -> Page<ListRun>;
    list_assignments(UserId, Option<String>, PageRequest) -> Page<Assignment>;
    run_assignments(RunId) -> Vec<Assignment>;
    case_assignments(CaseId) -> Vec<Assignment>;
    get_assignment(AssignmentId) -> Option<Assignment>;
    count_open_assignments(UserId) -> u64;
    skip_assignment(AssignmentId, &str, Option<&NewAssignment>, Timestamp, &AuditRecord) -> bool;
    scheduled_lists() -> Vec<List>;

    // matching.rs
    list_agent_matches(&Scope, IntegrationId) -> Vec<AgentMatch>;
    list_helpdesk_agents(IntegrationId) -> Vec<HelpDeskAgent>;
    get_agent_match(&Scope, IntegrationId, &str) -> Option<AgentMatch>;
    set_agent_match(IntegrationId, &str, Option<UserId>, &AuditRecord) -> bool;
    apply_auto_matches(IntegrationId, &[AutoMatch]) -> Vec<String>;
    create_staff_from_agents(IntegrationId, TeamId, &[StaffFromAgent], Timestamp);

    // scorecards.rs
    create_scorecard(&NewScorecard, &AuditRecord) -> Scorecard;
    get_scorecard(ScorecardId) -> Option<Scorecard>;
    list_scorecards(bool, PageRequest) -> Page<Scorecard>;
    save_scorecard_draft(ScorecardId, &ScorecardDefinition, Timestamp, &AuditRecord) -> bool;
    publish_scorecard(ScorecardId, ScorecardVersionId, Option<UserId>, Timestamp, &AuditRecord) -> Option<ScorecardVersion>;
    archive_scorecard(ScorecardId, Timestamp, &AuditRecord) -> bool;
    get_scorecard_version(ScorecardId, u32) -> Option<ScorecardVersion>;
    get_scorecard_version_by_id(ScorecardVersionId) -> Option<ScorecardVersion>;
    list_scorecard_versions(ScorecardId) -> Vec<ScorecardVersion>;

    // evaluations.rs
    create_evaluation(&Evaluation, Option<&AuditRecord>);
    get_evaluation(&Scope, Option<UserId>, EvaluationId) -> Option<Evaluation>;
    list_evaluations(&Scope, Option<UserId>, &EvaluationFilter, PageRequest) -> Page<Evaluation>;
    save_evaluation(EvaluationId, &EvaluationWrite<'_>, Timestamp, Option<&AuditRecord>) -> bool;
    list_revisions(EvaluationId) -> Vec<Revision>;
    dispute_evaluation(DisputeId) -> Option<EvaluationId>;
    acknowledge_evaluation(EvaluationId, Timestamp, &AuditRecord) -> bool;
    open_dispute(&Dispute, &AuditRecord) -> bool;
    resolve_dispute(&DisputeResolution<'_>, &[AuditRecord]) -> bool;

    // results.rs
    stream_results(&Scope, &ResultFilter, bool, &mut (dyn ResultSink + '_));
    summarise_results(&Scope, &ResultFilter, &[(Timestamp, Timestamp)], &mut (dyn ResultSink + '_));
    result_span(&Scope, &ResultFilter) -> Option<(Timestamp, Timestamp)>;
    export_evaluations(&Scope, &ResultFilter, Option<ExportCursor>, u32) -> Vec<ExportedEvaluation>;
    latest_evaluations(&Scope, &ResultFilter, u32) -> Vec<ExportedEvaluation>;
    memberships_in_scope(&Scope) -> Vec<Membership>;
    scorecard_names() -> Vec<(ScorecardId, String)>;
    agent_disputes(&Scope, UserId, u32) -> Vec<Dispute>;
    count_open_disputes(&Scope) -> u64;
    calibration_scorings(CalibrationId) -> Vec<Evaluation>;

    // calibrations.rs
    create_calibration(&Calibration, &AuditRecord);
    get_calibration(&Scope, Option<UserId>, CalibrationId) -> Option<Calibration>;
    list_calibrations(&Scope, Option<UserId>, &CalibrationFilter, PageRequest) -> Page<Calibration>;
    close_calibration(CalibrationId, Timestamp, &AuditRecord) -> bool;
    set_calibration_agreed(CalibrationId, &Agreed, &AuditRecord) -> bool;
}
