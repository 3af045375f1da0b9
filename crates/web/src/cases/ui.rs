//! The cases page (*Score ▸ Interactions ▸ Cases*): every case in scope, filtered by a GET form
//! so a reload or a shared link keeps the place; and one case as the agent and customer saw it
//! (ticket HTML is sanitized by the conversation model).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scoreline_app::{AppError, Conversation};
use scoreline_core::{
    CaseCounts, CaseId, DateField, IntegrationId, PageRequest, Permission, StoredCase, Team, User,
};

use super::{CaseQuery, PRIORITIES, STATUSES};
use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, QueryFields, encode_cursor};
use crate::page::form::FormErrors;
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new().route("/cases", get(list)).route("/cases/{id}", get(show))
}

const SILOS: [(&str, &str); 4] =
    [("tickets", "Tickets"), ("archive", "Archive"), ("trash", "Trash"), ("spam", "Spam")];

#[derive(Template, WebTemplate)]
#[template(path = "cases/list.html")]
struct ListPage {
    layout: Layout,
    query: CaseQuery,
    errors: FormErrors,
    integrations: Vec<(IntegrationId, String)>,
    teams: Vec<Team>,
    staff: Vec<User>,
    cases: Vec<StoredCase>,
    counts: CaseCounts,
    filtered: bool,
    next_page: Option<String>,
    sort: DateField,
    sees_held_back: bool,
}

impl ListPage {
    fn has(values: &[String], value: &str) -> bool {
        values.iter().any(|v| v == value)
    }

    fn integration_label(&self, id: &IntegrationId) -> &str {
        self.integrations.iter().find(|(i, _)| i == id).map_or("", |(_, label)| label.as_str())
    }

    fn staff_name(&self, case: &StoredCase) -> String {
        match case.agent_user_id.and_then(|id| self.staff.iter().find(|u| u.id == id)) {
            Some(user) => user.name.clone(),
            None => case.agent_name.clone().unwrap_or_default(),
        }
    }

    fn sort_date(&self, case: &StoredCase) -> scoreline_core::Timestamp {
        match self.sort {
            DateField::Created => case.created_at,
            DateField::Updated => case.updated_at,
            DateField::LastMessage => case.last_message_at.unwrap_or(case.created_at),
        }
    }

    fn priority_label(priority: &Option<i64>) -> &'static str {
        match priority {
            Some(-10) => "Low",
            Some(0) => "Medium",
            Some(10) => "High",
            Some(20) => "Urgent",
            Some(_) => "Other",
            None => "—",
        }
    }
}

async fn list(
    State(state): State<WebState>,
    page: PageActor,
    QueryFields(query): QueryFields<CaseQuery>,
) -> Result<Response, ApiError> {
    let actor = &page.actor;
    let integrations = state.app.integration_choices(actor).await?;
    let everyone = PageRequest::first(PageRequest::MAX_LIMIT);
    // Employees see only their own cases and have no staff to choose from.
    let teams = match state.app.list_teams(actor, everyone).await {
        Ok(teams) => teams.items,
        Err(AppError::PermissionDenied { .. }) => Vec::new(),
        Err(other) => return Err(other.into()),
    };
    let staff = match state.app.list_users(actor, everyone).await {
        Ok(users) => users.items,
        Err(AppError::PermissionDenied { .. }) => Vec::new(),
        Err(other) => return Err(other.into()),
    };
    let sees_held_back = actor.scope().is_everything();
    let mut view = ListPage {
        layout: page.layout(),
        errors: FormErrors::none(),
        integrations,
        teams,
        staff,
        cases: Vec::new(),
        counts: CaseCounts::default(),
        filtered: false,
        next_page: None,
        sort: DateField::default(),
        sees_held_back,
        query: query.clone(),
    };
    let parsed = query.filter().and_then(|filter| Ok((filter, query.page()?)));
    let (filter, request) = match parsed {
        Ok(parsed) => parsed,
        Err(error) if !error.fields.is_empty() => {
            view.errors = FormErrors::new("filters", error.fields);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
        Err(error) => return Err(error),
    };
    view.filtered = filter != scoreline_core::CaseFilter { sort: filter.sort, ..Default::default() };
    view.sort = filter.sort;
    let cases = state.app.list_cases(actor, &filter, request).await?;
    view.counts = state.app.count_cases(actor, &filter).await?;
    view.next_page = cases
        .next_after
        .map(|after| format!("/cases?{}", query.to_query_string(Some(&encode_cursor(after)))));
    view.cases = cases.items;
    Ok(view.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/show.html")]
struct CasePage {
    layout: Layout,
    case: StoredCase,
    conversation: Conversation,
    integration_label: String,
    /// Only global admins open integration pages.
    integration_link: bool,
    ticket_url: String,
    staff: Option<User>,
    /// The lists that picked it and who has it.
    assignments: Vec<scoreline_core::Assignment>,
    evaluates: bool,
    /// Evaluators may score a case whose agent is matched, unless it is their own.
    can_evaluate: bool,
    /// The agent's own case, which they may score themselves where a scorecard allows it.
    own_case: bool,
}

async fn show(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<CaseId>,
) -> Result<Response, ApiError> {
    let case = state.app.get_case(&page.actor, id).await?;
    let conversation =
        Conversation::of(case.requester.as_ref(), case.content.as_ref().map(|content| &content.events));
    let integration_label = state
        .app
        .integration_choices(&page.actor)
        .await?
        .into_iter()
        .find(|(integration, _)| *integration == case.integration_id)
        .map(|(_, label)| label)
        .unwrap_or_default();
    let staff = match case.agent_user_id {
        Some(user) => match state.app.get_user(&page.actor, user).await {
            Ok(user) => Some(user),
            Err(AppError::PermissionDenied { .. } | AppError::NotFound(_)) => None,
            Err(other) => return Err(other.into()),
        },
        None => None,
    };
    // Who has the case, and skip reasons, are for evaluators, not the agent.
    let evaluates = page.actor.can(Permission::Evaluate);
    let own_case = case.agent_user_id.is_some() && case.agent_user_id == page.actor.user().map(|u| u.id);
    let can_evaluate = evaluates && case.agent_user_id.is_some() && !own_case;
    let assignments =
        if evaluates { state.app.case_assignments(&page.actor, case.id).await? } else { Vec::new() };
    Ok(CasePage {
        assignments,
        evaluates,
        can_evaluate,
        own_case,
        layout: page.layout(),
        integration_link: page.actor.can(Permission::ManageIntegrations),
        ticket_url: state.app.ticket_url(&case),
        integration_label,
        staff,
        case,
        conversation,
    }
    .into_response())
}
