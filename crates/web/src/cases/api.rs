//! `/api/v1/cases`: stored cases, filtered, and one case with its conversation.

use axum::Json;
use axum::extract::State;
use scoreline_core::{CaseId, IntegrationId, StoredCase, Timestamp, UserId};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::CaseQuery;
use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{IdPath, Permitted, QueryFields, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(list_cases)).routes(routes!(show_case))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssigneeView {
    pub helpdesk_agent_id: Option<String>,
    pub name: Option<String>,
    /// The Scoreline user matched to the agent, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamRefView {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// A case. Content (`subject`, `requester`, `tags`, `events`) is `null` once retention purged it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = String, format = Uuid)]
    pub id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub integration_id: IntegrationId,
    /// The HelpDesk ticket `ID`.
    pub source_id: String,
    pub short_id: Option<String>,
    pub subject: Option<String>,
    pub status: String,
    /// HelpDesk's -10 (low), 0, 10, 20 (urgent).
    pub priority: Option<i64>,
    /// `tickets`, `archive`, `trash` or `spam`; trash and spam cases leave new lists.
    pub silo: String,
    #[schema(value_type = Option<Object>)]
    pub requester: Option<serde_json::Value>,
    pub assignee: AssigneeView,
    pub team: TeamRefView,
    pub tags: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_message_at: Option<Timestamp>,
    pub message_count: u32,
    pub purged: bool,
    /// Messages, notes and history, oldest first; only on `GET /cases/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<scoreline_core::RawJson>,
}

impl From<StoredCase> for CaseView {
    fn from(case: StoredCase) -> Self {
        Self {
            id: case.id,
            integration_id: case.integration_id,
            source_id: case.source_id,
            short_id: case.short_id,
            subject: case.subject,
            status: case.status,
            priority: case.priority,
            silo: case.silo,
            requester: case.requester,
            assignee: AssigneeView {
                helpdesk_agent_id: case.agent_id,
                name: case.agent_name,
                user_id: case.agent_user_id,
            },
            team: TeamRefView { id: case.team_id, name: case.team_name },
            tags: case.tags,
            created_at: case.created_at,
            updated_at: case.updated_at,
            last_message_at: case.last_message_at,
            message_count: case.message_count,
            purged: case.purged_at.is_some(),
            events: case.content.map(|content| content.events),
        }
    }
}

#[utoipa::path(get, path = "/cases", tag = "cases", params(CaseQuery), responses((status = 200, body = ItemList<CaseView>), (status = 422)))]
/// Cases in the caller's scope, newest first by `sort`; every filter narrows, repeated values are alternatives.
async fn list_cases(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewCases>,
    QueryFields(query): QueryFields<CaseQuery>,
) -> Result<Json<ItemList<CaseView>>, ApiError> {
    let (filter, page) = (query.filter()?, query.page()?);
    let cases = state.app.list_cases(&actor, &filter, page).await?;
    Ok(Json(ItemList::from_page(cases, CaseView::from)))
}

#[utoipa::path(get, path = "/cases/{id}", tag = "cases", params(("id" = String, Path, format = Uuid)), responses((status = 200, body = CaseView), (status = 404)))]
async fn show_case(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewCases>,
    IdPath(id): IdPath<CaseId>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(state.app.get_case(&actor, id).await?.into()))
}
