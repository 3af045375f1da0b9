//! Calibration sessions (DESIGN.md §7.6): a facilitator picks a case in scope, a published
//! version and participants; each participant scores the case blind (their scoring is an
//! evaluation of kind `calibration`, scored like any other, never counted in results); the
//! facilitator closes the session, then sees (with everyone who may see it) the answers side by
//! side, records the agreed answers and reads the agreement.

use scoreline_core::{
    Agreed, Agreement, Answer, AuditRecord, Calibration, CalibrationFilter, CalibrationId, CalibrationStatus,
    CaseId, Comparison, Evaluation, EvaluationId, EvaluationKind, EvaluationStatus, FieldErrors, Page,
    PageRequest, Permission, Role, Scope, ScorecardVersion, ScorecardVersionId, StoredCase, Timestamp, Units,
    UserId,
};
use scoreline_store::model::EvaluationWrite;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::evaluations::scored;
use crate::{Actor, App, AppError, AppResult};

/// A new session, as the API and the create form give it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateCalibration {
    pub case_id: Option<CaseId>,
    pub scorecard_version_id: Option<ScorecardVersionId>,
    pub participant_ids: Vec<UserId>,
    pub due_at: Option<Timestamp>,
}

/// A participant's scoring: saved as a draft, or submitted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ScoreCalibration {
    pub answers: Vec<Answer>,
    pub comment: String,
    pub submit: bool,
}

/// A session as `actor` may see it: blind while open (only the viewer's own scoring), the
/// comparison once closed.
#[derive(Debug, Clone)]
pub struct CalibrationDetail {
    pub calibration: Calibration,
    pub version: ScorecardVersion,
    /// The viewer's own scoring, if they take part and have started it.
    pub own: Option<Evaluation>,
    pub is_participant: bool,
    pub is_facilitator: bool,
    /// Once closed.
    pub comparison: Option<Comparison>,
}

/// Agreement over every closed session in a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeriodAgreement {
    pub sessions: usize,
    pub options: Agreement,
    pub scores: Agreement,
}

/// At least two are needed for agreement to mean anything.
pub const MIN_PARTICIPANTS: usize = 2;
pub const MAX_PARTICIPANTS: usize = 50;

impl App {
    pub async fn create_calibration(
        &self,
        actor: &Actor,
        input: CreateCalibration,
    ) -> AppResult<Calibration> {
        actor.require(Permission::Evaluate)?;
        let Some(me) = actor.user().map(|u| u.id) else {
            return Err(AppError::Conflict("A calibration session is facilitated by a person."));
        };
        let mut errors = FieldErrors::new();
        let case = match input.case_id {
            None => {
                errors.push("case_id", "is required: pick the case to calibrate on");
                None
            }
            Some(id) => {
                let case = self.db().get_case(actor.scope(), id).await?;
                if case.is_none() {
                    errors.push("case_id", "is not a case you can see");
                }
                case
            }
        };
        let agent = case.as_ref().and_then(|c| c.agent_user_id);
        if case.is_some() && agent.is_none() {
            errors.push("case_id", "this case's agent is matched to nobody; match the agent first");
        }
        let version = match input.scorecard_version_id {
            None => {
                errors.push("scorecard_version_id", "is required: pick a published scorecard");
                None
            }
            Some(id) => self.published_version(id, &mut errors).await?,
        };
        if let (Some(version), Some(agent)) = (&version, agent)
            && let Err(AppError::Validation(problems)) =
                self.check_group_restriction(&version.definition, agent).await
        {
            for problem in problems {
                errors.push(&problem.field, problem.message);
            }
        }
        let participants =
            self.checked_participants(actor, &input.participant_ids, agent, &mut errors).await?;
        let now = self.clock().now();
        if input.due_at.is_some_and(|due| due <= now) {
            errors.push("due_at", "must lie in the future");
        }
        errors.into_result()?;
        let (Some(case), Some(agent), Some(version)) = (case, agent, version) else {
            return Err(AppError::Internal("validated calibration input missing".to_owned()));
        };
        let calibration = Calibration {
            id: CalibrationId::new(),
            case_id: case.id,
            agent_user_id: agent,
            scorecard_id: version.scorecard_id,
            scorecard_version_id: version.id,
            scorecard_version: version.number,
            facilitator_id: me,
            participants,
            submitted: Vec::new(),
            due_at: input.due_at,
            status: CalibrationStatus::Open,
            created_at: now,
            closed_at: None,
            agreed: None,
        };
        let audit = self.audit(
            actor,
            "calibration.create",
            "calibration",
            &calibration.id.to_string(),
            json!({
                "case_id": calibration.case_id,
                "scorecard_version_id": calibration.scorecard_version_id,
                "participant_ids": calibration.participants,
            }),
        );
        self.db().create_calibration(&calibration, &audit).await?;
        Ok(calibration)
    }

