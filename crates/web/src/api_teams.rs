//! `/api/v1/teams/{id}/members`: who is in a team.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use scoreline_core::{TeamId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::{ItemList, UserView};
use crate::error::ApiError;
use crate::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(list_members, add_member))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MemberBody {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: Option<UserId>,
}

pub(crate) fn parse_team(id: &str) -> Result<TeamId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("team"))
}

/// The team's members, by name (all of them: teams are small).
#[utoipa::path(get, path = "/teams/{id}/members", tag = "staff", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ItemList<UserView>), (status = 403), (status = 404)))]
async fn list_members(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ItemList<UserView>>, ApiError> {
    let members = state.app.list_team_members(&actor, parse_team(&id)?).await?;
    Ok(Json(ItemList { items: members.into_iter().map(UserView::from).collect(), next_cursor: None }))
}

/// Adds a staff member to the team; adding a member again changes nothing.
#[utoipa::path(post, path = "/teams/{id}/members", tag = "staff", params(("id" = String, Path, format = Uuid)),
    request_body = MemberBody, responses((status = 204), (status = 403), (status = 404), (status = 422)))]
async fn add_member(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MemberBody>,
) -> Result<StatusCode, ApiError> {
    let user_id = body.user_id.ok_or_else(|| ApiError::invalid_field("user_id", "user_id is required."))?;
    state.app.add_team_member(&actor, parse_team(&id)?, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
