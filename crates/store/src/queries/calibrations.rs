//! Calibration sessions and their participants. A session is readable by its facilitator, its
//! participants, and whoever has the case's agent in scope (never the agent as an employee);
//! what of it they see is the app's business (blind until closed).

use scoreline_core::{
    Agreed, Answer, AuditRecord, Calibration, CalibrationFilter, CalibrationId, CalibrationStatus, CaseId,
    Outcome, Page, PageRequest, Scope, ScorecardId, ScorecardVersionId, Timestamp, UserId,
};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::audit::{commit_audited_change, write_audit};
use super::{Backend, Database, push_staff_in_scope};
use crate::{StoreError, StoreResult};

const SELECT_CALIBRATION: &str =
    "SELECT k.id, k.case_id, k.agent_user_id, k.scorecard_id, k.scorecard_version_id,
        k.version_number, k.facilitator_id, k.due_at, k.status, k.created_at, k.closed_at, k.agreed_answers,
        k.agreed_outcome, k.agreed_by, k.agreed_at
     FROM calibrations k WHERE ";

#[derive(sqlx::FromRow)]
struct CalibrationRow {
    id: Uuid,
    case_id: Uuid,
    agent_user_id: Uuid,
    scorecard_id: Uuid,
    scorecard_version_id: Uuid,
    version_number: i64,
    facilitator_id: Uuid,
    due_at: Option<i64>,
    status: String,
    created_at: i64,
    closed_at: Option<i64>,
    agreed_answers: Option<Json<Vec<Answer>>>,
    agreed_outcome: Option<Json<Outcome>>,
    agreed_by: Option<Uuid>,
    agreed_at: Option<i64>,
}

impl TryFrom<CalibrationRow> for Calibration {
    type Error = StoreError;

