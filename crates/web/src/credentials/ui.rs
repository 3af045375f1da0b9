//! The page a password reset link opens: the person sets a new password, once, without being
//! signed in.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scoreline_app::{AppError, SecretToken};
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::PageForm;
use crate::page::form::{FormErrors, answer, done};

pub fn routes() -> Router<WebState> {
    Router::new().route("/reset-password/{token}", get(show).post(reset))
}

/// Where a reset link points, on this site.
pub fn reset_path(token: &SecretToken) -> String {
    format!("{RESET_PATH}{}", token.expose())
}

/// Paths under this hold a secret: the request log shows only this prefix.
pub const RESET_PATH: &str = "/reset-password/";

#[derive(Template, WebTemplate)]
#[template(path = "reset_password.html")]
struct ResetPage {
    /// Whose password the link sets; `None` when the link is used, expired or unknown.
    email: Option<String>,
    action: String,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResetForm {
    new_password: String,
    confirm_password: String,
}

async fn page_for(state: &WebState, token: &SecretToken, errors: FormErrors) -> Result<Response, ApiError> {
    let user = state.app.password_reset_user(token).await?;
    let status = if user.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let page = ResetPage { email: user.map(|u| u.email), action: reset_path(token), errors };
    Ok((status, page).into_response())
}

async fn show(State(state): State<WebState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    page_for(&state, &SecretToken::from_presented(&token), FormErrors::none()).await
}

async fn reset(
    State(state): State<WebState>,
    Path(token): Path<String>,
    PageForm(form): PageForm<ResetForm>,
) -> Result<Response, ApiError> {
    let token = SecretToken::from_presented(&token);
    let result = async {
        if form.new_password != form.confirm_password {
            return Err(AppError::field(
                "confirm_password",
                "The two passwords differ; type the same one twice.",
            ));
        }
        state.app.reset_password(&token, &form.new_password).await
    }
    .await;
    let result = match result {
        // A link used or expired meanwhile: the page says so.
        Err(AppError::NotFound(_)) => return page_for(&state, &token, FormErrors::none()).await,
        other => other,
    };
    let set = |_| done("/sign-in", "Your new password is set. Sign in with it.");
    let again = async |errors| page_for(&state, &token, errors).await;
    answer("reset-password", result, set, again).await
}
