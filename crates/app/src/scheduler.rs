//! Background work of a server: sync each connected integration when it is due or asked for,
//! run the due slot of each scheduled list, and purge expired content hourly. Any number of servers may run this against one
//! PostgreSQL: the sync lease makes sure each integration is synced by one at a time.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scoreline_core::{IntegrationId, IntegrationState, PageRequest, SyncPhase, SyncState, Timestamp};
use tokio_util::sync::CancellationToken;

use crate::{Actor, App, AppResult};

/// How often the scheduler looks for due work; "Sync now" waits at most this long.
const TICK: Duration = Duration::from_secs(2);
const PURGE_EVERY: Duration = Duration::from_secs(3600);
const ERROR_RETRY: Duration = Duration::from_secs(60);

impl App {
    /// Runs until `shutdown` is cancelled. Runs in flight finish their current page.
    pub async fn run_background(&self, shutdown: CancellationToken) {
        let running: Arc<Mutex<HashSet<IntegrationId>>> = Arc::default();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_purge: Option<Timestamp> = None;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(error) = self.start_due_syncs(&running, &shutdown).await {
                tracing::warn!(%error, "could not look for due syncs");
            }
            match self.run_due_lists().await {
                Ok(0) => {}
                Ok(ran) => tracing::info!(ran, "scheduled lists ran"),
                Err(error) => tracing::warn!(%error, "could not look for due lists"),
            }
            let now = self.clock().now();
            if last_purge.is_none_or(|at| now.saturating_sub(PURGE_EVERY) >= at) {
                last_purge = Some(now);
                match self.purge(&Actor::System, false).await {
                    Ok(reports) => {
                        let purged: u64 = reports.iter().map(|r| r.cases).sum();
                        if purged > 0 {
                            tracing::info!(purged, "retention purge removed case content");
                        }
                    }
                    Err(error) => tracing::warn!(%error, "retention purge failed"),
                }
                // Hourly too: after a backfill or a purge the planner needs fresh statistics.
                if let Err(error) = self.db().refresh_statistics().await {
                    tracing::warn!(%error, "could not refresh the database statistics");
                }
            }
        }
    }

    async fn start_due_syncs(
        &self,
        running: &Arc<Mutex<HashSet<IntegrationId>>>,
        shutdown: &CancellationToken,
    ) -> AppResult<()> {
        let integrations = self.db().list_integrations(PageRequest::first(PageRequest::MAX_LIMIT)).await?;
        for integration in integrations.items.into_iter().filter(|i| i.state == IntegrationState::Connected) {
            let id = integration.id;
            let state = self.db().sync_state(id, self.clock().now()).await?;
            if !self.is_due(&state) {
                continue;
            }
            if !lock(running).insert(id) {
                continue;
            }
            let (app, running, shutdown) = (self.clone(), running.clone(), shutdown.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    outcome = app.sync_integration(id, None) => match outcome {
                        Ok(outcome) => tracing::debug!(integration_id = %id, ?outcome, "sync run ended"),
                        Err(error) => tracing::warn!(integration_id = %id, %error, "sync run failed"),
                    },
                }
                lock(&running).remove(&id);
            });
        }
        Ok(())
    }

    fn is_due(&self, state: &SyncState) -> bool {
        let now = self.clock().now();
        let interval = self.settings().sync.interval;
        match state.phase {
            SyncPhase::Paused | SyncPhase::NeedsReauthorization => false,
            SyncPhase::Pending | SyncPhase::Backfilling => true,
            SyncPhase::Live => {
                state.requested_at.is_some()
                    || state.last_success_at.is_none_or(|at| now.saturating_sub(interval) >= at)
            }
            // A failed run already retried within itself; try again a while later, never in a loop.
            SyncPhase::Error => {
                state.requested_at.is_some_and(|at| at > state.changed_at)
                    || now.saturating_sub(interval.min(ERROR_RETRY)) >= state.changed_at
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
