//! Cases as the sync stored them: lists, lookups and counts, and the retention purge.

use scoreline_core::{
    CaseContent, CaseCounts, CaseFilter, CaseId, DateField, IntegrationId, Page, PageRequest, RawJson, Scope,
    StoredCase, Timestamp, UserId,
};
use serde_json::Value;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Backend, Database, count, push_staff_in_scope};
use crate::StoreResult;
use crate::dialect::Dialect;

#[derive(sqlx::FromRow)]
struct CaseRow {
    id: Uuid,
    integration_id: Uuid,
    source_id: String,
    short_id: Option<String>,
    status: String,
    priority: Option<i64>,
    silo: String,
    team_id: Option<String>,
    team_name: Option<String>,
    agent_id: Option<String>,
    agent_name: Option<String>,
    created_at: i64,
    updated_at: i64,
    last_message_at: Option<i64>,
    message_count: i64,
    event_count: i64,
    agent_message_count: i64,
    purged_at: Option<i64>,
    matched_user_id: Option<Uuid>,
    subject: Option<String>,
    requester: Option<Json<Value>>,
    tags: Option<Json<Vec<String>>>,
}

impl From<CaseRow> for StoredCase {
    fn from(row: CaseRow) -> Self {
        let small = |value: i64| u32::try_from(value).unwrap_or(0);
        Self {
            id: CaseId::from_uuid(row.id),
            integration_id: IntegrationId::from_uuid(row.integration_id),
            source_id: row.source_id,
            short_id: row.short_id,
            status: row.status,
            priority: row.priority,
            silo: row.silo,
            team_id: row.team_id,
            team_name: row.team_name,
            agent_id: row.agent_id,
            agent_name: row.agent_name,
            agent_user_id: row.matched_user_id.map(UserId::from_uuid),
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
            last_message_at: row.last_message_at.map(Timestamp::from_millis),
            message_count: small(row.message_count),
            event_count: small(row.event_count),
            agent_message_count: small(row.agent_message_count),
            purged_at: row.purged_at.map(Timestamp::from_millis),
            subject: row.subject,
            requester: row.requester.map(|requester| requester.0),
            tags: row.tags.map(|tags| tags.0).unwrap_or_default(),
            content: None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ContentRow {
    subject: Option<String>,
    requester: Option<Json<Value>>,
    tags: Json<Vec<String>>,
    custom_fields: Json<Value>,
    events: Json<RawJson>,
}

impl From<ContentRow> for CaseContent {
    fn from(row: ContentRow) -> Self {
        Self {
            subject: row.subject,
            requester: row.requester.map(|requester| requester.0),
            tags: row.tags.0,
            custom_fields: row.custom_fields.0,
            events: row.events.0,
        }
    }
}

/// A case whose evaluation is disputed keeps its content past retention until the dispute
/// closes (DESIGN.md §7.5).
macro_rules! held_by_open_dispute {
    () => {
        "EXISTS (SELECT 1 FROM evaluations e JOIN disputes d ON d.evaluation_id = e.id
                 WHERE e.case_id = cases.id AND d.status = 'open')"
    };
}

/// So does a case in an open calibration session, until the session closes.
macro_rules! held_by_open_calibration {
    () => {
        "EXISTS (SELECT 1 FROM calibrations k WHERE k.case_id = cases.id AND k.status = 'open')"
    };
}

/// What holds a case's content past retention: an open dispute or an open calibration.
macro_rules! not_held {
    () => {
        concat!("NOT ", held_by_open_dispute!(), " AND NOT ", held_by_open_calibration!())
    };
}

/// Which cases past the cutoff a count wants.
#[derive(Clone, Copy)]
enum PastCutoff {
    Purgeable,
    HeldForDisputes,
    HeldForCalibrations,
}

/// Which cases a read wants.
#[derive(Clone, Copy)]
enum Cases<'a> {
    One(CaseId),
    Many(&'a [CaseId]),
    Page(&'a CaseFilter, PageRequest),
    /// By the short id people quote, or the HelpDesk ticket id.
    Reference(&'a str),
}

/// Appends the tables a read of cases joins: the case and its agent's match, and its content
/// (`cc`) when the read shows it or `filter` looks into it — a count or a pool that needs
/// neither is spared a join per case.
pub(super) fn push_cases_from(query: &mut QueryBuilder<Database>, shows_content: bool, filter: &CaseFilter) {
    query.push("FROM cases c").push(AGENT_OF_CASE);
    let filters_content =
        !filter.tags.is_empty() || filter.subject_contains.as_deref().is_some_and(|text| !text.is_empty());
    if shows_content || filters_content {
        query.push(CONTENT_OF_CASE);
    }
}

/// The join of a case (`c`) to its agent (`a`), whose match says whose case it is.
const AGENT_OF_CASE: &str =
    " LEFT JOIN helpdesk_agents a ON a.integration_id = c.integration_id AND a.agent_id = c.agent_id";

/// The join of a case (`c`) to its content (`cc`).
const CONTENT_OF_CASE: &str = " LEFT JOIN case_contents cc ON cc.case_id = c.id";

/// The column of `field`; a case without messages sorts as the oldest by last message.
pub(super) fn date_column(field: DateField) -> &'static str {
    match field {
        DateField::Created => "c.created_at",
        DateField::Updated => "c.updated_at",
        DateField::LastMessage => "COALESCE(c.last_message_at, 0)",
    }
}

/// Appends ` AND …` for every restriction of `filter` (not its sort), over [`push_cases_from`].
pub(super) fn push_case_filter(query: &mut QueryBuilder<Database>, filter: &CaseFilter) {
    fn any_of<T>(
        query: &mut QueryBuilder<Database>,
        column: &str,
        values: &[T],
        bind: impl Fn(&T) -> BindValue,
    ) {
        if values.is_empty() {
            return;
        }
        query.push(" AND ").push(column).push(" IN (");
        let mut list = query.separated(", ");
        for value in values {
            match bind(value) {
                BindValue::Id(id) => list.push_bind(id),
                BindValue::Text(text) => list.push_bind(text),
                BindValue::Number(number) => list.push_bind(number),
            };
        }
        query.push(")");
    }
    any_of(query, "c.integration_id", &filter.integration_ids, |id| BindValue::Id(id.as_uuid()));
    if !filter.agent_user_ids.is_empty() {
        // Through the agents matched to them, so the cases' (integration, agent) index serves.
        query.push(
            " AND (c.integration_id, c.agent_id) IN (SELECT ma.integration_id, ma.agent_id FROM helpdesk_agents ma
                 WHERE TRUE",
        );
        any_of(query, "ma.matched_user_id", &filter.agent_user_ids, |id| BindValue::Id(id.as_uuid()));
        query.push(")");
    }
    if !filter.team_ids.is_empty() {
        query.push(" AND a.matched_user_id IN (SELECT tm.user_id FROM memberships tm WHERE TRUE");
        any_of(query, "tm.team_id", &filter.team_ids, |id| BindValue::Id(id.as_uuid()));
        query.push(")");
    }
    if !filter.group_ids.is_empty() {
        query.push(
            " AND a.matched_user_id IN (SELECT gm.user_id FROM memberships gm
                 JOIN teams gt ON gt.id = gm.team_id WHERE TRUE",
        );
        any_of(query, "gt.group_id", &filter.group_ids, |id| BindValue::Id(id.as_uuid()));
        query.push(")");
    }
    any_of(query, "c.status", &filter.statuses, |text| BindValue::Text(text.clone()));
    any_of(query, "c.priority", &filter.priorities, |number| BindValue::Number(*number));
    any_of(query, "c.team_id", &filter.helpdesk_team_ids, |text| BindValue::Text(text.clone()));
    any_of(query, "c.silo", &filter.silos, |text| BindValue::Text(text.clone()));
    if !filter.tags.is_empty() {
        query.push(" AND EXISTS (SELECT 1 FROM ").push(Backend::TAGS_OF_CASE).push(" WHERE TRUE");
        any_of(query, "j.value", &filter.tags, |text| BindValue::Text(text.clone()));
        query.push(")");
    }
    for range in &filter.dates {
        let column = date_column(range.field);
        if let Some(from) = range.from {
            query.push(" AND ").push(column).push(" >= ").push_bind(from.as_millis());
        }
        if let Some(to) = range.to {
            query.push(" AND ").push(column).push(" < ").push_bind(to.as_millis());
        }
    }
    if let Some(text) = filter.subject_contains.as_deref().filter(|text| !text.is_empty()) {
        push_subject_contains(query, text);
    }
    if let Some(least) = filter.min_agent_messages {
        query.push(" AND c.agent_message_count >= ").push_bind(i64::from(least));
    }
    match filter.matched {
        Some(true) => {
            query.push(" AND a.matched_user_id IS NOT NULL");
        }
        Some(false) => {
            query.push(" AND c.agent_id IS NOT NULL AND a.matched_user_id IS NULL");
        }
        None => {}
    }
    match filter.purged {
        Some(true) => {
            query.push(" AND c.purged_at IS NOT NULL");
        }
        Some(false) => {
            query.push(" AND c.purged_at IS NULL");
        }
        None => {}
    }
}

/// Appends the tables and conditions of one page of cases (`limit + 1` of them, for the next
/// page's cursor), newest first by the filter's date field. The filter, the keyset cursor, the
/// order and the limit run first over the cases and their agents alone, which an index usually
/// covers; only the page's cases are then joined whole to their agent and content. Joining first
/// would read every matching case whole before sorting (a staff member's cases in one status:
/// hundreds of rows at a million cases) to keep fifty.
fn push_page_of_cases(
    query: &mut QueryBuilder<Database>,
    scope: &Scope,
    filter: &CaseFilter,
    page: PageRequest,
) {
    let column = date_column(filter.sort);
    query.push("FROM (SELECT c.id ");
    push_cases_from(query, false, filter);
    query.push(" WHERE ");
    push_staff_in_scope(query, scope, "a.matched_user_id");
    push_case_filter(query, filter);
    // Keyset paging on (date, id), newest first: the cursor is the last case shown.
    if let Some(after) = page.after {
        query
            .push(" AND (")
            .push(column)
            .push(", c.id) < (SELECT ")
            .push(column)
            .push(", c.id FROM cases c WHERE c.id = ")
            .push_bind(after)
            .push(")");
    }
    query
        .push(" ORDER BY ")
        .push(column)
        .push(" DESC, c.id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1)
        .push(") p JOIN cases c ON c.id = p.id")
        .push(AGENT_OF_CASE)
        .push(CONTENT_OF_CASE)
        .push(" ORDER BY ")
        .push(column)
        .push(" DESC, c.id DESC");
}

/// Appends that the subject (`cc`) contains `text`, whatever its case.
pub(super) fn push_subject_contains(query: &mut QueryBuilder<Database>, text: &str) {
    query
        .push(" AND LOWER(cc.subject) LIKE ")
        .push_bind(format!("%{}%", escape_like(&text.to_lowercase())))
        .push(" ESCAPE '\\'");
}

/// One value bound into an `IN (…)` list.
enum BindValue {
    Id(Uuid),
    Text(String),
    Number(i64),
}

/// Appends `id, id, …)`, closing an `IN (` the caller opened.
fn push_ids(query: &mut QueryBuilder<Database>, ids: &[Uuid]) {
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
}

/// `text` as a literal inside a `LIKE … ESCAPE '\'` pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped
}

impl Backend {
    /// Every read of cases goes through here, so no case outside `scope` is ever loaded: a case
    /// is in scope when the staff member matched to its agent is, and held-back cases (unmatched
    /// agents) only in a scope of everything.
    async fn read_cases(&self, scope: &Scope, wanted: Cases<'_>) -> StoreResult<Vec<StoredCase>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT c.id, c.integration_id, c.source_id, c.short_id, c.status, c.priority, c.silo, c.team_id,
                    c.team_name, c.agent_id, c.agent_name, c.created_at, c.updated_at, c.last_message_at,
                    c.message_count, c.event_count, c.agent_message_count, c.purged_at, a.matched_user_id,
                    cc.subject, cc.requester, cc.tags ",
        );
        let in_scope = |query: &mut QueryBuilder<Database>| {
            push_cases_from(query, true, &CaseFilter::default());
            query.push(" WHERE ");
            push_staff_in_scope(query, scope, "a.matched_user_id");
        };
        match wanted {
            Cases::One(id) => {
                in_scope(&mut query);
                query.push(" AND c.id = ").push_bind(id.as_uuid());
            }
            Cases::Reference(reference) => {
                in_scope(&mut query);
                query
                    .push(" AND (c.short_id = ")
                    .push_bind(reference.to_owned())
                    .push(" OR c.source_id = ")
                    .push_bind(reference.to_owned())
                    .push(") ORDER BY c.id LIMIT 10");
            }
            Cases::Many(ids) => {
                in_scope(&mut query);
                query.push(" AND c.id IN (");
                let ids: Vec<Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
                push_ids(&mut query, &ids);
            }
            Cases::Page(filter, page) => push_page_of_cases(&mut query, scope, filter, page),
        }
        let rows: Vec<CaseRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(StoredCase::from).collect())
    }

    /// The cases in `scope` whose short id or HelpDesk ticket id is `reference` (one per
    /// integration at most).
    pub(crate) async fn find_cases_by_reference(
        &self,
        scope: &Scope,
        reference: &str,
    ) -> StoreResult<Vec<StoredCase>> {
        self.read_cases(scope, Cases::Reference(reference)).await
    }

    /// A page of the cases in `scope` that pass `filter`, newest first by its date field.
    pub(crate) async fn list_cases(
        &self,
        scope: &Scope,
        filter: &CaseFilter,
        page: PageRequest,
    ) -> StoreResult<Page<StoredCase>> {
        let cases = self.read_cases(scope, Cases::Page(filter, page)).await?;
        Ok(Page::from_overfetch(cases, page.limit, |case| case.id.as_uuid()))
    }

    /// The cases of `ids` that `scope` sees, in no particular order (at most a page of them).
    pub(crate) async fn cases_by_ids(&self, scope: &Scope, ids: &[CaseId]) -> StoreResult<Vec<StoredCase>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read_cases(scope, Cases::Many(ids)).await
    }

