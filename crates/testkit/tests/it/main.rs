//! The testkit's own promises: the fixtures reach the state they name, the request helpers
//! answer status and body in one call, and the browser signs in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod fixtures;
mod requests;
