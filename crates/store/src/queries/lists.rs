//! Lists with their versions, the pool of a list streamed case by case, immutable runs, and
//! the assignments they give evaluators.

use futures::TryStreamExt;
use scoreline_core::{
    Assignment, AssignmentId, AuditRecord, CaseId, List, ListDefinition, ListId, ListRun, ListScope, Page,
    PageRequest, PoolCase, PoolSink, RunAgent, RunId, RunPick, Scope, Timestamp, UserId,
};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::audit::write_audit;
use super::cases::{date_column, push_case_filter, push_cases_from, push_subject_contains};
use super::{Backend, Database, count, push_staff_in_scope, push_team_in_scope};
use crate::lists::{ListVersion, NewAssignment, NewRun, PoolQuery};
use crate::{StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct ListRow {
    id: Uuid,
    version: i64,
    definition: Json<ListDefinition>,
    created_by: Uuid,
    archived_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ListRow> for List {
    type Error = StoreError;
    fn try_from(row: ListRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: ListId::from_uuid(row.id),
            version: u32::try_from(row.version)
                .map_err(|_| StoreError::Corrupt(format!("lists.version = {}", row.version)))?,
            definition: row.definition.0,
            created_by: UserId::from_uuid(row.created_by),
            archived_at: row.archived_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    list_id: Uuid,
    list_version: i64,
    seed: i64,
    slot_at: Option<i64>,
    window_from: Option<i64>,
    window_to: Option<i64>,
    pool_total: i64,
    held_back: i64,
    unassigned: i64,
    started_by: Option<Uuid>,
    created_at: i64,
}

impl From<RunRow> for ListRun {
    fn from(row: RunRow) -> Self {
        Self {
            id: RunId::from_uuid(row.id),
            list_id: ListId::from_uuid(row.list_id),
            list_version: u32::try_from(row.list_version).unwrap_or(0),
            seed: row.seed as u64,
            slot_at: row.slot_at.map(Timestamp::from_millis),
            window_from: row.window_from.map(Timestamp::from_millis),
            window_to: row.window_to.map(Timestamp::from_millis),
            pool_total: count(row.pool_total),
            held_back: count(row.held_back),
            unassigned: count(row.unassigned),
            started_by: row.started_by.map(UserId::from_uuid),
            created_at: Timestamp::from_millis(row.created_at),
            agents: Vec::new(),
            picks: Vec::new(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct PickRow {
    case_id: Uuid,
    agent_user_id: Uuid,
    position: i64,
    rank: i64,
    pool: i64,
    evaluator_id: Option<Uuid>,
    assignment_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: Uuid,
    list_id: Option<Uuid>,
    list_name: Option<String>,
    run_id: Option<Uuid>,
    case_id: Uuid,
    short_id: Option<String>,
    subject: Option<String>,
    evaluator_id: Uuid,
    agent_user_id: Uuid,
    status: String,
    skip_reason: Option<String>,
    replaces: Option<Uuid>,
    created_at: i64,
    updated_at: i64,
}

impl From<AssignmentRow> for Assignment {
    fn from(row: AssignmentRow) -> Self {
        Self {
            id: AssignmentId::from_uuid(row.id),
            list_id: row.list_id.map(ListId::from_uuid),
            list_name: row.list_name,
            run_id: row.run_id.map(RunId::from_uuid),
            case_id: CaseId::from_uuid(row.case_id),
            case_short_id: row.short_id,
            case_subject: row.subject,
            evaluator_id: UserId::from_uuid(row.evaluator_id),
            agent_user_id: UserId::from_uuid(row.agent_user_id),
            status: row.status,
            skip_reason: row.skip_reason,
            replaces: row.replaces.map(AssignmentId::from_uuid),
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        }
    }
}

const ASSIGNMENT_SELECT: &str =
    "SELECT s.id, s.list_id, l.name AS list_name, s.run_id, s.case_id, c.short_id,
        cc.subject, s.evaluator_id, s.agent_user_id, s.status, s.skip_reason, s.replaces, s.created_at,
        s.updated_at
     FROM assignments s
     JOIN cases c ON c.id = s.case_id
     LEFT JOIN case_contents cc ON cc.case_id = c.id
     LEFT JOIN lists l ON l.id = s.list_id ";

/// Appends that the staff member in `column` is in the list's scope: a member of one of its
/// groups' teams, of one of its teams, or one of its people. An empty scope holds everyone.
fn push_list_scope(query: &mut QueryBuilder<Database>, staff: &ListScope, column: &str) {
    if staff.is_empty() {
        return;
    }
    query.push(" AND (FALSE");
    if !staff.user_ids.is_empty() {
        query.push(" OR ").push(column).push(" IN (");
        let mut list = query.separated(", ");
        for user in &staff.user_ids {
            list.push_bind(user.as_uuid());
        }
        query.push(")");
    }
    if !staff.team_ids.is_empty() {
        query
            .push(" OR ")
            .push(column)
            .push(" IN (SELECT lm.user_id FROM memberships lm WHERE lm.team_id IN (");
        let mut list = query.separated(", ");
        for team in &staff.team_ids {
            list.push_bind(team.as_uuid());
        }
        query.push("))");
    }
    if !staff.group_ids.is_empty() {
        query.push(" OR ").push(column).push(
            " IN (SELECT gm.user_id FROM memberships gm JOIN teams lt ON lt.id = gm.team_id WHERE lt.group_id IN (",
        );
        let mut list = query.separated(", ");
        for group in &staff.group_ids {
            list.push_bind(group.as_uuid());
        }
        query.push("))");
    }
    query.push(")");
}

/// Appends that a list in `l` lies in `scope`: everything sees every list; others the lists
/// whose teams meet theirs (never the whole-organisation ones).
fn push_list_in_scope(query: &mut QueryBuilder<Database>, scope: &Scope) {
    match scope {
        Scope::Everything => {
            query.push("TRUE");
        }
        Scope::Own(_) => {
            query.push("FALSE");
        }
        Scope::Teams(_) => {
            query.push(
                "l.whole_scope = FALSE AND EXISTS (SELECT 1 FROM list_teams lt WHERE lt.list_id = l.id AND ",
            );
            push_team_in_scope(query, scope, "lt.team_id");
            query.push(")");
        }
    }
}

impl Backend {
    /// Saves a new list (version 1) or a new version of one, with its teams and audit record.
    pub(crate) async fn save_list_version(&self, list: &ListVersion, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let scorecard = list.definition.scorecard_id;
        if list.version == 1 {
            sqlx::query(
                "INSERT INTO lists (id, name, version, scorecard_id, whole_scope, created_by, created_at, updated_at)
                 VALUES ($1, $2, 1, $3, $4, $5, $6, $6)",
            )
            .bind(list.id.as_uuid())
            .bind(&list.definition.name)
            .bind(scorecard)
            .bind(list.whole_scope)
            .bind(list.by.as_uuid())
            .bind(list.at.as_millis())
            .execute(&mut *tx)
            .await?;
        } else {
            let changed = sqlx::query(
                "UPDATE lists SET name = $2, version = $3, scorecard_id = $4, whole_scope = $5, updated_at = $6
                 WHERE id = $1 AND version = $3 - 1",
            )
            .bind(list.id.as_uuid())
            .bind(&list.definition.name)
            .bind(i64::from(list.version))
            .bind(scorecard)
            .bind(list.whole_scope)
            .bind(list.at.as_millis())
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(StoreError::Conflict("Someone else changed this list meanwhile; reload it."));
            }
            sqlx::query("DELETE FROM list_teams WHERE list_id = $1")
                .bind(list.id.as_uuid())
                .execute(&mut *tx)
                .await?;
        }
        for team in &list.teams {
            sqlx::query("INSERT INTO list_teams (list_id, team_id) VALUES ($1, $2)")
                .bind(list.id.as_uuid())
                .bind(team.as_uuid())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO list_versions (list_id, version, definition, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(list.id.as_uuid())
        .bind(i64::from(list.version))
        .bind(Json(&list.definition))
        .bind(list.by.as_uuid())
        .bind(list.at.as_millis())
        .execute(&mut *tx)
        .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Archives (`Some(at)`) or restores (`None`) a list; `false` when it is already so.
    pub(crate) async fn set_list_archived(
        &self,
        id: ListId,
        archived_at: Option<Timestamp>,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE lists SET archived_at = $2 WHERE id = $1 AND (archived_at IS NULL) = ($2 IS NOT NULL)",
        )
        .bind(id.as_uuid())
        .bind(archived_at.map(Timestamp::as_millis))
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn read_lists(
        &self,
        scope: &Scope,
        one: Option<ListId>,
        archived: Option<bool>,
        page: PageRequest,
    ) -> StoreResult<Vec<List>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT l.id, l.version, v.definition, l.created_by, l.archived_at, l.created_at, l.updated_at
             FROM lists l JOIN list_versions v ON v.list_id = l.id AND v.version = l.version WHERE ",
        );
        push_list_in_scope(&mut query, scope);
        if let Some(id) = one {
            query.push(" AND l.id = ").push_bind(id.as_uuid());
        }
        match archived {
            Some(true) => query.push(" AND l.archived_at IS NOT NULL"),
            Some(false) => query.push(" AND l.archived_at IS NULL"),
            None => &mut query,
        };
        if let Some(after) = page.after {
            query.push(" AND l.id > ").push_bind(after);
        }
        query.push(" ORDER BY l.id LIMIT ").push_bind(i64::from(page.limit) + 1);
        let rows: Vec<ListRow> = query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(List::try_from).collect()
    }

    /// The list `id` if `scope` sees it.
    pub(crate) async fn get_list(&self, scope: &Scope, id: ListId) -> StoreResult<Option<List>> {
        Ok(self.read_lists(scope, Some(id), None, PageRequest::first(1)).await?.pop())
    }

    /// Lists `scope` sees, active or archived.
    pub(crate) async fn list_lists(
        &self,
        scope: &Scope,
        archived: bool,
        page: PageRequest,
    ) -> StoreResult<Page<List>> {
        let lists = self.read_lists(scope, None, Some(archived), page).await?;
        Ok(Page::from_overfetch(lists, page.limit, |list| list.id.as_uuid()))
    }

    /// The definition a run used.
    pub(crate) async fn list_definition(
        &self,
        id: ListId,
        version: u32,
    ) -> StoreResult<Option<ListDefinition>> {
        let found: Option<Json<ListDefinition>> =
            sqlx::query_scalar("SELECT definition FROM list_versions WHERE list_id = $1 AND version = $2")
                .bind(id.as_uuid())
                .bind(i64::from(version))
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.map(|definition| definition.0))
    }

    /// Streams the pool into `sink`, case by case: nothing of it is held here. With
    /// `pool.count_held_back`, the same walk also counts the cases of the window left out as
    /// held back (their agent is matched to nobody, whoever asks), and returns that count;
    /// otherwise 0.
    pub(crate) async fn stream_pool(
        &self,
        pool: &PoolQuery,
        sink: &mut (dyn PoolSink + '_),
    ) -> StoreResult<u64> {
        let date = date_column(pool.date_field);
        let counting = pool.count_held_back;
        let mut query = QueryBuilder::<Database>::new("SELECT c.id, u.id AS user_id, ");
        let mut filter = pool.filter.clone();
        // Counting held-back cases needs the unmatched ones too; they are told apart below.
        filter.matched = if counting { None } else { Some(true) };
        filter.purged = Some(false);
        filter.silos = vec!["tickets".to_owned(), "archive".to_owned()];
        query.push(date).push(" AS date ");
        let search = pool.search.as_deref().filter(|text| !text.trim().is_empty());
        push_cases_from(&mut query, search.is_some(), &filter);
        query.push(if counting { " LEFT JOIN" } else { " JOIN" });
        query.push(" users u ON u.id = a.matched_user_id AND u.active = TRUE WHERE TRUE");
        push_case_filter(&mut query, &filter);
        query.push(if counting { " AND ((u.id IS NOT NULL AND " } else { " AND (" });
        push_staff_in_scope(&mut query, &pool.within, "a.matched_user_id");
        push_list_scope(&mut query, &pool.staff, "a.matched_user_id");
        if let Some(text) = search {
            push_subject_contains(&mut query, text);
        }
        if let Some(agent) = pool.agent {
            query.push(" AND a.matched_user_id = ").push_bind(agent.as_uuid());
        }
        if let Some(list) = pool.list_id {
            query
                .push(" AND NOT EXISTS (SELECT 1 FROM run_picks p WHERE p.list_id = ")
                .push_bind(list.as_uuid())
                .push(" AND p.case_id = c.id) AND NOT EXISTS (SELECT 1 FROM assignments x WHERE x.list_id = ")
                .push_bind(list.as_uuid())
                .push(" AND x.case_id = c.id)");
        }
        if pool.exclude.evaluated {
            query.push(
                " AND NOT EXISTS (SELECT 1 FROM assignments e WHERE e.case_id = c.id AND e.status = 'done')
                  AND NOT EXISTS (SELECT 1 FROM evaluations v WHERE v.case_id = c.id
                      AND v.kind = 'evaluation' AND v.status = 'submitted')",
            );
        }
        if pool.exclude.assigned_elsewhere {
            query.push(
                " AND NOT EXISTS (SELECT 1 FROM assignments o WHERE o.case_id = c.id
                     AND o.status IN ('todo', 'in_progress')",
            );
            if let Some(list) = pool.list_id {
                query.push(" AND (o.list_id IS NULL OR o.list_id <> ").push_bind(list.as_uuid()).push(")");
            }
            query.push(")");
        }
        if counting {
            // Held back: the case has an agent, and no staff member is matched to it.
            query.push(") OR (c.agent_id IS NOT NULL AND a.matched_user_id IS NULL)");
        }
        query.push(")");
        if pool.oldest_first {
            query.push(" ORDER BY ").push(date).push(", c.id");
        }
        let mut held_back = 0;
        let mut rows = query.build_query_as::<(Uuid, Option<Uuid>, i64)>().fetch(&self.pool);
        while let Some((case_id, user_id, date)) = rows.try_next().await? {
            let Some(user_id) = user_id else {
                held_back += 1;
                continue;
            };
            sink.offer(PoolCase {
                case_id: CaseId::from_uuid(case_id),
                user_id: UserId::from_uuid(user_id),
                date: Timestamp::from_millis(date),
            });
        }
        Ok(held_back)
    }

    /// Every case this list picked, with its staff member and its date, for sequential lists.
    pub(crate) async fn list_picked_positions(
        &self,
        list: ListId,
        date_field: scoreline_core::DateField,
    ) -> StoreResult<Vec<(UserId, Timestamp, CaseId)>> {
        let mut query = QueryBuilder::<Database>::new("SELECT p.agent_user_id, ");
        query
            .push(date_column(date_field))
            .push(" AS date, c.id FROM run_picks p JOIN cases c ON c.id = p.case_id WHERE p.list_id = ")
            .push_bind(list.as_uuid());
        let rows: Vec<(Uuid, i64, Uuid)> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(user, date, case)| {
                (UserId::from_uuid(user), Timestamp::from_millis(date), CaseId::from_uuid(case))
            })
            .collect())
    }

    /// Writes a run with its picks and assignments in one transaction. `false` when its slot
    /// already ran (on this server or another): the unique (list, slot) row decides.
    pub(crate) async fn create_run(&self, run: &NewRun, audit: &AuditRecord) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let unassigned = run.picks.iter().filter(|pick| pick.evaluator_id.is_none()).count() as i64;
        let inserted = sqlx::query(
            "INSERT INTO list_runs (id, list_id, list_version, seed, slot_at, window_from, window_to, pool_total,
                 held_back, unassigned, started_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (list_id, slot_at) DO NOTHING",
        )
        .bind(run.id.as_uuid())
        .bind(run.list_id.as_uuid())
        .bind(i64::from(run.list_version))
        .bind(run.seed as i64)
        .bind(run.slot_at.map(Timestamp::as_millis))
        .bind(run.window_from.map(Timestamp::as_millis))
        .bind(run.window_to.map(Timestamp::as_millis))
        .bind(run.pool_total as i64)
        .bind(run.held_back as i64)
        .bind(unassigned)
        .bind(run.started_by.map(|id| id.as_uuid()))
        .bind(run.at.as_millis())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        for chunk in run.agents.chunks(200) {
            let mut query =
                QueryBuilder::<Database>::new("INSERT INTO run_agents (run_id, user_id, pool, picked) ");
            query.push_values(chunk, |mut row, (user, pool, picked)| {
                row.push_bind(run.id.as_uuid())
                    .push_bind(user.as_uuid())
                    .push_bind(*pool as i64)
                    .push_bind(*picked as i64);
            });
            query.build().execute(&mut *tx).await?;
        }
        for chunk in run.picks.chunks(200) {
            let mut query = QueryBuilder::<Database>::new(
                "INSERT INTO run_picks (run_id, list_id, case_id, agent_user_id, position, rank, pool, evaluator_id) ",
            );
            query.push_values(chunk, |mut row, pick| {
                row.push_bind(run.id.as_uuid())
                    .push_bind(run.list_id.as_uuid())
                    .push_bind(pick.case_id.as_uuid())
                    .push_bind(pick.agent_user_id.as_uuid())
                    .push_bind(i64::from(pick.position))
                    .push_bind(i64::from(pick.rank))
                    .push_bind(pick.pool as i64)
                    .push_bind(pick.evaluator_id.map(|id| id.as_uuid()));
            });
            query.build().execute(&mut *tx).await?;
            let given: Vec<_> = chunk.iter().filter(|pick| pick.assignment_id.is_some()).collect();
            if given.is_empty() {
                continue;
            }
            let mut query = QueryBuilder::<Database>::new(
                "INSERT INTO assignments (id, list_id, run_id, case_id, evaluator_id, agent_user_id, status,
                     created_at, updated_at) ",
            );
            query.push_values(given, |mut row, pick| {
                row.push_bind(pick.assignment_id.map(|id| id.as_uuid()))
                    .push_bind(run.list_id.as_uuid())
                    .push_bind(run.id.as_uuid())
                    .push_bind(pick.case_id.as_uuid())
                    .push_bind(pick.evaluator_id.map(|id| id.as_uuid()))
                    .push_bind(pick.agent_user_id.as_uuid())
                    .push_bind("todo")
                    .push_bind(run.at.as_millis())
                    .push_bind(run.at.as_millis());
            });
            query.build().execute(&mut *tx).await?;
        }
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The run `run` of `list`, with its agents and picks (picks in run order).
    pub(crate) async fn get_run(&self, list: ListId, run: RunId) -> StoreResult<Option<ListRun>> {
        let found: Option<RunRow> = sqlx::query_as(
            "SELECT id, list_id, list_version, seed, slot_at, window_from, window_to, pool_total, held_back,
                    unassigned, started_by, created_at
             FROM list_runs WHERE id = $1 AND list_id = $2",
        )
        .bind(run.as_uuid())
        .bind(list.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        let Some(found) = found else { return Ok(None) };
        let mut run_record = ListRun::from(found);
        let agents: Vec<(Uuid, i64, i64)> =
            sqlx::query_as("SELECT user_id, pool, picked FROM run_agents WHERE run_id = $1 ORDER BY user_id")
                .bind(run.as_uuid())
                .fetch_all(&self.pool)
                .await?;
        run_record.agents = agents
            .into_iter()
            .map(|(user, pool, picked)| RunAgent {
                user_id: UserId::from_uuid(user),
                pool: count(pool),
                picked: count(picked),
            })
            .collect();
        let picks: Vec<PickRow> = sqlx::query_as(
            "SELECT p.case_id, p.agent_user_id, p.position, p.rank, p.pool, p.evaluator_id, s.id AS assignment_id
             FROM run_picks p
             LEFT JOIN assignments s ON s.run_id = p.run_id AND s.case_id = p.case_id AND s.replaces IS NULL
             WHERE p.run_id = $1 ORDER BY p.position",
        )
        .bind(run.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        run_record.picks = picks
            .into_iter()
            .map(|row| RunPick {
                case_id: CaseId::from_uuid(row.case_id),
                agent_user_id: UserId::from_uuid(row.agent_user_id),
                position: u32::try_from(row.position).unwrap_or(0),
                rank: u32::try_from(row.rank).unwrap_or(0),
                pool: count(row.pool),
                evaluator_id: row.evaluator_id.map(UserId::from_uuid),
                assignment_id: row.assignment_id.map(AssignmentId::from_uuid),
            })
            .collect();
        Ok(Some(run_record))
    }

    /// Runs of a list, newest first (without their picks).
    pub(crate) async fn list_runs(&self, list: ListId, page: PageRequest) -> StoreResult<Page<ListRun>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT id, list_id, list_version, seed, slot_at, window_from, window_to, pool_total, held_back,
                    unassigned, started_by, created_at
             FROM list_runs WHERE list_id = ",
        );
        query.push_bind(list.as_uuid());
        if let Some(after) = page.after {
            query.push(" AND id < ").push_bind(after);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(page.limit) + 1);
        let rows: Vec<RunRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let runs = rows.into_iter().map(ListRun::from).collect();
        Ok(Page::from_overfetch(runs, page.limit, |run: &ListRun| run.id.as_uuid()))
    }

    /// An evaluator's assignments, oldest first; `open` keeps those to do or in progress.
    pub(crate) async fn list_assignments(
        &self,
        evaluator: UserId,
        status: Option<String>,
        page: PageRequest,
    ) -> StoreResult<Page<Assignment>> {
        let mut query = QueryBuilder::<Database>::new(ASSIGNMENT_SELECT);
        query.push("WHERE s.evaluator_id = ").push_bind(evaluator.as_uuid());
        match status.as_deref() {
            Some("open") => {
                query.push(" AND s.status IN ('todo', 'in_progress')");
            }
            Some(status) => {
                query.push(" AND s.status = ").push_bind(status.to_owned());
            }
            None => {}
        }
        if let Some(after) = page.after {
            query.push(" AND s.id > ").push_bind(after);
        }
        query.push(" ORDER BY s.id LIMIT ").push_bind(i64::from(page.limit) + 1);
        let rows: Vec<AssignmentRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let items = rows.into_iter().map(Assignment::from).collect();
        Ok(Page::from_overfetch(items, page.limit, |a: &Assignment| a.id.as_uuid()))
    }

    /// Assignments of a run, for its page (replacements included).
    pub(crate) async fn run_assignments(&self, run: RunId) -> StoreResult<Vec<Assignment>> {
        let mut query = QueryBuilder::<Database>::new(ASSIGNMENT_SELECT);
        query.push("WHERE s.run_id = ").push_bind(run.as_uuid()).push(" ORDER BY s.id");
        let rows: Vec<AssignmentRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Assignment::from).collect())
    }

    /// Assignments of a case (for its page).
    pub(crate) async fn case_assignments(&self, case: CaseId) -> StoreResult<Vec<Assignment>> {
        let mut query = QueryBuilder::<Database>::new(ASSIGNMENT_SELECT);
        query.push("WHERE s.case_id = ").push_bind(case.as_uuid()).push(" ORDER BY s.id");
        let rows: Vec<AssignmentRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Assignment::from).collect())
    }

    pub(crate) async fn get_assignment(&self, id: AssignmentId) -> StoreResult<Option<Assignment>> {
        let mut query = QueryBuilder::<Database>::new(ASSIGNMENT_SELECT);
        query.push("WHERE s.id = ").push_bind(id.as_uuid());
        let row: Option<AssignmentRow> = query.build_query_as().fetch_optional(&self.pool).await?;
        Ok(row.map(Assignment::from))
    }

    /// Open assignments of an evaluator.
    pub(crate) async fn count_open_assignments(&self, evaluator: UserId) -> StoreResult<u64> {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM assignments WHERE evaluator_id = $1 AND status IN ('todo', 'in_progress')",
        )
        .bind(evaluator.as_uuid())
        .fetch_one(&self.pool)
        .await?;
        Ok(count(open))
    }

    /// Marks an open assignment skipped with `reason`, and adds its replacement if there is one;
    /// `false` when it was no longer open.
    pub(crate) async fn skip_assignment(
        &self,
        id: AssignmentId,
        reason: &str,
        replacement: Option<&NewAssignment>,
        now: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE assignments SET status = 'skipped', skip_reason = $2, updated_at = $3
             WHERE id = $1 AND status IN ('todo', 'in_progress')",
        )
        .bind(id.as_uuid())
        .bind(reason)
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(new) = replacement {
            sqlx::query(
                "INSERT INTO assignments (id, list_id, run_id, case_id, evaluator_id, agent_user_id, status, replaces,
                     created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'todo', $7, $8, $8)",
            )
            .bind(new.id.as_uuid())
            .bind(new.list_id.map(|id| id.as_uuid()))
            .bind(new.run_id.map(|id| id.as_uuid()))
            .bind(new.case_id.as_uuid())
            .bind(new.evaluator_id.as_uuid())
            .bind(new.agent_user_id.as_uuid())
            .bind(new.replaces.map(|id| id.as_uuid()))
            .bind(new.at.as_millis())
            .execute(&mut *tx)
            .await?;
        }
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every list with a schedule that is not archived, at its current version.
    pub(crate) async fn scheduled_lists(&self) -> StoreResult<Vec<List>> {
        let mut lists = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = self.list_lists(&Scope::Everything, false, page).await?;
            lists.extend(found.items.into_iter().filter(|list| list.definition.schedule.is_some()));
            match found.next_after {
                Some(after) => page.after = Some(after),
                None => return Ok(lists),
            }
        }
    }
}
