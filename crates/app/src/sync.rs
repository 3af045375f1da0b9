//! The sync engine: backfill in concurrent time windows, then incremental runs over a cursor
//! taken from HelpDesk's own `updatedAt` values. Every page and its checkpoint are written in
//! one transaction, so a crash resumes where the last page ended; upserts keep only newer
//! versions, so re-reading a page is harmless. One server at a time syncs an integration,
//! under a lease row that it renews while it works.

use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt};
use scoreline_core::{
    CaseContent, Integration, IntegrationId, IntegrationState, RateLimitWait, SyncPhase, Timestamp,
    WindowReach, backfill_ppm,
};
use scoreline_helpdesk::{
    Agent, ErrorKind, HelpDeskClient, HelpDeskError, Hold, RetryPolicy, Silo, Ticket, TicketCursor,
    TicketPage, TicketQuery,
};
use scoreline_store::sync::{AgentRecord, CaseRecord, Checkpoint, SyncWindow};
use serde_json::json;

use crate::{App, AppError, AppResult};

#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// How often each integration is synced.
    pub interval: Duration,
    /// Incremental runs re-read this much before the cursor, for late-visible changes and skew.
    pub lookback: Duration,
    /// Incremental runs stop this far before now, where HelpDesk may still be settling.
    pub safety_lag: Duration,
    /// Backfill window length.
    pub window: Duration,
    /// Backfill windows fetched at once (they share the integration's rate limit).
    pub concurrency: usize,
    /// How long a lease lasts without renewal; a dead holder's work is taken over after it.
    pub lease_ttl: Duration,
    pub retry: RetryPolicy,
    /// Limit for one HelpDesk request attempt, from sending to the last byte; a hung answer
    /// counts as a failed attempt and is retried.
    pub attempt_timeout: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            lookback: Duration::from_secs(15 * 60),
            safety_lag: Duration::from_secs(30),
            window: Duration::from_secs(24 * 3600),
            concurrency: 4,
            lease_ttl: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

/// The silos a backfill reads; trash and spam only matter for moves, which live runs see.
const BACKFILL_SILOS: [Silo; 2] = [Silo::Tickets, Silo::Archive];
const LIVE_SILOS: [Silo; 4] = [Silo::Tickets, Silo::Archive, Silo::Trash, Silo::Spam];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A run finished; `written` cases were inserted or changed.
    Synced { written: u64 },
    /// Another server holds the lease.
    Busy,
    /// The integration is not connected (disconnected or waiting for re-authorization).
    NotConnected,
}

/// What a run reports while it works, for progress bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncProgress {
    Windows { done: u64, total: u64 },
    Page { written: u64 },
}

pub type ProgressSender = tokio::sync::mpsc::UnboundedSender<SyncProgress>;

impl App {
    fn sync_settings(&self) -> &SyncSettings {
        &self.settings().sync
    }

    /// One sync run of one integration: backfill if it has not finished, else incremental.
    pub async fn sync_integration(
        &self,
        id: IntegrationId,
        progress: Option<ProgressSender>,
    ) -> AppResult<SyncOutcome> {
        let integration = self.db().get_integration(id).await?.ok_or(AppError::NotFound("integration"))?;
        if integration.state != IntegrationState::Connected {
            return Ok(SyncOutcome::NotConnected);
        }
        let owner = self.instance_id().to_owned();
        if !self.renew_lease(id, &owner).await? {
            return Ok(SyncOutcome::Busy);
        }
        // A guard, not a call after the run: when this future is dropped midway (a cancelled
        // task, a shutdown), a detached heartbeat would renew the lease forever and lock every
        // other server out of this integration.
        let mut heartbeat = AbortOnDrop(self.spawn_heartbeat(id, owner.clone()));
        let reporter = AbortOnDrop(self.spawn_rate_limit_reporter(id)?);
        let outcome = tokio::select! {
            outcome = self.sync_locked(&integration, progress.as_ref()) => outcome,
            // The heartbeat ends only when another server holds the lease: stop, so that two
            // servers never fetch the same pages; the work done so far is checkpointed.
            _ = &mut heartbeat.0 => {
                tracing::warn!(integration_id = %id, "lost the sync lease to another server; stopping this run");
                return Ok(SyncOutcome::Busy);
            }
        };
        // Stopped before the outcome is written, so a late report cannot outlive the run.
        drop(reporter);
        drop(heartbeat);
        let _ = self.db().release_sync_lease(id, &owner).await;
        match outcome {
            Ok(written) => {
                self.db().record_sync_success(id, written, self.clock().now()).await?;
                metrics::counter!("scoreline_sync_runs_total", "outcome" => "success").increment(1);
                Ok(SyncOutcome::Synced { written })
            }
            Err(error) => {
                metrics::counter!("scoreline_sync_runs_total", "outcome" => "error").increment(1);
                self.record_sync_failure(id, &error).await?;
                Err(error)
            }
        }
    }

