//! The retention purge: removes the content of cases whose last activity in HelpDesk is older
//! than their integration's retention, in small batches, keeping a tombstone of each.

use scoreline_core::{IntegrationId, PageRequest, Permission, Timestamp};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, App, AppResult};

/// Cases per transaction: small enough that readers and the sync never wait long. At 1M cases
/// on PostgreSQL, batches of 500 took up to 208 ms and batches of 250 up to 96 ms
/// (BENCHMARKS.md, "Lists, the cases page, scheduled lists and the purge").
pub const PURGE_BATCH: u32 = 250;

/// The histogram of each purge batch's duration, in seconds (`/metrics`, and the benchmark).
pub const PURGE_BATCH_SECONDS: &str = "scoreline_purge_batch_seconds";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub integration_id: IntegrationId,
    pub label: String,
    pub cutoff: Timestamp,
    /// Purged, or that would be with `dry_run`.
    pub cases: u64,
    /// Past retention but kept, because an open dispute holds their content.
    pub held_for_disputes: u64,
    /// Past retention but kept, because an open calibration session holds their content.
    pub held_for_calibrations: u64,
    pub dry_run: bool,
}

impl App {
    /// Purges every integration; with `dry_run`, only counts. Each run is audited.
    pub async fn purge(&self, actor: &Actor, dry_run: bool) -> AppResult<Vec<PurgeReport>> {
        actor.require(Permission::ManageIntegrations)?;
        let mut reports = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let integrations = self.db().list_integrations(page).await?;
            for integration in &integrations.items {
                let cutoff = integration.retention.cutoff(self.clock().now());
                let cases = if dry_run {
                    self.db().count_purgeable(integration.id, cutoff).await?
                } else {
                    self.purge_integration(integration.id, cutoff).await?
                };
                let held_for_disputes = self.db().count_held_for_disputes(integration.id, cutoff).await?;
                let held_for_calibrations =
                    self.db().count_held_for_calibrations(integration.id, cutoff).await?;
                let audit = self.audit(
                    actor,
                    if dry_run { "retention.purge_dry_run" } else { "retention.purge" },
                    "integration",
                    &integration.id.to_string(),
                    json!({
                        "cutoff": cutoff,
                        "cases": cases,
                        "held_for_disputes": held_for_disputes,
                        "held_for_calibrations": held_for_calibrations,
                        "retention": integration.retention.to_string(),
                    }),
                );
                self.db().append_audit(&audit).await?;
                reports.push(PurgeReport {
                    integration_id: integration.id,
                    label: integration.label.clone(),
                    cutoff,
                    cases,
                    held_for_disputes,
                    held_for_calibrations,
                    dry_run,
                });
            }
            match integrations.next_after {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        if !dry_run && reports.iter().any(|r| r.cases > 0) {
            self.db().flush_deleted().await?;
        }
        Ok(reports)
    }

    async fn purge_integration(&self, id: IntegrationId, cutoff: Timestamp) -> AppResult<u64> {
        let mut purged = 0;
        let size = self.settings().purge_batch.max(1);
        loop {
            // A duration, not a time of day: how long the batch's transaction held the write lock.
            let started = std::time::Instant::now();
            let batch = self.db().purge_batch(id, cutoff, size, self.clock().now()).await?;
            metrics::histogram!(PURGE_BATCH_SECONDS).record(started.elapsed().as_secs_f64());
            purged += batch;
            metrics::counter!("scoreline_purged_cases_total").increment(batch);
            if batch < u64::from(size) {
                return Ok(purged);
            }
            // Let the sync and readers in between batches.
            tokio::task::yield_now().await;
        }
    }
}
