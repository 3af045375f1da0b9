//! `/api/v1/cases`: stored cases, filtered, and one case with its conversation.

use axum::Json;
use axum::extract::State;
use scoreline_core::{CaseFilter, CaseId, FieldErrors, IntegrationId, StoredCase, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiQuery, IdPath, PageQuery, Permitted, grant};

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
    pub events: Option<serde_json::Value>,
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

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub integration_id: Option<String>,
    /// Cases whose assigned HelpDesk agent is matched to this user.
    pub agent_user_id: Option<String>,
    pub status: Option<String>,
    /// RFC 3339; HelpDesk `updatedAt` at or after.
    pub updated_from: Option<String>,
    /// RFC 3339; HelpDesk `updatedAt` before.
    pub updated_to: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

impl CaseQuery {
    fn filter(&self) -> Result<CaseFilter, ApiError> {
        let mut errors = FieldErrors::new();
        let id = |field: &str, text: &Option<String>, errors: &mut FieldErrors| -> Option<uuid::Uuid> {
            let text = text.as_deref().filter(|t| !t.is_empty())?;
            errors.check(field, uuid::Uuid::parse_str(text).map_err(|_| format!("{field} must be a UUID.")))
        };
        let time = |field: &str, text: &Option<String>, errors: &mut FieldErrors| -> Option<Timestamp> {
            let text = text.as_deref().filter(|t| !t.is_empty())?;
            errors.check(
                field,
                Timestamp::parse_rfc3339(text)
                    .map_err(|_| format!("{field} must be an RFC 3339 time such as 2026-11-01T00:00:00Z.")),
            )
        };
        let filter = CaseFilter {
            integration_id: id("integration_id", &self.integration_id, &mut errors)
                .map(IntegrationId::from_uuid),
            agent_user_id: id("agent_user_id", &self.agent_user_id, &mut errors).map(UserId::from_uuid),
            status: self.status.clone().filter(|s| !s.is_empty()),
            updated_from: time("updated_from", &self.updated_from, &mut errors),
            updated_to: time("updated_to", &self.updated_to, &mut errors),
        };
        errors.into_result().map_err(|e| ApiError::from(scoreline_app::AppError::from(e)))?;
        Ok(filter)
    }
}

#[utoipa::path(get, path = "/cases", tag = "cases", params(CaseQuery), responses((status = 200, body = ItemList<CaseView>), (status = 403), (status = 422)))]
async fn list_cases(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewCases>,
    ApiQuery(query): ApiQuery<CaseQuery>,
) -> Result<Json<ItemList<CaseView>>, ApiError> {
    let page = PageQuery { cursor: query.cursor.clone(), limit: query.limit }.to_request()?;
    let cases = state.app.list_cases(&actor, &query.filter()?, page).await?;
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
