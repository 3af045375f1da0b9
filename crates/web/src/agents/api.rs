//! `/api/v1/integrations/{id}/agents`: HelpDesk agents, their matches to staff, automatic
//! matching by email, and staff created from agents.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scoreline_app::{AgentEntry, AutoMatchReport, CreateStaffFromAgents, MatchSuggestion};
use scoreline_core::{AgentMatch, IntegrationId, MatchedUser, TeamId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::agents::AgentKey;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, IdPath, IdPath2, PageQuery, Permitted, grant};
use crate::staff::api::UserView;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents))
        .routes(routes!(match_agent, unmatch_agent))
        .routes(routes!(auto_match))
        .routes(routes!(create_staff))
}

/// A HelpDesk agent beside the staff member it is matched to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    /// The HelpDesk agent `ID`.
    pub agent_id: String,
    pub name: String,
    /// As HelpDesk has it (case preserved).
    pub email: String,
    pub roles: Vec<String>,
    /// `active` or `invited`.
    pub status: String,
    /// Still listed by HelpDesk; agents removed there stay for their cases.
    pub listed: bool,
    pub case_count: u64,
    /// Cases held back because this agent is unmatched.
    pub held_back_count: u64,
    pub matched_user: Option<MatchedUserView>,
    /// `auto` (same email), `manual` (chosen by a person; with `matched_user: null` it was
    /// unmatched by hand, and automatic matching leaves it alone), or `null` (never matched).
    pub match_source: Option<String>,
    /// For unmatched agents: staff with similar names, best first.
    pub suggestions: Vec<SuggestionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchedUserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    /// Name similarity from 0 to 1.
    pub score: f64,
}

impl From<MatchedUser> for MatchedUserView {
    fn from(user: MatchedUser) -> Self {
        Self { id: user.id, name: user.name, email: user.email, active: user.active }
    }
}

impl From<MatchSuggestion> for SuggestionView {
    fn from(s: MatchSuggestion) -> Self {
        Self { user_id: s.user_id, name: s.name, email: s.email, score: s.score }
    }
}

impl From<AgentEntry> for AgentView {
    fn from(entry: AgentEntry) -> Self {
        let agent = entry.agent;
        Self {
            agent_id: agent.agent_id,
            name: agent.name,
            email: agent.email,
            roles: agent.roles,
            status: agent.status,
            listed: agent.listed,
            case_count: agent.case_count,
            held_back_count: entry.held_back_count,
            matched_user: agent.matched_user.map(MatchedUserView::from),
            match_source: agent.match_source.map(|s| s.as_str().to_owned()),
            suggestions: entry.suggestions.into_iter().map(SuggestionView::from).collect(),
        }
    }
}

impl From<AgentMatch> for AgentView {
    fn from(agent: AgentMatch) -> Self {
        AgentEntry { held_back_count: agent.held_back_count(), suggestions: Vec::new(), agent }.into()
    }
}

/// A page of agents (by name) with the integration's matching totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    pub items: Vec<AgentView>,
    pub next_cursor: Option<String>,
    /// Agents of the integration, matched and not.
    pub matched: u64,
    pub unmatched: u64,
    /// Every held-back case of the integration: of unmatched agents, and of agents HelpDesk
    /// never listed.
    pub held_back_total: u64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MatchBody {
    /// The staff member (active) to match the agent to.
    #[schema(value_type = String, format = Uuid, required = true)]
    pub user_id: Option<UserId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutoMatchView {
    /// The matches made by this run.
    pub matched: Vec<NewMatchView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewMatchView {
    pub agent_id: String,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
}

impl From<AutoMatchReport> for AutoMatchView {
    fn from(report: AutoMatchReport) -> Self {
        Self {
            matched: report
                .matched
                .into_iter()
                .map(|(agent_id, user_id)| NewMatchView { agent_id, user_id })
                .collect(),
        }
    }
}

/// Unmatched agents to turn into employees of one team.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreateStaffBody {
    #[schema(required = true)]
    pub agent_ids: Vec<String>,
    #[schema(value_type = String, format = Uuid, required = true)]
    pub team_id: Option<TeamId>,
}

/// Agents sorted by name, paged after the agent named by the cursor.
fn page_of<T>(
    items: Vec<T>,
    agent_id: impl Fn(&T) -> &str,
    page: &PageQuery,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    // The limit is checked as on every list; the cursor is ours (an agent id, not a UUID).
    let limit = PageQuery { cursor: None, limit: page.limit }.to_request()?.limit;
    let start = match page.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(cursor) => {
            let after = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok());
            let position = after.and_then(|after| items.iter().position(|item| agent_id(item) == after));
            position.map(|p| p + 1).ok_or_else(|| {
                ApiError::invalid_field(
                    "cursor",
                    "cursor is not one this server gave out; start again without it.",
                )
            })?
        }
    };
    let limit = limit as usize;
    let more = items.len() > start + limit;
    let items: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = if more { items.last().map(|item| URL_SAFE_NO_PAD.encode(agent_id(item))) } else { None };
    Ok((items, next))
}

