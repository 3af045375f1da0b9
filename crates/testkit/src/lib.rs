//! Test support shared by every crate's integration tests.

// Test support fails loudly: a panic with a message is the right report for a broken fixture.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod app;
mod browser;
mod database;
mod fixtures;
mod http;
mod seed;

pub use app::{OAUTH_CALLBACK_PATH, PASSWORD, TestApp};
pub use browser::Browser;
pub use database::{
    TestBackend, TestDatabase, create_postgres_database, drop_postgres_database, postgres_admin_url,
};
pub use fixtures::{MatchedAgent, MatchedIntegration};
pub use http::Reply;
pub use seed::SeedCase;

/// Generates one `#[tokio::test]` per backend for an `async fn(TestBackend)`.
/// The PostgreSQL variant runs when `SCORELINE_TEST_POSTGRES_URL` is set.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::TestBackend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::postgres_admin_url().is_some() {
                    super::$test($crate::TestBackend::Postgres).await;
                }
            }
        }
    )+};
}
