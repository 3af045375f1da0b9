//! The queries, one module per aggregate. This folder is compiled twice, inside `sqlite.rs` and
//! inside `postgres.rs`; `Backend` and `Database` are that backend's, so each query is written
//! once, as ordinary Rust, for both.

use super::{Backend, Database, MIGRATIONS};
use crate::StoreResult;

mod audit;
mod cases;
mod integrations;
mod leases;
mod matching;
mod sessions;
mod sync;
mod users;

impl Backend {
    /// Brings the schema up to date with this backend's migration folder.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATIONS.run(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Succeeds when the database answers a trivial query.
    pub(crate) async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// A count as read back; a negative one cannot happen and reads as zero.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
