//! Typed ids: a `UserId` can never be passed where a `TeamId` is expected.

macro_rules! typed_id {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh UUIDv7, so ids sort by creation time.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(text).map(Self)
            }
        }
    )+};
}

typed_id!(
    /// A person in Scoreline.
    UserId,
    /// A group of teams.
    GroupId,
    /// A team of staff.
    TeamId,
    /// A signed-in browser session (the row id, never the cookie value).
    SessionId,
    /// An API token (the row id, never the token).
    ApiTokenId,
    /// A one-time password reset link (the row id, never the link's secret).
    PasswordResetId,
    /// One sign-in attempt held by the throttle.
    SignInAttemptId,
    /// One entry of the audit log.
    AuditEntryId,
    /// One connection to one HelpDesk account.
    IntegrationId,
    /// One HelpDesk ticket as stored here.
    CaseId,
    /// A scorecard, across its drafts and published versions.
    ScorecardId,
    /// One published (immutable) version of a scorecard: what an evaluation names.
    ScorecardVersionId,
    /// A section of a scorecard; kept from version to version while the section stays.
    SectionId,
    /// A question of a scorecard.
    QuestionId,
    /// An answer option of a question.
    OptionId,
    /// One evaluation of one case with one scorecard version.
    EvaluationId,
    /// An agent's dispute of an evaluation.
    DisputeId,
    /// A saved list of cases for evaluators.
    ListId,
    /// One run of a list.
    RunId,
    /// One case given to one evaluator.
    AssignmentId,
    /// A calibration session: several evaluators scoring one case blind.
    CalibrationId,
);