    /// How many cases in `scope` pass `filter`, and how many of them are held back.
    pub(crate) async fn count_filtered_cases(
        &self,
        scope: &Scope,
        filter: &CaseFilter,
    ) -> StoreResult<CaseCounts> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT COUNT(*) AS total,
                    COUNT(CASE WHEN c.agent_id IS NOT NULL AND a.matched_user_id IS NULL THEN 1 END) AS held_back ",
        );
        push_cases_from(&mut query, false, filter);
        query.push(" WHERE ");
        push_staff_in_scope(&mut query, scope, "a.matched_user_id");
        push_case_filter(&mut query, filter);
        let (total, held_back): (i64, i64) = query.build_query_as().fetch_one(&self.pool).await?;
        Ok(CaseCounts { total: count(total), held_back: count(held_back) })
    }

    /// One case in `scope` with its full content (events included), unless purged.
    pub(crate) async fn get_case(&self, scope: &Scope, id: CaseId) -> StoreResult<Option<StoredCase>> {
        let Some(mut case) = self.read_cases(scope, Cases::One(id)).await?.pop() else {
            return Ok(None);
        };
        let content: Option<ContentRow> = sqlx::query_as(
            "SELECT subject, requester, tags, custom_fields, events FROM case_contents WHERE case_id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        case.content = content.map(CaseContent::from);
        Ok(Some(case))
    }

    pub(crate) async fn count_cases(&self, integration_id: IntegrationId) -> StoreResult<u64> {
        let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE integration_id = $1")
            .bind(integration_id.as_uuid())
            .fetch_one(&self.pool)
            .await?;
        Ok(count(cases))
    }

    /// All cases, and those held back because their agent is matched to nobody.
    pub(crate) async fn case_counts(&self, integration_id: IntegrationId) -> StoreResult<CaseCounts> {
        let (total, held_back): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*) AS total,
                    COUNT(CASE WHEN c.agent_id IS NOT NULL AND a.matched_user_id IS NULL THEN 1 END)
                        AS held_back
             FROM cases c
             LEFT JOIN helpdesk_agents a ON a.integration_id = c.integration_id AND a.agent_id = c.agent_id
             WHERE c.integration_id = $1",
        )
        .bind(integration_id.as_uuid())
        .fetch_one(&self.pool)
        .await?;
        Ok(CaseCounts { total: count(total), held_back: count(held_back) })
    }

    /// The greatest `updatedAt` among the integration's cases.
    pub(crate) async fn newest_case_update(
        &self,
        integration_id: IntegrationId,
    ) -> StoreResult<Option<Timestamp>> {
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(updated_at) FROM cases WHERE integration_id = $1")
                .bind(integration_id.as_uuid())
                .fetch_one(&self.pool)
                .await?;
        Ok(newest.map(Timestamp::from_millis))
    }

    /// The stored version of one ticket's case (`updatedAt`, event count, silo), if stored.
    pub(crate) async fn case_version(
        &self,
        integration_id: IntegrationId,
        source_id: &str,
    ) -> StoreResult<Option<(Timestamp, u32, String)>> {
        let stored: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT updated_at, event_count, silo FROM cases WHERE integration_id = $1 AND source_id = $2",
        )
        .bind(integration_id.as_uuid())
        .bind(source_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(stored.map(|(updated_at, events, silo)| {
            (Timestamp::from_millis(updated_at), u32::try_from(events).unwrap_or(u32::MAX), silo)
        }))
    }

    /// Cases whose content a purge with this cutoff would remove (open disputes and open
    /// calibrations hold theirs).
    pub(crate) async fn count_purgeable(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
    ) -> StoreResult<u64> {
        self.count_past_cutoff(integration_id, cutoff, PastCutoff::Purgeable).await
    }

    /// Cases past this cutoff whose content an open dispute holds past retention.
    pub(crate) async fn count_held_for_disputes(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
    ) -> StoreResult<u64> {
        self.count_past_cutoff(integration_id, cutoff, PastCutoff::HeldForDisputes).await
    }

    /// Cases past this cutoff whose content an open calibration session holds past retention.
    pub(crate) async fn count_held_for_calibrations(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
    ) -> StoreResult<u64> {
        self.count_past_cutoff(integration_id, cutoff, PastCutoff::HeldForCalibrations).await
    }

    async fn count_past_cutoff(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
        which: PastCutoff,
    ) -> StoreResult<u64> {
        let sql = match which {
            PastCutoff::Purgeable => concat!(
                "SELECT COUNT(*) FROM cases WHERE integration_id = $1 AND purged_at IS NULL AND updated_at < $2 AND ",
                not_held!()
            ),
            PastCutoff::HeldForDisputes => concat!(
                "SELECT COUNT(*) FROM cases WHERE integration_id = $1 AND purged_at IS NULL AND updated_at < $2 AND ",
                held_by_open_dispute!()
            ),
            PastCutoff::HeldForCalibrations => concat!(
                "SELECT COUNT(*) FROM cases WHERE integration_id = $1 AND purged_at IS NULL AND updated_at < $2 AND ",
                held_by_open_calibration!()
            ),
        };
        let cases: i64 = sqlx::query_scalar(sql)
            .bind(integration_id.as_uuid())
            .bind(cutoff.as_millis())
            .fetch_one(&self.pool)
            .await?;
        Ok(count(cases))
    }

    /// Removes the content of up to `batch` cases last active before `cutoff`; returns how many.
    pub(crate) async fn purge_batch(
        &self,
        integration_id: IntegrationId,
        cutoff: Timestamp,
        batch: u32,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(concat!(
            "SELECT id FROM cases WHERE integration_id = $1 AND purged_at IS NULL AND updated_at < $2 AND ",
            not_held!(),
            " ORDER BY updated_at LIMIT $3"
        ))
        .bind(integration_id.as_uuid())
        .bind(cutoff.as_millis())
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        // Two statements for the whole batch, so the write lock is held for as short as can be.
        let mut delete = QueryBuilder::<Database>::new("DELETE FROM case_contents WHERE case_id IN (");
        push_ids(&mut delete, &ids);
        delete.build().execute(&mut *tx).await?;
        let mut update = QueryBuilder::<Database>::new("UPDATE cases SET purged_at = ");
        update.push_bind(now.as_millis()).push(" WHERE id IN (");
        push_ids(&mut update, &ids);
        update.build().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Makes deleted content leave the database files (see [`Dialect::FLUSH_DELETED`]).
    pub(crate) async fn flush_deleted(&self) -> StoreResult<()> {
        if let Some(flush) = Self::FLUSH_DELETED {
            sqlx::query(flush).execute(&self.pool).await?;
        }
        Ok(())
    }
}
