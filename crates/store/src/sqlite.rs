//! SQLite, the embedded default: the connection, and the queries of `queries/` compiled for it.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::dialect::Dialect;
use crate::{StoreError, StoreResult};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// What the shared queries are written against.
type Backend = SqliteStore;
type Database = sqlx::Sqlite;

#[path = "queries/mod.rs"]
#[allow(clippy::duplicate_mod, reason = "the queries are compiled once per backend")]
mod queries;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// This process's writers take turns here, first come first served. SQLite lets one
    /// transaction write at a time, and a writer waiting for its lock sleeps between tries (up
    /// to 100 ms), so one that commits and begins again at once, such as the purge going batch
    /// after batch, would keep the lock from a waiting sync page for as long as it runs.
    write_turns: Arc<tokio::sync::Mutex<()>>,
}

impl Dialect for SqliteStore {
    /// Takes the write lock at once, waiting up to the busy timeout for it.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    /// `secure_delete` zeroes freed pages in the database file; the old page images in the WAL
    /// go when it is checkpointed and truncated.
    const FLUSH_DELETED: Option<&'static str> = Some("PRAGMA wal_checkpoint(TRUNCATE)");
    const TAGS_OF_CASE: &'static str = "json_each(cc.tags) AS j";
    /// SQLite gathers no statistics by itself; `optimize` analyzes (with a bounded sample) the
    /// tables whose statistics are missing or stale.
    const REFRESH_STATISTICS: &'static str = "PRAGMA optimize=0x10002";
}

impl SqliteStore {
    /// The page cache of each connection, in KiB: twice SQLite's default, which holds little
    /// more than the inner pages of the indexes of a million cases. The pool's 8 connections
    /// hold at most 32 MiB together. 16 MiB each showed no gain at a million cases and took the
    /// server to 184 MiB of its 200 MB budget (BENCHMARKS.md, lists).
    pub const CACHE_KIB: u32 = 4 * 1024;

    fn write_turns(&self) -> Option<&Arc<tokio::sync::Mutex<()>>> {
        Some(&self.write_turns)
    }

    /// The pool, for diagnostics and tests that inspect raw storage.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Opens (creating if needed) the database file in WAL mode with `secure_delete`, so
    /// purged content is overwritten rather than left in free pages.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_cache(url, Self::CACHE_KIB).await
    }

    /// [`Self::connect`] with a page cache of `cache_kib` KiB per connection (the benchmark
    /// compares sizes).
    pub async fn connect_with_cache(url: &str, cache_kib: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("secure_delete", "ON")
            // Negative: a size in KiB rather than in pages.
            .pragma("cache_size", format!("-{cache_kib}"));
        let options = crate::quiet_statement_logs(options);
        prepare_private_file(options.get_filename())?;
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(Self { pool, write_turns: Arc::default() })
    }
}

pub(crate) fn migration_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
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