    fn try_from(row: CalibrationRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, value: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("calibrations.{what} = `{value}`"))
        };
        let agreed = match (row.agreed_answers, row.agreed_outcome, row.agreed_by, row.agreed_at) {
            (Some(answers), Some(outcome), Some(by), Some(at)) => Some(Agreed {
                answers: answers.0,
                outcome: outcome.0,
                by: UserId::from_uuid(by),
                at: Timestamp::from_millis(at),
            }),
            (None, None, None, None) => None,
            _ => return Err(corrupt("agreed_*", &"partly set")),
        };
        Ok(Self {
            id: CalibrationId::from_uuid(row.id),
            case_id: CaseId::from_uuid(row.case_id),
            agent_user_id: UserId::from_uuid(row.agent_user_id),
            scorecard_id: ScorecardId::from_uuid(row.scorecard_id),
            scorecard_version_id: ScorecardVersionId::from_uuid(row.scorecard_version_id),
            scorecard_version: u32::try_from(row.version_number)
                .map_err(|_| corrupt("version_number", &row.version_number))?,
            facilitator_id: UserId::from_uuid(row.facilitator_id),
            participants: Vec::new(),
            submitted: Vec::new(),
            due_at: row.due_at.map(Timestamp::from_millis),
            status: CalibrationStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
            created_at: Timestamp::from_millis(row.created_at),
            closed_at: row.closed_at.map(Timestamp::from_millis),
            agreed,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ParticipantRow {
    calibration_id: Uuid,
    user_id: Uuid,
    status: Option<String>,
}

/// Which sessions a read wants.
enum Wanted<'a> {
    One(CalibrationId),
    Page(&'a CalibrationFilter, PageRequest),
}

/// Appends that `viewer` with `scope` may read the session `k`: they facilitate it, take part
/// in it, or have its agent in scope (an employee's own scope never counts: agents do not see
/// calibrations of their cases).
fn push_readable(query: &mut QueryBuilder<Database>, scope: &Scope, viewer: Option<UserId>) {
    query.push("(");
    if matches!(scope, Scope::Own(_)) {
        query.push("FALSE");
    } else {
        push_staff_in_scope(query, scope, "k.agent_user_id");
    }
    if let Some(viewer) = viewer {
        query
            .push(" OR k.facilitator_id = ")
            .push_bind(viewer.as_uuid())
            .push(" OR EXISTS (SELECT 1 FROM calibration_participants v WHERE v.calibration_id = k.id AND v.user_id = ")
            .push_bind(viewer.as_uuid())
            .push(")");
    }
    query.push(")");
}

impl Backend {
    /// A new open session with its participants.
    pub(crate) async fn create_calibration(
        &self,
        calibration: &Calibration,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO calibrations (id, case_id, agent_user_id, scorecard_id, scorecard_version_id, version_number,
                facilitator_id, due_at, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(calibration.id.as_uuid())
        .bind(calibration.case_id.as_uuid())
        .bind(calibration.agent_user_id.as_uuid())
        .bind(calibration.scorecard_id.as_uuid())
        .bind(calibration.scorecard_version_id.as_uuid())
        .bind(i64::from(calibration.scorecard_version))
        .bind(calibration.facilitator_id.as_uuid())
        .bind(calibration.due_at.map(Timestamp::as_millis))
        .bind(calibration.status.as_str())
        .bind(calibration.created_at.as_millis())
        .execute(&mut *tx)
        .await?;
        for participant in &calibration.participants {
            sqlx::query("INSERT INTO calibration_participants (calibration_id, user_id) VALUES ($1, $2)")
                .bind(calibration.id.as_uuid())
                .bind(participant.as_uuid())
                .execute(&mut *tx)
                .await?;
        }
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn read_calibrations(
        &self,
        scope: &Scope,
        viewer: Option<UserId>,
        wanted: Wanted<'_>,
    ) -> StoreResult<Vec<Calibration>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_CALIBRATION);
        push_readable(&mut query, scope, viewer);
        match wanted {
            Wanted::One(id) => {
                query.push(" AND k.id = ").push_bind(id.as_uuid());
            }
            Wanted::Page(filter, page) => {
                if let Some(status) = filter.status {
                    query.push(" AND k.status = ").push_bind(status.as_str());
                }
                if let Some(participant) = filter.participant {
                    query
                        .push(" AND EXISTS (SELECT 1 FROM calibration_participants f WHERE f.calibration_id = k.id")
                        .push(" AND f.user_id = ")
                        .push_bind(participant.as_uuid())
                        .push(")");
                }
                if let Some(from) = filter.closed_from {
                    query.push(" AND k.closed_at >= ").push_bind(from.as_millis());
                }
                if let Some(to) = filter.closed_to {
                    query.push(" AND k.closed_at < ").push_bind(to.as_millis());
                }
                // Newest first.
                if let Some(after) = page.after {
                    query.push(" AND k.id < ").push_bind(after);
                }
                query.push(" ORDER BY k.id DESC LIMIT ").push_bind(i64::from(page.limit) + 1);
            }
        }
        let rows: Vec<CalibrationRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let mut calibrations =
            rows.into_iter().map(Calibration::try_from).collect::<StoreResult<Vec<_>>>()?;
        if calibrations.is_empty() {
            return Ok(calibrations);
        }
        let mut participants = QueryBuilder::<Database>::new(
            "SELECT p.calibration_id, p.user_id, e.status FROM calibration_participants p
             LEFT JOIN evaluations e ON e.calibration_id = p.calibration_id AND e.evaluator_id = p.user_id
             WHERE p.calibration_id IN (",
        );
        let mut ids = participants.separated(", ");
        for calibration in &calibrations {
            ids.push_bind(calibration.id.as_uuid());
        }
        participants.push(") ORDER BY p.user_id");
        let rows: Vec<ParticipantRow> = participants.build_query_as().fetch_all(&self.pool).await?;
        for row in rows {
            let id = CalibrationId::from_uuid(row.calibration_id);
            if let Some(calibration) = calibrations.iter_mut().find(|c| c.id == id) {
                let user = UserId::from_uuid(row.user_id);
                calibration.participants.push(user);
                if row.status.as_deref() == Some("submitted") {
                    calibration.submitted.push(user);
                }
            }
        }
        Ok(calibrations)
    }

    pub(crate) async fn get_calibration(
        &self,
        scope: &Scope,
        viewer: Option<UserId>,
        id: CalibrationId,
    ) -> StoreResult<Option<Calibration>> {
        Ok(self.read_calibrations(scope, viewer, Wanted::One(id)).await?.pop())
    }

    pub(crate) async fn list_calibrations(
        &self,
        scope: &Scope,
        viewer: Option<UserId>,
        filter: &CalibrationFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Calibration>> {
        let items = self.read_calibrations(scope, viewer, Wanted::Page(filter, page)).await?;
        Ok(Page::from_overfetch(items, page.limit, |c| c.id.as_uuid()))
    }

    /// Closes an open session; `false` when it was closed already.
    pub(crate) async fn close_calibration(
        &self,
        id: CalibrationId,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE calibrations SET status = 'closed', closed_at = $2 WHERE id = $1 AND status = 'open'",
        )
        .bind(id.as_uuid())
        .bind(at.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        commit_audited_change(tx, changed, audit).await
    }

    /// Records (or replaces) the agreed answers of a closed session; `false` when it is open.
    pub(crate) async fn set_calibration_agreed(
        &self,
        id: CalibrationId,
        agreed: &Agreed,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE calibrations SET agreed_answers = $2, agreed_outcome = $3, agreed_by = $4, agreed_at = $5
             WHERE id = $1 AND status = 'closed'",
        )
        .bind(id.as_uuid())
        .bind(Json(&agreed.answers))
        .bind(Json(&agreed.outcome))
        .bind(agreed.by.as_uuid())
        .bind(agreed.at.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        commit_audited_change(tx, changed, audit).await
    }
}
