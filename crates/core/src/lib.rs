//! Scoreline's domain: typed ids, validated inputs, roles and the permission matrix, the Clock,
//! and the records that pages, the API and the command line show.
//! No I/O lives here.

mod agreement;
mod audit;
mod calibration;
mod cases;
mod clock;
mod credentials;
mod evaluation;
mod ids;
mod integration;
mod lists;
mod matching;
mod page;
mod raw_json;
mod results;
mod role;
mod scope;
mod scorecard;
mod scoring;
mod staff;
mod sync;
mod timestamp;
mod validate;

pub use agreement::{Agreement, Undefined, interval_alpha, nominal_alpha};
pub use audit::{AuditActor, AuditRecord};
pub use calibration::{
    Agreed, Calibration, CalibrationFilter, CalibrationStatus, ChoiceView, Comparison, Deviation,
    OptionCount, ParticipantAnswer, QuestionSpread, ScoreSpread, Units,
};
pub use cases::{
    CASE_STATUSES, CaseContent, CaseCounts, CaseFilter, DateField, DateRange, StoredCase, status_label,
};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use credentials::{ApiToken, SignInAdmission};
pub use evaluation::{
    Dispute, DisputeStatus, Evaluation, EvaluationFilter, EvaluationKind, EvaluationStatus, Revision,
};
pub use ids::*;
pub use integration::{
    AccountId, AuthMethod, BackfillDays, Disconnect, Integration, IntegrationSettings, IntegrationState,
    LicenseId, Retention, RetentionUnit, check_retention_covers_backfill,
};
pub use lists::{
    Assignment, EvaluatorShare, Every, Exclusions, List, ListDefinition, ListFilters, ListKind, ListRun,
    ListScope, Per, Period, Pick, PoolCase, PoolPage, PoolSink, Relative, RunAgent, RunPick, Sampler,
    Schedule, check_schedule, largest_remainder, latest_slot, resolve_window, sample_key, split_evaluators,
    time_zone,
};
pub use matching::{AgentMatch, MatchSource, MatchedUser, StaffCandidate};
pub use page::{Page, PageRequest};
pub use raw_json::RawJson;
pub use results::{
    Aggregation, Distribution, ExportCursor, ExportedEvaluation, Figures, GroupBy, Interval, ResultCell,
    ResultFilter, ResultItem, ResultKey, ResultRow, ResultSink, local_date,
};
pub use role::{Permission, Role, UnknownRole};
pub use scope::Scope;
pub use scorecard::{
    Answer, AnswerOption, FailRule, MAX_COMMENT_CHARS, OptionInput, Question, QuestionInput, Scorecard,
    ScorecardDefinition, ScorecardInput, ScorecardVersion, Section, SectionInput, check_answers, choices_of,
    diff,
};
pub use scoring::{Choice, Outcome, Score, SectionScore, score};
pub use staff::{Group, Team, User};
pub use sync::{
    Eta, LastRun, RateLimitWait, SyncPhase, SyncState, WebhookStatus, WindowReach, backfill_ppm,
    estimate_left,
};
pub use timestamp::Timestamp;
pub use validate::{Description, Email, FieldError, FieldErrors, Label, NewPassword, PersonName, UnitName};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    #[error("a {role} may not do this ({permission:?})")]
    PermissionDenied { role: Role, permission: Permission },
}

impl Role {
    /// The proof that `self` holds `permission`, or the error that says why not.
    pub fn require(self, permission: Permission) -> Result<(), CoreError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(CoreError::PermissionDenied { role: self, permission })
        }
    }
}
