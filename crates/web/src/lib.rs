//! Scoreline over HTTP: the JSON API (`/api/v1`, with its OpenAPI document) and the HTML UI.

mod api;
mod api_agents;
mod api_cases;
mod api_integrations;
mod api_staff_import;
mod api_teams;
mod error;
mod extract;
mod system;
mod ui;
mod ui_agents;
mod ui_cases;
mod ui_integrations;
mod ui_teams;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::routing::{get, post};
use scoreline_app::App;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

pub(crate) const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// How the server presents itself.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Set cookies with `Secure`: true when the public URL is https.
    pub secure_cookies: bool,
    /// Origins besides our own that forms may be submitted to or redirected to (the OAuth
    /// accounts server), for the `form-action` rule of the content security policy.
    pub form_action_origins: Vec<String>,
}

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub config: Arc<WebConfig>,
}

/// Every route, with request ids, tracing, security headers, CSRF checks and error rendering.
pub fn router(app: App, config: WebConfig) -> Router {
    let csp = content_security_policy(&config);
    let state = WebState { app, config: Arc::new(config) };
    let (api, openapi) = api::router();
    let openapi = Arc::new(openapi);

    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(move || system::openapi_json(openapi.clone())))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/static/{file}", get(system::static_file))
        .route("/", get(ui::home))
        .route("/sign-in", get(ui::show_sign_in).post(ui::sign_in))
        .route("/sign-out", post(ui::sign_out))
        .route("/interactions/integrations", get(ui_integrations::list).post(ui_integrations::create))
        .route("/interactions/integrations/add", get(ui_integrations::choose))
        .route("/interactions/integrations/new", get(ui_integrations::show_new))
        .route("/interactions/integrations/oauth/callback", get(ui_integrations::oauth_callback))
        .route("/interactions/integrations/{id}", get(ui_integrations::detail).post(ui_integrations::update))
        .route("/interactions/integrations/{id}/connected", get(ui_integrations::connected))
        .route("/interactions/integrations/{id}/token", post(ui_integrations::replace_token))
        .route("/interactions/integrations/{id}/reconnect", post(ui_integrations::reconnect))
        .route(
            "/interactions/integrations/{id}/disconnect",
            get(ui_integrations::confirm_disconnect).post(ui_integrations::disconnect),
        )
        .route("/interactions/integrations/{id}/users", get(ui_agents::manage_users))
        .route("/interactions/integrations/{id}/users/auto-match", post(ui_agents::auto_match))
        .route("/interactions/integrations/{id}/users/create-staff", post(ui_agents::create_staff))
        .route("/interactions/integrations/{id}/users/{agent_id}/match", post(ui_agents::match_agent))
        .route("/interactions/integrations/{id}/users/{agent_id}/unmatch", post(ui_agents::unmatch_agent))
        .route("/interactions/integrations/{id}/sync", post(ui_integrations::sync_now))
        .route("/cases/{id}", get(ui_cases::show))
        .route("/users", get(ui::show_users).post(ui::create_user))
        .route("/users/{id}/active", post(ui::set_user_active))
        .route("/users/import", post(ui::import_users))
        .route("/teams", get(ui_teams::show).post(ui_teams::create_team))
        .route("/teams/groups", post(ui_teams::create_group))
        .route("/teams/{id}/members", post(ui_teams::add_member))
        .fallback(system::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(axum::middleware::from_fn(system::count_requests))
        .layer(tower_http::csrf::CsrfLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .layer(tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id =
                request.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, UuidRequestId))
}

/// No inline script or style anywhere, so the policy can forbid them.
fn content_security_policy(config: &WebConfig) -> HeaderValue {
    let mut form_action = String::from("'self'");
    for origin in &config.form_action_origins {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action {form_action}"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

#[derive(Clone, Copy)]
struct UuidRequestId;

impl MakeRequestId for UuidRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).ok().map(RequestId::new)
    }
}

/// Serves until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}
