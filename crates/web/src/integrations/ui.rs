//! *Score ▸ Interactions ▸ View Integrations* and the HelpDesk installation flow: choose, connect
//! (token or OAuth), the connected page, settings, token replacement, sync, reconnect and
//! disconnect. The sync status refreshes itself through htmx while a sync is under way.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use scoreline_app::{
    AppError, BackfillProgress, ConnectIntegration, IntegrationOverview, OAuthCallback, OAuthFinished,
    UpdateIntegration, WebhookOverview,
};
use scoreline_core::{
    CaseCounts, CaseFilter, Disconnect, Eta, FieldErrors, Integration, IntegrationId, IntegrationSettings,
    IntegrationState, PageRequest, Permission, RateLimitWait, RetentionUnit, StoredCase, SyncPhase,
    SyncState, Timestamp,
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, PageForm};
use crate::page::form::{FormErrors, answer, done, redirect_window, rejected, whole_number};
use crate::page::{Layout, PageActor, counted, is_htmx};

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

/// A backfill span in the unit the forms ask in: `1 week`, `3 weeks` (`10 days` when set in
/// days through the API).
pub fn backfill_label(days: &u32) -> String {
    scoreline_core::BackfillDays::stored(*days).to_string()
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

/// An integration's sync as the pages show it while it runs and after.
pub struct SyncView {
    pub integration: Integration,
    pub sync: SyncState,
    pub counts: CaseCounts,
    pub backfill: Option<BackfillProgress>,
    rate_limit: Option<RateLimitWait>,
    now: Timestamp,
}

impl SyncView {
    fn of(overview: IntegrationOverview, now: Timestamp) -> Self {
        let IntegrationOverview { integration, sync, cases, backfill, rate_limit } = overview;
        Self { integration, sync, counts: cases, backfill, rate_limit, now }
    }

    fn connected(&self) -> bool {
        self.integration.state == IntegrationState::Connected
    }

    /// While something is under way the status refreshes itself; idle, it stops asking.
    pub fn polling(&self) -> bool {
        self.connected()
            && (self.sync.running
                || self.sync.requested_at.is_some()
                || matches!(self.sync.phase, SyncPhase::Pending | SyncPhase::Backfilling))
    }

    /// The sync in words, as it really stands: a disconnected integration does not sync.
    pub fn phase(&self) -> &'static str {
        match self.integration.state {
            IntegrationState::Connected => phase_label(&self.sync.phase),
            IntegrationState::NeedsReauthorization => "Stopped until HelpDesk access is renewed",
            IntegrationState::Disconnected => "Stopped: disconnected, so nothing is fetched",
        }
    }

    /// A run under way, or one asked for.
    pub fn activity(&self) -> Option<&'static str> {
        if !self.connected() {
            None
        } else if self.sync.running {
            Some("syncing now")
        } else if self.sync.requested_at.is_some() {
            Some("Sync requested; it starts within seconds")
        } else {
            None
        }
    }

    /// What a running sync waits for at HelpDesk's rate limit.
    pub fn rate_limit(&self) -> Option<String> {
        match self.rate_limit? {
            RateLimitWait::Pacing => Some(
                "Waiting for HelpDesk's rate limit: requests go out at the pace HelpDesk accepts.".to_owned(),
            ),
            RateLimitWait::RetryAfter { until } => {
                let seconds = (until.as_millis() - self.now.as_millis() + 999) / 1000;
                Some(format!(
                    "Waiting for HelpDesk's rate limit: HelpDesk asked for a pause; resuming in {}.",
                    counted(usize::try_from(seconds).unwrap_or(usize::MAX), "second", "seconds")
                ))
            }
        }
    }

    /// The time the backfill may still take, from its rate so far.
    pub fn eta(&self) -> String {
        match self.backfill.map(|b| b.eta) {
            None | Some(Eta::Estimating) => "estimating the time left".to_owned(),
            Some(Eta::Left(left)) => {
                let seconds = left.as_secs();
                if seconds < 60 {
                    "less than a minute left".to_owned()
                } else if seconds < 90 * 60 {
                    format!("about {} left", counted(((seconds + 30) / 60) as usize, "minute", "minutes"))
                } else {
                    format!("about {} left", counted(((seconds + 1800) / 3600) as usize, "hour", "hours"))
                }
            }
        }
    }

    /// `12 cases`.
    pub fn stored(&self) -> String {
        counted(usize::try_from(self.counts.total).unwrap_or(usize::MAX), "case", "cases")
    }

    /// What the last run changed: `12 cases changed`.
    pub fn changed(&self, written: &u64) -> String {
        format!("{} changed", counted(usize::try_from(*written).unwrap_or(usize::MAX), "case", "cases"))
    }
}

