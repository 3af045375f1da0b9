//! *Groups and teams*: groups containing teams, teams containing staff; new groups, new teams
//! and members added.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::{CreateGroup, CreateTeam};
use scoreline_core::{Group, GroupId, PageRequest, Permission, StaffCandidate, Team, TeamId, User, UserId};
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, IdPath2, PageForm};
use crate::page::form::{FormErrors, answer, done, picked, required_pick};
use crate::page::{Layout, PageActor, counted};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/teams", get(show).post(create_team))
        .route("/teams/groups", post(create_group))
        .route("/teams/{id}/members", post(add_member))
        .route("/teams/{id}/name", post(rename_team))
        .route("/teams/groups/{id}/name", post(rename_group))
        .route("/teams/{id}/members/{user_id}/remove", post(remove_member))
}

/// Where a change to one team returns to: its own place on the page.
fn team_anchor(id: TeamId) -> String {
    format!("/teams#team-{id}")
}

struct TeamRow {
    team: Team,
    members: Vec<User>,
}

impl TeamRow {
    /// The `id` of the team's add-member form, which its errors belong to.
    fn member_form(&self) -> String {
        format!("member-{}", self.team.id)
    }

    fn rename_form(&self) -> String {
        format!("rename-team-{}", self.team.id)
    }

    fn member_count(&self) -> String {
        counted(self.members.len(), "member", "members")
    }
}

impl GroupRow {
    fn rename_form(&self) -> String {
        format!("rename-group-{}", self.group.id)
    }
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
    team_form: TeamForm,
    group_form: GroupForm,
    errors: FormErrors,
}

/// The page, with what was typed into the new-team and new-group forms.
async fn teams_page(
    state: &WebState,
    page: &PageActor,
    errors: FormErrors,
    typed: (TeamForm, GroupForm),
) -> Result<TeamsPage, ApiError> {
    let actor = &page.actor;
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
        layout: page.layout(),
        groups: rows,
        staff,
        can_manage_groups: actor.can(Permission::ManageGroups),
        can_manage_teams,
        team_form: typed.0,
        group_form: typed.1,
        errors,
    })
}

async fn show(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    Ok(teams_page(&state, &page, FormErrors::none(), Default::default()).await?.into_response())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct GroupForm {
    name: String,
}

async fn create_group(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<GroupForm>,
) -> Result<Response, ApiError> {
    let result = state.app.create_group(&page.actor, CreateGroup { name: form.name.clone() }).await;
    let created = |group: Group| done("/teams", format!("Created the group {}.", group.name));
    let again = async |errors| teams_page(&state, &page, errors, (TeamForm::default(), form.clone())).await;
    answer("new-group", result, created, again).await
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct TeamForm {
    group_id: String,
    name: String,
}

async fn create_team(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<TeamForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let group_id = picked::<GroupId>("group_id", &form.group_id, "Choose a group.")?;
        state.app.create_team(&page.actor, CreateTeam { group_id, name: form.name.clone() }).await
    }
    .await;
    let created = |team: Team| done("/teams", format!("Created the team {}.", team.name));
    let again = async |errors| teams_page(&state, &page, errors, (form.clone(), GroupForm::default())).await;
    answer("new-team", result, created, again).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MemberForm {
    user_id: String,
}

async fn add_member(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(team_id): IdPath<TeamId>,
    PageForm(form): PageForm<MemberForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let user_id = required_pick::<UserId>("user_id", &form.user_id, "Choose the staff member to add.")?;
        state.app.add_team_member(&page.actor, team_id, user_id).await
    }
    .await;
    let again = async |errors| teams_page(&state, &page, errors, Default::default()).await;
    answer(&format!("member-{team_id}"), result, |()| done(team_anchor(team_id), "Member added."), again)
        .await
}

async fn rename_team(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(team_id): IdPath<TeamId>,
    PageForm(form): PageForm<GroupForm>,
) -> Result<Response, ApiError> {
    let result = state.app.rename_team(&page.actor, team_id, &form.name).await;
    let renamed = |team: Team| done(team_anchor(team.id), format!("Renamed the team to {}.", team.name));
    let again = async |errors| teams_page(&state, &page, errors, Default::default()).await;
    answer(&format!("rename-team-{team_id}"), result, renamed, again).await
}

async fn rename_group(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(group_id): IdPath<GroupId>,
    PageForm(form): PageForm<GroupForm>,
) -> Result<Response, ApiError> {
    let result = state.app.rename_group(&page.actor, group_id, &form.name).await;
    let renamed = |group: Group| {
        done(format!("/teams#group-{}", group.id), format!("Renamed the group to {}.", group.name))
    };
    let again = async |errors| teams_page(&state, &page, errors, Default::default()).await;
    answer(&format!("rename-group-{group_id}"), result, renamed, again).await
}

async fn remove_member(
    State(state): State<WebState>,
    page: PageActor,
    IdPath2(team_id, user_id): IdPath2<TeamId, UserId>,
) -> Result<Response, ApiError> {
    let result = state.app.remove_team_member(&page.actor, team_id, user_id).await;
    let again = async |errors| teams_page(&state, &page, errors, Default::default()).await;
    let removed = |()| done(team_anchor(team_id), "Taken out of the team.");
    answer(&format!("member-{team_id}"), result, removed, again).await
}
