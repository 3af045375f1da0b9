//! Evaluations and feedback (DESIGN.md §7.5): a case scored with one published scorecard
//! version, its revisions, and the agent's acknowledgement or dispute.

use serde::Serialize;

use crate::{
    Answer, CalibrationId, CaseId, DisputeId, EvaluationId, Outcome, ScorecardId, ScorecardVersionId,
    Timestamp, UserId,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationStatus {
    Draft,
    Submitted,
}

impl EvaluationStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Draft, Self::Submitted].into_iter().find(|s| s.as_str() == text)
    }
}

/// An evaluation by someone else, an agent's self-score, or a participant's scoring in a
/// calibration session; only evaluations count in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationKind {
    Evaluation,
    SelfScore,
    Calibration,
}

impl EvaluationKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Evaluation => "evaluation",
            Self::SelfScore => "self",
            Self::Calibration => "calibration",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Evaluation, Self::SelfScore, Self::Calibration].into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub id: EvaluationId,
    pub case_id: CaseId,
    /// When retention removed the case's content; the evaluation stays as it was.
    pub case_purged_at: Option<Timestamp>,
    pub scorecard_id: ScorecardId,
    pub scorecard_version_id: ScorecardVersionId,
    pub scorecard_version: u32,
    pub evaluator_id: UserId,
    /// The staff member matched to the case's agent when the evaluation was started.
    pub agent_user_id: Option<UserId>,
    pub assignment_id: Option<uuid::Uuid>,
    pub kind: EvaluationKind,
    /// The calibration session a scoring of kind `calibration` belongs to.
    pub calibration_id: Option<CalibrationId>,
    pub status: EvaluationStatus,
    pub answers: Vec<Answer>,
    pub comment: String,
    pub outcome: Outcome,
    /// 0 for a draft, 1 once submitted, one more per change after a dispute.
    pub revision: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    /// Newest first.
    pub disputes: Vec<Dispute>,
}

impl Evaluation {
    pub fn open_dispute(&self) -> Option<&Dispute> {
        self.disputes.iter().find(|d| d.status == DisputeStatus::Open)
    }
}

/// Which evaluations a list wants; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluationFilter {
    pub agent_user_id: Option<UserId>,
    pub evaluator_id: Option<UserId>,
    pub scorecard_id: Option<ScorecardId>,
    pub case_id: Option<CaseId>,
    pub status: Option<EvaluationStatus>,
    pub kind: Option<EvaluationKind>,
    /// Submitted (or, for drafts, created) at or after.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// One submitted state of an evaluation, kept for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub revision: u32,
    pub answers: Vec<Answer>,
    pub comment: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Why it changed; empty for the first submission.
    pub reason: String,
    pub revised_by: Option<UserId>,
    pub revised_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    Open,
    /// The evaluation stands as it was.
    Upheld,
    /// The evaluation was changed as a new revision.
    Changed,
}

impl DisputeStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Upheld => "upheld",
            Self::Changed => "changed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Upheld, Self::Changed].into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dispute {
    pub id: DisputeId,
    pub evaluation_id: EvaluationId,
    /// The revision disputed.
    pub revision: u32,
    pub opened_by: UserId,
    pub reason: String,
    pub opened_at: Timestamp,
    pub status: DisputeStatus,
    pub resolved_by: Option<UserId>,
    pub resolution: Option<String>,
    pub resolved_at: Option<Timestamp>,
}