async fn sync_views(state: &WebState, page: &PageActor) -> Result<Vec<SyncView>, ApiError> {
    let overviews = state
        .app
        .list_integration_overviews(&page.actor, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items;
    Ok(overviews.into_iter().map(|o| SyncView::of(o, page.now())).collect())
}

async fn sync_view(state: &WebState, page: &PageActor, id: IntegrationId) -> Result<SyncView, ApiError> {
    Ok(SyncView::of(state.app.integration_overview(&page.actor, id).await?, page.now()))
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/list.html")]
struct ListPage {
    layout: Layout,
    integrations: Vec<SyncView>,
    choosing: bool,
}

/// The integrations, with the tile that adds one.
async fn list(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    let integrations = sync_views(&state, &page).await?;
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
    /// The token field keeps what the browser holds (htmx swaps the form around it): the
    /// token is never written into the page, and a failure that was not about the token does
    /// not make the admin paste it again.
    keep_token: bool,
    /// The account is connected already: the form asks for confirmation.
    duplicate: bool,
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
    /// "Connect anyway": the account is connected already.
    confirm_duplicate: String,
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
            confirm_duplicate: String::new(),
        }
    }
}

impl ConnectForm {
    /// The form an OAuth flow started from, to show again when it came back unfinished.
    fn of_settings(settings: &IntegrationSettings) -> Self {
        Self {
            auth_method: "oauth".to_owned(),
            label: settings.label.clone(),
            description: settings.description.clone(),
            retention_value: settings.retention.value.to_string(),
            retention_unit: settings.retention.unit.as_str().to_owned(),
            backfill_weeks: weeks_of(settings.backfill_days),
            ..Self::default()
        }
    }

    fn to_input(&self) -> Result<ConnectIntegration, AppError> {
        let mut errors = FieldErrors::new();
        let retention_value = whole_number(&mut errors, "retention", &self.retention_value, "Retention");
        let backfill_weeks = whole_number(&mut errors, "backfill_weeks", &self.backfill_weeks, "Backfill");
        errors.into_result()?;
        Ok(ConnectIntegration {
            label: self.label.clone(),
            description: self.description.clone(),
            auth_method: self.auth_method.clone(),
            account_id: self.account_id.clone(),
            token: Some(SecretString::from(self.token.clone())),
            retention_value,
            retention_unit: self.retention_unit.clone(),
            backfill_days: None,
            backfill_weeks,
            allow_duplicate: !self.confirm_duplicate.is_empty(),
        })
    }
}

/// A backfill in the weeks the forms ask for; a span set in days through the API rounds up.
fn weeks_of(days: u32) -> String {
    days.div_ceil(7).to_string()
}

