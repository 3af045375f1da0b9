//! *Manage Users* of an integration: HelpDesk agents beside the staff they are matched to, with
//! automatic matching, suggestions, manual match and unmatch, and staff created from agents.
//! Every form posts and redirects back; with htmx, match and unmatch replace just their row.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::{AgentDirectory, AgentEntry, AppError, CreateStaffFromAgents};
use scoreline_core::{
    AgentMatch, IntegrationId, MatchSource, PageRequest, Permission, StaffCandidate, TeamId, UserId,
};
use serde::Deserialize;

use super::AgentKey;
use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, IdPath2, PageForm, QueryFields};
use crate::page::browse::{Browse, Paged};
use crate::page::form::{FormErrors, answer, done, picked, rejected, required_pick};
use crate::page::{Layout, PageActor, counted, is_htmx};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/interactions/integrations/{id}/users", get(manage_users))
        .route("/interactions/integrations/{id}/users/auto-match", post(auto_match))
        .route("/interactions/integrations/{id}/users/create-staff", post(create_staff))
        .route("/interactions/integrations/{id}/users/{agent_id}/match", post(match_agent))
        .route("/interactions/integrations/{id}/users/{agent_id}/unmatch", post(unmatch_agent))
}

fn users_path(id: IntegrationId) -> String {
    format!("/interactions/integrations/{id}/users")
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

    /// The `id` of the row's match form, which its errors belong to.
    fn match_form(&self) -> String {
        format!("match-{}", self.entry.agent.agent_id)
    }

    fn finds(&self, browse: &Browse) -> bool {
        let agent = &self.entry.agent;
        let staff =
            agent.matched_user.as_ref().map_or(["", ""], |user| [user.name.as_str(), user.email.as_str()]);
        let wanted = match browse.show(SHOW, "all") {
            "unmatched" => agent.matched_user.is_none(),
            "matched" => agent.matched_user.is_some(),
            _ => true,
        };
        wanted && browse.finds(&[&agent.name, &agent.email, staff[0], staff[1]])
    }

    /// Why a staff member is suggested: the same name, or how alike the two names are.
    fn likeness(&self, score: &f64) -> String {
        if *score >= 0.995 { "same name".to_owned() } else { format!("names {:.0}% alike", score * 100.0) }
    }
}

const SHOW: &[&str] = &["all", "unmatched", "matched"];
const FILTERS: &[(&str, &str)] = &[("all", "All agents"), ("unmatched", "Unmatched"), ("matched", "Matched")];

/// What the agent rows need besides the agent, on the page and in a row alone.
struct Controls {
    staff: Vec<StaffCandidate>,
    can_manage: bool,
    can_create_staff: bool,
}

