//! The `Store` trait: everything Scoreline keeps, on either backend.

use std::future::Future;

use scoreline_core::{
    AuditRecord, Group, GroupId, Page, PageRequest, SessionId, Team, TeamId, Timestamp, User, UserId,
};

use crate::StoreError;
use crate::model::{
    ImportedUser, NewApiToken, NewGroup, NewSession, NewTeam, NewUser, TokenDigest, UserChange,
    UserCredentials,
};

pub type StoreResult<T> = Result<T, StoreError>;

/// Mutations take the audit record they produce, and write both in one transaction.
pub trait Store: Send + Sync {
    /// Succeeds when the database answers a trivial query.
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send;

    fn create_user(
        &self,
        user: &NewUser,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<User>> + Send;
    fn get_user(&self, id: UserId) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    /// `email` must be normalised (see `scoreline_core::Email`).
    fn find_user_credentials(
        &self,
        email: &str,
    ) -> impl Future<Output = StoreResult<Option<UserCredentials>>> + Send;
    fn list_users(&self, page: PageRequest) -> impl Future<Output = StoreResult<Page<User>>> + Send;
    /// Changes a user's email, name and role; `false` when there is no such user.
    fn update_user(
        &self,
        id: UserId,
        change: &UserChange,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Activates or deactivates a user (ending their sessions); `false` when there is no such user.
    fn set_user_active(
        &self,
        id: UserId,
        active: bool,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn count_users(&self) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Creates the users with their memberships and audit records in one transaction: all or none.
    fn import_users(
        &self,
        users: &[ImportedUser],
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    fn create_group(
        &self,
        group: &NewGroup,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<Group>> + Send;
    fn get_group(&self, id: GroupId) -> impl Future<Output = StoreResult<Option<Group>>> + Send;
    fn list_groups(&self, page: PageRequest) -> impl Future<Output = StoreResult<Page<Group>>> + Send;

    fn create_team(
        &self,
        team: &NewTeam,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<Team>> + Send;
    fn get_team(&self, id: TeamId) -> impl Future<Output = StoreResult<Option<Team>>> + Send;
    fn list_teams(&self, page: PageRequest) -> impl Future<Output = StoreResult<Page<Team>>> + Send;
    fn add_team_member(
        &self,
        team_id: TeamId,
        user_id: UserId,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn list_team_members(&self, team_id: TeamId) -> impl Future<Output = StoreResult<Vec<User>>> + Send;

    fn create_session(&self, session: &NewSession) -> impl Future<Output = StoreResult<()>> + Send;
    /// The active user behind an unexpired session.
    fn find_session_user(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<Option<(SessionId, User)>>> + Send;
    fn delete_session(&self, digest: &TokenDigest) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_expired_sessions(&self, now: Timestamp) -> impl Future<Output = StoreResult<u64>> + Send;

    fn create_api_token(
        &self,
        token: &NewApiToken,
        audit: &AuditRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The active user behind an unrevoked API token; records the use.
    fn use_api_token(
        &self,
        digest: &TokenDigest,
        now: Timestamp,
    ) -> impl Future<Output = StoreResult<Option<User>>> + Send;

    fn record_sign_in_failure(
        &self,
        throttle_key: &str,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn count_sign_in_failures(
        &self,
        throttle_key: &str,
        since: Timestamp,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn clear_sign_in_failures(&self, throttle_key: &str) -> impl Future<Output = StoreResult<()>> + Send;

    fn append_audit(&self, audit: &AuditRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// Newest first.
    fn list_audit(&self, page: PageRequest) -> impl Future<Output = StoreResult<Page<AuditRecord>>> + Send;
}
