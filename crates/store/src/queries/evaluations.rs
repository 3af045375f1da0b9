//! Evaluations, their revisions and disputes. Every read takes the reader's scope: the agent
//! must lie in it (an employee sees only their own submitted evaluations), and evaluators
//! always see what they wrote.

use scoreline_core::{
    Answer, AuditRecord, CalibrationId, CaseId, Dispute, DisputeId, DisputeStatus, Evaluation,
    EvaluationFilter, EvaluationId, EvaluationKind, EvaluationStatus, Outcome, Page, PageRequest, Revision,
    Scope, Score, ScorecardId, ScorecardVersionId, SectionScore, Timestamp, UserId,
};
use sqlx::types::Json;
use sqlx::{Executor, QueryBuilder};
use uuid::Uuid;

use super::audit::write_audit;
use super::{Backend, Database, push_staff_in_scope};
use crate::model::{DisputeResolution, EvaluationWrite};
use crate::{StoreError, StoreResult};

const SELECT_EVALUATION: &str = "SELECT e.id, e.case_id, c.purged_at AS case_purged_at, e.scorecard_id,
        e.scorecard_version_id, e.version_number, e.evaluator_id, e.agent_user_id, e.assignment_id, e.kind,
        e.calibration_id, e.status, e.answers, e.comment, e.score, e.passed, e.fail_all, e.sections, e.revision, e.created_at,
        e.updated_at, e.submitted_at, e.acknowledged_at
     FROM evaluations e LEFT JOIN cases c ON c.id = e.case_id WHERE ";

#[derive(sqlx::FromRow)]
struct EvaluationRow {
    id: Uuid,
    case_id: Uuid,
    case_purged_at: Option<i64>,
    scorecard_id: Uuid,
    scorecard_version_id: Uuid,
    version_number: i64,
    evaluator_id: Uuid,
    agent_user_id: Option<Uuid>,
    assignment_id: Option<Uuid>,
    kind: String,
    calibration_id: Option<Uuid>,
    status: String,
    answers: Json<Vec<Answer>>,
    comment: String,
    score: Option<i64>,
    passed: Option<bool>,
    fail_all: bool,
    sections: Json<Vec<SectionScore>>,
    revision: i64,
    created_at: i64,
    updated_at: i64,
    submitted_at: Option<i64>,
    acknowledged_at: Option<i64>,
}

fn corrupt(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} = `{value}`"))
}

