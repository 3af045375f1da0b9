//! The two drivers. Each owns a pool; the queries come from `queries::impl_store!`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use scoreline_core::{
    AuditActor, AuditEntryId, AuditRecord, CaseContent, CaseCounts, CaseFilter, CaseId, Disconnect, Group,
    GroupId, Integration, IntegrationId, IntegrationSettings, IntegrationState, Page, PageRequest, Retention,
    SessionId, StoredCase, SyncPhase, SyncState, Team, TeamId, Timestamp, User, UserId,
};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::integration_queries::{
    impl_integration_store, integration_from_row, integration_select, write_credentials,
};
use crate::integrations::{
    NewCredentials, NewIntegration, OAuthFlow, OAuthTokens, StoredCredentials, aad, last4,
};
use crate::model::{NewApiToken, NewGroup, NewSession, NewTeam, NewUser, TokenDigest, UserCredentials};
use crate::queries::{
    group_from_row, impl_store, release_lease, take_lease, team_from_row, team_select, user_columns,
    user_from_row, write_audit,
};
use crate::store::StoreResult;
use crate::sync::{AgentRecord, CaseRecord, Checkpoint, HelpDeskAgent, PageWrite, SyncWindow};
use crate::sync_queries::{
    case_from_row, case_select, ensure_sync_state, impl_sync_store, sync_state_from_row,
};
use crate::{Sealer, StoreError};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// The pool, for diagnostics and tests that inspect raw storage.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Opens (creating if needed) the database file in WAL mode with `secure_delete`, so
    /// purged content is overwritten rather than left in free pages.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("secure_delete", "ON");
        prepare_private_file(options.get_filename())?;
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(Self { pool })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        SQLITE_MIGRATIONS.run(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the database's folder and an empty file readable by its owner only; SQLite then
/// gives its WAL and shared-memory files the same mode.
fn prepare_private_file(path: &Path) -> StoreResult<()> {
    if path.as_os_str().is_empty() || path.to_str() == Some(":memory:") {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| StoreError::io(path, e))?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl PostgresStore {
    /// The pool, for diagnostics and tests that inspect raw storage.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        POSTGRES_MIGRATIONS.run(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQLite: `secure_delete` zeroes freed pages in the database file; the old page images in
/// the WAL go when it is checkpointed and truncated.
async fn flush_deleted_sqlite(pool: &SqlitePool) -> StoreResult<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    Ok(())
}

/// PostgreSQL: deleted rows are reclaimed by autovacuum; nothing to do here.
#[allow(clippy::unused_async)]
async fn flush_deleted_postgres(_pool: &PgPool) -> StoreResult<()> {
    Ok(())
}

impl_store!(SqliteStore);
impl_store!(PostgresStore);
impl_integration_store!(SqliteStore);
impl_integration_store!(PostgresStore);
impl_sync_store!(SqliteStore, flush_deleted_sqlite);
impl_sync_store!(PostgresStore, flush_deleted_postgres);

/// The migration versions of each backend, in order.
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    let versions = |m: &sqlx::migrate::Migrator| m.iter().map(|m| m.version).collect();
    (versions(&SQLITE_MIGRATIONS), versions(&POSTGRES_MIGRATIONS))
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