    async fn renew_lease(&self, id: IntegrationId, owner: &str) -> AppResult<bool> {
        let now = self.clock().now();
        Ok(self
            .db()
            .acquire_sync_lease(id, owner, now.saturating_add(self.sync_settings().lease_ttl), now)
            .await?)
    }

    /// Renews the lease at a third of its lifetime while the run lasts; returns only when
    /// another server has taken the lease.
    fn spawn_heartbeat(&self, id: IntegrationId, owner: String) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut beat = tokio::time::interval(app.sync_settings().lease_ttl / 3);
            beat.tick().await;
            loop {
                beat.tick().await;
                match app.renew_lease(id, &owner).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(error) => {
                        tracing::warn!(integration_id = %id, %error, "could not renew the sync lease")
                    }
                }
            }
        })
    }

    /// Writes what the integration's pacer holds requests back for, as it changes, while the
    /// run lasts; the pages read it from the sync state, whichever server shows them.
    fn spawn_rate_limit_reporter(&self, id: IntegrationId) -> AppResult<tokio::task::JoinHandle<()>> {
        let mut hold = self.pacer(id)?.watch_hold();
        let app = self.clone();
        Ok(tokio::spawn(async move {
            let mut reported: Option<Option<RateLimitWait>> = None;
            loop {
                let current = *hold.borrow_and_update();
                let wait = match current {
                    Hold::Free => None,
                    Hold::Paced => Some(RateLimitWait::Pacing),
                    Hold::Closed { until } => {
                        let left = until.saturating_duration_since(tokio::time::Instant::now());
                        (!left.is_zero()).then(|| RateLimitWait::RetryAfter {
                            until: app.clock().now().saturating_add(left),
                        })
                    }
                };
                if reported != Some(wait) {
                    if let Err(error) = app.db().note_rate_limit(id, wait).await {
                        tracing::warn!(integration_id = %id, %error, "could not record the rate-limit wait");
                    }
                    reported = Some(wait);
                }
                // A few writes a second at most, however often the pace flips.
                tokio::time::sleep(RATE_LIMIT_REPORT_EVERY).await;
                if hold.changed().await.is_err() {
                    return;
                }
            }
        }))
    }

    async fn record_sync_failure(&self, id: IntegrationId, error: &AppError) -> AppResult<()> {
        let now = self.clock().now();
        let message = error.to_string();
        let phase = match error {
            AppError::HelpDesk(e) if e.needs_reauthorization() => {
                if !matches!(e, HelpDeskError::InvalidGrant { .. }) {
                    // Invalid grants were recorded by the token source already.
                    self.mark_needs_reauthorization(
                        id,
                        "HelpDesk rejected the credentials; reconnect or replace the token.",
                    )
                    .await?;
                }
                SyncPhase::NeedsReauthorization
            }
            _ => SyncPhase::Error,
        };
        self.db().record_sync_failure(id, phase, &message, now).await?;
        Ok(())
    }

    async fn sync_locked(
        &self,
        integration: &Integration,
        progress: Option<&ProgressSender>,
    ) -> AppResult<u64> {
        let id = integration.id;
        let client = self.helpdesk_client(id, self.sync_settings().retry).await?;
        let agents = client.list_agents().await?;
        // Window ends and the incremental upper bound follow HelpDesk's clock (the `Date` of the
        // agent list just fetched); ours only refines it within its second, or stands in for it.
        let helpdesk_now = client.server_now_or(self.clock().now());
        let state = self.db().sync_state(id, self.clock().now()).await?;
        let tickets = async {
            match state.cursor_updated_at {
                None => self.backfill(integration, &client, helpdesk_now, progress).await,
                Some(cursor) => self.incremental(id, &client, cursor, helpdesk_now, progress).await,
            }
        };
        // The agents are stored, the license read and the webhooks checked while the first pages are on their way:
        // one after the other they would leave the rate limit unused for as long as they take.
        let license_and_webhooks = async {
            if integration.license_id.is_none() {
                self.fill_license(id, &client).await?;
            }
            self.check_webhooks(id, &client).await;
            Ok(())
        };
        let ((), (), written) =
            tokio::try_join!(self.store_agents(id, agents), license_and_webhooks, tickets)?;
        Ok(written)
    }

    /// Reads the license of an integration stored without one, so the duplicate check can
    /// compare it from then on; when HelpDesk does not say, the next run asks again.
    async fn fill_license(&self, id: IntegrationId, client: &HelpDeskClient) -> AppResult<()> {
        if let Some(license) = crate::integrations::read_license(client).await {
            self.db().fill_integration_license(id, license).await?;
        }
        Ok(())
    }

    async fn store_agents(&self, id: IntegrationId, agents: Vec<Agent>) -> AppResult<()> {
        let records: Vec<AgentRecord> = agents
            .into_iter()
            .map(|agent| AgentRecord {
                name: agent.name.clone().unwrap_or_else(|| agent.email.clone().unwrap_or_default()),
                email: agent.email.unwrap_or_default(),
                roles: agent.roles,
                status: agent.status.map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned()),
                agent_id: agent.id,
            })
            .collect();
        self.db().upsert_agents(id, &records, self.clock().now()).await?;
        self.auto_match_after_refresh(id).await?;
        Ok(())
    }

    async fn backfill(
        &self,
        integration: &Integration,
        client: &HelpDeskClient,
        helpdesk_now: Timestamp,
        progress: Option<&ProgressSender>,
    ) -> AppResult<u64> {
        let id = integration.id;
        let mut windows = self.db().sync_windows(id).await?;
        if windows.is_empty() {
            let planned = plan_windows(helpdesk_now, integration.backfill_days, self.sync_settings().window);
            self.db().plan_windows(id, &planned).await?;
            windows = self.db().sync_windows(id).await?;
        }
        self.db()
            .note_backfill_resumed(id, backfill_ppm(windows.iter().map(reach)), self.clock().now())
            .await?;
        let total = windows.len() as u64;
        let mut done = windows.iter().filter(|w| w.done).count() as u64;
        report(progress, SyncProgress::Windows { done, total });
        let pending: Vec<SyncWindow> = windows.into_iter().filter(|w| !w.done).collect();
        let mut runs = futures::stream::iter(
            pending.into_iter().map(|window| self.fetch_window(id, client, window, progress)),
        )
        .buffer_unordered(self.sync_settings().concurrency.max(1));
        let mut written = 0;
        while let Some(result) = runs.next().await {
            written += result?;
            done += 1;
            report(progress, SyncProgress::Windows { done, total });
        }
        // The incremental cursor starts at the newest change HelpDesk showed us. With no case at
        // all it starts where the backfill started, not where it ended: the end is our clock's
        // "now", and when our clock runs ahead of HelpDesk by more than the lookback, tickets
        // changed right after the backfill would fall before the first incremental read.
        let oldest = self.db().sync_windows(id).await?.iter().map(|w| w.start).min();
        let cursor = self.newest_case_update(id).await?.or(oldest).unwrap_or(helpdesk_now);
        self.db().store_page(id, &[], &Checkpoint::Cursor { updated_at: cursor }, self.clock().now()).await?;
        Ok(written)
    }

    async fn newest_case_update(&self, id: IntegrationId) -> AppResult<Option<Timestamp>> {
        Ok(self.db().newest_case_update(id).await?)
    }

    async fn fetch_window(
        &self,
        id: IntegrationId,
        client: &HelpDeskClient,
        window: SyncWindow,
        progress: Option<&ProgressSender>,
    ) -> AppResult<u64> {
        let silo = parse_silo(&window.silo);
        let mut query = TicketQuery::default()
            .silo(silo.clone())
            .updated(Some(window.start.into()), Some(window.end.into()));
        if let Some((value, ticket_id)) = &window.after {
            query = query.after(TicketCursor { value: *value, id: ticket_id.clone() });
        }
        let (silo, window) = (&silo, &window);
        store_pages(client.list_tickets(query), |page| async move {
            let checkpoint = Checkpoint::Window {
                silo: window.silo.clone(),
                window_start: window.start,
                after: page.next_cursor.as_ref().map(|c| (c.value, c.id.clone())),
                done: page.next_cursor.is_none(),
            };
            self.store_tickets(id, page.tickets, silo, &checkpoint, progress).await
        })
        .await
    }

    /// One page of tickets listed in `silo`, with its checkpoint, in one transaction.
    async fn store_tickets(
        &self,
        id: IntegrationId,
        tickets: Vec<Ticket>,
        silo: &Silo,
        checkpoint: &Checkpoint,
        progress: Option<&ProgressSender>,
    ) -> AppResult<u64> {
        metrics::counter!("scoreline_sync_pages_total").increment(1);
        let cases: Vec<CaseRecord> = tickets.into_iter().map(|ticket| case_record(ticket, silo)).collect();
        let stored = self.db().store_page(id, &cases, checkpoint, self.clock().now()).await?;
        metrics::counter!("scoreline_sync_tickets_stored_total").increment(stored.written);
        report(progress, SyncProgress::Page { written: stored.written });
        Ok(stored.written)
    }

    async fn incremental(
        &self,
        id: IntegrationId,
        client: &HelpDeskClient,
        cursor: Timestamp,
        helpdesk_now: Timestamp,
        progress: Option<&ProgressSender>,
    ) -> AppResult<u64> {
        let settings = self.sync_settings();
        let from = cursor.saturating_sub(settings.lookback);
        let to = helpdesk_now.saturating_sub(settings.safety_lag);
        let mut written = 0;
        let mut newest = cursor;
        // The cursor moves only once every silo is read: a crash before re-reads the run.
        let checkpoint = &Checkpoint::Cursor { updated_at: cursor };
        for silo in LIVE_SILOS {
            let query = TicketQuery::default().silo(silo.clone()).updated(Some(from.into()), Some(to.into()));
            let silo = &silo;
            written += store_pages(client.list_tickets(query), |page| {
                newest = page.tickets.iter().map(|t| t.updated_at).fold(newest, Timestamp::max);
                async move { self.store_tickets(id, page.tickets, silo, checkpoint, progress).await }
            })
            .await?;
        }
        self.db().store_page(id, &[], &Checkpoint::Cursor { updated_at: newest }, self.clock().now()).await?;
        if let Some(lag) = helpdesk_now.as_millis().checked_sub(newest.as_millis()) {
            metrics::gauge!("scoreline_sync_lag_seconds").set(lag as f64 / 1000.0);
        }
        Ok(written)
    }

    /// Asks the scheduler to sync this integration soon.
    pub async fn request_sync(&self, actor: &crate::Actor, id: IntegrationId) -> AppResult<()> {
        let integration = self.get_integration(actor, id).await?;
        if integration.state != IntegrationState::Connected {
            return Err(AppError::Conflict(
                "This integration is not connected; reconnect it before syncing.",
            ));
        }
        self.db().request_sync(id, self.clock().now()).await?;
        let audit =
            self.audit(actor, "integration.sync_requested", "integration", &id.to_string(), json!({}));
        self.db().append_audit(&audit).await?;
        Ok(())
    }
}

