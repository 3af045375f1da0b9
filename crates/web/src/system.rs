//! Probes, metrics, the OpenAPI document, static files and the 404 answer.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;

use crate::WebState;
use crate::error::ApiError;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<WebState>) -> Result<&'static str, ApiError> {
    state.app.ready().await.map_err(|e| {
        tracing::warn!(error = %e, "not ready");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The database is not reachable.")
    })?;
    Ok("ready")
}

/// The process-wide recorder: metrics are global in the `metrics` crate, so one exporter
/// serves every router of the process.
pub fn metrics_handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok()).as_ref()
}

pub async fn metrics(State(state): State<WebState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        if !presented.is_some_and(|token| same_secret(token, expected.expose_secret())) {
            let mut refusal = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Send `Authorization: Bearer <metrics token>`.",
            )
            .into_response();
            refusal.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return refusal;
        }
    }
    let Some(handle) = metrics_handle() else {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Metrics are not available.")
            .into_response();
    };
    let mut response = handle.render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    response
}

/// Compares in time that depends only on the lengths, so timing does not reveal the token.
fn same_secret(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len()
        && presented.bytes().zip(expected.bytes()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

pub async fn count_requests(request: Request, next: Next) -> Response {
    metrics_handle();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("scoreline_http_requests_total", "method" => method, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("scoreline_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

pub async fn openapi_json(openapi: Arc<utoipa::openapi::OpenApi>) -> Json<utoipa::openapi::OpenApi> {
    Json((*openapi).clone())
}

const HTMX: &[u8] = include_bytes!("../static/htmx-2.0.11.min.js");
const CSS: &[u8] = include_bytes!("../static/app.css");
const TIME: &[u8] = include_bytes!("../static/time.js");
const MENUS: &[u8] = include_bytes!("../static/menus.js");
const CONNECT: &[u8] = include_bytes!("../static/connect.js");
const ERRORS: &[u8] = include_bytes!("../static/errors.js");

pub async fn static_file(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (body, content_type) = match file.as_str() {
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "time.js" => (TIME, "text/javascript; charset=utf-8"),
        "menus.js" => (MENUS, "text/javascript; charset=utf-8"),
        "connect.js" => (CONNECT, "text/javascript; charset=utf-8"),
        "errors.js" => (ERRORS, "text/javascript; charset=utf-8"),
        _ => return Err(ApiError::not_found("file")),
    };
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body)
        .into_response())
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is nothing at this address.")
}