impl Controls {
    async fn of(state: &WebState, page: &PageActor) -> Result<Self, ApiError> {
        let can_manage = page.actor.can(Permission::ManageMatches);
        let staff = if can_manage { state.app.list_match_staff(&page.actor).await? } else { Vec::new() };
        Ok(Self {
            staff,
            can_manage,
            can_create_staff: can_manage && page.actor.can(Permission::ManageStaff),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "agents/manage_users.html")]
struct ManageUsersPage {
    layout: Layout,
    /// The integration and totals; its agents are in `rows`.
    directory: AgentDirectory,
    /// The page of agents the search and filter leave.
    rows: Paged<AgentRow>,
    path: String,
    filters: &'static [(&'static str, &'static str)],
    controls: Controls,
    teams: Vec<TeamChoice>,
    errors: FormErrors,
}

/// One agent's row after a change made through htmx, with the totals and the message, which
/// replace theirs on the page.
#[derive(Template, WebTemplate)]
#[template(path = "agents/row.html")]
struct RowPartial {
    directory: AgentDirectory,
    row: AgentRow,
    controls: Controls,
    errors: FormErrors,
    message: Option<&'static str>,
}

async fn directory(
    state: &WebState,
    page: &PageActor,
    id: IntegrationId,
) -> Result<(AgentDirectory, Vec<AgentRow>), ApiError> {
    let mut directory = state.app.list_agents(&page.actor, id).await?;
    let rows = std::mem::take(&mut directory.agents).into_iter().map(AgentRow::of).collect();
    Ok((directory, rows))
}

async fn full_page(
    state: &WebState,
    page: &PageActor,
    id: IntegrationId,
    browse: &Browse,
    errors: FormErrors,
) -> Result<ManageUsersPage, ApiError> {
    let (directory, rows) = directory(state, page, id).await?;
    let rows = browse.paginate(rows.into_iter().filter(|row| row.finds(browse)).collect(), "all");
    let controls = Controls::of(state, page).await?;
    let teams = if controls.can_create_staff { team_choices(state, page).await? } else { Vec::new() };
    let path = users_path(id);
    Ok(ManageUsersPage {
        layout: page.layout(),
        directory,
        rows,
        path,
        filters: FILTERS,
        controls,
        teams,
        errors,
    })
}

async fn row_partial(
    state: &WebState,
    page: &PageActor,
    id: IntegrationId,
    agent_id: &str,
    errors: FormErrors,
    message: Option<&'static str>,
) -> Result<RowPartial, ApiError> {
    let (directory, rows) = directory(state, page, id).await?;
    let row = rows
        .into_iter()
        .find(|row| row.entry.agent.agent_id == agent_id)
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(RowPartial { directory, row, controls: Controls::of(state, page).await?, errors, message })
}

async fn team_choices(state: &WebState, page: &PageActor) -> Result<Vec<TeamChoice>, ApiError> {
    let all = PageRequest::first(PageRequest::MAX_LIMIT);
    let groups = state.app.list_groups(&page.actor, all).await?.items;
    let mut teams: Vec<TeamChoice> = state
        .app
        .list_teams(&page.actor, all)
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

async fn manage_users(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
    QueryFields(browse): QueryFields<Browse>,
) -> Result<Response, ApiError> {
    Ok(full_page(&state, &page, id, &browse, FormErrors::none()).await?.into_response())
}

/// "Match by email".
async fn auto_match(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let result = state.app.auto_match_agents(&page.actor, id).await;
    let matched = |report: scoreline_app::AutoMatchReport| {
        let message = match report.matched.len() {
            0 => "Automatic matching found no new email matches.".to_owned(),
            count => format!("Matched {} by email.", counted(count, "agent", "agents")),
        };
        done(users_path(id), message)
    };
    let again = async |errors| full_page(&state, &page, id, &Browse::default(), errors).await;
    answer("auto-match-form", result, matched, again).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MatchForm {
    user_id: String,
}

/// A match or unmatch of one agent: with htmx its row alone, else back to the page.
async fn answer_for_row(
    state: &WebState,
    page: &PageActor,
    headers: &HeaderMap,
    (id, agent_id): (IntegrationId, &str),
    result: Result<AgentMatch, AppError>,
    message: &'static str,
) -> Result<Response, ApiError> {
    let form = format!("match-{agent_id}");
    if !is_htmx(headers) {
        // Back to the agent's row, not the top of the page.
        let back = format!("{}#agent-{agent_id}", users_path(id));
        let again = async |errors| full_page(state, page, id, &Browse::default(), errors).await;
        return answer(&form, result, |_| done(back, message), again).await;
    }
    let (status, errors, message) = match result {
        Ok(_) => (StatusCode::OK, FormErrors::none(), Some(message)),
        Err(error) => {
            let (status, errors) = rejected(&form, error)?;
            (status, errors, None)
        }
    };
    let partial = row_partial(state, page, id, agent_id, errors, message).await?;
    Ok((status, [(header::VARY, "HX-Request")], partial).into_response())
}

async fn match_agent(
    State(state): State<WebState>,
    page: PageActor,
    headers: HeaderMap,
    IdPath2(id, AgentKey(agent_id)): IdPath2<IntegrationId, AgentKey>,
    PageForm(form): PageForm<MatchForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let user_id = required_pick::<UserId>("user_id", &form.user_id, "Choose the staff member to match.")?;
        state.app.match_agent(&page.actor, id, &agent_id, user_id).await
    }
    .await;
    let message = "Match saved; the agent's cases count for the staff member now.";
    answer_for_row(&state, &page, &headers, (id, &agent_id), result, message).await
}

async fn unmatch_agent(
    State(state): State<WebState>,
    page: PageActor,
    headers: HeaderMap,
    IdPath2(id, AgentKey(agent_id)): IdPath2<IntegrationId, AgentKey>,
) -> Result<Response, ApiError> {
    let result = state.app.unmatch_agent(&page.actor, id, &agent_id).await;
    let message = "Unmatched; the agent's cases are held back.";
    answer_for_row(&state, &page, &headers, (id, &agent_id), result, message).await
}

/// The selected agents (`agent_ids`, repeated) and the team they join.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateStaffForm {
    agent_ids: Vec<String>,
    team_id: String,
}

async fn create_staff(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
    PageForm(form): PageForm<CreateStaffForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let team_id = picked::<TeamId>("team_id", &form.team_id, "Choose a team.")?;
        let input = CreateStaffFromAgents { agent_ids: form.agent_ids, team_id };
        state.app.create_staff_from_agents(&page.actor, id, input).await
    }
    .await;
    let created = |users: Vec<_>| {
        let created = counted(users.len(), "staff member", "staff members");
        done(users_path(id), format!("Created {created} and matched them."))
    };
    let again = async |errors| full_page(&state, &page, id, &Browse::default(), errors).await;
    answer("create-staff", result, created, again).await
}