/// How often the rate-limit reporter may write.
const RATE_LIMIT_REPORT_EVERY: Duration = Duration::from_millis(250);

/// How far a backfill window has been read, for the progress the pages show.
pub(crate) fn reach(window: &SyncWindow) -> WindowReach {
    WindowReach {
        start: window.start,
        end: window.end,
        reached: window.after.as_ref().map(|(value, _)| *value),
        done: window.done,
    }
}

/// Stops a task of the run (the lease heartbeat, the rate-limit reporter) when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Stores each page of a listing in order while the next one is on its way, so that one
/// listing's pages follow each other at the rate limit's pace rather than at the latency plus
/// the write. A page is asked for only after the one before it arrived (its cursor is in it),
/// and stored only after the one before it was, so checkpoints keep their order.
async fn store_pages<Store, Stored>(
    pages: impl Stream<Item = Result<TicketPage, HelpDeskError>>,
    mut store: Store,
) -> AppResult<u64>
where
    Store: FnMut(TicketPage) -> Stored,
    Stored: Future<Output = AppResult<u64>>,
{
    let mut pages = std::pin::pin!(pages);
    let mut written = 0;
    let mut next = pages.try_next().await?;
    while let Some(page) = next {
        let (stored, fetched) = tokio::join!(biased; store(page), pages.try_next());
        written += stored?;
        next = fetched?;
    }
    Ok(written)
}