fn new_page(state: &WebState, page: &PageActor, form: &ConnectForm, errors: FormErrors) -> NewPage {
    let keep_token = !errors.has("connect-form", "token");
    let duplicate = errors.has("connect-form", "confirm_duplicate");
    NewPage {
        layout: page.layout(),
        form: ConnectForm { token: String::new(), ..form.clone() },
        errors,
        oauth_available: state.app.oauth_available(),
        units: retention_units(),
        backfill_cap_weeks: state.app.settings().helpdesk.backfill_cap_days / 7,
        keep_token,
        duplicate,
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
    headers: HeaderMap,
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
    Ok(redirect_window(&headers, answer("connect-form", result, |to| Redirect::to(&to), again).await?))
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
    match state.app.finish_oauth(&page.actor, Some(page.session_id), callback).await? {
        OAuthFinished::Connected(integration) => {
            Ok(Redirect::to(&integration_path(integration.id, "/connected")).into_response())
        }
        // A reconnection goes back to its integration, saying what happened.
        OAuthFinished::Returned { reconnect_of: Some(id), problem, .. } => {
            Ok(done(integration_path(id, ""), problem_text(&problem)).into_response())
        }
        // A new connection goes back to its form, filled in as it was, with the reason.
        OAuthFinished::Returned { settings, reconnect_of: None, problem } => {
            let (status, errors) = rejected("connect-form", problem)?;
            Ok((status, new_page(&state, &page, &ConnectForm::of_settings(&settings), errors))
                .into_response())
        }
    }
}

/// The message of a problem, for a flash.
fn problem_text(problem: &AppError) -> String {
    match problem {
        AppError::Validation(fields) => {
            fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(" ")
        }
        other => other.to_string(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/connected.html")]
struct ConnectedPage {
    layout: Layout,
    integration: Integration,
    view: SyncView,
    errors: FormErrors,
}

async fn connected(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let view = sync_view(&state, &page, id).await?;
    let integration = view.integration.clone();
    Ok(ConnectedPage { layout: page.layout(), integration, view, errors: FormErrors::none() }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/detail.html")]
struct DetailPage {
    layout: Layout,
    integration: Integration,
    view: SyncView,
    counts: CaseCounts,
    cases: Vec<StoredCase>,
    form: SettingsForm,
    errors: FormErrors,
    units: Vec<&'static str>,
    webhooks: WebhookOverview,
}

/// The sync status of the integration page and the confirmation page, on its own: htmx polls
/// it while a sync runs.
#[derive(Template, WebTemplate)]
#[template(path = "integrations/status.html")]
struct StatusPartial {
    layout: Layout,
    view: SyncView,
    errors: FormErrors,
}

/// The same, as the integration's tile on View Integrations shows it.
#[derive(Template, WebTemplate)]
#[template(path = "integrations/tile_status.html")]
struct TileStatusPartial {
    layout: Layout,
    view: SyncView,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct SettingsForm {
    label: String,
    description: String,
    retention_value: String,
    retention_unit: String,
    backfill_weeks: String,
}

impl SettingsForm {
    fn of(integration: &Integration) -> Self {
        Self {
            label: integration.label.clone(),
            description: integration.description.clone(),
            retention_value: integration.retention.value.to_string(),
            retention_unit: integration.retention.unit.as_str().to_owned(),
            backfill_weeks: weeks_of(integration.backfill_days),
        }
    }

    fn to_change(&self) -> Result<UpdateIntegration, AppError> {
        let mut errors = FieldErrors::new();
        let retention_value = whole_number(&mut errors, "retention", &self.retention_value, "Retention");
        let backfill_weeks = whole_number(&mut errors, "backfill_weeks", &self.backfill_weeks, "Backfill");
        errors.into_result()?;
        Ok(UpdateIntegration {
            label: Some(self.label.clone()),
            description: Some(self.description.clone()),
            retention_value,
            retention_unit: Some(self.retention_unit.clone()),
            backfill_days: None,
            backfill_weeks,
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
    let view = sync_view(state, page, id).await?;
    let filter = CaseFilter::of_integration(id);
    let cases = match state.app.list_cases(&page.actor, &filter, PageRequest::first(RECENT_CASES)).await {
        Ok(cases) => cases.items,
        Err(AppError::PermissionDenied { .. }) => Vec::new(),
        Err(other) => return Err(other.into()),
    };
    let form = form.cloned().unwrap_or_else(|| SettingsForm::of(&view.integration));
    let webhooks = state.app.webhook_overview(&page.actor, id).await?;
    Ok(DetailPage {
        layout: page.layout(),
        integration: view.integration.clone(),
        counts: view.counts,
        view,
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatusQuery {
    /// `tile`: the compact status of View Integrations.
    view: String,
}

async fn status(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<IntegrationId>,
    Query(query): Query<StatusQuery>,
) -> Result<Response, ApiError> {
    let view = sync_view(&state, &page, id).await?;
    if query.view == "tile" {
        return Ok(TileStatusPartial { layout: page.layout(), view }.into_response());
    }
    Ok(StatusPartial { layout: page.layout(), view, errors: FormErrors::none() }.into_response())
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
    let was = state.app.get_integration(&page.actor, id).await?.state;
    let result = state.app.replace_token(&page.actor, id, "", SecretString::from(form.token)).await;
    let again = async |errors| detail_page(&state, &page, id, errors, None).await;
    let message = match was {
        IntegrationState::Connected => "Token replaced; HelpDesk accepted it.",
        _ => "Reconnected: HelpDesk accepted the token, and syncing resumes.",
    };
    let replaced = |_| done(integration_path(id, ""), message);
    answer("token-form", result, replaced, again).await
}

/// "Sync now". With htmx the status answers, and keeps itself up to date until the run ends.
async fn sync_now(
    State(state): State<WebState>,
    page: PageActor,
    headers: HeaderMap,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Response, ApiError> {
    let result = state.app.request_sync(&page.actor, id).await;
    if is_htmx(&headers) {
        let (status, errors) = match result {
            Ok(()) => (StatusCode::OK, FormErrors::none()),
            Err(error) => rejected("sync-form", error)?,
        };
        let view = sync_view(&state, &page, id).await?;
        return Ok((status, StatusPartial { layout: page.layout(), view, errors }).into_response());
    }
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
    let message = match form.cases.as_str() {
        "remove" => "Removed, with its cases; its credentials are deleted.",
        _ => "Disconnected; its credentials are deleted. Its page offers Reconnect.",
    };
    let disconnected = |_| done("/interactions/integrations", message);
    answer("disconnect-form", result, disconnected, again).await
}
