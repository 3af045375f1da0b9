//! `/api/v1/integrations`: connect, list, edit, replace the token, disconnect.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use scoreline_app::{BackfillProgress, ConnectIntegration, IntegrationOverview, UpdateIntegration};
use scoreline_core::{Disconnect, Eta, IntegrationId, LicenseId, RateLimitWait, Timestamp};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, IdPath, PageQuery, Permitted, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_integrations, create_integration))
        .routes(routes!(show_integration, update_integration, delete_integration))
        .routes(routes!(replace_token))
        .routes(routes!(sync_integration))
}

/// An integration as the API shows it: never a secret, only whether one is set.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationView {
    #[schema(value_type = String, format = Uuid)]
    pub id: IntegrationId,
    pub kind: String,
    pub label: String,
    pub description: String,
    /// `oauth` or `token`.
    pub auth_method: String,
    /// The Account ID: with the token method the person whose token it is; with OAuth the
    /// one the authorization named.
    pub account_id: Option<String>,
    /// The HelpDesk license (the customer account, `GET /v1/licenses`) it reads. `null` when it
    /// is not known yet: connected before it was read, or HelpDesk did not name it when
    /// connecting (then only the Account ID was compared with the integrations connected
    /// already); the next sync reads it.
    pub license_id: Option<i64>,
    pub retention: RetentionBody,
    pub backfill_days: u32,
    /// `connected`, `needs_reauthorization`, `disconnected`; `awaiting_authorization` only in
    /// the answer that starts an OAuth connection.
    pub state: String,
    pub credential_set: bool,
    /// The last 4 characters of a personal access token.
    pub token_last4: Option<String>,
    /// Sync phase: `pending`, `backfilling`, `live`, `paused`, `needs_reauthorization`, `error`.
    pub phase: String,
    pub progress: ProgressView,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_synced_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub cases_count: u64,
    /// Cases whose HelpDesk agent is matched to nobody: stored, not offered to lists.
    pub held_back_count: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// How the sync stands, as the integration page shows it (the cases stored are
