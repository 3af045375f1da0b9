//! `/api/v1/groups` and `/api/v1/teams`: groups containing teams, teams containing staff.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use scoreline_app::{CreateGroup, CreateTeam};
use scoreline_core::{Group, GroupId, Team, TeamId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, IdPath, IdPath2, PageQuery, Permitted, grant};
use crate::staff::api::UserView;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(list_members, add_member))
        .routes(routes!(rename_group))
        .routes(routes!(rename_team))
        .routes(routes!(remove_member))
}

/// A new name: the only part of a group or team that changes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RenameBody {
    #[schema(required = true)]
    pub name: String,
}

/// Renames a group (global admins).
#[utoipa::path(patch, path = "/groups/{id}", tag = "staff", params(("id" = String, Path, format = Uuid)),
    request_body = RenameBody, responses((status = 200, body = GroupView), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn rename_group(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageGroups>,
    IdPath(id): IdPath<GroupId>,
    ApiJson(body): ApiJson<RenameBody>,
) -> Result<Json<GroupView>, ApiError> {
    Ok(Json(state.app.rename_group(&actor, id, &body.name).await?.into()))
}

/// Renames a team.
#[utoipa::path(patch, path = "/teams/{id}", tag = "staff", params(("id" = String, Path, format = Uuid)),
    request_body = RenameBody, responses((status = 200, body = TeamView), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn rename_team(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageTeams>,
    IdPath(id): IdPath<TeamId>,
    ApiJson(body): ApiJson<RenameBody>,
) -> Result<Json<TeamView>, ApiError> {
    Ok(Json(state.app.rename_team(&actor, id, &body.name).await?.into()))
}

/// Takes a member out of the team; their evaluations and matches stay.
#[utoipa::path(delete, path = "/teams/{id}/members/{user_id}", tag = "staff",
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403), (status = 404), (status = 422)))]
async fn remove_member(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageTeams>,
    IdPath2(id, user_id): IdPath2<TeamId, UserId>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_team_member(&actor, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
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

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewGroupBody {
    #[schema(required = true)]
    pub name: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewTeamBody {
    #[schema(value_type = String, format = Uuid, required = true)]
    pub group_id: Option<GroupId>,
    #[schema(required = true)]
    pub name: String,
}

#[utoipa::path(get, path = "/groups", tag = "staff", params(PageQuery), responses((status = 200, body = ItemList<GroupView>), (status = 403)))]
async fn list_groups(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewStaff>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<GroupView>>, ApiError> {
    let page = state.app.list_groups(&actor, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(page, GroupView::from)))
}

#[utoipa::path(post, path = "/groups", tag = "staff", request_body = NewGroupBody, responses((status = 201, body = GroupView), (status = 403), (status = 422)))]
async fn create_group(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageGroups>,
    ApiJson(body): ApiJson<NewGroupBody>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let group = state.app.create_group(&actor, CreateGroup { name: body.name }).await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

#[utoipa::path(get, path = "/teams", tag = "staff", params(PageQuery), responses((status = 200, body = ItemList<TeamView>), (status = 403)))]
async fn list_teams(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewStaff>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<TeamView>>, ApiError> {
    let page = state.app.list_teams(&actor, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(page, TeamView::from)))
}

#[utoipa::path(post, path = "/teams", tag = "staff", request_body = NewTeamBody, responses((status = 201, body = TeamView), (status = 403), (status = 422)))]
async fn create_team(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageTeams>,
    ApiJson(body): ApiJson<NewTeamBody>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    let team = state.app.create_team(&actor, CreateTeam { group_id: body.group_id, name: body.name }).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MemberBody {
    #[schema(value_type = String, format = Uuid, required = true)]
    pub user_id: Option<UserId>,
}

/// The team's members, by name (all of them: teams are small).
#[utoipa::path(get, path = "/teams/{id}/members", tag = "staff", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ItemList<UserView>), (status = 403), (status = 404)))]
async fn list_members(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewStaff>,
    IdPath(id): IdPath<TeamId>,
) -> Result<Json<ItemList<UserView>>, ApiError> {
    let members = state.app.list_team_members(&actor, id).await?;
    Ok(Json(ItemList { items: members.into_iter().map(UserView::from).collect(), next_cursor: None }))
}

/// Adds a staff member to the team; adding a member again changes nothing.
#[utoipa::path(post, path = "/teams/{id}/members", tag = "staff", params(("id" = String, Path, format = Uuid)),
    request_body = MemberBody, responses((status = 204), (status = 403), (status = 404), (status = 422)))]
async fn add_member(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageTeams>,
    IdPath(id): IdPath<TeamId>,
    ApiJson(body): ApiJson<MemberBody>,
) -> Result<StatusCode, ApiError> {
    let user_id = body.user_id.ok_or_else(|| ApiError::invalid_field("user_id", "user_id is required."))?;
    state.app.add_team_member(&actor, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
