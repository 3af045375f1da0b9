//! The store conformance suite: every test runs on SQLite and, when configured, PostgreSQL.

mod conformance;
mod sqlite_file;
