//! Evaluations (DESIGN.md §7.5): started from any case in scope with a published version,
//! drafts saved as one goes, submit checked question by question, scored by
//! `scoreline_core::score` and stored with the agent of the time; then the agent's
//! acknowledgement or dispute within the window, and its resolution as a new revision.

use std::collections::HashMap;
use std::time::Duration;

use scoreline_core::{
    Answer, AssignmentId, CaseId, Dispute, DisputeId, DisputeStatus, Evaluation, EvaluationFilter,
    EvaluationId, EvaluationKind, EvaluationStatus, FieldErrors, MAX_COMMENT_CHARS, Outcome, Page,
    PageRequest, Permission, Revision, Scope, ScorecardDefinition, ScorecardVersion, ScorecardVersionId,
    UserId, check_answers, choices_of, score,
};
use scoreline_store::model::{DisputeResolution, EvaluationWrite};
use serde::Deserialize;
use serde_json::json;

use crate::{Actor, App, AppError, AppResult};

/// A new evaluation, as the API and the pages submit it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StartEvaluation {
    pub case_id: Option<CaseId>,
    pub scorecard_version_id: Option<ScorecardVersionId>,
    /// The assignment it answers, if it was started from one.
    pub assignment_id: Option<uuid::Uuid>,
    pub answers: Vec<Answer>,
    pub comment: String,
    pub submit: bool,
}

/// A change to a draft; absent parts stay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UpdateEvaluation {
    pub answers: Option<Vec<Answer>>,
    pub comment: Option<String>,
    pub submit: bool,
}

/// How a dispute is resolved.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResolveDispute {
    /// `upheld` or `changed`.
    pub outcome: String,
    pub reason: String,
    /// For `changed`: the evaluation's answers as they now stand (all of them).
    pub answers: Option<Vec<Answer>>,
    pub comment: Option<String>,
}

const MAX_REASON_CHARS: usize = 2000;

fn text(errors: &mut FieldErrors, field: &str, value: &str, required: bool) -> String {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        errors.push(field, "is required");
    } else if trimmed.chars().count() > MAX_REASON_CHARS.max(MAX_COMMENT_CHARS) {
        errors.push(field, format!("must be at most {MAX_COMMENT_CHARS} characters"));
    }
    trimmed.to_owned()
}

