//! Scorecards: a draft edited freely, published versions that are written once and never
//! updated (no statement here changes a row of `scorecard_versions`), and archiving.

use scoreline_core::{
    AuditRecord, Page, PageRequest, Scorecard, ScorecardDefinition, ScorecardId, ScorecardVersion,
    ScorecardVersionId, Timestamp, UserId,
};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use super::audit::{commit_audited_change, write_audit};
use super::{Backend, Database};
use crate::model::NewScorecard;
use crate::{StoreError, StoreResult};

const SELECT_SCORECARD: &str = "SELECT s.id, s.name, s.draft, s.archived_at, s.created_at, s.updated_at,
        v.id AS v_id, v.number AS v_number, v.definition AS v_definition, v.published_at AS v_published_at,
        v.published_by AS v_published_by
     FROM scorecards s
     LEFT JOIN scorecard_versions v ON v.scorecard_id = s.id AND v.number = s.latest_version";

#[derive(sqlx::FromRow)]
struct ScorecardRow {
    id: Uuid,
    name: String,
    draft: Option<Json<ScorecardDefinition>>,
    archived_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    v_id: Option<Uuid>,
    v_number: Option<i64>,
    v_definition: Option<Json<ScorecardDefinition>>,
    v_published_at: Option<i64>,
    v_published_by: Option<Uuid>,
}

impl TryFrom<ScorecardRow> for Scorecard {
    type Error = StoreError;

