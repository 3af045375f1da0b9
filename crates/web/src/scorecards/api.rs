//! `/api/v1/scorecards`: drafts, published versions, archiving, and the TOML file.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use scoreline_app::MAX_SCORECARD_FILE_BYTES;
use scoreline_core::{
    Scorecard, ScorecardDefinition, ScorecardId, ScorecardInput, ScorecardVersion, ScorecardVersionId,
    Timestamp, UserId,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, IdPath, IdPath2, PageQuery, Permitted, VersionNumber, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_scorecards, create_scorecard))
        .routes(routes!(get_scorecard, patch_scorecard))
        .routes(routes!(publish_scorecard))
        .routes(routes!(archive_scorecard))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .routes(routes!(export_scorecard))
        .routes(routes!(import_scorecard))
}

/// A scorecard: its state and its current definition (the draft if one is pending, else the
/// latest version), with the ids of every section, question and option.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardView {
    #[schema(value_type = String, format = Uuid)]
    pub id: ScorecardId,
    /// `draft` (never published), `published` or `archived`.
    pub state: &'static str,
    /// The latest published version's number; `null` before the first.
    pub latest_version: Option<u32>,
    /// The latest version's id, which evaluations name.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub latest_version_id: Option<ScorecardVersionId>,
    /// Whether a draft of the next version is pending.
    pub has_draft: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// name, description, target, dispute_days, blind, self_score, group_ids, sections.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub definition: Option<ScorecardDefinition>,
}

impl From<Scorecard> for ScorecardView {
    fn from(card: Scorecard) -> Self {
        Self {
            id: card.id,
            state: card.state(),
            latest_version: card.latest.as_ref().map(|v| v.number),
            latest_version_id: card.latest.as_ref().map(|v| v.id),
            has_draft: card.draft.is_some(),
            archived_at: card.archived_at,
            created_at: card.created_at,
            updated_at: card.updated_at,
            definition: card.current().cloned(),
        }
    }
}

/// A published version: never changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    /// The `scorecard_version_id` evaluations name.
    #[schema(value_type = String, format = Uuid)]
    pub id: ScorecardVersionId,
    #[schema(value_type = String, format = Uuid)]
    pub scorecard_id: ScorecardId,
    pub number: u32,
    #[schema(value_type = String, format = DateTime)]
    pub published_at: Timestamp,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub published_by: Option<UserId>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub definition: ScorecardDefinition,
}

impl From<ScorecardVersion> for VersionView {
    fn from(version: ScorecardVersion) -> Self {
        Self {
            id: version.id,
            scorecard_id: version.scorecard_id,
            number: version.number,
            published_at: version.published_at,
            published_by: version.published_by,
            definition: version.definition,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ScorecardQuery {
    /// Include archived scorecards.
    pub include_archived: bool,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/scorecards", tag = "scorecards", params(ScorecardQuery),
    responses((status = 200, body = ItemList<ScorecardView>), (status = 403)))]
async fn list_scorecards(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    ApiQuery(query): ApiQuery<ScorecardQuery>,
) -> Result<Json<ItemList<ScorecardView>>, ApiError> {
    let page = PageQuery { cursor: query.cursor, limit: query.limit }.to_request()?;
    let cards = state.app.list_scorecards(&actor, query.include_archived, page).await?;
    Ok(Json(ItemList::from_page(cards, ScorecardView::from)))
}

/// A new scorecard, as a draft (publish it to evaluate with it).
#[utoipa::path(post, path = "/scorecards", tag = "scorecards", request_body(content = Object, description = "A scorecard definition"),
    responses((status = 201, body = ScorecardView), (status = 403), (status = 422)))]
async fn create_scorecard(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageScorecards>,
    ApiJson(body): ApiJson<ScorecardInput>,
) -> Result<(StatusCode, Json<ScorecardView>), ApiError> {
    let card = state.app.create_scorecard(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(card.into())))
}

#[utoipa::path(get, path = "/scorecards/{id}", tag = "scorecards", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ScorecardView), (status = 403), (status = 404)))]
async fn get_scorecard(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<ScorecardId>,
) -> Result<Json<ScorecardView>, ApiError> {
    Ok(Json(state.app.get_scorecard(&actor, id).await?.into()))
}

