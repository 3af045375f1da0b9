//! Stored cases: the case page and `/api/v1/cases`.

pub mod api;
pub mod ui;
