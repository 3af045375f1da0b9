//! `/api/v1/me`: who is calling.

use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::ApiActor;
use crate::staff::api::UserView;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(show_me))
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "session", responses((status = 200, body = UserView), (status = 401)))]
async fn show_me(ApiActor(actor): ApiActor) -> Result<Json<UserView>, ApiError> {
    actor.user().cloned().map(|user| Json(user.into())).ok_or_else(ApiError::unauthenticated)
}