fn report(progress: Option<&ProgressSender>, event: SyncProgress) {
    if let Some(progress) = progress {
        let _ = progress.send(event);
    }
}

/// Windows of `window` length covering `[now − backfill_days, now)` for each backfill silo.
pub fn plan_windows(now: Timestamp, backfill_days: u32, window: Duration) -> Vec<SyncWindow> {
    let start = now.saturating_sub(Duration::from_secs(u64::from(backfill_days) * 24 * 3600));
    let mut windows = Vec::new();
    let mut from = start;
    while from < now {
        let to = from.saturating_add(window).min(now);
        for silo in BACKFILL_SILOS {
            windows.push(SyncWindow {
                silo: silo.as_str().to_owned(),
                start: from,
                end: to,
                after: None,
                done: false,
            });
        }
        from = to;
    }
    windows
}

/// A silo as HelpDesk names it; `inbox` and anything unknown are the live `tickets`.
pub(crate) fn parse_silo(text: &str) -> Silo {
    match text {
        "archive" => Silo::Archive,
        "trash" => Silo::Trash,
        "spam" => Silo::Spam,
        _ => Silo::Tickets,
    }
}

/// A HelpDesk ticket as a case row. The silo the ticket was listed from wins over its field.
pub fn case_record(ticket: Ticket, listed_in: &Silo) -> CaseRecord {
    let assignment = ticket.assignment.as_ref();
    let team = assignment.and_then(|a| a.team.as_ref());
    let agent = assignment.and_then(|a| a.agent.as_ref());
    let counts = ticket.events.counts();
    CaseRecord {
        source_id: ticket.id,
        short_id: ticket.short_id,
        status: ticket.status.as_ref().map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned()),
        priority: ticket.priority.map(i64::from),
        silo: listed_in.as_str().to_owned(),
        team_id: team.map(|t| t.id.clone()).or_else(|| ticket.team_ids.first().cloned()),
        team_name: team.and_then(|t| t.name.clone()),
        agent_id: agent.map(|a| a.id.clone()),
        agent_name: agent.and_then(|a| a.name.clone()),
        created_at: ticket.created_at,
        updated_at: ticket.updated_at,
        last_message_at: ticket.last_message_at,
        message_count: counts.messages,
        event_count: counts.events,
        agent_message_count: counts.agent_replies,
        content: CaseContent {
            subject: ticket.subject,
            requester: ticket.requester.map(|r| json!({ "name": r.name, "email": r.email })),
            tags: ticket.tag_ids,
            custom_fields: serde_json::Value::Object(ticket.custom_fields),
            events: ticket.events.into_json(),
        },
    }
}

