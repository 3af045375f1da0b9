//! The JSON API under `/api/v1`. Routes and the OpenAPI document come from the same
//! annotations, so they cannot drift apart.

use scoreline_core::Page;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::WebState;
use crate::extract::encode_cursor;

#[derive(OpenApi)]
#[openapi(
    info(title = "Scoreline API", description = "Quality assurance for support teams. Authenticate with `Authorization: Bearer <api token>` (create one with `scoreline tokens create`)."),
    tags(
        (name = "staff", description = "Users, groups and teams"),
        (name = "session", description = "Who is calling"),
        (name = "integrations", description = "Connected HelpDesk accounts"),
        (name = "cases", description = "HelpDesk tickets as stored for scoring")
    )
)]
struct ApiDoc;

/// Every API route, each resource's from its own module, and the OpenAPI document of them.
pub fn router() -> (axum::Router<WebState>, utoipa::openapi::OpenApi) {
    let v1 = OpenApiRouter::new()
        .merge(crate::session::api::routes())
        .merge(crate::staff::api::routes())
        .merge(crate::teams::api::routes())
        .merge(crate::integrations::api::routes())
        .merge(crate::agents::api::routes())
        .merge(crate::cases::api::routes())
        .merge(crate::lists::api::routes());
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1).split_for_parts()
}

/// Every list route answers this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ItemList<T> {
    pub(crate) fn from_page<S>(page: Page<S>, view: impl Fn(S) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_after.map(encode_cursor),
        }
    }
}
