//! Results: the submitted evaluations by someone else (never self-scores or calibration
//! scores), as their latest revision stands, filtered in SQL by the reader's scope (the agent
//! must lie in it) and the filter, streamed row by row or read a page at a time.

use futures::TryStreamExt;
use scoreline_core::{
    Answer, CaseId, Dispute, EvaluationId, ExportCursor, ExportedEvaluation, Figures, GroupId, IntegrationId,
    ResultCell, ResultFilter, ResultRow, ResultSink, Scope, Score, ScorecardId, ScorecardVersionId, TeamId,
    Timestamp, UserId,
};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::evaluations::DisputeRow;
use super::{Backend, Database, count, push_staff_in_scope, push_team_in_scope};
use crate::model::Membership;
use crate::{StoreError, StoreResult};

fn corrupt(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} = `{value}`"))
}

fn score_of(value: Option<i64>) -> StoreResult<Option<Score>> {
    value
        .map(|v| u32::try_from(v).map(Score::from_hundredths).map_err(|_| corrupt("evaluations.score", v)))
        .transpose()
}

/// Appends the conditions every results read shares: submitted evaluations by someone else,
/// of an agent in `scope`, passing `filter`.
fn push_counted(query: &mut QueryBuilder<Database>, scope: &Scope, filter: &ResultFilter) {
    query.push(
        " WHERE e.kind = 'evaluation' AND e.status = 'submitted' AND e.submitted_at IS NOT NULL
           AND e.agent_user_id IS NOT NULL AND ",
    );
    push_staff_in_scope(query, scope, "e.agent_user_id");
    if let Some(from) = filter.from {
        query.push(" AND e.submitted_at >= ").push_bind(from.as_millis());
    }
    if let Some(to) = filter.to {
        query.push(" AND e.submitted_at < ").push_bind(to.as_millis());
    }
    let equal_ids = [
        ("e.scorecard_id", filter.scorecard_id.map(|id| id.as_uuid())),
        ("e.agent_user_id", filter.agent_user_id.map(|id| id.as_uuid())),
    ];
    for (column, id) in equal_ids {
        if let Some(id) = id {
            query.push(format_args!(" AND {column} = ")).push_bind(id);
        }
    }
    if let Some(team) = filter.team_id {
        query
            .push(" AND e.agent_user_id IN (SELECT t.user_id FROM memberships t WHERE t.team_id = ")
            .push_bind(team.as_uuid())
            .push(")");
    }
    if let Some(integration) = filter.integration_id {
        query
            .push(" AND e.case_id IN (SELECT i.id FROM cases i WHERE i.integration_id = ")
            .push_bind(integration.as_uuid())
            .push(")");
    }
}

#[derive(sqlx::FromRow)]
struct ResultRecord {
    id: Uuid,
    case_id: Uuid,
    scorecard_id: Uuid,
    scorecard_version_id: Uuid,
    evaluator_id: Uuid,
    agent_user_id: Uuid,
    submitted_at: i64,
    score: Option<i64>,
    passed: Option<bool>,
    fail_all: bool,
    answers: Option<Json<Vec<Answer>>>,
}

impl TryFrom<ResultRecord> for ResultRow {
    type Error = StoreError;

    fn try_from(row: ResultRecord) -> Result<Self, Self::Error> {
        Ok(Self {
            evaluation_id: EvaluationId::from_uuid(row.id),
            case_id: CaseId::from_uuid(row.case_id),
            scorecard_id: ScorecardId::from_uuid(row.scorecard_id),
            scorecard_version_id: ScorecardVersionId::from_uuid(row.scorecard_version_id),
            evaluator_id: UserId::from_uuid(row.evaluator_id),
            agent_user_id: UserId::from_uuid(row.agent_user_id),
            submitted_at: Timestamp::from_millis(row.submitted_at),
            score: score_of(row.score)?,
            passed: row.passed,
            fail_all: row.fail_all,
            answers: row.answers.map(|answers| answers.0).unwrap_or_default(),
        })
    }
}

