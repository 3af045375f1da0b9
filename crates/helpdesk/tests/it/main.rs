//! Integration tests of the HelpDesk client: narrow cases against wiremock, and end-to-end
//! cases against the HelpDesk simulator.

// Helpers outside `#[test]` functions are test code too: a panic is the right failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod oauth;
mod paging;
mod retries;
mod sim;
mod sim_oauth;
mod support;
