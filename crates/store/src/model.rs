//! What the app hands the store to write: inputs take validated newtypes. The records read
//! back (users, teams, audit entries, pages) are `scoreline_core`'s.

use scoreline_core::{
    Answer, ApiTokenId, AuditRecord, DisputeId, DisputeStatus, Email, EvaluationId, GroupId, Outcome,
    PasswordResetId, PersonName, Role, ScorecardDefinition, ScorecardId, SessionId, SignInAttemptId, TeamId,
    Timestamp, UnitName, User, UserId,
};

/// A user as sign-in needs it: with the stored password hash, if any.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub name: PersonName,
    pub role: Role,
    /// An argon2id PHC string; `None` for staff who never sign in.
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
}

/// New values for a user's editable fields.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub email: Email,
    pub name: PersonName,
    pub role: Role,
    pub at: Timestamp,
}

/// A user created by a bulk import, with their team and audit records.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub user: NewUser,
    pub team_id: Option<TeamId>,
    pub audits: Vec<AuditRecord>,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub id: GroupId,
    pub name: UnitName,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub id: TeamId,
    pub group_id: GroupId,
    pub name: UnitName,
    pub created_at: Timestamp,
}

/// Only the SHA-256 digest of a session or API token is ever stored.
pub type TokenDigest = [u8; 32];

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub token_digest: TokenDigest,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: ApiTokenId,
    pub token_digest: TokenDigest,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// A one-time link that sets a user's password; only its digest is stored.
#[derive(Debug, Clone)]
pub struct NewPasswordReset {
    pub id: PasswordResetId,
    pub token_digest: TokenDigest,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// One sign-in attempt to reserve: the normalised email and the client address it came from.
#[derive(Debug, Clone)]
pub struct SignInAttempt {
    pub id: SignInAttemptId,
    pub email_key: String,
    pub client_key: String,
    pub at: Timestamp,
}

/// The throttle's limits for one reservation: attempts not known to have succeeded since
/// `since` count against each limit.
#[derive(Debug, Clone)]
pub struct SignInLimits {
    pub since: Timestamp,
    /// Per email and address together: reaching it locks that pair.
    pub per_pair: u64,
    /// Per address, whatever the email: reaching it locks the address.
    pub per_client: u64,
    /// Per email, from every address: reaching it only spaces attempts out.
    pub per_email: u64,
    /// Past `per_email`, no attempt for the email is admitted while another came after this.
    pub spaced_since: Timestamp,
}

/// A new scorecard: its first draft.
#[derive(Debug, Clone)]
pub struct NewScorecard {
    pub id: ScorecardId,
    pub definition: ScorecardDefinition,
    pub at: Timestamp,
}

/// An evaluation's answers and what they score.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationWrite<'a> {
    pub answers: &'a [Answer],
    pub comment: &'a str,
    pub outcome: &'a Outcome,
}

/// How a dispute closes: upheld, or changed with the evaluation's next revision.
#[derive(Debug, Clone)]
pub struct DisputeResolution<'a> {
    pub dispute_id: DisputeId,
    pub evaluation_id: EvaluationId,
    pub status: DisputeStatus,
    pub reason: &'a str,
    pub by: UserId,
    pub at: Timestamp,
    pub change: Option<EvaluationWrite<'a>>,
}

/// One membership of a staff member, with the names results show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user_id: UserId,
    pub team_id: TeamId,
    pub team_name: String,
    pub group_id: GroupId,
    pub group_name: String,
}