fn small(what: &str, value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

fn score_of(value: Option<i64>) -> StoreResult<Option<Score>> {
    value.map(|v| small("evaluations.score", v).map(Score::from_hundredths)).transpose()
}

impl TryFrom<EvaluationRow> for Evaluation {
    type Error = StoreError;

    fn try_from(row: EvaluationRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: EvaluationId::from_uuid(row.id),
            case_id: CaseId::from_uuid(row.case_id),
            case_purged_at: row.case_purged_at.map(Timestamp::from_millis),
            scorecard_id: ScorecardId::from_uuid(row.scorecard_id),
            scorecard_version_id: ScorecardVersionId::from_uuid(row.scorecard_version_id),
            scorecard_version: small("evaluations.version_number", row.version_number)?,
            evaluator_id: UserId::from_uuid(row.evaluator_id),
            agent_user_id: row.agent_user_id.map(UserId::from_uuid),
            assignment_id: row.assignment_id,
            kind: EvaluationKind::parse(&row.kind).ok_or_else(|| corrupt("evaluations.kind", &row.kind))?,
            calibration_id: row.calibration_id.map(CalibrationId::from_uuid),
            status: EvaluationStatus::parse(&row.status)
                .ok_or_else(|| corrupt("evaluations.status", &row.status))?,
            answers: row.answers.0,
            comment: row.comment,
            outcome: Outcome {
                score: score_of(row.score)?,
                passed: row.passed,
                fail_all: row.fail_all,
                sections: row.sections.0,
            },
            revision: small("evaluations.revision", row.revision)?,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
            submitted_at: row.submitted_at.map(Timestamp::from_millis),
            acknowledged_at: row.acknowledged_at.map(Timestamp::from_millis),
            disputes: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DisputeRow {
    id: Uuid,
    evaluation_id: Uuid,
    revision: i64,
    opened_by: Uuid,
    reason: String,
    opened_at: i64,
    status: String,
    resolved_by: Option<Uuid>,
    resolution: Option<String>,
    resolved_at: Option<i64>,
}

impl TryFrom<DisputeRow> for Dispute {
    type Error = StoreError;

    fn try_from(row: DisputeRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: DisputeId::from_uuid(row.id),
            evaluation_id: EvaluationId::from_uuid(row.evaluation_id),
            revision: small("disputes.revision", row.revision)?,
            opened_by: UserId::from_uuid(row.opened_by),
            reason: row.reason,
            opened_at: Timestamp::from_millis(row.opened_at),
            status: DisputeStatus::parse(&row.status)
                .ok_or_else(|| corrupt("disputes.status", &row.status))?,
            resolved_by: row.resolved_by.map(UserId::from_uuid),
            resolution: row.resolution,
            resolved_at: row.resolved_at.map(Timestamp::from_millis),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RevisionRow {
    revision: i64,
    answers: Json<Vec<Answer>>,
    comment: String,
    score: Option<i64>,
    passed: Option<bool>,
    fail_all: bool,
    sections: Json<Vec<SectionScore>>,
    reason: String,
    revised_by: Option<Uuid>,
    revised_at: i64,
}

impl TryFrom<RevisionRow> for Revision {
    type Error = StoreError;

    fn try_from(row: RevisionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            revision: small("evaluation_revisions.revision", row.revision)?,
            answers: row.answers.0,
            comment: row.comment,
            outcome: Outcome {
                score: score_of(row.score)?,
                passed: row.passed,
                fail_all: row.fail_all,
                sections: row.sections.0,
            },
            reason: row.reason,
            revised_by: row.revised_by.map(UserId::from_uuid),
            revised_at: Timestamp::from_millis(row.revised_at),
        })
    }
}

/// Which evaluations a read wants.
enum Wanted<'a> {
    One(EvaluationId),
    Page(&'a EvaluationFilter, PageRequest),
}

/// Appends that `viewer` with `scope` may read the evaluation `e`: its agent lies in the scope
/// (for an employee: only submitted evaluations, not self-scores), or the viewer wrote it.
/// Calibration scorings are never read here: their session shows them, once it is closed.
fn push_readable(query: &mut QueryBuilder<Database>, scope: &Scope, viewer: Option<UserId>) {
    query.push("e.kind <> 'calibration' AND ((");
    push_staff_in_scope(query, scope, "e.agent_user_id");
    if matches!(scope, Scope::Own(_)) {
        query.push(" AND e.status = 'submitted' AND e.kind = 'evaluation'");
    }
    query.push(")");
    if let Some(viewer) = viewer {
        query.push(" OR e.evaluator_id = ").push_bind(viewer.as_uuid());
    }
    query.push(")");
}

/// Writes revision `revision` of `evaluation` as it now stands.
async fn write_revision(
    executor: impl Executor<'_, Database = Database>,
    evaluation: EvaluationId,
    revision: u32,
    write: &EvaluationWrite<'_>,
    reason: &str,
    by: Option<UserId>,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO evaluation_revisions
            (evaluation_id, revision, answers, comment, score, passed, fail_all, sections, reason, revised_by, revised_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(evaluation.as_uuid())
    .bind(i64::from(revision))
    .bind(Json(write.answers))
    .bind(write.comment)
    .bind(write.outcome.score.map(|s| i64::from(s.hundredths())))
    .bind(write.outcome.passed)
    .bind(write.outcome.fail_all)
    .bind(Json(&write.outcome.sections))
    .bind(reason)
    .bind(by.map(|u| u.as_uuid()))
    .bind(at.as_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// Moves the assignment an evaluation answers along with it: in progress while a draft, done
/// once submitted. Closed (skipped or done) assignments stay as they are.
async fn follow_assignment<'e>(
    executor: impl Executor<'e, Database = Database>,
    evaluation: EvaluationId,
    submitted: bool,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE assignments SET status = CASE WHEN $2 THEN 'done' ELSE 'in_progress' END, updated_at = $3
         WHERE status IN ('todo', 'in_progress')
           AND id = (SELECT assignment_id FROM evaluations WHERE id = $1)",
    )
    .bind(evaluation.as_uuid())
    .bind(submitted)
    .bind(at.as_millis())
    .execute(executor)
    .await?;
    Ok(())
}

impl Backend {
    /// A new evaluation as given (a draft, or submitted with its first revision).
    pub(crate) async fn create_evaluation(
        &self,
        evaluation: &Evaluation,
        audit: Option<&AuditRecord>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO evaluations (id, case_id, scorecard_id, scorecard_version_id, version_number, evaluator_id,
                agent_user_id, assignment_id, kind, status, answers, comment, score, passed, fail_all, sections,
                revision, created_at, updated_at, submitted_at, calibration_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19, $20)",
        )
        .bind(evaluation.id.as_uuid())
        .bind(evaluation.case_id.as_uuid())
        .bind(evaluation.scorecard_id.as_uuid())
        .bind(evaluation.scorecard_version_id.as_uuid())
        .bind(i64::from(evaluation.scorecard_version))
        .bind(evaluation.evaluator_id.as_uuid())
        .bind(evaluation.agent_user_id.map(|u| u.as_uuid()))
        .bind(evaluation.assignment_id)
        .bind(evaluation.kind.as_str())
        .bind(evaluation.status.as_str())
        .bind(Json(&evaluation.answers))
        .bind(&evaluation.comment)
        .bind(evaluation.outcome.score.map(|s| i64::from(s.hundredths())))
        .bind(evaluation.outcome.passed)
        .bind(evaluation.outcome.fail_all)
        .bind(Json(&evaluation.outcome.sections))
        .bind(i64::from(evaluation.revision))
        .bind(evaluation.created_at.as_millis())
        .bind(evaluation.submitted_at.map(Timestamp::as_millis))
        .bind(evaluation.calibration_id.map(|id| id.as_uuid()))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "You have scored this session already."))?;
        if evaluation.status == EvaluationStatus::Submitted {
            let write = EvaluationWrite {
                answers: &evaluation.answers,
                comment: &evaluation.comment,
                outcome: &evaluation.outcome,
            };
            let by = Some(evaluation.evaluator_id);
            write_revision(&mut *tx, evaluation.id, 1, &write, "", by, evaluation.created_at).await?;
        }
        let submitted = evaluation.status == EvaluationStatus::Submitted;
        follow_assignment(&mut *tx, evaluation.id, submitted, evaluation.created_at).await?;
        if let Some(audit) = audit {
            write_audit(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn read_evaluations(
        &self,
        scope: &Scope,
        viewer: Option<UserId>,
        wanted: Wanted<'_>,
    ) -> StoreResult<Vec<Evaluation>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_EVALUATION);
        push_readable(&mut query, scope, viewer);
        match wanted {
            Wanted::One(id) => {
                query.push(" AND e.id = ").push_bind(id.as_uuid());
            }
            Wanted::Page(filter, page) => {
                let equal_ids = [
                    ("e.agent_user_id", filter.agent_user_id.map(|id| id.as_uuid())),
                    ("e.evaluator_id", filter.evaluator_id.map(|id| id.as_uuid())),
                    ("e.scorecard_id", filter.scorecard_id.map(|id| id.as_uuid())),
                    ("e.case_id", filter.case_id.map(|id| id.as_uuid())),
                ];
                for (column, id) in equal_ids {
                    if let Some(id) = id {
                        query.push(format_args!(" AND {column} = ")).push_bind(id);
                    }
                }
                if let Some(status) = filter.status {
                    query.push(" AND e.status = ").push_bind(status.as_str());
                }
                if let Some(kind) = filter.kind {
                    query.push(" AND e.kind = ").push_bind(kind.as_str());
                }
                if let Some(from) = filter.from {
                    query.push(" AND COALESCE(e.submitted_at, e.created_at) >= ").push_bind(from.as_millis());
                }
                if let Some(to) = filter.to {
                    query.push(" AND COALESCE(e.submitted_at, e.created_at) < ").push_bind(to.as_millis());
                }
                if let Some(after) = page.after {
                    query.push(" AND e.id > ").push_bind(after);
                }
                query.push(" ORDER BY e.id LIMIT ").push_bind(i64::from(page.limit) + 1);
            }
        }
        let rows: Vec<EvaluationRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let mut evaluations = rows.into_iter().map(Evaluation::try_from).collect::<StoreResult<Vec<_>>>()?;
        if evaluations.is_empty() {
            return Ok(evaluations);
        }
        let mut disputes = QueryBuilder::<Database>::new(
            "SELECT id, evaluation_id, revision, opened_by, reason, opened_at, status, resolved_by, resolution,
                    resolved_at FROM disputes WHERE evaluation_id IN (",
        );
        let mut ids = disputes.separated(", ");
        for evaluation in &evaluations {
            ids.push_bind(evaluation.id.as_uuid());
        }
        disputes.push(") ORDER BY id DESC");
        let rows: Vec<DisputeRow> = disputes.build_query_as().fetch_all(&self.pool).await?;
        for row in rows {
            let dispute = Dispute::try_from(row)?;
            if let Some(evaluation) = evaluations.iter_mut().find(|e| e.id == dispute.evaluation_id) {
                evaluation.disputes.push(dispute);
            }
        }
        Ok(evaluations)
    }

    pub(crate) async fn get_evaluation(
        &self,
        scope: &Scope,
        viewer: Option<UserId>,
        id: EvaluationId,
    ) -> StoreResult<Option<Evaluation>> {
        Ok(self.read_evaluations(scope, viewer, Wanted::One(id)).await?.pop())
    }

    pub(crate) async fn list_evaluations(
        &self,
        scope: &Scope,
        viewer: Option<UserId>,
        filter: &EvaluationFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Evaluation>> {
        let items = self.read_evaluations(scope, viewer, Wanted::Page(filter, page)).await?;
        Ok(Page::from_overfetch(items, page.limit, |e| e.id.as_uuid()))
    }

    /// Saves a draft's answers; with `submit_audit`, submits it as revision 1. `false` when it
    /// is no longer a draft (or its calibration session has closed).
    pub(crate) async fn save_evaluation(
        &self,
        id: EvaluationId,
        write: &EvaluationWrite<'_>,
        at: Timestamp,
        submit_audit: Option<&AuditRecord>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let submit = submit_audit.is_some();
        let changed = sqlx::query(
            "UPDATE evaluations SET answers = $2, comment = $3, score = $4, passed = $5, fail_all = $6, sections = $7,
                    updated_at = $8,
                    status = CASE WHEN $9 THEN 'submitted' ELSE status END,
                    revision = CASE WHEN $9 THEN 1 ELSE revision END,
                    submitted_at = CASE WHEN $9 THEN $8 ELSE submitted_at END
             WHERE id = $1 AND status = 'draft'
               AND (calibration_id IS NULL OR calibration_id IN (SELECT id FROM calibrations WHERE status = 'open'))",
        )
        .bind(id.as_uuid())
        .bind(Json(write.answers))
        .bind(write.comment)
        .bind(write.outcome.score.map(|s| i64::from(s.hundredths())))
        .bind(write.outcome.passed)
        .bind(write.outcome.fail_all)
        .bind(Json(&write.outcome.sections))
        .bind(at.as_millis())
        .bind(submit)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        follow_assignment(&mut *tx, id, submit, at).await?;
        if let Some(audit) = submit_audit {
            write_revision(&mut *tx, id, 1, write, "", audit.actor.user_id, at).await?;
            write_audit(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The participants' scorings of a calibration session, drafts included, oldest first.
    pub(crate) async fn calibration_scorings(&self, id: CalibrationId) -> StoreResult<Vec<Evaluation>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_EVALUATION);
        query.push("e.calibration_id = ").push_bind(id.as_uuid()).push(" ORDER BY e.id");
        let rows: Vec<EvaluationRow> = query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(Evaluation::try_from).collect()
    }

    /// The evaluation a dispute belongs to (read it with the reader's scope afterwards).
    pub(crate) async fn dispute_evaluation(&self, id: DisputeId) -> StoreResult<Option<EvaluationId>> {
        let found: Option<Uuid> = sqlx::query_scalar("SELECT evaluation_id FROM disputes WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(EvaluationId::from_uuid))
    }

    /// Every revision, oldest first.
    pub(crate) async fn list_revisions(&self, id: EvaluationId) -> StoreResult<Vec<Revision>> {
        let rows: Vec<RevisionRow> = sqlx::query_as(
            "SELECT revision, answers, comment, score, passed, fail_all, sections, reason, revised_by, revised_at
             FROM evaluation_revisions WHERE evaluation_id = $1 ORDER BY revision",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Revision::try_from).collect()
    }

    /// `false` when it was acknowledged already or is not submitted.
    pub(crate) async fn acknowledge_evaluation(
        &self,
        id: EvaluationId,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE evaluations SET acknowledged_at = $2 WHERE id = $1 AND status = 'submitted' AND acknowledged_at IS NULL",
        )
        .bind(id.as_uuid())
        .bind(at.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        super::audit::commit_audited_change(tx, changed, audit).await
    }

    /// Opens a dispute; `false` when one is open already.
    pub(crate) async fn open_dispute(&self, dispute: &Dispute, audit: &AuditRecord) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // Takes the evaluation's row lock, so two disputes cannot open at once.
        sqlx::query("UPDATE evaluations SET updated_at = updated_at WHERE id = $1")
            .bind(dispute.evaluation_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM disputes WHERE evaluation_id = $1 AND status = 'open'")
                .bind(dispute.evaluation_id.as_uuid())
                .fetch_one(&mut *tx)
                .await?;
        if open > 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO disputes (id, evaluation_id, revision, opened_by, reason, opened_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, 'open')",
        )
        .bind(dispute.id.as_uuid())
        .bind(dispute.evaluation_id.as_uuid())
        .bind(i64::from(dispute.revision))
        .bind(dispute.opened_by.as_uuid())
        .bind(&dispute.reason)
        .bind(dispute.opened_at.as_millis())
        .execute(&mut *tx)
        .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Closes an open dispute; when changed, the evaluation takes the new answers as its next
    /// revision. `false` when the dispute is not open any more.
    pub(crate) async fn resolve_dispute(
        &self,
        resolution: &DisputeResolution<'_>,
        audits: &[AuditRecord],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let closed = sqlx::query(
            "UPDATE disputes SET status = $2, resolved_by = $3, resolution = $4, resolved_at = $5
             WHERE id = $1 AND status = 'open'",
        )
        .bind(resolution.dispute_id.as_uuid())
        .bind(resolution.status.as_str())
        .bind(resolution.by.as_uuid())
        .bind(resolution.reason)
        .bind(resolution.at.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed == 0 {
            return Ok(false);
        }
        if let Some(write) = &resolution.change {
            let revision: i64 = sqlx::query_scalar(
                "UPDATE evaluations SET answers = $2, comment = $3, score = $4, passed = $5, fail_all = $6,
                        sections = $7, revision = revision + 1, updated_at = $8
                 WHERE id = $1 RETURNING revision",
            )
            .bind(resolution.evaluation_id.as_uuid())
            .bind(Json(write.answers))
            .bind(write.comment)
            .bind(write.outcome.score.map(|s| i64::from(s.hundredths())))
            .bind(write.outcome.passed)
            .bind(write.outcome.fail_all)
            .bind(Json(&write.outcome.sections))
            .bind(resolution.at.as_millis())
            .fetch_one(&mut *tx)
            .await?;
            let revision = small("evaluations.revision", revision)?;
            let (id, by, at) = (resolution.evaluation_id, Some(resolution.by), resolution.at);
            write_revision(&mut *tx, id, revision, write, resolution.reason, by, at).await?;
        }
        for audit in audits {
            write_audit(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
