//! Extractors: JSON and query input that fails in our error shape, paging, and the actor.

use std::net::SocketAddr;

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scoreline_app::{Actor, SecretToken};
use scoreline_core::{PageRequest, SessionId};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::WebState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "scoreline_session";

/// `axum::Json` whose rejections use our error shape and name the offending field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(serde_field_error(&e.body_text())),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            )),
            Err(other) => Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "bad_request",
                format!("The body is not valid JSON: {}", other.body_text()),
            )),
        }
    }
}

/// `axum::Query` with the same treatment.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| serde_field_error(&e.body_text()))
    }
}

/// `axum::Form` with the same treatment, for HTML form posts.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(request, state)
            .await
            .map(|f| Self(f.0))
            .map_err(|e: FormRejection| serde_field_error(&e.body_text()))
    }
}

/// Turns axum's "Failed to deserialize …: <path>: <problem>" and serde's "missing field `x`"
/// into an error on the named field.
fn serde_field_error(text: &str) -> ApiError {
    let is_path =
        |path: &str| !path.is_empty() && path.chars().all(|c| c.is_alphanumeric() || "_.[]".contains(c));
    let detail = match text.split_once(": ") {
        Some((prefix, rest)) if !is_path(prefix) => rest,
        _ => text,
    };
    if let Some((path, problem)) = detail.split_once(": ").filter(|(path, _)| is_path(path)) {
        return ApiError::invalid_field(path, format!("{path}: {problem}"));
    }
    let field = detail.split('`').nth(1).filter(|f| is_path(f)).unwrap_or("body");
    ApiError::invalid_field(field, detail.to_owned())
}

/// `?cursor=&limit=` as every list route takes them.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page: 1 to 500, default 50.
    pub limit: Option<u32>,
}

impl PageQuery {
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        if !(1..=PageRequest::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                format!("limit must be between 1 and {}.", PageRequest::MAX_LIMIT),
            ));
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
                ApiError::invalid_field(
                    "cursor",
                    "cursor is not one this server gave out; start again without it.",
                )
            })?),
            None => None,
        };
        Ok(PageRequest { after, limit })
    }
}

pub fn encode_cursor(after: uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(after.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<uuid::Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    uuid::Uuid::from_slice(&bytes).ok()
}

/// The actor behind an API call: a Bearer API token, or the browser's session cookie.
pub struct ApiActor(pub Actor);

impl FromRequestParts<WebState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(&parts.headers) {
            return match state.app.api_token_actor(&token).await? {
                Some(actor) => Ok(Self(actor)),
                None => Err(ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "The API token is not valid or was revoked.",
                )),
            };
        }
        match session_cookie(&parts.headers) {
            Some(session) => {
                state.app.session_actor(&session).await?.map(Self).ok_or_else(ApiError::unauthenticated)
            }
            None => Err(ApiError::unauthenticated()),
        }
    }
}

/// The signed-in user of a page; anyone else is sent to the sign-in page.
pub struct PageActor(pub Actor);

/// The signed-in user of a page and their session, for flows bound to the session.
pub struct PageSession {
    pub actor: Actor,
    pub session_id: SessionId,
}

impl FromRequestParts<WebState> for PageSession {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let found = match session_cookie(&parts.headers) {
            Some(session) => {
                state.app.session(&session).await.map_err(|e| ApiError::from(e).into_response())?
            }
            None => None,
        };
        match found {
            Some((session_id, actor)) => Ok(Self { actor, session_id }),
            None => Err(sign_in_redirect(parts)),
        }
    }
}

fn sign_in_redirect(parts: &Parts) -> axum::response::Response {
    use axum::response::IntoResponse;
    let next = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let target = format!(
        "/sign-in?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    axum::response::Redirect::to(&target).into_response()
}

impl FromRequestParts<WebState> for PageActor {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let actor = match session_cookie(&parts.headers) {
            Some(session) => {
                state.app.session_actor(&session).await.map_err(|e| ApiError::from(e).into_response())?
            }
            None => None,
        };
        actor.map(Self).ok_or_else(|| sign_in_redirect(parts))
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<SecretToken> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| SecretToken::from_presented(token))
}

pub fn session_cookie(headers: &HeaderMap) -> Option<SecretToken> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| SecretToken::from_presented(value))
}

/// The client's address, for sign-in throttling.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
        Ok(Self(address))
    }
}
