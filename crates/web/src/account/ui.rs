//! The account page of the signed-in person: who they are here, whose work they see, and
//! their profile: password and API tokens.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::{AccountOverview, PasswordChange, TokenRequest};
use scoreline_core::{ApiToken, ApiTokenId, PageRequest, Role};
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{ClientAddress, IdPath, PageForm};
use crate::page::form::{FormErrors, answer, done, picked, rejected};
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

/// The expiry choices of the new-token form, in days; empty means none.
const EXPIRY_CHOICES: [(&str, &str); 5] =
    [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")];

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    account: AccountOverview,
    tokens: Vec<ApiToken>,
    /// A token just created: its secret, shown on this one page only.
    issued: Option<(String, String)>,
    token_form: TokenForm,
    errors: FormErrors,
}

impl AccountPage {
    /// What the person's scope covers, in a sentence.
    fn reach_summary(&self) -> &'static str {
        match self.account.user.role {
            Role::GlobalAdmin => "You see everyone: every team, every integration and every case.",
            Role::GroupAdmin => "You see the staff and cases of every team in your groups:",
            Role::TeamAdmin | Role::Supervisor => "You see the staff and cases of your teams:",
            Role::Employee => "You see your own cases and evaluations.",
        }
    }

    fn expiry_choices(&self) -> &'static [(&'static str, &'static str)] {
        &EXPIRY_CHOICES
    }

    fn is_expired(&self, token: &ApiToken) -> bool {
        token.is_expired(self.layout.now())
    }
}

async fn account_page(
    state: &WebState,
    page: &PageActor,
    errors: FormErrors,
    token_form: TokenForm,
    issued: Option<(String, String)>,
) -> Result<AccountPage, ApiError> {
    let account = state.app.account_overview(&page.actor).await?;
    let all = PageRequest::first(PageRequest::MAX_LIMIT);
    let tokens = state.app.list_api_tokens(&page.actor, account.user.id, all).await?.items;
    Ok(AccountPage { layout: page.layout(), account, tokens, issued, token_form, errors })
}

async fn show(State(state): State<WebState>, page: PageActor) -> Result<AccountPage, ApiError> {
    account_page(&state, &page, FormErrors::none(), TokenForm::default(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(
    State(state): State<WebState>,
    page: PageActor,
    ClientAddress(client): ClientAddress,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, ApiError> {
    let result = async {
        if form.new_password != form.confirm_password {
            return Err(scoreline_app::AppError::field(
                "confirm_password",
                "The two new passwords differ; type the same one twice.",
            ));
        }
        let change = PasswordChange {
            current_password: form.current_password.clone(),
            new_password: form.new_password.clone(),
        };
        state.app.change_password(&page.actor, Some(page.session_id), &client, change).await
    }
    .await;
    let changed = |()| done("/account", "Password changed. Your other sessions have ended.");
    let again = async |errors| account_page(&state, &page, errors, TokenForm::default(), None).await;
    answer("password", result, changed, again).await
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct TokenForm {
    name: String,
    expires_in_days: String,
}

/// A new token expires in 90 days unless the person picks otherwise.
impl Default for TokenForm {
    fn default() -> Self {
        Self { name: String::new(), expires_in_days: "90".to_owned() }
    }
}

/// Creates a token and shows its secret on the page answered, never in a redirect or cookie.
async fn create_token(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, ApiError> {
    let email = page.actor.user().map(|user| user.email.clone()).unwrap_or_default();
    let result = async {
        let expires_in_days =
            picked::<u32>("expires_in_days", &form.expires_in_days, "Choose how long the token works.")?;
        let request = TokenRequest { name: form.name.clone(), expires_in_days };
        state.app.issue_api_token(&page.actor, &email, request).await
    }
    .await;
    match result {
        Ok(issued) => {
            let shown = (issued.listed.name.clone(), issued.token.expose().to_owned());
            let page = account_page(&state, &page, FormErrors::none(), TokenForm::default(), Some(shown));
            Ok(page.await?.into_response())
        }
        Err(error) => {
            let (status, errors) = rejected("new-token", error)?;
            Ok((status, account_page(&state, &page, errors, form, None).await?).into_response())
        }
    }
}

async fn revoke_token(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ApiTokenId>,
) -> Result<Response, ApiError> {
    let user_id = page.actor.user().map(|user| user.id).ok_or_else(ApiError::unauthenticated)?;
    state.app.revoke_api_token(&page.actor, user_id, id).await?;
    Ok(done("/account", "Token revoked. Requests with it are refused from now on.").into_response())
}
