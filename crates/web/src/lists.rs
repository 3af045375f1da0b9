//! Lists of cases for evaluators, their runs, and evaluators' work: `/api/v1/lists`,
//! `/api/v1/assignments`, and the pages.

pub mod api;
pub mod ui;
