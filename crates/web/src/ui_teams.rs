//! *Groups and teams*: groups containing teams, teams containing staff.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use scoreline_app::{Actor, AppError, CreateGroup, CreateTeam};
use scoreline_core::{
    FieldError, Group, GroupId, PageRequest, Permission, StaffCandidate, Team, User, UserId,
};
use serde::Deserialize;

use crate::WebState;
use crate::api_teams::parse_team;
use crate::error::ApiError;
use crate::extract::{PageActor, PageForm};
use crate::ui::Layout;

struct TeamRow {
    team: Team,
    members: Vec<User>,
}

struct GroupRow {
    group: Group,
    teams: Vec<TeamRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "teams.html")]
struct TeamsPage {
    layout: Layout,
    groups: Vec<GroupRow>,
    staff: Vec<StaffCandidate>,
    can_manage_groups: bool,
    can_manage_teams: bool,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TeamsQuery {
    done: Option<String>,
}

async fn page(state: &WebState, actor: &Actor, errors: Vec<FieldError>) -> Result<TeamsPage, ApiError> {
    let all = PageRequest::first(PageRequest::MAX_LIMIT);
    let groups = state.app.list_groups(actor, all).await?.items;
    let teams = state.app.list_teams(actor, all).await?.items;
    let mut rows: Vec<GroupRow> =
        groups.into_iter().map(|group| GroupRow { group, teams: Vec::new() }).collect();
    for team in teams {
        let members = state.app.list_team_members(actor, team.id).await?;
        if let Some(row) = rows.iter_mut().find(|row| row.group.id == team.group_id) {
            row.teams.push(TeamRow { team, members });
        }
    }
    rows.sort_by(|a, b| a.group.name.cmp(&b.group.name));
    rows.iter_mut().for_each(|row| row.teams.sort_by(|a, b| a.team.name.cmp(&b.team.name)));
    let can_manage_teams = actor.can(Permission::ManageTeams);
    let staff = if can_manage_teams { state.app.list_match_staff(actor).await? } else { Vec::new() };
    Ok(TeamsPage {
        layout: Layout::for_actor(actor),
        groups: rows,
        staff,
        can_manage_groups: actor.can(Permission::ManageGroups),
        can_manage_teams,
        notice: None,
        errors,
    })
}

pub async fn show(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Query(query): Query<TeamsQuery>,
) -> Result<Response, ApiError> {
    let mut page = page(&state, &actor, Vec::new()).await?;
    page.notice = match query.done.as_deref() {
        Some("group") => Some("Group created."),
        Some("team") => Some("Team created."),
        Some("member") => Some("Member added."),
        _ => None,
    };
    Ok(page.into_response())
}

/// Back to the page with a notice, or the page again with what went wrong.
async fn answer<T>(
    state: &WebState,
    actor: &Actor,
    outcome: Result<T, AppError>,
    done: &str,
) -> Result<Response, ApiError> {
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/teams?done={done}")).into_response()),
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(state, actor, errors).await?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupForm {
    name: String,
}

pub async fn create_group(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    PageForm(form): PageForm<GroupForm>,
) -> Result<Response, ApiError> {
    let outcome = state.app.create_group(&actor, CreateGroup { name: form.name }).await;
    answer(&state, &actor, outcome, "group").await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TeamForm {
    group_id: String,
    name: String,
}

pub async fn create_team(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    PageForm(form): PageForm<TeamForm>,
) -> Result<Response, ApiError> {
    let input = CreateTeam { group_id: form.group_id.parse::<GroupId>().ok(), name: form.name };
    let outcome = state.app.create_team(&actor, input).await;
    answer(&state, &actor, outcome, "team").await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemberForm {
    user_id: String,
}

pub async fn add_member(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
    PageForm(form): PageForm<MemberForm>,
) -> Result<Response, ApiError> {
    let team_id = parse_team(&id)?;
    let outcome = match form.user_id.parse::<UserId>() {
        Ok(user_id) => state.app.add_team_member(&actor, team_id, user_id).await,
        Err(_) => Err(AppError::field("user_id", "Choose the staff member to add.")),
    };
    answer(&state, &actor, outcome, "member").await
}
