//! `/api/v1/users/import`: staff from CSV, previewed row by row, imported all or nothing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use scoreline_app::{ImportPreview, ImportRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::{ItemList, UserView};
use crate::error::ApiError;
use crate::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(preview_import)).routes(routes!(import))
}

/// A CSV file as text. The first line names the columns: `email`, `name` (required), `role`
/// (default `employee`), `team` (`Group / Team`, or a team name used in one group only).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ImportBody {
    #[schema(example = "email,name,role,team\nada@example.com,Ada Lovelace,employee,Support / Tier 1\n")]
    pub csv: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowView {
    /// The line of the file the row starts on; the header is line 1.
    pub line: usize,
    pub email: String,
    pub name: String,
    pub role: String,
    pub team: String,
    /// Empty when the row can be imported.
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportPreviewView {
    /// Whether importing this file would succeed.
    pub valid: bool,
    /// Problems of the whole file (its header, its size).
    pub problems: Vec<String>,
    pub rows: Vec<ImportRowView>,
}

impl From<ImportRow> for ImportRowView {
    fn from(row: ImportRow) -> Self {
        Self {
            line: row.line,
            email: row.email,
            name: row.name,
            role: row.role,
            team: row.team,
            errors: row.errors,
        }
    }
}

impl From<ImportPreview> for ImportPreviewView {
    fn from(preview: ImportPreview) -> Self {
        Self {
            valid: preview.is_valid(),
            problems: preview.problems,
            rows: preview.rows.into_iter().map(ImportRowView::from).collect(),
        }
    }
}

/// Checks every row and says what an import would do; changes nothing.
#[utoipa::path(post, path = "/users/import/preview", tag = "staff", request_body = ImportBody,
    responses((status = 200, body = ImportPreviewView), (status = 403)))]
async fn preview_import(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Json<ImportPreviewView>, ApiError> {
    Ok(Json(state.app.preview_staff_import(&actor, &body.csv).await?.into()))
}

/// Creates every row, with its team membership, or nothing: problems come back as 422 with one
/// `fields` entry per problem, named `line N` (or `csv` for the whole file).
#[utoipa::path(post, path = "/users/import", tag = "staff", request_body = ImportBody,
    responses((status = 201, body = ItemList<UserView>), (status = 403), (status = 409), (status = 422)))]
async fn import(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<(StatusCode, Json<ItemList<UserView>>), ApiError> {
    let users = state.app.import_staff(&actor, &body.csv).await?;
    let items = users.into_iter().map(UserView::from).collect();
    Ok((StatusCode::CREATED, Json(ItemList { items, next_cursor: None })))
}
