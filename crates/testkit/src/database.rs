use std::path::PathBuf;

use scoreline_store::Db;
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// The server URL for PostgreSQL tests, from `SCORELINE_TEST_POSTGRES_URL`.
/// With `SCORELINE_TEST_REQUIRE_POSTGRES=1` (as CI sets it) a missing URL fails the run
/// instead of skipping the PostgreSQL half of the suite.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("SCORELINE_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("SCORELINE_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "SCORELINE_TEST_REQUIRE_POSTGRES=1 but SCORELINE_TEST_POSTGRES_URL is not set"
            );
            None
        }
    }
}

/// A fresh, migrated database that disappears with this value.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub db: Db,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn fresh(backend: TestBackend) -> Self {
        let (url, cleanup) = match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("scoreline.db").display());
                (url, Cleanup::Sqlite(dir))
            }
            TestBackend::Postgres => {
                let admin_url = postgres_admin_url().expect("SCORELINE_TEST_POSTGRES_URL");
                let name = format!("scoreline_test_{}", uuid::Uuid::now_v7().simple());
                let url = create_postgres_database(&admin_url, &name).await.expect("create test database");
                (url, Cleanup::Postgres { admin_url, name })
            }
        };
        let db = Db::connect(&url).await.expect("connect to test database");
        db.migrate().await.expect("migrate test database");
        Self { url, db, cleanup }
    }

    /// The SQLite file, for tests that inspect raw bytes.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.url.strip_prefix("sqlite://").map(PathBuf::from)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name, db) = (admin_url.clone(), name.clone(), self.db.clone());
            // Drop runs outside async; a short-lived thread with its own runtime does the cleanup.
            let joined = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                runtime.block_on(async move {
                    db.close().await;
                    let _ = drop_postgres_database(&admin_url, &name).await;
                });
            })
            .join();
            drop(joined);
        }
    }
}

/// Creates an empty database `name` on the server of `admin_url` and returns its URL.
pub async fn create_postgres_database(admin_url: &str, name: &str) -> Result<String, sqlx::Error> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await?;
    admin.close().await?;
    Ok(with_database(admin_url, name))
}

/// Drops database `name`, ending any connection still open to it.
pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await?;
    admin.close().await
}

/// Replaces the database name in a PostgreSQL URL, keeping any query.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced_and_query_kept() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
