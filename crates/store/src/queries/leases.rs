//! Lease rows: one holder at a time per integration, until the lease expires or is given back.

use scoreline_core::{IntegrationId, Timestamp};

use super::Backend;
use crate::StoreResult;

/// Where a lease is kept: its table (keyed by `integration_id`) and its owner and expiry columns.
pub(super) struct Lease {
    table: &'static str,
    owner: &'static str,
    until: &'static str,
}

/// One server at a time syncs or purges an integration.
pub(super) const SYNC_LEASE: Lease =
    Lease { table: "sync_states", owner: "lease_owner", until: "lease_until" };

/// One OAuth refresh at a time per integration, across servers.
pub(super) const REFRESH_LOCK: Lease =
    Lease { table: "integration_credentials", owner: "refresh_lock_owner", until: "refresh_lock_until" };

impl Backend {
    /// Takes the lease unless another holder's is still live; a holder may renew its own. True
    /// when taken.
    pub(super) async fn take_lease(
        &self,
        lease: &Lease,
        id: IntegrationId,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let Lease { table, owner: owner_column, until: until_column } = lease;
        let sql = format!(
            "UPDATE {table} SET {owner_column} = $2, {until_column} = $3
             WHERE integration_id = $1
               AND ({until_column} IS NULL OR {until_column} < $4 OR {owner_column} = $2)"
        );
        let taken = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_uuid())
            .bind(owner)
            .bind(until.as_millis())
            .bind(now.as_millis())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(taken == 1)
    }

    /// Gives the lease back, if `owner` still holds it.
    pub(super) async fn release_lease(
        &self,
        lease: &Lease,
        id: IntegrationId,
        owner: &str,
    ) -> StoreResult<()> {
        let Lease { table, owner: owner_column, until: until_column } = lease;
        let sql = format!(
            "UPDATE {table} SET {owner_column} = NULL, {until_column} = NULL
             WHERE integration_id = $1 AND {owner_column} = $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.as_uuid()).bind(owner).execute(&self.pool).await?;
        Ok(())
    }
}
