//! The simulator against what is known of HelpDesk, over real HTTP with reqwest.

// Helpers outside `#[test]` functions are test code too: a panic is the right failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod auth;
mod common;
mod faults;
mod oauth;
mod options;
mod paging;
mod shape;
mod webhooks;
mod writes;
