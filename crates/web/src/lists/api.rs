//! `/api/v1/lists` (definitions, versions, archive, preview, runs) and `/api/v1/assignments`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use scoreline_app::{ListPreview, Skipped, definition_error};
use scoreline_core::{
    Assignment, AssignmentId, CaseId, List, ListDefinition, ListId, ListRun, RunId, Timestamp, UserId,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, IdPath, IdPath2, PageQuery, Permitted, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_lists, create_list))
        .routes(routes!(show_list, update_list))
        .routes(routes!(archive_list))
        .routes(routes!(restore_list))
        .routes(routes!(preview_list))
        .routes(routes!(list_runs, run_list))
        .routes(routes!(show_run))
        .routes(routes!(list_assignments))
        .routes(routes!(skip_assignment))
}

/// A list: its id, version and state, and its whole definition (DESIGN.md §4).
#[derive(Debug, Serialize, ToSchema)]
pub struct ListView {
    #[schema(value_type = String, format = Uuid)]
    pub id: ListId,
    pub version: u32,
    pub archived: bool,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub definition: ListDefinition,
}

impl From<List> for ListView {
    fn from(list: List) -> Self {
        Self {
            id: list.id,
            version: list.version,
            archived: list.archived_at.is_some(),
            created_by: list.created_by,
            created_at: list.created_at,
            updated_at: list.updated_at,
            definition: list.definition,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowView {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunAgentView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub pool: u64,
    pub picked: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickView {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub agent_user_id: UserId,
    pub position: u32,
    /// Place in the order of the agent's pool (or of the whole pool for a total count).
    pub rank: u32,
    /// Size of the pool the rank counts in.
    pub pool: u64,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub evaluator_id: Option<UserId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignment_id: Option<AssignmentId>,
}

/// A run as it was made. `seed` is a decimal string (64 bits).
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    #[schema(value_type = String, format = Uuid)]
    pub id: RunId,
    #[schema(value_type = String, format = Uuid)]
    pub list_id: ListId,
    pub list_version: u32,
    pub seed: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub slot_at: Option<Timestamp>,
    pub window: WindowView,
    pub pool_total: u64,
    pub held_back: u64,
    pub unassigned: u64,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub started_by: Option<UserId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub per_agent: Vec<RunAgentView>,
    pub picked: Vec<PickView>,
}

impl From<ListRun> for RunView {
    fn from(run: ListRun) -> Self {
        Self {
            id: run.id,
            list_id: run.list_id,
            list_version: run.list_version,
            seed: run.seed.to_string(),
            slot_at: run.slot_at,
            window: WindowView { from: run.window_from, to: run.window_to },
            pool_total: run.pool_total,
            held_back: run.held_back,
            unassigned: run.unassigned,
            started_by: run.started_by,
            created_at: run.created_at,
            per_agent: run
                .agents
                .into_iter()
                .map(|a| RunAgentView { user_id: a.user_id, pool: a.pool, picked: a.picked })
                .collect(),
            picked: run
                .picks
                .into_iter()
                .map(|p| PickView {
                    case_id: p.case_id,
                    agent_user_id: p.agent_user_id,
                    position: p.position,
                    rank: p.rank,
                    pool: p.pool,
                    evaluator_id: p.evaluator_id,
                    assignment_id: p.assignment_id,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    #[schema(value_type = String, format = Uuid)]
    pub id: AssignmentId,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub list_id: Option<ListId>,
    pub list_name: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub run_id: Option<RunId>,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    pub case_short_id: Option<String>,
    pub case_subject: Option<String>,
    #[schema(value_type = String, format = Uuid)]
    pub evaluator_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub agent_user_id: UserId,
    /// `todo`, `in_progress`, `done` or `skipped`.
    pub status: String,
    pub skip_reason: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub replaces: Option<AssignmentId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Assignment> for AssignmentView {
    fn from(a: Assignment) -> Self {
        Self {
            id: a.id,
            list_id: a.list_id,
            list_name: a.list_name,
            run_id: a.run_id,
            case_id: a.case_id,
            case_short_id: a.case_short_id,
            case_subject: a.case_subject,
            evaluator_id: a.evaluator_id,
            agent_user_id: a.agent_user_id,
            status: a.status,
            skip_reason: a.skip_reason,
            replaces: a.replaces,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListsQuery {
    /// `true` lists the archived ones.
    pub archived: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/lists", tag = "lists", params(ListsQuery), responses((status = 200, body = ItemList<ListView>), (status = 403)))]
async fn list_lists(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    ApiQuery(query): ApiQuery<ListsQuery>,
) -> Result<Json<ItemList<ListView>>, ApiError> {
    let page = PageQuery { cursor: query.cursor, limit: query.limit }.to_request()?;
    let lists = state.app.list_lists(&actor, query.archived.unwrap_or(false), page).await?;
    Ok(Json(ItemList::from_page(lists, ListView::from)))
}

/// Reads a definition with every problem of its shape reported as a field error.
fn definition(body: serde_json::Value) -> Result<ListDefinition, ApiError> {
    serde_json::from_value(body).map_err(|e| ApiError::from(definition_error(&e)))
}

/// Saves a list (version 1). Every field is checked; any problem is a 422 naming its field and
/// nothing is saved.
#[utoipa::path(post, path = "/lists", tag = "lists", request_body = Object, responses((status = 201, body = ListView), (status = 403), (status = 422)))]
async fn create_list(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<ListView>), ApiError> {
    let list = state.app.create_list(&actor, definition(body)?).await?;
    Ok((StatusCode::CREATED, Json(list.into())))
}

#[utoipa::path(get, path = "/lists/{id}", tag = "lists", params(("id" = String, Path, format = Uuid)), responses((status = 200, body = ListView), (status = 404)))]
async fn show_list(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    IdPath(id): IdPath<ListId>,
) -> Result<Json<ListView>, ApiError> {
    Ok(Json(state.app.get_list(&actor, id).await?.into()))
}

/// Any part of the definition; the result is a new version (runs keep theirs).
#[utoipa::path(patch, path = "/lists/{id}", tag = "lists", params(("id" = String, Path, format = Uuid)), request_body = Object, responses((status = 200, body = ListView), (status = 404), (status = 422)))]
async fn update_list(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    IdPath(id): IdPath<ListId>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<ListView>, ApiError> {
    Ok(Json(state.app.update_list(&actor, id, body).await?.into()))
}

#[utoipa::path(post, path = "/lists/{id}/archive", tag = "lists", params(("id" = String, Path, format = Uuid)), responses((status = 200, body = ListView), (status = 404)))]
async fn archive_list(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    IdPath(id): IdPath<ListId>,
) -> Result<Json<ListView>, ApiError> {
    Ok(Json(state.app.set_list_archived(&actor, id, true).await?.into()))
}

#[utoipa::path(post, path = "/lists/{id}/restore", tag = "lists", params(("id" = String, Path, format = Uuid)), responses((status = 200, body = ListView), (status = 404)))]
async fn restore_list(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    IdPath(id): IdPath<ListId>,
) -> Result<Json<ListView>, ApiError> {
    Ok(Json(state.app.set_list_archived(&actor, id, false).await?.into()))
}

/// The pool of an unsaved definition, and what a run would pick; nothing is written.
#[utoipa::path(post, path = "/lists/preview", tag = "lists", request_body = Object, responses((status = 200, body = Object), (status = 422)))]
async fn preview_list(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<ListPreview>, ApiError> {
    Ok(Json(state.app.preview_list(&actor, definition(body)?).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RunBody {
    /// For a manual list: the cases to pick from its pool.
    #[schema(value_type = Vec<String>)]
    pub case_ids: Vec<CaseId>,
}

/// Runs the list now; the body is optional (`{case_ids}` for a manual list).
#[utoipa::path(post, path = "/lists/{id}/runs", tag = "lists", params(("id" = String, Path, format = Uuid)), request_body = RunBody, responses((status = 201, body = RunView), (status = 404), (status = 409), (status = 422)))]
async fn run_list(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    IdPath(id): IdPath<ListId>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    // The body is optional: only manual lists need one.
    let chosen = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        serde_json::from_slice::<RunBody>(&body)
            .map_err(|e| ApiError::invalid_field("case_ids", format!("case_ids: {e}")))?
            .case_ids
    };
    let run = state.app.run_list(&actor, id, chosen).await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

/// Runs of the list, newest first; each without its picks (see the run itself).
#[utoipa::path(get, path = "/lists/{id}/runs", tag = "lists", params(("id" = String, Path, format = Uuid), PageQuery), responses((status = 200, body = ItemList<RunView>), (status = 404)))]
async fn list_runs(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    IdPath(id): IdPath<ListId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<RunView>>, ApiError> {
    let runs = state.app.list_runs(&actor, id, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(runs, RunView::from)))
}

#[utoipa::path(get, path = "/lists/{id}/runs/{run_id}", tag = "lists", params(("id" = String, Path, format = Uuid), ("run_id" = String, Path, format = Uuid)), responses((status = 200, body = RunView), (status = 404)))]
async fn show_run(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageLists>,
    IdPath2(list, run): IdPath2<ListId, RunId>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(state.app.get_run(&actor, list, run).await?.into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentsQuery {
    /// Only `me` (the caller's own work).
    pub evaluator_id: Option<String>,
    /// `open` (to do or in progress), `todo`, `in_progress`, `done` or `skipped`.
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// The caller's assignments, oldest first.
#[utoipa::path(get, path = "/assignments", tag = "lists", params(AssignmentsQuery), responses((status = 200, body = ItemList<AssignmentView>), (status = 403), (status = 422)))]
async fn list_assignments(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    ApiQuery(query): ApiQuery<AssignmentsQuery>,
) -> Result<Json<ItemList<AssignmentView>>, ApiError> {
    if query.evaluator_id.as_deref().is_some_and(|id| id != "me") {
        return Err(ApiError::invalid_field(
            "evaluator_id",
            "Only evaluator_id=me is supported: one's own work.",
        ));
    }
    let status = query.status.filter(|s| !s.is_empty());
    if let Some(status) = &status
        && !["open", "todo", "in_progress", "done", "skipped"].contains(&status.as_str())
    {
        return Err(ApiError::invalid_field("status", "status is open, todo, in_progress, done or skipped."));
    }
    let page = PageQuery { cursor: query.cursor, limit: query.limit }.to_request()?;
    let work = state.app.my_assignments(&actor, status, page).await?;
    Ok(Json(ItemList::from_page(work, AssignmentView::from)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SkipBody {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedView {
    pub skipped: AssignmentView,
    /// The case that replaced it, from the same agent's pool, when the list allows it.
    pub replacement: Option<AssignmentView>,
}

impl From<Skipped> for SkippedView {
    fn from(skipped: Skipped) -> Self {
        Self { skipped: skipped.skipped.into(), replacement: skipped.replacement.map(AssignmentView::from) }
    }
}

#[utoipa::path(post, path = "/assignments/{id}/skip", tag = "lists", params(("id" = String, Path, format = Uuid)), request_body = SkipBody, responses((status = 200, body = SkippedView), (status = 404), (status = 409), (status = 422)))]
async fn skip_assignment(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<AssignmentId>,
    ApiJson(body): ApiJson<SkipBody>,
) -> Result<Json<SkippedView>, ApiError> {
    Ok(Json(state.app.skip_assignment(&actor, id, &body.reason).await?.into()))
}
