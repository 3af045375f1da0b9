//! Scoreline over HTTP: the JSON API (`/api/v1`, with its OpenAPI document) and the HTML UI.

mod account;
mod agents;
mod api;
mod calibrations;
mod cases;
mod charts;
mod credentials;
mod error;
mod evaluations;
mod extract;
mod integrations;
mod lists;
mod page;
mod results;
mod scorecards;
mod server;
mod session;
mod staff;
mod system;
mod teams;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::routing::get;
use scoreline_app::App;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use server::serve;

pub(crate) const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// How the server presents itself.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Set cookies with `Secure`: true when the public URL is https.
    pub secure_cookies: bool,
    /// Send `Strict-Transport-Security`: true when the public URL is https.
    pub hsts: bool,
    /// Origins besides our own that forms may be submitted to or redirected to (the OAuth
    /// accounts server), for the `form-action` rule of the content security policy.
    pub form_action_origins: Vec<String>,
    /// Where people reach this server (`https://qa.example.com`), for links handed out such as
    /// password reset links; empty gives paths on this site.
    pub public_url: String,
    /// Who may read `/metrics`, and whether this router serves it at all.
    pub metrics: MetricsAccess,
    pub limits: RequestLimits,
}

/// `/metrics` tells how the server is used; it can ask for a token and move to a listener of
/// its own (see [`metrics_router`]).
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess {
    /// When set, scrapers send `Authorization: Bearer <token>`.
    pub token: Option<secrecy::SecretString>,
    /// Served by [`metrics_router`] on another address, not by [`router`].
    pub separate_listener: bool,
}

/// How long a client may take to send a request, so half-sent requests cannot hold
/// connections open.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// From the connection's first byte (or the previous response) to the end of the headers.
    pub header_read: Duration,
    /// For the whole body, from the end of the headers.
    pub body_read: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self { header_read: Duration::from_secs(10), body_read: Duration::from_secs(30) }
    }
}

/// A year, the value browsers' preload lists ask for at least.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub config: Arc<WebConfig>,
}

/// Every route, with request ids, tracing, security headers, CSRF checks and error rendering.
/// Each resource brings its own routes: adding one is one line here.
pub fn router(app: App, config: WebConfig) -> Router {
    let csp = content_security_policy(&config);
    let (hsts, body_read) = (config.hsts, config.limits.body_read);
    let serve_metrics = !config.metrics.separate_listener;
    let state = WebState { app, config: Arc::new(config) };
    let (api, openapi) = api::router();
    let openapi = Arc::new(openapi);
    // What only the signed-in see (or may see) is never kept by a browser or proxy cache.
    let private = Router::new()
        .merge(api)
        .merge(session::ui::routes())
        .merge(account::ui::routes())
        .merge(credentials::ui::routes())
        .merge(integrations::ui::routes())
        .merge(agents::ui::routes())
        .merge(cases::ui::routes())
        .merge(lists::ui::routes())
        .merge(staff::ui::routes())
        .merge(teams::ui::routes())
        .merge(scorecards::ui::routes())
        .merge(evaluations::ui::routes())
        .merge(results::ui::routes())
        .merge(calibrations::ui::routes())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    let mut router = Router::new()
        .merge(private)
        .merge(integrations::webhooks::routes())
        .route("/api/v1/openapi.json", get(move || system::openapi_json(openapi.clone())))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/static/{file}", get(system::static_file));
    if serve_metrics {
        router = router.route("/metrics", get(system::metrics));
    }
    let router = router
        .fallback(system::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), page::flash::carry))
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(extract::refuse_oversized))
        .layer(tower_http::timeout::RequestBodyDeadlineLayer::new(body_read))
        // Inside `render_errors`, so its refusals come out in the error shape.
        .layer(
            tower_http::csrf::CsrfLayer::new()
                .with_insecure_bypass(|method, uri| integrations::webhooks::is_delivery(method, uri.path()))
                .with_rejection_response(error::cross_site_refusal),
        )
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(axum::middleware::from_fn(system::count_requests))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp));
    let router = if hsts {
        router.layer(SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HSTS))
    } else {
        router
    };
    with_common_layers(router)
}

/// `/metrics` alone, for its own listen address.
pub fn metrics_router(app: App, config: WebConfig) -> Router {
    let state = WebState { app, config: Arc::new(config) };
    let router = Router::new()
        .route("/metrics", get(system::metrics))
        .fallback(system::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(error::render_errors));
    with_common_layers(router)
}

/// Security headers, request ids and tracing, for every router.
fn with_common_layers(router: Router) -> Router {
    router
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
            let path = logged_path(request.uri().path());
            tracing::info_span!("http", method = %request.method(), path, request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, UuidRequestId))
}

/// The path as the request log shows it: the secret of a reset link or a webhook URL is left out.
fn logged_path(path: &str) -> &str {
    [credentials::ui::RESET_PATH, scoreline_app::WEBHOOK_PATH]
        .into_iter()
        .find(|secret_path| path.starts_with(secret_path))
        .unwrap_or(path)
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_request_log_leaves_out_the_secrets_of_paths() {
        assert_eq!(super::logged_path("/reset-password/slr_secret"), "/reset-password/");
        assert_eq!(super::logged_path("/hooks/helpdesk/slw_secret"), "/hooks/helpdesk/");
        assert_eq!(super::logged_path("/users/abc"), "/users/abc");
    }
}
