//! One error type for every route. Handlers return it; a middleware renders it as the JSON
//! error shape under `/api/` (and for webhook deliveries) and as an HTML page elsewhere, stamped with the request id.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use scoreline_app::AppError;
use scoreline_core::FieldError;
use serde::Serialize;

use crate::page::ErrorPage;

/// An error as the client sees it. `internal` is logged, never sent.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub internal: Option<String>,
    /// Seconds for a `Retry-After` header (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: Vec::new(), internal: None, retry_after: None }
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [only] => only.message.clone(),
            _ => "Some fields are not valid; see `fields`.".to_owned(),
        };
        Self { fields, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message) }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("No such {what}."))
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in, or send `Authorization: Bearer <api token>`.",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Your role does not allow this.")
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        Self {
            internal: Some(cause.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side. Quote the request id when reporting it.",
            )
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Validation(fields) => Self::invalid(fields),
            AppError::Unauthenticated => Self::unauthenticated(),
            AppError::PermissionDenied { .. } => Self::forbidden(),
            AppError::NotFound(what) => Self::not_found(what),
            AppError::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            AppError::AlreadyConnected(message) => Self {
                fields: vec![FieldError::new("confirm_duplicate", message.clone())],
                ..Self::new(StatusCode::CONFLICT, "already_connected", message)
            },
            AppError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "That email and password do not match an active account.",
            ),
            AppError::Throttled { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", wait_message(retry_after_secs))
            },
            AppError::Busy { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "busy",
                    format!(
                        "Too many sign-ins are being checked at once. Try again in {retry_after_secs} seconds."
                    ),
                )
            },
            AppError::Upstream(message) => {
                Self::new(StatusCode::BAD_GATEWAY, "helpdesk_unavailable", message)
            }
            AppError::OAuth(failure) => {
                Self::new(StatusCode::BAD_REQUEST, "oauth_failed", failure.to_string())
            }
            AppError::Store(store) if store.is_transient() => Self {
                internal: Some(format!("{:?}", anyhow_chain(&store))),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The database is busy. Try again shortly.",
                )
            },
            other => Self::internal(anyhow_chain(&other)),
        }
    }
}

/// "Too many failed attempts. Try again in 15 minutes." (or seconds, below a minute).
fn wait_message(seconds: u64) -> String {
    if seconds < 60 {
        format!("Too many failed attempts. Try again in {seconds} seconds.")
    } else {
        format!("Too many failed attempts. Try again in {} minutes.", seconds.div_ceil(60))
    }
}

/// The error and its sources on one line, for the log.
fn anyhow_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered by `render_errors`, which knows the request id and the kind of route.
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    fields: &'a [FieldError],
}

/// What the cross-site request check answers; rendered like every other error.
pub fn cross_site_refusal(_: tower_http::csrf::ProtectionError) -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site_refused",
        "This request came from another site, so it was refused. Use the page on this site, or an API token.",
    )
    .into_response()
}

/// An error answered by the routing or a layer (a 405, a 408) with no body: the status,
/// as an error to render.
fn error_for_status(status: StatusCode) -> ApiError {
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "The request could not be read."),
        StatusCode::NOT_FOUND => ("not_found", "There is nothing at this address."),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "This address does not take that method; see the Allow header.")
        }
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "The request took too long to arrive."),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "This body type is not accepted here.")
        }
        status if status.is_server_error() => {
            return ApiError::internal(format!("{status} answered without a body"));
        }
        _ => ("error", "The request was refused."),
    };
    ApiError::new(status, code, message)
}

pub async fn render_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(crate::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let path = request.uri().path();
    // HelpDesk's deliveries are machine calls too.
    let is_api = path.starts_with("/api/") || path.starts_with(scoreline_app::WEBHOOK_PATH);
    let mut response = next.run(request).await;
    let error = match response.extensions_mut().remove::<ApiError>() {
        Some(error) => error,
        None if is_bare_error(&response) => error_for_status(response.status()),
        None => return response,
    };
    if let Some(internal) = &error.internal {
        tracing::error!(request_id, error = internal, "request failed");
    }
    let mut rendered = if is_api {
        let body = ErrorBody {
            code: error.code,
            message: &error.message,
            request_id: &request_id,
            fields: &error.fields,
        };
        (error.status, axum::Json(body)).into_response()
    } else {
        let page = ErrorPage {
            status: error.status.as_u16(),
            message: error.message.clone(),
            request_id: request_id.clone(),
        };
        (error.status, page).into_response()
    };
    // What the handler or layer said besides the body (Allow, Retry-After, HX-Redirect…) stays.
    for name in response.headers().keys() {
        if *name != header::CONTENT_TYPE && *name != header::CONTENT_LENGTH {
            rendered.headers_mut().remove(name);
            for value in response.headers().get_all(name) {
                rendered.headers_mut().append(name.clone(), value.clone());
            }
        }
    }
    if let Some(seconds) = error.retry_after {
        rendered.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        rendered.headers_mut().insert(crate::REQUEST_ID_HEADER, value);
    }
    rendered
}

/// An error status with no body of ours: nothing says what it is.
fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    (status.is_client_error() || status.is_server_error())
        && !response.headers().contains_key(header::CONTENT_TYPE)
}