/// Every HelpDesk agent of the integration with its match; suggestions for the unmatched.
#[utoipa::path(get, path = "/integrations/{id}/agents", tag = "integrations",
    params(("id" = String, Path, format = Uuid), PageQuery),
    responses((status = 200, body = AgentList), (status = 403), (status = 404)))]
async fn list_agents(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewStaff>,
    IdPath(id): IdPath<IntegrationId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<AgentList>, ApiError> {
    let directory = state.app.list_agents(&actor, id).await?;
    let (items, next_cursor) = page_of(directory.agents, |entry| &entry.agent.agent_id, &query)?;
    Ok(Json(AgentList {
        items: items.into_iter().map(AgentView::from).collect(),
        next_cursor,
        matched: directory.matched,
        unmatched: directory.unmatched,
        held_back_total: directory.held_back_total,
    }))
}

/// Matches the agent to a staff member by hand; its cases count for them at once.
#[utoipa::path(put, path = "/integrations/{id}/agents/{agent_id}/match", tag = "integrations",
    params(("id" = String, Path, format = Uuid), ("agent_id" = String, Path)), request_body = MatchBody,
    responses((status = 200, body = AgentView), (status = 403), (status = 404), (status = 422)))]
async fn match_agent(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageMatches>,
    IdPath2(id, AgentKey(agent_id)): IdPath2<IntegrationId, AgentKey>,
    ApiJson(body): ApiJson<MatchBody>,
) -> Result<Json<AgentView>, ApiError> {
    let user_id = body.user_id.ok_or_else(|| ApiError::invalid_field("user_id", "user_id is required."))?;
    Ok(Json(state.app.match_agent(&actor, id, &agent_id, user_id).await?.into()))
}

/// Unmatches the agent; automatic matching leaves it unmatched until someone matches it.
#[utoipa::path(delete, path = "/integrations/{id}/agents/{agent_id}/match", tag = "integrations",
    params(("id" = String, Path, format = Uuid), ("agent_id" = String, Path)),
    responses((status = 200, body = AgentView), (status = 403), (status = 404)))]
async fn unmatch_agent(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageMatches>,
    IdPath2(id, AgentKey(agent_id)): IdPath2<IntegrationId, AgentKey>,
) -> Result<Json<AgentView>, ApiError> {
    Ok(Json(state.app.unmatch_agent(&actor, id, &agent_id).await?.into()))
}

/// Matches agents to the active staff member with the same email (ignoring case and
/// surrounding spaces), never changing a choice made by hand.
#[utoipa::path(post, path = "/integrations/{id}/agents/auto-match", tag = "integrations",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = AutoMatchView), (status = 403), (status = 404)))]
async fn auto_match(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageMatches>,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Json<AutoMatchView>, ApiError> {
    Ok(Json(state.app.auto_match_agents(&actor, id).await?.into()))
}

/// Creates an employee in the team for each unmatched agent and matches them; all or nothing.
#[utoipa::path(post, path = "/integrations/{id}/agents/staff", tag = "integrations",
    params(("id" = String, Path, format = Uuid)), request_body = CreateStaffBody,
    responses((status = 201, body = ItemList<UserView>), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn create_staff(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<(grant::ManageMatches, grant::ManageStaff)>,
    IdPath(id): IdPath<IntegrationId>,
    ApiJson(body): ApiJson<CreateStaffBody>,
) -> Result<(StatusCode, Json<ItemList<UserView>>), ApiError> {
    let input = CreateStaffFromAgents { agent_ids: body.agent_ids, team_id: body.team_id };
    let users = state.app.create_staff_from_agents(&actor, id, input).await?;
    let items = users.into_iter().map(UserView::from).collect();
    Ok((StatusCode::CREATED, Json(ItemList { items, next_cursor: None })))
}