    fn try_from(row: ScorecardRow) -> Result<Self, Self::Error> {
        let latest = match (row.v_id, row.v_number, row.v_definition, row.v_published_at) {
            (Some(id), Some(number), Some(definition), Some(published_at)) => Some(VersionRow {
                id,
                scorecard_id: row.id,
                number,
                definition,
                published_at,
                published_by: row.v_published_by,
            }),
            _ => None,
        };
        Ok(Self {
            id: ScorecardId::from_uuid(row.id),
            name: row.name,
            draft: row.draft.map(|draft| draft.0),
            latest: latest.map(ScorecardVersion::try_from).transpose()?,
            archived_at: row.archived_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: Uuid,
    scorecard_id: Uuid,
    number: i64,
    definition: Json<ScorecardDefinition>,
    published_at: i64,
    published_by: Option<Uuid>,
}

impl TryFrom<VersionRow> for ScorecardVersion {
    type Error = StoreError;

    fn try_from(row: VersionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: ScorecardVersionId::from_uuid(row.id),
            scorecard_id: ScorecardId::from_uuid(row.scorecard_id),
            number: u32::try_from(row.number)
                .map_err(|_| StoreError::Corrupt(format!("scorecard_versions.number = {}", row.number)))?,
            definition: row.definition.0,
            published_at: Timestamp::from_millis(row.published_at),
            published_by: row.published_by.map(UserId::from_uuid),
        })
    }
}

const SELECT_VERSION: &str =
    "SELECT id, scorecard_id, number, definition, published_at, published_by FROM scorecard_versions";

impl Backend {
    pub(crate) async fn create_scorecard(
        &self,
        scorecard: &NewScorecard,
        audit: &AuditRecord,
    ) -> StoreResult<Scorecard> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO scorecards (id, name, draft, latest_version, created_at, updated_at)
             VALUES ($1, $2, $3, 0, $4, $4)",
        )
        .bind(scorecard.id.as_uuid())
        .bind(&scorecard.definition.name)
        .bind(Json(&scorecard.definition))
        .bind(scorecard.at.as_millis())
        .execute(&mut *tx)
        .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(Scorecard {
            id: scorecard.id,
            name: scorecard.definition.name.clone(),
            draft: Some(scorecard.definition.clone()),
            latest: None,
            archived_at: None,
            created_at: scorecard.at,
            updated_at: scorecard.at,
        })
    }

    pub(crate) async fn get_scorecard(&self, id: ScorecardId) -> StoreResult<Option<Scorecard>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_SCORECARD);
        query.push(" WHERE s.id = ").push_bind(id.as_uuid());
        let row: Option<ScorecardRow> = query.build_query_as().fetch_optional(&self.pool).await?;
        row.map(Scorecard::try_from).transpose()
    }

    /// Oldest first; archived ones only when asked for.
    pub(crate) async fn list_scorecards(
        &self,
        include_archived: bool,
        page: PageRequest,
    ) -> StoreResult<Page<Scorecard>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_SCORECARD);
        query.push(" WHERE TRUE");
        if !include_archived {
            query.push(" AND s.archived_at IS NULL");
        }
        if let Some(after) = page.after {
            query.push(" AND s.id > ").push_bind(after);
        }
        query.push(" ORDER BY s.id LIMIT ").push_bind(i64::from(page.limit) + 1);
        let rows: Vec<ScorecardRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let items = rows.into_iter().map(Scorecard::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page.limit, |card| card.id.as_uuid()))
    }

    /// Replaces the draft; `false` when there is no such scorecard or it is archived.
    pub(crate) async fn save_scorecard_draft(
        &self,
        id: ScorecardId,
        draft: &ScorecardDefinition,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE scorecards SET draft = $2, name = $3, updated_at = $4 WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id.as_uuid())
        .bind(Json(draft))
        .bind(&draft.name)
        .bind(at.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        commit_audited_change(tx, changed, audit).await
    }

    /// Freezes the draft as the next version; `None` when there is no draft to publish (or
    /// the scorecard is archived or missing).
    pub(crate) async fn publish_scorecard(
        &self,
        id: ScorecardId,
        version_id: ScorecardVersionId,
        by: Option<UserId>,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<Option<ScorecardVersion>> {
        let mut tx = self.begin_write().await?;
        // Takes the row's write lock first, so two publishers cannot both read the same draft.
        let locked = sqlx::query(
            "UPDATE scorecards SET updated_at = $2 WHERE id = $1 AND archived_at IS NULL AND draft IS NOT NULL",
        )
        .bind(id.as_uuid())
        .bind(at.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if locked == 0 {
            return Ok(None);
        }
        let (draft, latest): (Json<ScorecardDefinition>, i64) =
            sqlx::query_as("SELECT draft, latest_version FROM scorecards WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_one(&mut *tx)
                .await?;
        let number = latest + 1;
        sqlx::query(
            "INSERT INTO scorecard_versions (id, scorecard_id, number, definition, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(version_id.as_uuid())
        .bind(id.as_uuid())
        .bind(number)
        .bind(Json(&draft.0))
        .bind(at.as_millis())
        .bind(by.map(|user| user.as_uuid()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE scorecards SET draft = NULL, latest_version = $2 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(number)
            .execute(&mut *tx)
            .await?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        let row = VersionRow {
            id: version_id.as_uuid(),
            scorecard_id: id.as_uuid(),
            number,
            definition: draft,
            published_at: at.as_millis(),
            published_by: by.map(|user| user.as_uuid()),
        };
        Ok(Some(row.try_into()?))
    }

    /// `false` when there is no such scorecard or it was archived already.
    pub(crate) async fn archive_scorecard(
        &self,
        id: ScorecardId,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE scorecards SET archived_at = $2, updated_at = $2 WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id.as_uuid())
        .bind(at.as_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        commit_audited_change(tx, changed, audit).await
    }

    pub(crate) async fn get_scorecard_version(
        &self,
        id: ScorecardId,
        number: u32,
    ) -> StoreResult<Option<ScorecardVersion>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_VERSION);
        query.push(" WHERE scorecard_id = ").push_bind(id.as_uuid());
        query.push(" AND number = ").push_bind(i64::from(number));
        let row: Option<VersionRow> = query.build_query_as().fetch_optional(&self.pool).await?;
        row.map(ScorecardVersion::try_from).transpose()
    }

    pub(crate) async fn get_scorecard_version_by_id(
        &self,
        id: ScorecardVersionId,
    ) -> StoreResult<Option<ScorecardVersion>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_VERSION);
        query.push(" WHERE id = ").push_bind(id.as_uuid());
        let row: Option<VersionRow> = query.build_query_as().fetch_optional(&self.pool).await?;
        row.map(ScorecardVersion::try_from).transpose()
    }

    /// Every version of the scorecard, newest first.
    pub(crate) async fn list_scorecard_versions(
        &self,
        id: ScorecardId,
    ) -> StoreResult<Vec<ScorecardVersion>> {
        let mut query = QueryBuilder::<Database>::new(SELECT_VERSION);
        query.push(" WHERE scorecard_id = ").push_bind(id.as_uuid()).push(" ORDER BY number DESC");
        let rows: Vec<VersionRow> = query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(ScorecardVersion::try_from).collect()
    }
}
