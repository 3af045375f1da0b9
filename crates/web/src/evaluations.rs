//! Evaluations: the evaluate page beside the case's conversation, and `/api/v1/evaluations`.

pub mod api;
pub mod ui;
