//! The queries, one module per aggregate. This folder is compiled twice, inside `sqlite.rs` and
//! inside `postgres.rs`; `Backend` and `Database` are that backend's, so each query is written
//! once, as ordinary Rust, for both.

use scoreline_core::Scope;
use sqlx::QueryBuilder;

use super::{Backend, Database, MIGRATIONS};
use crate::StoreResult;
use crate::dialect::Dialect;

mod audit;
mod calibrations;
mod cases;
mod evaluations;
mod integrations;
mod leases;
mod lists;
mod matching;
mod results;
mod scorecards;
mod sessions;
mod sync;
mod users;
mod webhooks;

impl Backend {
    /// Brings the schema up to date with this backend's migration folder.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATIONS.run(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction for writing (see [`Dialect::BEGIN_WRITE`]), after this process's turn to
    /// write where the backend keeps turns (see `write_turns`).
    async fn begin_write(&self) -> StoreResult<WriteTransaction> {
        let turn = match self.write_turns() {
            Some(turns) => Some(
                tokio::time::timeout(WRITE_TURN_WAIT, turns.clone().lock_owned())
                    .await
                    .map_err(|_| crate::StoreError::Database(sqlx::Error::PoolTimedOut))?,
            ),
            None => None,
        };
        let tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
        Ok(WriteTransaction { tx, _turn: turn })
    }

    /// Refreshes the planner's statistics (see [`Dialect::REFRESH_STATISTICS`]).
    pub(crate) async fn refresh_statistics(&self) -> StoreResult<()> {
        sqlx::query(Self::REFRESH_STATISTICS).execute(&self.pool).await?;
        Ok(())
    }

    /// Succeeds when the database answers a trivial query.
    pub(crate) async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// How long a write waits for its turn before it gives up, as long as SQLite's busy timeout.
const WRITE_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A transaction that writes, holding its turn (if the backend keeps turns) until it ends.
pub(crate) struct WriteTransaction {
    tx: sqlx::Transaction<'static, Database>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = <Database as sqlx::Database>::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// A count as read back; a negative one cannot happen and reads as zero.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Appends the condition that the staff member in `user_column` lies in `scope`
/// (DESIGN.md §7.1): anyone, a member of one of the scope's teams, or the person themselves.
fn push_staff_in_scope(query: &mut QueryBuilder<Database>, scope: &Scope, user_column: &str) {
    match scope {
        Scope::Everything => {
            query.push("TRUE");
        }
        Scope::Own(user) => {
            query.push(user_column).push(" = ").push_bind(user.as_uuid());
        }
        Scope::Teams(_) => {
            query.push(user_column).push(" IN (SELECT m.user_id FROM memberships m WHERE ");
            push_team_in_scope(query, scope, "m.team_id");
            query.push(")");
        }
    }
}

/// Appends the condition that the team in `team_column` lies in `scope`: any team, one of the
/// scope's teams, or (for an employee) a team they belong to.
fn push_team_in_scope(query: &mut QueryBuilder<Database>, scope: &Scope, team_column: &str) {
    match scope {
        Scope::Everything => {
            query.push("TRUE");
        }
        Scope::Teams(teams) if teams.is_empty() => {
            query.push("FALSE");
        }
        Scope::Teams(teams) => {
            query.push(team_column).push(" IN (");
            let mut list = query.separated(", ");
            for team in teams {
                list.push_bind(team.as_uuid());
            }
            query.push(")");
        }
        Scope::Own(user) => {
            query
                .push(team_column)
                .push(" IN (SELECT o.team_id FROM memberships o WHERE o.user_id = ")
                .push_bind(user.as_uuid())
                .push(")");
        }
    }
}