/// `cases_count`).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ProgressView {
    pub windows_done: u64,
    pub windows_total: u64,
    pub tickets_stored: u64,
    pub pages_fetched: u64,
    /// A server is running a sync of this integration now.
    pub running: bool,
    /// While a backfill is under way: the whole percent of its time span read (never 100
    /// before it is done); `null` otherwise.
    pub backfill_percent: Option<u32>,
    /// The backfill's estimated time left in seconds, from its rate since this run took it up;
    /// `null` with no backfill under way, or while too little has happened to tell.
    pub backfill_seconds_left: Option<u64>,
    /// What the running sync waits for at HelpDesk's rate limit; `null` when it is not waiting.
    pub rate_limit_wait: Option<RateLimitWaitView>,
    /// How the last sync run (scheduled or Sync now) ended; `null` before the first.
    pub last_run: Option<LastRunView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitWaitView {
    /// `pacing`: requests go out at the pace HelpDesk accepts; `retry_after`: HelpDesk
    /// answered 429 and nothing is sent before `until`.
    pub kind: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LastRunView {
    #[schema(value_type = String, format = DateTime)]
    pub finished_at: Timestamp,
    /// Cases the run stored or changed; `null` when it failed.
    pub cases_changed: Option<u64>,
    /// Why it failed; `null` when it succeeded.
    pub error: Option<String>,
}

impl ProgressView {
    fn of(overview: &IntegrationOverview) -> Self {
        let sync = &overview.sync;
        let backfill = overview.backfill.as_ref();
        Self {
            windows_done: sync.windows_done,
            windows_total: sync.windows_total,
            tickets_stored: sync.tickets_stored,
            pages_fetched: sync.pages_fetched,
            running: sync.running,
            backfill_percent: backfill.map(BackfillProgress::percent),
            backfill_seconds_left: backfill.and_then(|b| match b.eta {
                Eta::Estimating => None,
                Eta::Left(left) => Some(left.as_secs()),
            }),
            rate_limit_wait: overview.rate_limit.map(|wait| RateLimitWaitView {
                kind: wait.kind().to_owned(),
                until: match wait {
                    RateLimitWait::RetryAfter { until } => Some(until),
                    RateLimitWait::Pacing => None,
                },
            }),
            last_run: sync.last_run.map(|run| LastRunView {
                finished_at: run.at,
                cases_changed: run.written,
                error: if run.written.is_none() { sync.last_error.clone() } else { None },
            }),
        }
    }
}

impl From<IntegrationOverview> for IntegrationView {
    fn from(overview: IntegrationOverview) -> Self {
        let progress = ProgressView::of(&overview);
        let (i, sync) = (overview.integration, overview.sync);
        Self {
            id: i.id,
            kind: i.kind,
            label: i.label,
            description: i.description,
            auth_method: i.auth_method.as_str().to_owned(),
            account_id: i.account_id,
            license_id: i.license_id.map(LicenseId::get),
            retention: RetentionBody {
                value: i64::from(i.retention.value),
                unit: i.retention.unit.as_str().to_owned(),
            },
            backfill_days: i.backfill_days,
            state: i.state.as_str().to_owned(),
            credential_set: i.credential_set,
            token_last4: i.token_last4,
            phase: sync.phase.as_str().to_owned(),
            progress,
            last_synced_at: i.last_synced_at,
            last_error: i.last_error.or(sync.last_error),
            cases_count: overview.cases.total,
            held_back_count: overview.cases.held_back,
            created_at: i.created_at,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionBody {
    #[schema(example = 6, required = true)]
    pub value: i64,
    /// `days`, `weeks`, `months`, `quarters` or `years`.
    #[schema(example = "months", required = true)]
    pub unit: String,
}

// Field-level defaults: a container default would make the schema serialize a secret.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthBody {
    /// `token` or `oauth`.
    #[serde(default)]
    #[schema(required = true)]
    pub method: String,
    /// Token method: the Account ID shown in the Developers Console.
    #[serde(default)]
    pub account_id: String,
    /// Token method: a personal access token with the `accounts--my:ro` scope.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub token: Option<SecretString>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegrationBody {
    /// Only `helpdesk` for now.
    #[serde(default)]
    #[schema(example = "helpdesk", required = true)]
    pub kind: String,
    #[serde(default)]
    #[schema(required = true)]
    pub label: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[schema(required = true)]
    pub auth: AuthBody,
    #[serde(default)]
    pub retention: Option<RetentionBody>,
    /// 1 to 28 unless the operator raised the cap; default 7.
    #[serde(default)]
    pub backfill_days: Option<i64>,
    /// Connect although this HelpDesk account (its license; for integrations whose license is
    /// not known, the Account ID) is connected already (the answer is otherwise 409
    /// `already_connected`). For OAuth the account is known only after consent, so the
    /// callback refuses a second connection unless the flow was started with this set.
    #[serde(default)]
    pub confirm_duplicate: bool,
}

/// What connecting answers, by method.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Connected {
    Token(IntegrationView),
    OAuth(OAuthStarted),
}

/// The answer to starting an OAuth connection: send the admin's browser to `authorize_url`;
/// the integration exists once the accounts server sends them back.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthStarted {
    pub integration: IntegrationView,
    pub authorize_url: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateIntegrationBody {
    pub label: Option<String>,
    pub description: Option<String>,
    pub retention: Option<RetentionBody>,
    pub backfill_days: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceTokenBody {
    /// The integration's Account ID; may be left out.
    #[serde(default)]
    pub account_id: String,
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub token: Option<SecretString>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// `keep` (default) keeps the integration's cases; `remove` deletes them with it.
    pub cases: Option<String>,
}

#[utoipa::path(get, path = "/integrations", tag = "integrations", params(PageQuery), responses((status = 200, body = ItemList<IntegrationView>), (status = 403)))]
async fn list_integrations(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageIntegrations>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<IntegrationView>>, ApiError> {
    let page = state.app.list_integration_overviews(&actor, query.to_request()?).await?;
    Ok(Json(ItemList::from_page(page, IntegrationView::from)))
}

/// Connects HelpDesk. The token method checks the credentials with HelpDesk first; the OAuth
/// method answers with the URL where an admin approves access.
#[utoipa::path(post, path = "/integrations", tag = "integrations", request_body = NewIntegrationBody,
    responses((status = 201, body = Connected, description = "The token method: the integration. The OAuth method: where to approve access, and the integration it will be."), (status = 403),
        (status = 409, description = "`already_connected`: this HelpDesk account (its license; where a license is not known, the Account ID) is connected already; send `confirm_duplicate: true` to connect it anyway."), (status = 422), (status = 502)))]
async fn create_integration(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageIntegrations>,
    ApiJson(body): ApiJson<NewIntegrationBody>,
) -> Result<(StatusCode, Json<Connected>), ApiError> {
    if body.kind != "helpdesk" {
        return Err(ApiError::invalid_field("kind", "Only `helpdesk` integrations exist."));
    }
    let input = ConnectIntegration {
        label: body.label,
        description: body.description,
        auth_method: body.auth.method,
        account_id: body.auth.account_id,
        token: body.auth.token,
        retention_value: body.retention.as_ref().map(|r| r.value),
        retention_unit: body.retention.map(|r| r.unit).unwrap_or_default(),
        backfill_days: body.backfill_days,
        backfill_weeks: None,
        allow_duplicate: body.confirm_duplicate,
    };
    if input.auth_method == "oauth" {
        let started = state.app.start_oauth(&actor, None, input.clone()).await?;
        let pending = pending_view(&started.integration_id, &input, state.app.clock().now());
        let started = OAuthStarted { integration: pending, authorize_url: started.authorize_url };
        return Ok((StatusCode::CREATED, Json(Connected::OAuth(started))));
    }
    let integration = state.app.connect_with_token(&actor, input).await?;
    let overview = state.app.integration_overview(&actor, integration.id).await?;
    Ok((StatusCode::CREATED, Json(Connected::Token(overview.into()))))
}

/// What the integration will be once authorized.
fn pending_view(id: &IntegrationId, input: &ConnectIntegration, now: Timestamp) -> IntegrationView {
    IntegrationView {
        id: *id,
        kind: "helpdesk".to_owned(),
        label: input.label.trim().to_owned(),
        description: input.description.trim().to_owned(),
        auth_method: "oauth".to_owned(),
        account_id: None,
        license_id: None,
        retention: RetentionBody {
            value: input.retention_value.unwrap_or_default(),
            unit: input.retention_unit.clone(),
        },
        backfill_days: input.backfill_days.and_then(|d| u32::try_from(d).ok()).unwrap_or(7),
        state: "awaiting_authorization".to_owned(),
        credential_set: false,
        token_last4: None,
        phase: "pending".to_owned(),
        progress: ProgressView::default(),
        last_synced_at: None,
        last_error: None,
        cases_count: 0,
        held_back_count: 0,
        created_at: now,
    }
}

#[utoipa::path(get, path = "/integrations/{id}", tag = "integrations", params(("id" = String, Path, format = Uuid)), responses((status = 200, body = IntegrationView), (status = 404)))]
async fn show_integration(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageIntegrations>,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<Json<IntegrationView>, ApiError> {
    Ok(Json(state.app.integration_overview(&actor, id).await?.into()))
}

#[utoipa::path(patch, path = "/integrations/{id}", tag = "integrations", params(("id" = String, Path, format = Uuid)), request_body = UpdateIntegrationBody,
    responses((status = 200, body = IntegrationView), (status = 404), (status = 422)))]
async fn update_integration(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageIntegrations>,
    IdPath(id): IdPath<IntegrationId>,
    ApiJson(body): ApiJson<UpdateIntegrationBody>,
) -> Result<Json<IntegrationView>, ApiError> {
    let change = UpdateIntegration {
        label: body.label,
        description: body.description,
        retention_value: body.retention.as_ref().map(|r| r.value),
        retention_unit: body.retention.map(|r| r.unit),
        backfill_days: body.backfill_days,
        backfill_weeks: None,
    };
    state.app.update_integration(&actor, id, change).await?;
    Ok(Json(state.app.integration_overview(&actor, id).await?.into()))
}

/// Deletes the credentials at once (revoking OAuth tokens at HelpDesk).
#[utoipa::path(delete, path = "/integrations/{id}", tag = "integrations", params(("id" = String, Path, format = Uuid), DeleteQuery), responses((status = 204), (status = 404), (status = 422)))]
async fn delete_integration(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageIntegrations>,
    IdPath(id): IdPath<IntegrationId>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let mode = match query.cases.as_deref() {
        None | Some("keep") => Disconnect::KeepCases,
        Some("remove") => Disconnect::RemoveEverything,
        Some(_) => return Err(ApiError::invalid_field("cases", "Use cases=keep or cases=remove.")),
    };
    state.app.disconnect_integration(&actor, id, mode).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a token integration's personal access token, once HelpDesk accepts it.
#[utoipa::path(put, path = "/integrations/{id}/token", tag = "integrations", params(("id" = String, Path, format = Uuid)), request_body = ReplaceTokenBody,
    responses((status = 200, body = IntegrationView), (status = 404), (status = 422), (status = 502)))]
async fn replace_token(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageIntegrations>,
    IdPath(id): IdPath<IntegrationId>,
    ApiJson(body): ApiJson<ReplaceTokenBody>,
) -> Result<Json<IntegrationView>, ApiError> {
    let token = body.token.unwrap_or_else(|| SecretString::from(String::new()));
    state.app.replace_token(&actor, id, &body.account_id, token).await?;
    Ok(Json(state.app.integration_overview(&actor, id).await?.into()))
}

/// Starts a sync now ("Sync now"): a running server picks it up within seconds.
#[utoipa::path(post, path = "/integrations/{id}/sync", tag = "integrations", params(("id" = String, Path, format = Uuid)),
    responses((status = 202, body = IntegrationView), (status = 404), (status = 409)))]
async fn sync_integration(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ManageIntegrations>,
    IdPath(id): IdPath<IntegrationId>,
) -> Result<(StatusCode, Json<IntegrationView>), ApiError> {
    state.app.request_sync(&actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(state.app.integration_overview(&actor, id).await?.into())))
}
