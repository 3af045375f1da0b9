//! Results: *Score ▸ Results*, an agent's page, `/api/v1/results` and the CSV export.

pub mod api;
pub mod ui;
