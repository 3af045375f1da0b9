//! Scoreline over HTTP: the JSON API (`/api/v1`, with its OpenAPI document) and the HTML UI.

mod account;
mod agents;
mod api;
mod cases;
mod error;
mod extract;
mod integrations;
mod lists;
mod page;
mod session;
mod staff;
mod system;
mod teams;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::routing::get;
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
/// Each resource brings its own routes: adding one is one line here.
pub fn router(app: App, config: WebConfig) -> Router {
    let csp = content_security_policy(&config);
    let state = WebState { app, config: Arc::new(config) };
    let (api, openapi) = api::router();
    let openapi = Arc::new(openapi);
    // What only the signed-in see (or may see) is never kept by a browser or proxy cache.
    let private = Router::new()
        .merge(api)
        .merge(session::ui::routes())
        .merge(account::ui::routes())
        .merge(integrations::ui::routes())
        .merge(agents::ui::routes())
        .merge(cases::ui::routes())
        .merge(lists::ui::routes())
        .merge(staff::ui::routes())
        .merge(teams::ui::routes())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    Router::new()
        .merge(private)
        .route("/api/v1/openapi.json", get(move || system::openapi_json(openapi.clone())))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/static/{file}", get(system::static_file))
        .fallback(system::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), page::flash::carry))
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
