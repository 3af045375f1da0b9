//! *Score ▸ Interactions ▸ View Integrations* and the HelpDesk installation flow: choose, connect
//! (token or OAuth), the connected page, settings, token replacement, sync, reconnect and
//! disconnect. The sync status refreshes itself through htmx while a sync is under way.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use scoreline_app::{AppError, ConnectIntegration, OAuthCallback, UpdateIntegration, WebhookOverview};
use scoreline_core::{
    CaseCounts, CaseFilter, Disconnect, FieldErrors, Integration, IntegrationId, PageRequest, Permission,
    RetentionUnit, StoredCase, SyncPhase, SyncState,
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, PageForm};
use crate::page::form::{FormErrors, answer, done, whole_number};
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/interactions/integrations", get(list).post(create))
        .route("/interactions/integrations/add", get(choose))
        .route("/interactions/integrations/new", get(show_new))
        .route("/interactions/integrations/oauth/callback", get(oauth_callback))
        .route("/interactions/integrations/{id}", get(detail).post(update))
        .route("/interactions/integrations/{id}/status", get(status))
        .route("/interactions/integrations/{id}/connected", get(connected))
        .route("/interactions/integrations/{id}/token", post(replace_token))
        .route("/interactions/integrations/{id}/sync", post(sync_now))
        .route("/interactions/integrations/{id}/reconnect", post(reconnect))
        .route("/interactions/integrations/{id}/disconnect", get(confirm_disconnect).post(disconnect))
}

fn integration_path(id: IntegrationId, rest: &str) -> String {
    format!("/interactions/integrations/{id}{rest}")
}

fn retention_units() -> Vec<&'static str> {
    RetentionUnit::ALL.iter().map(|u| u.as_str()).collect()
}

