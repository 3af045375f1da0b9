//! Scorecards: *Score ▸ Scorecards* (the builder) and `/api/v1/scorecards`.

pub mod api;
mod builder;
pub mod card;
pub mod ui;