/// Changes the draft (after a publish: the next version's draft). Any part of a definition;
/// `sections`, when present, replaces them all, keeping the ids given.
#[utoipa::path(patch, path = "/scorecards/{id}", tag = "scorecards", params(("id" = String, Path, format = Uuid)),
    request_body(content = Object, description = "Any part of a scorecard definition"),
    responses((status = 200, body = ScorecardView), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn patch_scorecard(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageScorecards>,
    IdPath(id): IdPath<ScorecardId>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<ScorecardView>, ApiError> {
    Ok(Json(state.app.patch_scorecard(&actor, id, body).await?.into()))
}

/// Freezes the draft as the next version.
#[utoipa::path(post, path = "/scorecards/{id}/publish", tag = "scorecards", params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = VersionView), (status = 403), (status = 404), (status = 409)))]
async fn publish_scorecard(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageScorecards>,
    IdPath(id): IdPath<ScorecardId>,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    let version = state.app.publish_scorecard(&actor, id).await?;
    Ok((StatusCode::CREATED, Json(version.into())))
}

#[utoipa::path(post, path = "/scorecards/{id}/archive", tag = "scorecards", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ScorecardView), (status = 403), (status = 404), (status = 409)))]
async fn archive_scorecard(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageScorecards>,
    IdPath(id): IdPath<ScorecardId>,
) -> Result<Json<ScorecardView>, ApiError> {
    Ok(Json(state.app.archive_scorecard(&actor, id).await?.into()))
}

/// Every published version, newest first (one page).
#[utoipa::path(get, path = "/scorecards/{id}/versions", tag = "scorecards", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ItemList<VersionView>), (status = 403), (status = 404)))]
async fn list_versions(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<ScorecardId>,
) -> Result<Json<ItemList<VersionView>>, ApiError> {
    let versions = state.app.scorecard_versions(&actor, id).await?;
    Ok(Json(ItemList { items: versions.into_iter().map(VersionView::from).collect(), next_cursor: None }))
}

#[utoipa::path(get, path = "/scorecards/{id}/versions/{n}", tag = "scorecards",
    params(("id" = String, Path, format = Uuid), ("n" = u32, Path)),
    responses((status = 200, body = VersionView), (status = 403), (status = 404)))]
async fn get_version(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath2(id, VersionNumber(number)): IdPath2<ScorecardId, VersionNumber>,
) -> Result<Json<VersionView>, ApiError> {
    Ok(Json(state.app.scorecard_version(&actor, id, number).await?.into()))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ExportQuery {
    /// A published version; without it, the draft or else the latest version.
    pub version: Option<u32>,
}

/// The scorecard as a TOML file, without ids.
#[utoipa::path(get, path = "/scorecards/{id}/export", tag = "scorecards",
    params(("id" = String, Path, format = Uuid), ExportQuery),
    responses((status = 200, content_type = "application/toml", body = String), (status = 403), (status = 404)))]
async fn export_scorecard(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<ScorecardId>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let (name, text) = state.app.export_scorecard(&actor, id, query.version).await?;
    Ok(toml_file(&name, text))
}

/// The TOML file as a download named after the scorecard.
pub(crate) fn toml_file(name: &str, text: String) -> Response {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let file = if slug.is_empty() { "scorecard".to_owned() } else { slug };
    (
        [
            (header::CONTENT_TYPE, "application/toml; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}.toml\"")),
        ],
        text,
    )
        .into_response()
}

/// A new draft scorecard from a TOML file (the body); nothing is created when any part fails,
/// and every problem is named by its path.
#[utoipa::path(post, path = "/scorecards/import", tag = "scorecards",
    request_body(content = String, content_type = "application/toml"),
    responses((status = 201, body = ScorecardView), (status = 403), (status = 413), (status = 422)))]
async fn import_scorecard(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageScorecards>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ScorecardView>), ApiError> {
    if body.len() > MAX_SCORECARD_FILE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The file is larger than {} KiB.", MAX_SCORECARD_FILE_BYTES / 1024),
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid_field("file", "The file is not UTF-8 text."))?;
    let card = state.app.import_scorecard(&actor, text).await?;
    Ok((StatusCode::CREATED, Json(card.into())))
}
