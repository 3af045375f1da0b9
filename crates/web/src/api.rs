//! The JSON API under `/api/v1`. Routes and the OpenAPI document come from the same
//! annotations, so they cannot drift apart.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use scoreline_app::{CreateGroup, CreateTeam, CreateUser, UpdateUser};
use scoreline_core::{Group, GroupId, Page, Team, TeamId, Timestamp, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{ApiActor, ApiJson, ApiQuery, PageQuery, encode_cursor};

#[derive(OpenApi)]
#[openapi(
    info(title = "Scoreline API", description = "Quality assurance for support teams. Authenticate with `Authorization: Bearer <api token>` (create one with `scoreline tokens create`)."),
    tags(
        (name = "staff", description = "Users, groups and teams"),
        (name = "session", description = "Who is calling"),
        (name = "integrations", description = "Connected HelpDesk accounts"),
        (name = "cases", description = "HelpDesk tickets as stored for scoring")
    )
)]
struct ApiDoc;

pub fn router() -> (axum::Router<WebState>, utoipa::openapi::OpenApi) {
    let v1 = OpenApiRouter::new()
        .routes(routes!(show_me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(show_user, update_user))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(list_teams, create_team))
        .merge(crate::api_integrations::routes())
        .merge(crate::api_cases::routes())
        .merge(crate::api_agents::routes())
        .merge(crate::api_staff_import::routes())
        .merge(crate::api_teams::routes());
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1).split_for_parts()
}

/// Every list route answers this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ItemList<T> {
    pub(crate) fn from_page<S>(page: Page<S>, view: impl Fn(S) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_after.map(encode_cursor),
        }
    }
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

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    #[schema(value_type = String, format = Uuid)]
    pub id: GroupId,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Group> for GroupView {
    fn from(group: Group) -> Self {
        Self { id: group.id, name: group.name, created_at: group.created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    #[schema(value_type = String, format = Uuid)]
    pub id: TeamId,
    #[schema(value_type = String, format = Uuid)]
    pub group_id: GroupId,
    pub name: String,
    pub member_count: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Team> for TeamView {
    fn from(team: Team) -> Self {
        Self {
            id: team.id,
            group_id: team.group_id,
            name: team.name,
            member_count: team.member_count,
            created_at: team.created_at,
        }
    }
}

/// A new user. Missing fields are reported per field, like invalid ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    #[schema(example = "supervisor")]
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

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewGroupBody {
    pub name: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewTeamBody {
    #[schema(value_type = String, format = Uuid)]
    pub group_id: Option<GroupId>,
    pub name: String,
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "session", responses((status = 200, body = UserView), (status = 401)))]
async fn show_me(ApiActor(actor): ApiActor) -> Result<Json<UserView>, ApiError> {
    actor.user().cloned().map(|user| Json(user.into())).ok_or_else(ApiError::unauthenticated)
}

/// Staff, oldest first.
#[utoipa::path(get, path = "/users", tag = "staff", params(PageQuery), responses((status = 200, body = ItemList<UserView>), (status = 403)))]
async fn list_users(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<UserView>>, ApiError> {
    let page = state.app.list_users(&actor, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(page, UserView::from)))
}

#[utoipa::path(post, path = "/users", tag = "staff", request_body = NewUserBody, responses((status = 201, body = UserView), (status = 403), (status = 422)))]
async fn create_user(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
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
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let id = id.parse::<UserId>().map_err(|_| ApiError::not_found("user"))?;
    Ok(Json(state.app.get_user(&actor, id).await?.into()))
}

#[utoipa::path(patch, path = "/users/{id}", tag = "staff", params(("id" = String, Path, format = Uuid)), request_body = UpdateUserBody, responses((status = 200, body = UserView), (status = 403), (status = 404), (status = 422)))]
async fn update_user(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<UserView>, ApiError> {
    let id = id.parse::<UserId>().map_err(|_| ApiError::not_found("user"))?;
    let input = UpdateUser { email: body.email, name: body.name, role: body.role, active: body.active };
    Ok(Json(state.app.update_user(&actor, id, input).await?.into()))
}

#[utoipa::path(get, path = "/groups", tag = "staff", params(PageQuery), responses((status = 200, body = ItemList<GroupView>), (status = 403)))]
async fn list_groups(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<GroupView>>, ApiError> {
    let page = state.app.list_groups(&actor, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(page, GroupView::from)))
}

#[utoipa::path(post, path = "/groups", tag = "staff", request_body = NewGroupBody, responses((status = 201, body = GroupView), (status = 403), (status = 422)))]
async fn create_group(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewGroupBody>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let group = state.app.create_group(&actor, CreateGroup { name: body.name }).await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

#[utoipa::path(get, path = "/teams", tag = "staff", params(PageQuery), responses((status = 200, body = ItemList<TeamView>), (status = 403)))]
async fn list_teams(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<TeamView>>, ApiError> {
    let page = state.app.list_teams(&actor, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(page, TeamView::from)))
}

#[utoipa::path(post, path = "/teams", tag = "staff", request_body = NewTeamBody, responses((status = 201, body = TeamView), (status = 403), (status = 422)))]
async fn create_team(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewTeamBody>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    let team = state.app.create_team(&actor, CreateTeam { group_id: body.group_id, name: body.name }).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}
