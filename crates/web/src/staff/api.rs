//! `/api/v1/users`: staff, one by one or from a CSV file previewed row by row and imported all or
//! nothing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use scoreline_app::{CreateUser, ImportPreview, ImportRow, UpdateUser};
use scoreline_core::{TeamId, Timestamp, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, IdPath, PageQuery, Permitted, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(show_user, update_user))
        .routes(routes!(preview_import))
        .routes(routes!(import))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub email: String,
    pub name: String,
    /// One of `global_admin`, `group_admin`, `team_admin`, `supervisor`, `employee`.
    #[schema(value_type = String, example = "employee")]
    pub role: scoreline_core::Role,
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            active: user.active,
            created_at: user.created_at,
        }
    }
}

/// A new user. Missing fields are reported per field, like invalid ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(example = "ada@example.com", required = true)]
    pub email: String,
    #[schema(example = "Ada Lovelace", required = true)]
    pub name: String,
    #[schema(example = "supervisor", required = true)]
    pub role: String,
    /// At least 10 characters; leave out for staff who never sign in.
    pub password: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub team_ids: Vec<TeamId>,
}

/// A change to a user; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateUserBody {
    pub email: Option<String>,
    pub name: Option<String>,
    /// A role no higher than the caller's; nobody changes their own role.
    pub role: Option<String>,
    /// `false` deactivates (no sign-in, no API use, skipped by automatic matching; nothing is
    /// deleted), `true` reactivates.
    pub active: Option<bool>,
}

/// Staff, oldest first.
#[utoipa::path(get, path = "/users", tag = "staff", params(PageQuery), responses((status = 200, body = ItemList<UserView>), (status = 403)))]
async fn list_users(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewStaff>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<UserView>>, ApiError> {
    let page = state.app.list_users(&actor, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(page, UserView::from)))
}

#[utoipa::path(post, path = "/users", tag = "staff", request_body = NewUserBody, responses((status = 201, body = UserView), (status = 403), (status = 422)))]
async fn create_user(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageStaff>,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let input = CreateUser {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body.password,
        team_ids: body.team_ids,
    };
    let user = state.app.create_user(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[utoipa::path(get, path = "/users/{id}", tag = "staff", params(("id" = String, Path, format = Uuid)), responses((status = 200, body = UserView), (status = 404)))]
async fn show_user(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewStaff>,
    IdPath(id): IdPath<UserId>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.app.get_user(&actor, id).await?.into()))
}

#[utoipa::path(patch, path = "/users/{id}", tag = "staff", params(("id" = String, Path, format = Uuid)), request_body = UpdateUserBody, responses((status = 200, body = UserView), (status = 403), (status = 404), (status = 422)))]
async fn update_user(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageStaff>,
    IdPath(id): IdPath<UserId>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<UserView>, ApiError> {
    let input = UpdateUser { email: body.email, name: body.name, role: body.role, active: body.active };
    Ok(Json(state.app.update_user(&actor, id, input).await?.into()))
}

/// A CSV file as text. The first line names the columns: `email`, `name` (required), `role`
/// (default `employee`), `team` (`Group / Team`, or a team name used in one group only).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ImportBody {
    #[schema(
        example = "email,name,role,team\nada@example.com,Ada Lovelace,employee,Support / Tier 1\n",
        required = true
    )]
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
    Permitted(actor, _): Permitted<grant::ManageStaff>,
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
    Permitted(actor, _): Permitted<grant::ManageStaff>,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<(StatusCode, Json<ItemList<UserView>>), ApiError> {
    let users = state.app.import_staff(&actor, &body.csv).await?;
    let items = users.into_iter().map(UserView::from).collect();
    Ok((StatusCode::CREATED, Json(ItemList { items, next_cursor: None })))
}
