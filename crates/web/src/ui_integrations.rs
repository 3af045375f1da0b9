//! *Score ▸ Interactions ▸ View Integrations* and the HelpDesk installation flow.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use scoreline_app::{Actor, AppError, ConnectIntegration, OAuthCallback, UpdateIntegration};
use scoreline_core::{
    CaseCounts, CaseFilter, Disconnect, FieldError, Integration, IntegrationId, PageRequest, Permission,
    RetentionUnit, StoredCase, SyncState,
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{PageActor, PageForm, PageSession};
use crate::ui::Layout;

fn integration_path(id: IntegrationId, rest: &str) -> String {
    format!("/interactions/integrations/{id}{rest}")
}

fn parse_id(id: &str) -> Result<IntegrationId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("integration"))
}

fn field_error<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/list.html")]
struct ListPage {
    layout: Layout,
    integrations: Vec<Integration>,
    choosing: bool,
}

/// The integrations, with the tile that adds one.
pub async fn list(State(state): State<WebState>, PageActor(actor): PageActor) -> Result<Response, ApiError> {
    let integrations =
        state.app.list_integrations(&actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    Ok(ListPage { layout: Layout::for_actor(&actor), integrations, choosing: false }.into_response())
}

/// "Add an Integration": the helpdesks that can be connected.
pub async fn choose(PageActor(actor): PageActor) -> Result<Response, ApiError> {
    actor.require(Permission::ManageIntegrations)?;
    Ok(ListPage { layout: Layout::for_actor(&actor), integrations: Vec::new(), choosing: true }
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/new.html")]
struct NewPage {
    layout: Layout,
    form: ConnectForm,
    errors: Vec<FieldError>,
    problem: Option<String>,
    oauth_available: bool,
    units: Vec<&'static str>,
    backfill_cap_weeks: u32,
}

impl NewPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

/// The installation form as posted. The token is never sent back to the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ConnectForm {
    auth_method: String,
    label: String,
    description: String,
    account_id: String,
    token: String,
    retention_value: String,
    retention_unit: String,
    backfill_weeks: String,
}

impl Default for ConnectForm {
    fn default() -> Self {
        Self {
            auth_method: "token".to_owned(),
            label: String::new(),
            description: String::new(),
            account_id: String::new(),
            token: String::new(),
            retention_value: "6".to_owned(),
            retention_unit: "months".to_owned(),
            backfill_weeks: "1".to_owned(),
        }
    }
}

impl ConnectForm {
    fn to_input(&self) -> Result<ConnectIntegration, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |field: &str, text: &str, what: &str| match text.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new(field, format!("{what} must be a whole number.")));
                None
            }
        };
        let retention_value = number("retention", &self.retention_value, "Retention");
        let backfill_days =
            number("backfill_days", &self.backfill_weeks, "Backfill").map(|weeks| weeks.saturating_mul(7));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ConnectIntegration {
            label: self.label.clone(),
            description: self.description.clone(),
            auth_method: self.auth_method.clone(),
            account_id: self.account_id.clone(),
            token: Some(SecretString::from(self.token.clone())),
            retention_value,
            retention_unit: self.retention_unit.clone(),
            backfill_days,
        })
    }

    fn without_token(self) -> Self {
        Self { token: String::new(), ..self }
    }
}

fn new_page(
    state: &WebState,
    actor: &Actor,
    form: ConnectForm,
    errors: Vec<FieldError>,
    problem: Option<String>,
) -> NewPage {
    NewPage {
        layout: Layout::for_actor(actor),
        form: form.without_token(),
        errors,
        problem,
        oauth_available: state.app.oauth_available(),
        units: RetentionUnit::ALL.iter().map(|u| u.as_str()).collect(),
        backfill_cap_weeks: state.app.settings().helpdesk.backfill_cap_days / 7,
    }
}

pub async fn show_new(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
) -> Result<Response, ApiError> {
    actor.require(Permission::ManageIntegrations)?;
    Ok(new_page(&state, &actor, ConnectForm::default(), Vec::new(), None).into_response())
}

