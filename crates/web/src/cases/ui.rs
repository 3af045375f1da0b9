//! A case as the agent and customer saw it; ticket HTML is sanitized by the conversation model.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scoreline_app::Conversation;
use scoreline_core::{CaseId, Permission, StoredCase};

use crate::WebState;
use crate::error::ApiError;
use crate::extract::IdPath;
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new().route("/cases/{id}", get(show))
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/show.html")]
struct CasePage {
    layout: Layout,
    case: StoredCase,
    conversation: Conversation,
    can_evaluate: bool,
}

async fn show(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<CaseId>,
) -> Result<Response, ApiError> {
    let case = state.app.get_case(&page.actor, id).await?;
    let conversation =
        Conversation::of(case.requester.as_ref(), case.content.as_ref().map(|content| &content.events));
    let can_evaluate = page.actor.can(Permission::Evaluate) && case.agent_user_id.is_some();
    Ok(CasePage { layout: page.layout(), case, conversation, can_evaluate }.into_response())
}
