//! `POST /hooks/helpdesk/{token}`: HelpDesk's webhook deliveries. The token in the path names
//! the integration; the answer comes at once (202) and the ticket is fetched later. An unknown
//! token gets 404, a body that names no ticket 422, both in the JSON error shape.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use scoreline_app::WEBHOOK_PATH;

use crate::WebState;
use crate::error::ApiError;

pub fn routes() -> Router<WebState> {
    Router::new().route(&format!("{WEBHOOK_PATH}{{token}}"), post(deliver))
}

async fn deliver(
    State(state): State<WebState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    state.app.accept_webhook(&token, &body).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Deliveries come from HelpDesk's servers, authenticated by the token, never by a cookie.
pub fn is_delivery(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST && path.starts_with(WEBHOOK_PATH)
}
