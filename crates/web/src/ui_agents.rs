//! *Manage Users* of an integration: HelpDesk agents beside the staff they are matched to, with
//! automatic matching, suggestions, manual match and unmatch, and staff created from agents.
//! Plain forms that post and redirect back.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use scoreline_app::{Actor, AgentDirectory, AgentEntry, AppError, CreateStaffFromAgents};
use scoreline_core::{
    FieldError, IntegrationId, MatchSource, PageRequest, Permission, StaffCandidate, TeamId, UserId,
};
use serde::Deserialize;

use crate::WebState;
use crate::api_agents::parse_integration;
use crate::error::ApiError;
use crate::extract::{PageActor, PageForm};
use crate::ui::Layout;

fn users_path(id: IntegrationId, query: &str) -> String {
    format!("/interactions/integrations/{id}/users{query}")
}

/// A team as the create-staff form offers it.
struct TeamChoice {
    id: TeamId,
    label: String,
}

/// An agent's row, with how its match came about.
struct AgentRow {
    entry: AgentEntry,
    source: &'static str,
}

impl AgentRow {
    fn of(entry: AgentEntry) -> Self {
        let source = match entry.agent.match_source {
            Some(MatchSource::Auto) => "matched by email",
            Some(MatchSource::Manual) if entry.agent.matched_user.is_some() => "matched by hand",
            Some(MatchSource::Manual) => "unmatched by hand",
            None => "",
        };
        Self { entry, source }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "agents/manage_users.html")]
struct ManageUsersPage {
    layout: Layout,
    /// The integration and totals; its agents are in `rows`.
    directory: AgentDirectory,
    rows: Vec<AgentRow>,
    staff: Vec<StaffCandidate>,
    teams: Vec<TeamChoice>,
    can_manage: bool,
    can_create_staff: bool,
    notice: Option<String>,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeQuery {
    done: Option<String>,
    count: Option<u64>,
}

impl NoticeQuery {
    fn notice(&self) -> Option<String> {
        let count = self.count.unwrap_or(0);
        Some(match self.done.as_deref()? {
            "auto" if count == 0 => "Automatic matching found no new email matches.".to_owned(),
            "auto" => format!("Matched {count} agent(s) by email."),
            "matched" => "Match saved; the agent's cases count for the staff member now.".to_owned(),
            "unmatched" => "Unmatched; the agent's cases are held back.".to_owned(),
            "created" => format!("Created {count} staff member(s) and matched them."),
            _ => return None,
        })
    }
}

async fn page(
    state: &WebState,
    actor: &Actor,
    id: IntegrationId,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> Result<ManageUsersPage, ApiError> {
    let mut directory = state.app.list_agents(actor, id).await?;
    let rows = std::mem::take(&mut directory.agents).into_iter().map(AgentRow::of).collect();
    let can_manage = actor.can(Permission::ManageMatches);
    let can_create_staff = can_manage && actor.can(Permission::ManageStaff);
    let staff = if can_manage { state.app.list_match_staff(actor).await? } else { Vec::new() };
    let teams = if can_create_staff { team_choices(state, actor).await? } else { Vec::new() };
    Ok(ManageUsersPage {
        layout: Layout::for_actor(actor),
        directory,
        rows,
        staff,
        teams,
        can_manage,
        can_create_staff,
        notice,
        errors,
    })
}

async fn team_choices(state: &WebState, actor: &Actor) -> Result<Vec<TeamChoice>, ApiError> {
    let all = PageRequest::first(PageRequest::MAX_LIMIT);
    let groups = state.app.list_groups(actor, all).await?.items;
    let mut teams: Vec<TeamChoice> = state
        .app
        .list_teams(actor, all)
        .await?
        .items
        .into_iter()
        .map(|team| {
            let group = groups.iter().find(|g| g.id == team.group_id).map_or("", |g| g.name.as_str());
            TeamChoice { id: team.id, label: format!("{group} / {}", team.name) }
        })
        .collect();
    teams.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(teams)
}

pub async fn manage_users(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, ApiError> {
    Ok(page(&state, &actor, parse_integration(&id)?, query.notice(), Vec::new()).await?.into_response())
}

/// Redirects back with a notice, or shows the page again with what went wrong.
async fn answer<T>(
    state: &WebState,
    actor: &Actor,
    id: IntegrationId,
    outcome: Result<T, AppError>,
    done: impl FnOnce(T) -> String,
) -> Result<Response, ApiError> {
    match outcome {
        Ok(value) => Ok(Redirect::to(&users_path(id, &done(value))).into_response()),
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(state, actor, id, None, errors).await?)
                .into_response())
        }
        Err(AppError::Conflict(message)) => {
            let errors = vec![FieldError::new("agent_ids", message)];
            Ok((StatusCode::CONFLICT, page(state, actor, id, None, errors).await?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn auto_match(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_integration(&id)?;
    let outcome = state.app.auto_match_agents(&actor, id).await;
    answer(&state, &actor, id, outcome, |report| format!("?done=auto&count={}", report.matched.len())).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MatchForm {
    user_id: String,
}

pub async fn match_agent(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path((id, agent_id)): Path<(String, String)>,
    PageForm(form): PageForm<MatchForm>,
) -> Result<Response, ApiError> {
    let id = parse_integration(&id)?;
    let outcome = match form.user_id.parse::<UserId>() {
        Ok(user_id) => state.app.match_agent(&actor, id, &agent_id, user_id).await,
        Err(_) => Err(AppError::field("user_id", "Choose the staff member to match.")),
    };
    answer(&state, &actor, id, outcome, |_| "?done=matched".to_owned()).await
}

pub async fn unmatch_agent(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path((id, agent_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_integration(&id)?;
    let outcome = state.app.unmatch_agent(&actor, id, &agent_id).await;
    answer(&state, &actor, id, outcome, |_| "?done=unmatched".to_owned()).await
}

/// The selected agents (`agent_ids`, repeated) and the team they join.
pub async fn create_staff(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, ApiError> {
    let id = parse_integration(&id)?;
    let mut input = CreateStaffFromAgents::default();
    let mut team = None;
    for (name, value) in url::form_urlencoded::parse(&body) {
        match name.as_ref() {
            "agent_ids" => input.agent_ids.push(value.into_owned()),
            "team_id" => team = Some(value.into_owned()),
            _ => {}
        }
    }
    let outcome = match team.filter(|t| !t.is_empty()).map(|t| t.parse::<TeamId>()) {
        Some(Err(_)) => Err(AppError::field("team_id", "Choose a team.")),
        Some(Ok(team_id)) => {
            input.team_id = Some(team_id);
            state.app.create_staff_from_agents(&actor, id, input).await
        }
        None => state.app.create_staff_from_agents(&actor, id, input).await,
    };
    answer(&state, &actor, id, outcome, |users| format!("?done=created&count={}", users.len())).await
}
