//! Properties of the embedded SQLite file itself.

use scoreline_store::Db;
use scoreline_testkit::{TestBackend, TestDatabase};

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_secure_delete_and_a_private_file() {
    let test = TestDatabase::fresh(TestBackend::Sqlite).await;
    let url = test.url.clone();
    let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut connection).await.unwrap();
    assert_eq!(journal, "wal");
    // secure_delete is set per connection: check it on a pooled one.
    let Db::Sqlite(store) = &test.db else { unreachable!() };
    let secure_delete: i64 =
        sqlx::query_scalar("PRAGMA secure_delete").fetch_one(store.pool()).await.unwrap();
    assert_eq!(secure_delete, 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(test.sqlite_path().unwrap()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "database file must not be readable by others: {mode:o}");
    }
}

#[tokio::test]
async fn a_fresh_database_in_a_missing_folder_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nested/data/scoreline.db").display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    assert!(dir.path().join("nested/data/scoreline.db").exists());
}

#[tokio::test]
async fn unknown_database_urls_get_a_clear_error() {
    let err = Db::connect("mysql://localhost/x").await.unwrap_err().to_string();
    assert!(err.contains("sqlite://") && err.contains("postgres://"), "{err}");
}