    /// Participants: people in the actor's scope who may evaluate, not the case's agent, each
    /// once; each problem at `participant_ids[i]`.
    async fn checked_participants(
        &self,
        actor: &Actor,
        ids: &[UserId],
        agent: Option<UserId>,
        errors: &mut FieldErrors,
    ) -> AppResult<Vec<UserId>> {
        let mut participants = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let at = format!("participant_ids[{i}]");
            if participants.contains(id) {
                errors.push(&at, "is named twice");
                continue;
            }
            match self.db().get_user(actor.scope(), *id).await? {
                None => errors.push(&at, "is not a person you can see"),
                Some(user) if !user.active => errors.push(&at, format!("{} is deactivated", user.name)),
                Some(user) if Some(user.id) == agent => {
                    errors.push(
                        &at,
                        format!("{} is this case's agent; nobody scores their own case", user.name),
                    );
                }
                Some(user) if !user.role.can(Permission::Evaluate) => {
                    errors.push(&at, format!("{} is an employee and may not evaluate", user.name));
                }
                Some(user) => participants.push(user.id),
            }
        }
        if ids.len() < MIN_PARTICIPANTS {
            errors.push(
                "participant_ids",
                format!("needs at least {MIN_PARTICIPANTS} participants to compare"),
            );
        } else if ids.len() > MAX_PARTICIPANTS {
            errors.push("participant_ids", format!("takes at most {MAX_PARTICIPANTS} participants"));
        }
        participants.sort_unstable();
        Ok(participants)
    }

    async fn readable_calibration(&self, actor: &Actor, id: CalibrationId) -> AppResult<Calibration> {
        actor.require(Permission::Evaluate)?;
        let viewer = actor.user().map(|u| u.id);
        self.db().get_calibration(actor.scope(), viewer, id).await?.ok_or(AppError::NotFound("calibration"))
    }

    async fn version_of(&self, calibration: &Calibration) -> AppResult<ScorecardVersion> {
        self.db()
            .get_scorecard_version_by_id(calibration.scorecard_version_id)
            .await?
            .ok_or_else(|| AppError::Internal("a calibration names a missing scorecard version".to_owned()))
    }

    /// The session as `actor` may see it; blind while it is open.
    pub async fn get_calibration(&self, actor: &Actor, id: CalibrationId) -> AppResult<CalibrationDetail> {
        let calibration = self.readable_calibration(actor, id).await?;
        let version = self.version_of(&calibration).await?;
        let me = actor.user().map(|u| u.id);
        let is_participant = me.is_some_and(|me| calibration.participants.contains(&me));
        let is_facilitator = me == Some(calibration.facilitator_id);
        let scorings = self.db().calibration_scorings(id).await?;
        let own = scorings.iter().find(|e| Some(e.evaluator_id) == me).cloned();
        let comparison = (!calibration.is_open()).then(|| {
            Comparison::of(
                &version.definition,
                &calibration.participants,
                &scorings,
                calibration.agreed.as_ref(),
            )
        });
        Ok(CalibrationDetail { calibration, version, own, is_participant, is_facilitator, comparison })
    }

    /// The case of a session, for those who may see the session: participants from other teams
    /// see it through their part in the session. `None` once deleted.
    pub async fn calibration_case(&self, actor: &Actor, id: CalibrationId) -> AppResult<Option<StoredCase>> {
        let calibration = self.readable_calibration(actor, id).await?;
        Ok(self.db().get_case(&Scope::Everything, calibration.case_id).await?)
    }

    pub async fn list_calibrations(
        &self,
        actor: &Actor,
        filter: &CalibrationFilter,
        page: PageRequest,
    ) -> AppResult<Page<Calibration>> {
        actor.require(Permission::Evaluate)?;
        let viewer = actor.user().map(|u| u.id);
        Ok(self.db().list_calibrations(actor.scope(), viewer, filter, page).await?)
    }

    /// Alpha over every closed session the actor may see, closed in `[from, to)`.
    pub async fn calibration_agreement(
        &self,
        actor: &Actor,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> AppResult<PeriodAgreement> {
        let filter = CalibrationFilter {
            status: Some(CalibrationStatus::Closed),
            closed_from: from,
            closed_to: to,
            ..CalibrationFilter::default()
        };
        let mut units = Vec::new();
        let mut versions: Vec<ScorecardVersion> = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let sessions = self.list_calibrations(actor, &filter, page).await?;
            for calibration in &sessions.items {
                if !versions.iter().any(|v| v.id == calibration.scorecard_version_id) {
                    versions.push(self.version_of(calibration).await?);
                }
                let Some(version) = versions.iter().find(|v| v.id == calibration.scorecard_version_id) else {
                    continue;
                };
                let scorings = self.db().calibration_scorings(calibration.id).await?;
                let participating =
                    scorings.iter().filter(|e| calibration.participants.contains(&e.evaluator_id));
                units.push(Units::of(&version.definition, participating));
            }
            match sessions.next_after {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        let (options, scores) = Units::agreement(&units);
        Ok(PeriodAgreement { sessions: units.len(), options, scores })
    }

    /// Saves the participant's scoring as a draft, or submits it; only while the session is open.
    pub async fn score_calibration(
        &self,
        actor: &Actor,
        id: CalibrationId,
        input: ScoreCalibration,
    ) -> AppResult<Evaluation> {
        let calibration = self.readable_calibration(actor, id).await?;
        let me = actor.user().map(|u| u.id);
        let Some(me) = me.filter(|me| calibration.participants.contains(me)) else {
            return Err(self.denied(actor));
        };
        if !calibration.is_open() {
            return Err(AppError::Conflict("This calibration session is closed; scorings change no more."));
        }
        let version = self.version_of(&calibration).await?;
        let (comment, outcome) = scored(&version.definition, &input.answers, &input.comment, input.submit)?;
        let existing = self.db().calibration_scorings(id).await?.into_iter().find(|e| e.evaluator_id == me);
        let now = self.clock().now();
        let Some(existing) = existing else {
            let evaluation = Evaluation {
                id: EvaluationId::new(),
                case_id: calibration.case_id,
                case_purged_at: None,
                scorecard_id: calibration.scorecard_id,
                scorecard_version_id: calibration.scorecard_version_id,
                scorecard_version: calibration.scorecard_version,
                evaluator_id: me,
                agent_user_id: Some(calibration.agent_user_id),
                assignment_id: None,
                kind: EvaluationKind::Calibration,
                calibration_id: Some(id),
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
            let audit = input.submit.then(|| self.scoring_audit(actor, &calibration, evaluation.id));
            self.db().create_evaluation(&evaluation, audit.as_ref()).await?;
            return Ok(evaluation);
        };
        if existing.status != EvaluationStatus::Draft {
            return Err(AppError::Conflict("Your scoring of this session is submitted; it changes no more."));
        }
        let write = EvaluationWrite { answers: &input.answers, comment: &comment, outcome: &outcome };
        let audit = input.submit.then(|| self.scoring_audit(actor, &calibration, existing.id));
        if !self.db().save_evaluation(existing.id, &write, now, audit.as_ref()).await? {
            return Err(AppError::Conflict("This calibration session is closed; scorings change no more."));
        }
        let scorings = self.db().calibration_scorings(id).await?;
        scorings
            .into_iter()
            .find(|e| e.id == existing.id)
            .ok_or_else(|| AppError::Internal("a saved scoring vanished".to_owned()))
    }

    fn scoring_audit(
        &self,
        actor: &Actor,
        calibration: &Calibration,
        evaluation: EvaluationId,
    ) -> AuditRecord {
        // The score stays out of the log while the session is blind.
        self.audit(
            actor,
            "calibration.submit",
            "calibration",
            &calibration.id.to_string(),
            json!({ "evaluation_id": evaluation }),
        )
    }

    fn denied(&self, actor: &Actor) -> AppError {
        let role = actor.user().map_or(Role::GlobalAdmin, |user| user.role);
        AppError::PermissionDenied { role, permission: Permission::Evaluate }
    }

    /// The facilitator's session, for closing and agreeing.
    async fn facilitated(&self, actor: &Actor, id: CalibrationId) -> AppResult<Calibration> {
        let calibration = self.readable_calibration(actor, id).await?;
        if actor.user().map(|u| u.id) != Some(calibration.facilitator_id) {
            return Err(self.denied(actor));
        }
        Ok(calibration)
    }

    /// Ends scoring: drafts left are not counted, and the comparison is shown.
    pub async fn close_calibration(&self, actor: &Actor, id: CalibrationId) -> AppResult<CalibrationDetail> {
        let calibration = self.facilitated(actor, id).await?;
        let audit = self.audit(
            actor,
            "calibration.close",
            "calibration",
            &id.to_string(),
            json!({ "submitted": calibration.submitted.len(), "participants": calibration.participants.len() }),
        );
        if !self.db().close_calibration(id, self.clock().now(), &audit).await? {
            return Err(AppError::Conflict("This calibration session is closed already."));
        }
        self.get_calibration(actor, id).await
    }

    /// Records the agreed answers of a closed session (questions may stay undecided); a later
    /// call replaces them.
    pub async fn agree_calibration(
        &self,
        actor: &Actor,
        id: CalibrationId,
        answers: Vec<Answer>,
    ) -> AppResult<CalibrationDetail> {
        let calibration = self.facilitated(actor, id).await?;
        if calibration.is_open() {
            return Err(AppError::Conflict("Close the session before recording the agreed answers."));
        }
        let version = self.version_of(&calibration).await?;
        // Undecided questions may stay blank; an agreed answer carries no comment of its own.
        let (_, outcome) = scored(&version.definition, &answers, "", false)?;
        let Some(me) = actor.user().map(|u| u.id) else { return Err(self.denied(actor)) };
        let agreed = Agreed { answers, outcome, by: me, at: self.clock().now() };
        let audit = self.audit(
            actor,
            "calibration.agree",
            "calibration",
            &id.to_string(),
            json!({ "answers": agreed.answers.len(), "score": agreed.outcome.score }),
        );
        if !self.db().set_calibration_agreed(id, &agreed, &audit).await? {
            return Err(AppError::Conflict("Close the session before recording the agreed answers."));
        }
        self.get_calibration(actor, id).await
    }

    /// Cases in the actor's scope by the short id or HelpDesk ticket id people quote.
    pub async fn find_cases_by_reference(
        &self,
        actor: &Actor,
        reference: &str,
    ) -> AppResult<Vec<StoredCase>> {
        actor.require(Permission::ViewCases)?;
        Ok(self.db().find_cases_by_reference(actor.scope(), reference.trim()).await?)
    }
}
