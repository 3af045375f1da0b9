//! The account page of the signed-in person.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use scoreline_app::AccountOverview;
use scoreline_core::Role;

use crate::WebState;
use crate::error::ApiError;
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new().route("/account", get(show))
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    account: AccountOverview,
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
}

async fn show(State(state): State<WebState>, page: PageActor) -> Result<AccountPage, ApiError> {
    let account = state.app.account_overview(&page.actor).await?;
    Ok(AccountPage { layout: page.layout(), account })
}
