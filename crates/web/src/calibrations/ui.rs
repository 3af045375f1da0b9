//! *Score ▸ Calibration*: the list with the agreement over a period, the create form, and a
//! session's page.

use axum::Router;

use crate::WebState;

pub fn routes() -> Router<WebState> {
    Router::new()
}