impl From<HelpDeskError> for AppError {
    fn from(error: HelpDeskError) -> Self {
        Self::HelpDesk(error)
    }
}

/// Whether a failed run is worth retrying at the next tick without a person's help.
pub fn is_transient(error: &AppError) -> bool {
    match error {
        AppError::HelpDesk(e) => matches!(e.kind(), ErrorKind::Retryable | ErrorKind::GaveUp),
        AppError::Store(e) => e.is_transient(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn empty_page() -> TicketPage {
        TicketPage {
            tickets: Vec::new(),
            cursor: None,
            next_cursor: None,
            total_pages: None,
            total_results: None,
        }
    }

    /// A listing of `count` pages that logs when each is asked for, and fails instead of
    /// listing page `fail_at`.
    fn listing(
        count: usize,
        fail_at: Option<usize>,
        log: Arc<Mutex<Vec<String>>>,
    ) -> impl Stream<Item = Result<TicketPage, HelpDeskError>> {
        futures::stream::iter(0..count).then(move |page| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(format!("fetch {page}"));
                if fail_at == Some(page) {
                    return Err(HelpDeskError::InvalidRequest("listing failed".into()));
                }
                Ok(empty_page())
            }
        })
    }

    #[tokio::test]
    async fn the_next_page_is_asked_for_while_one_is_stored_and_pages_are_stored_in_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut stored = 0;
        let written = store_pages(listing(3, None, log.clone()), |_| {
            let (log, page) = (log.clone(), stored);
            stored += 1;
            async move {
                log.lock().unwrap().push(format!("store {page} begins"));
                // A write takes a while; the next page's request goes meanwhile.
                tokio::task::yield_now().await;
                log.lock().unwrap().push(format!("store {page} ends"));
                Ok(10)
            }
        })
        .await
        .unwrap();
        assert_eq!(written, 30);
        assert_eq!(
            *log.lock().unwrap(),
            [
                "fetch 0",
                "store 0 begins",
                "fetch 1",
                "store 0 ends",
                "store 1 begins",
                "fetch 2",
                "store 1 ends",
                "store 2 begins",
                "store 2 ends",
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_page_ends_the_listing_after_the_page_before_it_is_stored() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut stored = 0;
        let result = store_pages(listing(4, Some(2), log.clone()), |_| {
            stored += 1;
            async { Ok(1) }
        })
        .await;
        assert!(matches!(result, Err(AppError::HelpDesk(_))), "{result:?}");
        assert_eq!(stored, 2, "pages 0 and 1 are stored, nothing after the failure");
        let written = store_pages(listing(3, None, log), |_| async {
            Err::<u64, _>(AppError::Internal("disk full".into()))
        })
        .await;
        assert!(matches!(written, Err(AppError::Internal(_))), "a failed write ends the listing");
    }
}
