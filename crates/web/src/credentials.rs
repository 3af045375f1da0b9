//! API tokens and passwords: one's own under `/me`, an admin's view of someone else's under
//! `/users/{id}`, and the page a reset link opens.

pub mod api;
pub mod ui;
