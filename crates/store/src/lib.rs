//! Everything Scoreline keeps, on SQLite (the embedded default) or PostgreSQL.
//!
//! The queries live in `src/queries/`, one module per aggregate, written once as ordinary Rust
//! and compiled twice: into [`SqliteStore`] (`sqlite.rs`) and into [`PostgresStore`]
//! (`postgres.rs`). [`Db`] picks one by URL and forwards every query to it. Secrets are sealed
//! here ([`Sealer`]) so nothing above this crate handles ciphertext.

mod db;
mod dialect;
pub mod integrations;
pub mod lists;
pub mod matching;
pub mod model;
mod postgres;
mod seal;
mod sqlite;
pub mod sync;

use std::path::Path;

pub use db::{Backend, Db};
pub use postgres::PostgresStore;
pub use seal::Sealer;
pub use sqlite::SqliteStore;

pub type StoreResult<T> = Result<T, StoreError>;

/// sqlx logs every statement at debug and a slow one at warn, each with its whole SQL text: a
/// backfill's multi-row upsert fills pages of log with parameters. Statements are logged at
/// trace only, and a slow one at info; the log formatter shows its summary (first words)
/// without the statement.
fn quiet_statement_logs<O: sqlx::ConnectOptions>(options: O) -> O {
    options
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Info, std::time::Duration::from_secs(1))
}

/// The migration versions of each backend, in order: (SQLite, PostgreSQL).
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    (sqlite::migration_versions(), postgres::migration_versions())
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the message says which, in the user's terms.
    #[error("{0}")]
    Conflict(&'static str),
    /// A row refers to something that does not exist.
    #[error("a referenced record does not exist")]
    MissingReference,
    #[error("invalid database configuration: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("stored data is not as expected: {0}")]
    Corrupt(String),
    #[error("secret sealing: {0}")]
    Sealing(&'static str),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }

    /// Turns constraint violations into errors a user can act on.
    pub(crate) fn classify(error: sqlx::Error, on_unique: &'static str) -> Self {
        if let Some(db_error) = error.as_database_error() {
            if db_error.is_unique_violation() {
                return Self::Conflict(on_unique);
            }
            if db_error.is_foreign_key_violation() {
                return Self::MissingReference;
            }
        }
        Self::Database(error)
    }

    /// Whether retrying later may succeed (the database was busy or unreachable).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed)
        )
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let (sqlite, postgres) = super::migration_versions();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