/// The start of the period of `periods` that holds `e.submitted_at`, as a search over the
/// periods' ends written out in SQL: a dozen comparisons a row, where joining a table of
/// periods costs a lookup, and no database can bucket by a time zone's weeks itself.
fn push_period_start(query: &mut QueryBuilder<Database>, periods: &[(Timestamp, Timestamp)]) {
    match periods {
        [] => {
            query.push("NULL");
        }
        [(start, _)] => {
            query.push("CAST(").push_bind(start.as_millis()).push(" AS BIGINT)");
        }
        _ => {
            let (earlier, later) = periods.split_at(periods.len() / 2);
            query.push("CASE WHEN e.submitted_at < ").push_bind(later[0].0.as_millis()).push(" THEN ");
            push_period_start(query, earlier);
            query.push(" ELSE ");
            push_period_start(query, later);
            query.push(" END");
        }
    }
}

/// One row of `summarise_results`, by position: period, the four ids, the six sums, the tenths.
fn result_cell(row: &<Database as sqlx::Database>::Row) -> StoreResult<ResultCell> {
    let count = |index: usize| -> StoreResult<u64> {
        let value: i64 = row.try_get(index)?;
        u64::try_from(value).map_err(|_| corrupt("a results sum", value))
    };
    let id = |index: usize| -> StoreResult<Uuid> { Ok(row.try_get(index)?) };
    let (evaluations, scored) = (count(5)?, count(6)?);
    let mut tenths = [0; 10];
    for (tenth, value) in tenths.iter_mut().enumerate() {
        *value = count(10 + tenth)?;
    }
    Ok(ResultCell {
        period_start: Timestamp::from_millis(row.try_get(0)?),
        agent_user_id: UserId::from_uuid(id(1)?),
        evaluator_id: UserId::from_uuid(id(2)?),
        scorecard_id: ScorecardId::from_uuid(id(3)?),
        scorecard_version_id: ScorecardVersionId::from_uuid(id(4)?),
        figures: Figures {
            count: evaluations,
            scored,
            total: count(7)?,
            maximum: 0,
            passed: count(8)?,
            fail_all: count(9)?,
            na: evaluations.saturating_sub(scored),
        },
        tenths,
    })
}

#[derive(sqlx::FromRow)]
struct ExportRecord {
    id: Uuid,
    submitted_at: i64,
    case_id: Uuid,
    integration_id: Option<Uuid>,
    short_id: Option<String>,
    scorecard_id: Uuid,
    scorecard_name: String,
    scorecard_version_id: Uuid,
    version_number: i64,
    agent_user_id: Uuid,
    agent_name: String,
    evaluator_id: Uuid,
    evaluator_name: String,
    score: Option<i64>,
    passed: Option<bool>,
    fail_all: bool,
    revision: i64,
    comment: String,
    answers: Json<Vec<Answer>>,
}

impl TryFrom<ExportRecord> for ExportedEvaluation {
    type Error = StoreError;

    fn try_from(row: ExportRecord) -> Result<Self, Self::Error> {
        let small = |what: &str, value: i64| u32::try_from(value).map_err(|_| corrupt(what, value));
        Ok(Self {
            id: EvaluationId::from_uuid(row.id),
            submitted_at: Timestamp::from_millis(row.submitted_at),
            case_id: CaseId::from_uuid(row.case_id),
            integration_id: row.integration_id.map(IntegrationId::from_uuid),
            case_short_id: row.short_id,
            scorecard_id: ScorecardId::from_uuid(row.scorecard_id),
            scorecard_name: row.scorecard_name,
            scorecard_version_id: ScorecardVersionId::from_uuid(row.scorecard_version_id),
            scorecard_version: small("evaluations.version_number", row.version_number)?,
            agent_user_id: UserId::from_uuid(row.agent_user_id),
            agent_name: row.agent_name,
            evaluator_id: UserId::from_uuid(row.evaluator_id),
            evaluator_name: row.evaluator_name,
            score: score_of(row.score)?,
            passed: row.passed,
            fail_all: row.fail_all,
            revision: small("evaluations.revision", row.revision)?,
            comment: row.comment,
            answers: row.answers.0,
        })
    }
}

/// The page of counted evaluations is chosen first, on the evaluations' index, and only its rows
/// are named: left to itself, SQLite's planner walks every agent's evaluations after the cursor
/// for each page (quadratic over an export).
const SELECT_PAGE: &str = "SELECT e.id, e.submitted_at, e.case_id, e.scorecard_id, e.scorecard_version_id,
        e.version_number, e.agent_user_id, e.evaluator_id, e.score, e.passed, e.fail_all, e.revision, e.comment,
        e.answers
     FROM evaluations e";