/// The sync phase in words.
pub fn phase_label(phase: &SyncPhase) -> &'static str {
    match phase {
        SyncPhase::Pending => "Waiting for the first sync",
        SyncPhase::Backfilling => "Fetching history",
        SyncPhase::Live => "Up to date",
        SyncPhase::Paused => "Paused",
        SyncPhase::NeedsReauthorization => "Needs reauthorization",
        SyncPhase::Error => "Failed",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/list.html")]
struct ListPage {
    layout: Layout,
    integrations: Vec<Integration>,
    choosing: bool,
}

/// The integrations, with the tile that adds one.
async fn list(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    let integrations =
        state.app.list_integrations(&page.actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    Ok(ListPage { layout: page.layout(), integrations, choosing: false }.into_response())
}

/// "Add an Integration": the helpdesks that can be connected.
async fn choose(page: PageActor) -> Result<Response, ApiError> {
    page.actor.require(Permission::ManageIntegrations)?;
    Ok(ListPage { layout: page.layout(), integrations: Vec::new(), choosing: true }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/new.html")]
struct NewPage {
    layout: Layout,
    form: ConnectForm,
    errors: FormErrors,
    oauth_available: bool,
    units: Vec<&'static str>,
    backfill_cap_weeks: u32,
}

/// The installation form as posted. The token is never sent back to the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct ConnectForm {
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
    fn to_input(&self) -> Result<ConnectIntegration, AppError> {
        let mut errors = FieldErrors::new();
        let retention_value = whole_number(&mut errors, "retention", &self.retention_value, "Retention");
        let backfill_days = whole_number(&mut errors, "backfill_days", &self.backfill_weeks, "Backfill")
            .map(|weeks| weeks.saturating_mul(7));
        errors.into_result()?;
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
}

fn new_page(state: &WebState, page: &PageActor, form: &ConnectForm, errors: FormErrors) -> NewPage {
    NewPage {
        layout: page.layout(),
        form: ConnectForm { token: String::new(), ..form.clone() },
        errors,
        oauth_available: state.app.oauth_available(),
        units: retention_units(),
        backfill_cap_weeks: state.app.settings().helpdesk.backfill_cap_days / 7,
    }
}

async fn show_new(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    page.actor.require(Permission::ManageIntegrations)?;
    Ok(new_page(&state, &page, &ConnectForm::default(), FormErrors::none()).into_response())
}

/// "Connect HelpDesk to Scoreline": checks a token and connects, or goes to approve OAuth.
async fn create(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<ConnectForm>,
) -> Result<Response, ApiError> {
    page.actor.require(Permission::ManageIntegrations)?;
    let result = match form.to_input() {
        Ok(input) if input.auth_method == "oauth" => state
            .app
            .start_oauth(&page.actor, Some(page.session_id), input)
            .await
            .map(|started| started.authorize_url),
        Ok(input) => state
            .app
            .connect_with_token(&page.actor, input)
            .await
            .map(|created| integration_path(created.id, "/connected")),
        Err(error) => Err(error),
    };
    let again = async |errors| Ok(new_page(&state, &page, &form, errors));
    answer("connect-form", result, |to| Redirect::to(&to), again).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CallbackQuery {
    state: String,
    code: Option<String>,
    error: Option<String>,
}

/// Where the accounts server sends the admin back to.
async fn oauth_callback(
    State(state): State<WebState>,
    page: PageActor,
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
    let integration = state.app.finish_oauth(&page.actor, Some(page.session_id), callback).await?;
    Ok(Redirect::to(&integration_path(integration.id, "/connected")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/connected.html")]
struct ConnectedPage {
    layout: Layout,
    integration: Integration,
}

async fn connected(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let integration = state.app.get_integration(&page.actor, id).await?;
    Ok(ConnectedPage { layout: page.layout(), integration }.into_response())
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
    errors: FormErrors,
    units: Vec<&'static str>,
    webhooks: WebhookOverview,
}

/// The sync status of the integration page, on its own: htmx polls it while a sync runs.
#[derive(Template, WebTemplate)]
#[template(path = "integrations/status.html")]
struct StatusPartial {
    layout: Layout,
    integration: Integration,
    sync: SyncState,
    counts: CaseCounts,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct SettingsForm {
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

    fn to_change(&self) -> Result<UpdateIntegration, AppError> {
        let mut errors = FieldErrors::new();
        let retention_value = whole_number(&mut errors, "retention", &self.retention_value, "Retention");
        let backfill_days = whole_number(&mut errors, "backfill_days", &self.backfill_days, "Backfill");
        errors.into_result()?;
        Ok(UpdateIntegration {
            label: Some(self.label.clone()),
            description: Some(self.description.clone()),
            retention_value,
            retention_unit: Some(self.retention_unit.clone()),
            backfill_days,
        })
    }
}

/// How many cases the integration page lists.
const RECENT_CASES: u32 = 25;

async fn detail_page(
    state: &WebState,
    page: &PageActor,
    id: IntegrationId,
    errors: FormErrors,
    form: Option<&SettingsForm>,
) -> Result<DetailPage, ApiError> {
    let overview = state.app.integration_overview(&page.actor, id).await?;
    let filter = CaseFilter::of_integration(id);
    let cases = match state.app.list_cases(&page.actor, &filter, PageRequest::first(RECENT_CASES)).await {
        Ok(cases) => cases.items,
        Err(AppError::PermissionDenied { .. }) => Vec::new(),
        Err(other) => return Err(other.into()),
    };
    let form = form.cloned().unwrap_or_else(|| SettingsForm::of(&overview.integration));
    let webhooks = state.app.webhook_overview(&page.actor, id).await?;
    Ok(DetailPage {
        layout: page.layout(),
        integration: overview.integration,
        sync: overview.sync,
        counts: overview.cases,
        cases,
        form,
        errors,
        units: retention_units(),
        webhooks,
    })
}

async fn detail(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    Ok(detail_page(&state, &page, id, FormErrors::none(), None).await?.into_response())
}

async fn status(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let overview = state.app.integration_overview(&page.actor, id).await?;
    let partial = StatusPartial {
        layout: page.layout(),
        integration: overview.integration,
        sync: overview.sync,
        counts: overview.cases,
    };
    Ok(partial.into_response())
}

/// "Save settings".
async fn update(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
    PageForm(form): PageForm<SettingsForm>,
) -> Result<Response, ApiError> {
    let result = async { state.app.update_integration(&page.actor, id, form.to_change()?).await }.await;
    let again = async |errors| detail_page(&state, &page, id, errors, Some(&form)).await;
    answer("settings-form", result, |_| done(integration_path(id, ""), "Settings saved."), again).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    token: String,
}

/// "Check and replace": HelpDesk must accept the new token first.
async fn replace_token(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, ApiError> {
    let result = state.app.replace_token(&page.actor, id, "", SecretString::from(form.token)).await;
    let again = async |errors| detail_page(&state, &page, id, errors, None).await;
    let replaced = |_| done(integration_path(id, ""), "Token replaced; HelpDesk accepted it.");
    answer("token-form", result, replaced, again).await
}

/// "Sync now".
async fn sync_now(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let result = state.app.request_sync(&page.actor, id).await;
    let requested = |()| done(integration_path(id, ""), "Sync requested; it starts within seconds.");
    answer("sync-form", result, requested, async |errors| detail_page(&state, &page, id, errors, None).await)
        .await
}

/// Sends the admin to authorize an OAuth integration again; its data stays.
async fn reconnect(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let result = state.app.start_reconnect(&page.actor, Some(page.session_id), id).await;
    let again = async |errors| detail_page(&state, &page, id, errors, None).await;
    answer("reconnect-form", result, |started| Redirect::to(&started.authorize_url), again).await
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/disconnect.html")]
struct DisconnectPage {
    layout: Layout,
    integration: Integration,
    errors: FormErrors,
}

async fn confirm_disconnect(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let integration = state.app.get_integration(&page.actor, id).await?;
    Ok(DisconnectPage { layout: page.layout(), integration, errors: FormErrors::none() }.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DisconnectForm {
    cases: String,
}

async fn disconnect(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
    PageForm(form): PageForm<DisconnectForm>,
) -> Result<Response, ApiError> {
    let result = match form.cases.as_str() {
        "keep" => state.app.disconnect_integration(&page.actor, id, Disconnect::KeepCases).await,
        "remove" => state.app.disconnect_integration(&page.actor, id, Disconnect::RemoveEverything).await,
        _ => Err(AppError::field("cases", "Choose whether to keep or remove the cases.")),
    };
    let again = async |errors| {
        let integration = state.app.get_integration(&page.actor, id).await?;
        Ok(DisconnectPage { layout: page.layout(), integration, errors })
    };
    let disconnected = |_| done("/interactions/integrations", "Disconnected; its credentials are deleted.");
    answer("disconnect-form", result, disconnected, again).await
}
