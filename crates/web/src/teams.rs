//! Groups and teams: the Groups and teams page and `/api/v1/groups`, `/api/v1/teams`.

pub mod api;
pub mod ui;