const NAME_PAGE: &str = ") e
     JOIN users a ON a.id = e.agent_user_id
     JOIN users v ON v.id = e.evaluator_id
     JOIN scorecards s ON s.id = e.scorecard_id
     LEFT JOIN cases c ON c.id = e.case_id";

const SELECT_EXPORT: &str = "SELECT e.id, e.submitted_at, e.case_id, c.integration_id, c.short_id, e.scorecard_id,
        s.name AS scorecard_name, e.scorecard_version_id, e.version_number, e.agent_user_id, a.name AS agent_name,
        e.evaluator_id, v.name AS evaluator_name, e.score, e.passed, e.fail_all, e.revision, e.comment, e.answers
     FROM (";

/// Which exported evaluations a read wants.
enum Order {
    /// Oldest submission first, after the cursor: the export's pages.
    After(Option<ExportCursor>),
    /// Newest submission first.
    Latest,
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    user_id: Uuid,
    team_id: Uuid,
    team_name: String,
    group_id: Uuid,
    group_name: String,
}

impl Backend {
    /// Streams the counted evaluations into `sink`, one row at a time; the answers are read
    /// only `with_answers`.
    pub(crate) async fn stream_results(
        &self,
        scope: &Scope,
        filter: &ResultFilter,
        with_answers: bool,
        sink: &mut (dyn ResultSink + '_),
    ) -> StoreResult<()> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT e.id, e.case_id, e.scorecard_id, e.scorecard_version_id, e.evaluator_id, e.agent_user_id,
                    e.submitted_at, e.score, e.passed, e.fail_all, ",
        );
        query.push(if with_answers { "e.answers" } else { "NULL AS answers" });
        query.push(" FROM evaluations e");
        push_counted(&mut query, scope, filter);
        let mut rows = query.build_query_as::<ResultRecord>().fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            sink.offer(&ResultRow::try_from(row)?);
        }
        Ok(())
    }

    /// Sums the counted evaluations per period of `periods` (consecutive `[start, end)`), agent,
    /// evaluator and scorecard version, and offers each sum to `sink`: the database adds up a
    /// hundred thousand evaluations, and a few thousand sums cross to us instead of every row.
    pub(crate) async fn summarise_results(
        &self,
        scope: &Scope,
        filter: &ResultFilter,
        periods: &[(Timestamp, Timestamp)],
        sink: &mut (dyn ResultSink + '_),
    ) -> StoreResult<()> {
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else { return Ok(()) };
        let mut query = QueryBuilder::<Database>::new("SELECT ");
        push_period_start(&mut query, periods);
        query.push(
            " AS period_start, e.agent_user_id, e.evaluator_id, e.scorecard_id, e.scorecard_version_id,
                 COUNT(*), COUNT(e.score), CAST(COALESCE(SUM(e.score), 0) AS BIGINT),
                 SUM(CASE WHEN e.score IS NOT NULL AND e.passed THEN 1 ELSE 0 END),
                 SUM(CASE WHEN e.fail_all THEN 1 ELSE 0 END)",
        );
        // The score's tenth of the scale, as `Distribution::tenth` puts it (the top one holds 100).
        for tenth in 0..10 {
            let upper =
                if tenth == 9 { String::new() } else { format!(" AND e.score < {}", (tenth + 1) * 1000) };
            query.push(format_args!(", SUM(CASE WHEN e.score >= {}{upper} THEN 1 ELSE 0 END)", tenth * 1000));
        }
        query.push(" FROM evaluations e");
        push_counted(&mut query, scope, filter);
        query
            .push(" AND e.submitted_at >= ")
            .push_bind(first.0.as_millis())
            .push(" AND e.submitted_at < ")
            .push_bind(last.1.as_millis())
            .push(" GROUP BY 1, 2, 3, 4, 5");
        let mut rows = query.build().fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            sink.offer_cell(&result_cell(&row)?);
        }
        Ok(())
    }

    /// The first and last submission among the counted evaluations, if there are any.
    pub(crate) async fn result_span(
        &self,
        scope: &Scope,
        filter: &ResultFilter,
    ) -> StoreResult<Option<(Timestamp, Timestamp)>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT MIN(e.submitted_at), MAX(e.submitted_at) FROM evaluations e",
        );
        push_counted(&mut query, scope, filter);
        let (first, last): (Option<i64>, Option<i64>) = query.build_query_as().fetch_one(&self.pool).await?;
        Ok(first.zip(last).map(|(first, last)| (Timestamp::from_millis(first), Timestamp::from_millis(last))))
    }

    async fn read_exported(
        &self,
        scope: &Scope,
        filter: &ResultFilter,
        order: Order,
        limit: u32,
    ) -> StoreResult<Vec<ExportedEvaluation>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_EXPORT);
        query.push(SELECT_PAGE);
        push_counted(&mut query, scope, filter);
        let order = match order {
            Order::After(after) => {
                if let Some((at, id)) = after {
                    // The `>=` lets the index on submitted_at start the page where the last ended.
                    query
                        .push(" AND e.submitted_at >= ")
                        .push_bind(at.as_millis())
                        .push(" AND (e.submitted_at > ")
                        .push_bind(at.as_millis())
                        .push(" OR e.id > ")
                        .push_bind(id.as_uuid())
                        .push(")");
                }
                " ORDER BY e.submitted_at, e.id"
            }
            Order::Latest => " ORDER BY e.submitted_at DESC, e.id DESC",
        };
        query.push(order).push(" LIMIT ").push_bind(i64::from(limit));
        query.push(NAME_PAGE).push(order);
        let rows: Vec<ExportRecord> = query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(ExportedEvaluation::try_from).collect()
    }

    /// Up to `limit` counted evaluations after `after`, oldest submission first (ties by id):
    /// one page of the export.
    pub(crate) async fn export_evaluations(
        &self,
        scope: &Scope,
        filter: &ResultFilter,
        after: Option<ExportCursor>,
        limit: u32,
    ) -> StoreResult<Vec<ExportedEvaluation>> {
        self.read_exported(scope, filter, Order::After(after), limit).await
    }

    /// The `limit` most recently submitted counted evaluations.
    pub(crate) async fn latest_evaluations(
        &self,
        scope: &Scope,
        filter: &ResultFilter,
        limit: u32,
    ) -> StoreResult<Vec<ExportedEvaluation>> {
        self.read_exported(scope, filter, Order::Latest, limit).await
    }

    /// Every membership of a team in `scope`, with team and group names.
    pub(crate) async fn memberships_in_scope(&self, scope: &Scope) -> StoreResult<Vec<Membership>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT m.user_id, m.team_id, t.name AS team_name, t.group_id, g.name AS group_name
             FROM memberships m JOIN teams t ON t.id = m.team_id JOIN staff_groups g ON g.id = t.group_id WHERE ",
        );
        push_team_in_scope(&mut query, scope, "m.team_id");
        let rows: Vec<MembershipRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|row| Membership {
                user_id: UserId::from_uuid(row.user_id),
                team_id: TeamId::from_uuid(row.team_id),
                team_name: row.team_name,
                group_id: GroupId::from_uuid(row.group_id),
                group_name: row.group_name,
            })
            .collect())
    }

    /// Every scorecard's name.
    pub(crate) async fn scorecard_names(&self) -> StoreResult<Vec<(ScorecardId, String)>> {
        let rows: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT id, name FROM scorecards").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id, name)| (ScorecardId::from_uuid(id), name)).collect())
    }

    /// Disputes of the counted evaluations of `agent` (in `scope`), newest first.
    pub(crate) async fn agent_disputes(
        &self,
        scope: &Scope,
        agent: UserId,
        limit: u32,
    ) -> StoreResult<Vec<Dispute>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT d.id, d.evaluation_id, d.revision, d.opened_by, d.reason, d.opened_at, d.status, d.resolved_by,
                    d.resolution, d.resolved_at
             FROM disputes d JOIN evaluations e ON e.id = d.evaluation_id",
        );
        let filter = ResultFilter { agent_user_id: Some(agent), ..ResultFilter::default() };
        push_counted(&mut query, scope, &filter);
        query.push(" ORDER BY d.opened_at DESC, d.id DESC LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<DisputeRow> = query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(Dispute::try_from).collect()
    }

    /// Open disputes of evaluations whose agent lies in `scope`.
    pub(crate) async fn count_open_disputes(&self, scope: &Scope) -> StoreResult<u64> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT COUNT(*) FROM disputes d JOIN evaluations e ON e.id = d.evaluation_id",
        );
        push_counted(&mut query, scope, &ResultFilter::default());
        query.push(" AND d.status = 'open'");
        let open: i64 = query.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(count(open))
    }
}
