//! The accounts service (accounts.livechat.com): the authorize page, `/v2/token`, `/v2/info`,
//! token revocation, and the credentials `/v1` accepts.

mod handlers;
mod pages;
mod state;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub(crate) use pages::escape;
pub use state::{
    ACCESS_TOKEN_TTL_SECS, Accounts, AuthKind, CODE_TTL_SECS, OAuthApp, TOKEN_CAP, TokenPair,
    redirect_allowed,
};

use crate::server::Sim;

const SCOPE: &str = "accounts--my:ro";

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/", get(pages::authorize_page).post(pages::authorize_decision))
        .route("/ooops", get(pages::oops_page))
        .route("/v2/token", post(handlers::token).delete(handlers::revoke))
        .route("/v2/info", get(handlers::info))
        .route("/token", post(handlers::token).delete(handlers::revoke))
        .route("/info", get(handlers::info))
}

fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

fn query_map(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect()
}
