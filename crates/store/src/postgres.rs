//! PostgreSQL, for deployments past one machine: the connection, and the queries of `queries/`
//! compiled for it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::dialect::Dialect;
use crate::{StoreError, StoreResult};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What the shared queries are written against.
type Backend = PostgresStore;
type Database = sqlx::Postgres;

#[path = "queries/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "the queries are compiled once per backend")]
mod queries;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl Dialect for PostgresStore {
    /// Rows are locked as they are written; a transaction waits for them, never fails at once.
    const BEGIN_WRITE: &'static str = "BEGIN";
    /// Autovacuum reclaims deleted rows.
    const FLUSH_DELETED: Option<&'static str> = None;
    const TAGS_OF_CASE: &'static str = "jsonb_array_elements_text(cc.tags) AS j(value)";
    /// What autovacuum does on its own after enough change; asked for after bulk loads.
    const REFRESH_STATISTICS: &'static str = "ANALYZE";
}

impl PostgresStore {
    /// None: PostgreSQL locks the rows a transaction writes, and a waiting writer is woken as
    /// soon as they are free.
    fn write_turns(&self) -> Option<&std::sync::Arc<tokio::sync::Mutex<()>>> {
        None
    }

    /// The pool, for diagnostics and tests that inspect raw storage.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
        let options = crate::quiet_statement_logs(options);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

pub(crate) fn migration_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}
