//! The store conformance suite: every test runs on SQLite and, when configured, PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod conformance;
mod integrations;
mod sqlite_file;
