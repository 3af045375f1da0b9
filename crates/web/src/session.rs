//! Signing in and out, the home page, and who is calling the API.

pub mod api;
pub mod ui;