/// "Connect HelpDesk to Scoreline": checks a token and connects, or goes to approve OAuth.
pub async fn create(
    State(state): State<WebState>,
    session: PageSession,
    PageForm(form): PageForm<ConnectForm>,
) -> Result<Response, ApiError> {
    let actor = session.actor;
    actor.require(Permission::ManageIntegrations)?;
    let input = match form.to_input() {
        Ok(input) => input,
        Err(errors) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, new_page(&state, &actor, form, errors, None))
                .into_response());
        }
    };
    let outcome = if input.auth_method == "oauth" {
        state
            .app
            .start_oauth(&actor, Some(session.session_id), input)
            .await
            .map(|started| Redirect::to(&started.authorize_url))
    } else {
        state
            .app
            .connect_with_token(&actor, input)
            .await
            .map(|created| Redirect::to(&integration_path(created.id, "/connected")))
    };
    match outcome {
        Ok(redirect) => Ok(redirect.into_response()),
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, new_page(&state, &actor, form, errors, None))
                .into_response())
        }
        Err(AppError::Upstream(problem)) => {
            Ok((StatusCode::BAD_GATEWAY, new_page(&state, &actor, form, Vec::new(), Some(problem)))
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackQuery {
    state: String,
    code: Option<String>,
    error: Option<String>,
}

/// Where the accounts server sends the admin back to.
pub async fn oauth_callback(
    State(state): State<WebState>,
    session: PageSession,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let callback = match (query.code, query.error) {
        (Some(code), None) if !code.is_empty() => {
            OAuthCallback::Code { state: query.state, code: SecretString::from(code) }
        }
        (_, error) => OAuthCallback::Refused {
            state: query.state,
            error: error.unwrap_or_else(|| "no code".to_owned()),
        },
    };
    let integration = state.app.finish_oauth(&session.actor, Some(session.session_id), callback).await?;
    Ok(Redirect::to(&integration_path(integration.id, "/connected")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/connected.html")]
struct ConnectedPage {
    layout: Layout,
    integration: Integration,
}

pub async fn connected(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let integration = state.app.get_integration(&actor, parse_id(&id)?).await?;
    Ok(ConnectedPage { layout: Layout::for_actor(&actor), integration }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/detail.html")]
struct DetailPage {
    layout: Layout,
    integration: Integration,
    sync: SyncState,
    counts: CaseCounts,
    cases: Vec<StoredCase>,
    form: SettingsForm,
    errors: Vec<FieldError>,
    problem: Option<String>,
    notice: Option<&'static str>,
    units: Vec<&'static str>,
}

impl DetailPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    label: String,
    description: String,
    retention_value: String,
    retention_unit: String,
    backfill_days: String,
}

impl SettingsForm {
    fn of(integration: &Integration) -> Self {
        Self {
            label: integration.label.clone(),
            description: integration.description.clone(),
            retention_value: integration.retention.value.to_string(),
            retention_unit: integration.retention.unit.as_str().to_owned(),
            backfill_days: integration.backfill_days.to_string(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    saved: Option<String>,
}

async fn detail_page(
    state: &WebState,
    actor: &Actor,
    id: IntegrationId,
    errors: Vec<FieldError>,
    form: Option<SettingsForm>,
) -> Result<DetailPage, ApiError> {
    let overview = state.app.integration_overview(actor, id).await?;
    let filter = CaseFilter { integration_id: Some(id), ..CaseFilter::default() };
    let cases = match state.app.list_cases(actor, &filter, PageRequest::first(RECENT_CASES)).await {
        Ok(page) => page.items,
        Err(AppError::PermissionDenied { .. }) => Vec::new(),
        Err(other) => return Err(other.into()),
    };
    let form = form.unwrap_or_else(|| SettingsForm::of(&overview.integration));
    Ok(DetailPage {
        layout: Layout::for_actor(actor),
        integration: overview.integration,
        sync: overview.sync,
        counts: overview.cases,
        cases,
        form,
        errors,
        problem: None,
        notice: None,
        units: RetentionUnit::ALL.iter().map(|u| u.as_str()).collect(),
    })
}

/// How many cases the integration page lists.
const RECENT_CASES: u32 = 25;

pub async fn detail(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, ApiError> {
    let mut page = detail_page(&state, &actor, parse_id(&id)?, Vec::new(), None).await?;
    page.notice = match query.saved.as_deref() {
        Some("settings") => Some("Settings saved."),
        Some("token") => Some("Token replaced; HelpDesk accepted it."),
        Some("sync") => Some("Sync requested; it starts within seconds."),
        _ => None,
    };
    Ok(page.into_response())
}

pub async fn update(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
    PageForm(form): PageForm<SettingsForm>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let number = |text: &str| text.trim().parse::<i64>().ok();
    let change = UpdateIntegration {
        label: Some(form.label.clone()),
        description: Some(form.description.clone()),
        retention_value: Some(number(&form.retention_value).unwrap_or(0)),
        retention_unit: Some(form.retention_unit.clone()),
        backfill_days: Some(number(&form.backfill_days).unwrap_or(0)),
    };
    match state.app.update_integration(&actor, id, change).await {
        Ok(_) => Ok(Redirect::to(&integration_path(id, "?saved=settings")).into_response()),
        Err(AppError::Validation(errors)) => {
            let page = detail_page(&state, &actor, id, errors, Some(form)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    token: String,
}

pub async fn replace_token(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    match state.app.replace_token(&actor, id, "", SecretString::from(form.token)).await {
        Ok(_) => Ok(Redirect::to(&integration_path(id, "?saved=token")).into_response()),
        Err(error @ (AppError::Validation(_) | AppError::Upstream(_))) => {
            let (status, errors, problem) = match error {
                AppError::Validation(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
                AppError::Upstream(problem) => (StatusCode::BAD_GATEWAY, Vec::new(), Some(problem)),
                _ => unreachable!("matched above"),
            };
            let mut page = detail_page(&state, &actor, id, errors, None).await?;
            page.problem = problem;
            Ok((status, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// "Sync now".
pub async fn sync_now(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    state.app.request_sync(&actor, id).await?;
    Ok(Redirect::to(&integration_path(id, "?saved=sync")).into_response())
}

/// Sends the admin to authorize an OAuth integration again; its data stays.
pub async fn reconnect(
    State(state): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let started = state.app.start_reconnect(&session.actor, Some(session.session_id), parse_id(&id)?).await?;
    Ok(Redirect::to(&started.authorize_url).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/disconnect.html")]
struct DisconnectPage {
    layout: Layout,
    integration: Integration,
}

pub async fn confirm_disconnect(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let integration = state.app.get_integration(&actor, parse_id(&id)?).await?;
    Ok(DisconnectPage { layout: Layout::for_actor(&actor), integration }.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DisconnectForm {
    cases: String,
}

pub async fn disconnect(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
    PageForm(form): PageForm<DisconnectForm>,
) -> Result<Response, ApiError> {
    let mode = match form.cases.as_str() {
        "keep" => Disconnect::KeepCases,
        "remove" => Disconnect::RemoveEverything,
        _ => return Err(ApiError::invalid_field("cases", "Choose whether to keep or remove the cases.")),
    };
    state.app.disconnect_integration(&actor, parse_id(&id)?, mode).await?;
    Ok(Redirect::to("/interactions/integrations").into_response())
}