/// Answers as every scoring takes them (an evaluation, its revision at a dispute, a
/// calibration scoring, a session's agreed answers): the answers' problems by path, and with
/// `complete` every missing answer and comment by its question; else the overall comment
/// trimmed and the outcome.
pub(crate) fn scored(
    definition: &ScorecardDefinition,
    answers: &[Answer],
    comment: &str,
    complete: bool,
) -> AppResult<(String, Outcome)> {
    let mut problems = check_answers(definition, answers, complete);
    if comment.chars().count() > MAX_COMMENT_CHARS {
        problems.push(scoreline_core::FieldError::new(
            "comment",
            format!("must be at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    Ok((comment.trim().to_owned(), score(definition, &choices_of(answers))))
}

impl App {
    pub async fn start_evaluation(&self, actor: &Actor, input: StartEvaluation) -> AppResult<Evaluation> {
        actor.require(Permission::ViewCases)?;
        let case_id = input.case_id.ok_or_else(|| AppError::field("case_id", "is required"))?;
        let version_id = input
            .scorecard_version_id
            .ok_or_else(|| AppError::field("scorecard_version_id", "is required"))?;
        let case = self.db().get_case(actor.scope(), case_id).await?.ok_or(AppError::NotFound("case"))?;
        let mut errors = FieldErrors::new();
        let version = self.published_version(version_id, &mut errors).await?;
        errors.into_result()?;
        let version = version.ok_or_else(|| AppError::Internal("validated version missing".to_owned()))?;
        let Some(agent) = case.agent_user_id else {
            return Err(AppError::field(
                "case_id",
                "this case's agent is matched to nobody; match the agent first",
            ));
        };
        let me = actor.user().map(|user| user.id);
        let kind = if me == Some(agent) {
            if !version.definition.self_score {
                return Err(AppError::field("case_id", "nobody evaluates their own case"));
            }
            EvaluationKind::SelfScore
        } else {
            actor.require(Permission::Evaluate)?;
            EvaluationKind::Evaluation
        };
        self.check_group_restriction(&version.definition, agent).await?;
        if let Some(assignment) = input.assignment_id {
            self.check_assignment(me, case_id, AssignmentId::from_uuid(assignment)).await?;
        }
        let (comment, outcome) = scored(&version.definition, &input.answers, &input.comment, input.submit)?;
        let now = self.clock().now();
        let evaluation = Evaluation {
            id: EvaluationId::new(),
            case_id,
            case_purged_at: case.purged_at,
            scorecard_id: version.scorecard_id,
            scorecard_version_id: version.id,
            scorecard_version: version.number,
            evaluator_id: me.unwrap_or(agent),
            agent_user_id: Some(agent),
            assignment_id: input.assignment_id,
            kind,
            calibration_id: None,
            status: if input.submit { EvaluationStatus::Submitted } else { EvaluationStatus::Draft },
            answers: input.answers,
            comment,
            outcome,
            revision: u32::from(input.submit),
            created_at: now,
            updated_at: now,
            submitted_at: input.submit.then_some(now),
            acknowledged_at: None,
            disputes: Vec::new(),
        };
        let audit = input.submit.then(|| self.submit_audit(actor, &evaluation));
        self.db().create_evaluation(&evaluation, audit.as_ref()).await?;
        Ok(evaluation)
    }

    /// A published version of a scorecard that still takes evaluations, else a field error.
    pub(crate) async fn published_version(
        &self,
        id: ScorecardVersionId,
        errors: &mut FieldErrors,
    ) -> AppResult<Option<ScorecardVersion>> {
        let Some(version) = self.db().get_scorecard_version_by_id(id).await? else {
            errors.push("scorecard_version_id", "is not a published scorecard version");
            return Ok(None);
        };
        let archived =
            self.db().get_scorecard(version.scorecard_id).await?.is_none_or(|c| c.archived_at.is_some());
        if archived {
            errors.push("scorecard_version_id", "this scorecard is archived and takes no new evaluations");
            return Ok(None);
        }
        Ok(Some(version))
    }

    /// An evaluation may answer only an open assignment of its evaluator, for the same case.
    async fn check_assignment(&self, me: Option<UserId>, case: CaseId, id: AssignmentId) -> AppResult<()> {
        let open = self.db().get_assignment(id).await?.is_some_and(|assignment| {
            Some(assignment.evaluator_id) == me
                && assignment.case_id == case
                && matches!(assignment.status.as_str(), "todo" | "in_progress")
        });
        if open {
            Ok(())
        } else {
            Err(AppError::field("assignment_id", "is not an open assignment of yours for this case"))
        }
    }

    fn submit_audit(&self, actor: &Actor, evaluation: &Evaluation) -> scoreline_core::AuditRecord {
        self.audit(
            actor,
            "evaluation.submit",
            "evaluation",
            &evaluation.id.to_string(),
            json!({ "case_id": evaluation.case_id, "score": evaluation.outcome.score, "kind": evaluation.kind }),
        )
    }

    /// A scorecard restricted to groups scores only their staff.
    pub(crate) async fn check_group_restriction(
        &self,
        definition: &ScorecardDefinition,
        agent: UserId,
    ) -> AppResult<()> {
        if definition.group_ids.is_empty() {
            return Ok(());
        }
        for team in self.db().teams_of(agent).await? {
            if let Some(team) = self.db().get_team(&Scope::Everything, team).await?
                && definition.group_ids.contains(&team.group_id)
            {
                return Ok(());
            }
        }
        Err(AppError::field("scorecard_version_id", "this scorecard is for other groups than this agent's"))
    }

    pub async fn get_evaluation(&self, actor: &Actor, id: EvaluationId) -> AppResult<Evaluation> {
        actor.require(Permission::ViewOwnEvaluations)?;
        let viewer = actor.user().map(|user| user.id);
        self.db().get_evaluation(actor.scope(), viewer, id).await?.ok_or(AppError::NotFound("evaluation"))
    }

    /// The evaluation with the scorecard version it names.
    pub async fn evaluation_with_version(
        &self,
        actor: &Actor,
        id: EvaluationId,
    ) -> AppResult<(Evaluation, ScorecardVersion)> {
        let evaluation = self.get_evaluation(actor, id).await?;
        let version =
            self.db().get_scorecard_version_by_id(evaluation.scorecard_version_id).await?.ok_or_else(
                || AppError::Internal("an evaluation names a missing scorecard version".to_owned()),
            )?;
        Ok((evaluation, version))
    }

    /// The names of the agents and evaluators of `evaluations`, which the caller read through
    /// the actor's scope: whoever may see an evaluation may see who gave and who received it,
    /// so an agent reads their evaluator's name although the evaluator lies outside their scope.
    pub async fn evaluation_people(&self, evaluations: &[Evaluation]) -> AppResult<HashMap<UserId, String>> {
        let mut ids: Vec<UserId> =
            evaluations.iter().flat_map(|e| [Some(e.evaluator_id), e.agent_user_id]).flatten().collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(self.db().user_names(&ids).await?.into_iter().collect())
    }

    pub async fn list_evaluations(
        &self,
        actor: &Actor,
        filter: &EvaluationFilter,
        page: PageRequest,
    ) -> AppResult<Page<Evaluation>> {
        actor.require(Permission::ViewOwnEvaluations)?;
        let viewer = actor.user().map(|user| user.id);
        Ok(self.db().list_evaluations(actor.scope(), viewer, filter, page).await?)
    }

    /// Saves a draft, or submits it: only its evaluator, only while it is a draft.
    pub async fn update_evaluation(
        &self,
        actor: &Actor,
        id: EvaluationId,
        input: UpdateEvaluation,
    ) -> AppResult<Evaluation> {
        let (evaluation, version) = self.evaluation_with_version(actor, id).await?;
        if actor.user().map(|user| user.id) != Some(evaluation.evaluator_id) {
            let role = actor.user().map_or(scoreline_core::Role::GlobalAdmin, |user| user.role);
            return Err(AppError::PermissionDenied { role, permission: Permission::Evaluate });
        }
        if evaluation.status != EvaluationStatus::Draft {
            return Err(AppError::Conflict("A submitted evaluation changes only through a dispute."));
        }
        let answers = input.answers.unwrap_or_else(|| evaluation.answers.clone());
        let comment = input.comment.unwrap_or_else(|| evaluation.comment.clone());
        let (comment, outcome) = scored(&version.definition, &answers, &comment, input.submit)?;
        let write = EvaluationWrite { answers: &answers, comment: &comment, outcome: &outcome };
        let audit = input.submit.then(|| {
            let submitted = Evaluation { outcome: outcome.clone(), ..evaluation };
            self.submit_audit(actor, &submitted)
        });
        if !self.db().save_evaluation(id, &write, self.clock().now(), audit.as_ref()).await? {
            return Err(AppError::Conflict("A submitted evaluation changes only through a dispute."));
        }
        self.get_evaluation(actor, id).await
    }

    pub async fn evaluation_revisions(&self, actor: &Actor, id: EvaluationId) -> AppResult<Vec<Revision>> {
        let evaluation = self.get_evaluation(actor, id).await?;
        Ok(self.db().list_revisions(evaluation.id).await?)
    }

    /// The agent's evaluation, submitted: what acknowledging and disputing need.
    async fn own_submitted(
        &self,
        actor: &Actor,
        id: EvaluationId,
    ) -> AppResult<(Evaluation, ScorecardVersion)> {
        let (evaluation, version) = self.evaluation_with_version(actor, id).await?;
        let me = actor.user().map(|user| user.id);
        if me.is_none() || evaluation.agent_user_id != me || evaluation.kind != EvaluationKind::Evaluation {
            return Err(AppError::Conflict("Only the agent scored answers an evaluation."));
        }
        if evaluation.status != EvaluationStatus::Submitted {
            return Err(AppError::NotFound("evaluation"));
        }
        Ok((evaluation, version))
    }

    pub async fn acknowledge_evaluation(&self, actor: &Actor, id: EvaluationId) -> AppResult<Evaluation> {
        let (evaluation, _) = self.own_submitted(actor, id).await?;
        let audit = self.audit(actor, "evaluation.acknowledge", "evaluation", &id.to_string(), json!({}));
        if !self.db().acknowledge_evaluation(evaluation.id, self.clock().now(), &audit).await? {
            return Err(AppError::Conflict("This evaluation is acknowledged already."));
        }
        self.get_evaluation(actor, id).await
    }

    /// The last moment the agent may dispute `evaluation`.
    pub fn dispute_deadline(
        evaluation: &Evaluation,
        definition: &ScorecardDefinition,
    ) -> Option<scoreline_core::Timestamp> {
        let days = u64::from(definition.dispute_days);
        evaluation.submitted_at.map(|at| at.saturating_add(Duration::from_secs(days * 24 * 3600)))
    }

    pub async fn open_dispute(&self, actor: &Actor, id: EvaluationId, reason: &str) -> AppResult<Dispute> {
        let (evaluation, version) = self.own_submitted(actor, id).await?;
        let mut errors = FieldErrors::new();
        let reason = text(&mut errors, "reason", reason, true);
        errors.into_result()?;
        let now = self.clock().now();
        if Self::dispute_deadline(&evaluation, &version.definition).is_none_or(|deadline| now > deadline) {
            return Err(AppError::Conflict("The dispute window of this evaluation has closed."));
        }
        let dispute = Dispute {
            id: DisputeId::new(),
            evaluation_id: id,
            revision: evaluation.revision,
            opened_by: evaluation.agent_user_id.ok_or(AppError::NotFound("evaluation"))?,
            reason,
            opened_at: now,
            status: DisputeStatus::Open,
            resolved_by: None,
            resolution: None,
            resolved_at: None,
        };
        let audit = self.audit(
            actor,
            "dispute.open",
            "evaluation",
            &id.to_string(),
            json!({ "dispute_id": dispute.id, "revision": dispute.revision }),
        );
        if !self.db().open_dispute(&dispute, &audit).await? {
            return Err(AppError::Conflict("This evaluation is disputed already."));
        }
        Ok(dispute)
    }

    /// Upholds a dispute, or changes the evaluation as its next revision; by someone in scope
    /// other than the agent.
    pub async fn resolve_dispute(
        &self,
        actor: &Actor,
        dispute_id: DisputeId,
        input: ResolveDispute,
    ) -> AppResult<Evaluation> {
        actor.require(Permission::Evaluate)?;
        let evaluation_id =
            self.db().dispute_evaluation(dispute_id).await?.ok_or(AppError::NotFound("dispute"))?;
        let (evaluation, version) =
            self.evaluation_with_version(actor, evaluation_id).await.map_err(|e| match e {
                AppError::NotFound(_) => AppError::NotFound("dispute"),
                other => other,
            })?;
        let Some(me) = actor.user().map(|user| user.id) else {
            return Err(AppError::Conflict("A dispute is resolved by a person."));
        };
        let Some(dispute) = evaluation.disputes.iter().find(|d| d.id == dispute_id) else {
            return Err(AppError::NotFound("dispute"));
        };
        if evaluation.agent_user_id == Some(me) {
            return Err(AppError::Conflict("The agent cannot resolve their own dispute."));
        }
        if dispute.status != DisputeStatus::Open {
            return Err(AppError::Conflict("This dispute is resolved already."));
        }
        let mut errors = FieldErrors::new();
        let reason = text(&mut errors, "reason", &input.reason, true);
        let status = match input.outcome.as_str() {
            "upheld" => Some(DisputeStatus::Upheld),
            "changed" => Some(DisputeStatus::Changed),
            _ => {
                errors.push("outcome", "must be upheld or changed");
                None
            }
        };
        if status == Some(DisputeStatus::Changed) && input.answers.is_none() {
            errors.push("answers", "a changed evaluation needs its answers");
        }
        errors.into_result()?;
        let status = status.ok_or_else(|| AppError::Internal("validated outcome missing".to_owned()))?;
        let answers = input.answers.unwrap_or_default();
        let comment = input.comment.unwrap_or_else(|| evaluation.comment.clone());
        let (comment, outcome) = if status == DisputeStatus::Changed {
            scored(&version.definition, &answers, &comment, true)?
        } else {
            (comment, evaluation.outcome.clone())
        };
        let change = (status == DisputeStatus::Changed).then_some(EvaluationWrite {
            answers: &answers,
            comment: &comment,
            outcome: &outcome,
        });
        let resolution = DisputeResolution {
            dispute_id,
            evaluation_id,
            status,
            reason: &reason,
            by: me,
            at: self.clock().now(),
            change,
        };
        let mut audits = vec![self.audit(
            actor,
            "dispute.resolve",
            "evaluation",
            &evaluation_id.to_string(),
            json!({ "dispute_id": dispute_id, "outcome": status, "score": outcome.score }),
        )];
        if status == DisputeStatus::Changed {
            audits.push(self.audit(
                actor,
                "evaluation.revise",
                "evaluation",
                &evaluation_id.to_string(),
                json!({ "revision": evaluation.revision + 1, "score": outcome.score, "reason": reason }),
            ));
        }
        if !self.db().resolve_dispute(&resolution, &audits).await? {
            return Err(AppError::Conflict("This dispute is resolved already."));
        }
        self.get_evaluation(actor, evaluation_id).await
    }
}
