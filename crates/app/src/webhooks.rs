//! HelpDesk webhooks. With a public URL, every connected integration has webhooks for new
//! tickets, changed tickets and new messages, pointing at a URL whose last segment is a random
//! token of that integration (only its digest is stored). Each sync run checks them, registers
//! what is missing and removes stale ones; disconnecting removes them.
//!
//! A delivery is only a hint, since HelpDesk does not sign them: the token names the
//! integration, the body names a ticket, and the ticket is then fetched through the API and
//! stored by the sync's own newer-only write. A forged or replayed delivery can at most make us
//! read a ticket again. Hints wait in a bounded queue per integration, one entry per ticket; one
//! task per integration drains it, with fetches spaced out, off the request path.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use scoreline_core::{IntegrationId, Timestamp, WebhookStatus};
use scoreline_helpdesk::{HelpDeskClient, HelpDeskError, Silo, Webhook, WebhookHint};
use scoreline_store::sync::{Checkpoint, Version, WebhookEndpoint};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::integrations::quick_retry;
use crate::sync::parse_silo;
use crate::tokens::SecretToken;
use crate::{Actor, App, AppError, AppResult, case_record};

/// Where deliveries arrive, under the public URL; the token follows.
pub const WEBHOOK_PATH: &str = "/hooks/helpdesk/";

/// The event types registered: a new ticket, a changed one, a new message.
pub const WEBHOOK_EVENT_TYPES: [&str; 3] = ["tickets.create", "tickets.update", "tickets.events.message"];

const TOKEN_PREFIX: &str = "slw_";

/// A delivery is noted on the integration page at most this often.
const NOTE_DELIVERY_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Where HelpDesk reaches this server (`SCORELINE_PUBLIC_URL`); without it no webhooks are
    /// registered and polling alone keeps cases up to date.
    pub public_url: Option<String>,
    /// Tickets waiting to be fetched per integration; beyond it deliveries are dropped and a
    /// sync is requested instead.
    pub queue_capacity: usize,
    /// The least time between two fetches for one integration.
    pub fetch_spacing: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { public_url: None, queue_capacity: 1000, fetch_spacing: Duration::from_millis(100) }
    }
}

/// What became of deliveries since the server started, for metrics and tests. Every accepted
/// delivery ends as exactly one of coalesced, dropped, skipped, fetched or failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookCounters {
    /// Deliveries with a known token and a readable body.
    pub accepted: u64,
    /// Deliveries for a ticket that was already waiting: folded into that one.
    pub coalesced: u64,
    /// Deliveries refused because the integration's queue was full.
    pub dropped: u64,
    /// Tickets not fetched: the stored case was already as new as the delivery said.
    pub skipped: u64,
    /// Tickets fetched from HelpDesk (a ticket that no longer exists included).
    pub fetched: u64,
    /// Fetches that changed a stored case (or stored a new one).
    pub stored: u64,
    /// Fetches HelpDesk refused or did not answer.
    pub failed: u64,
}

impl WebhookCounters {
    /// Every accepted delivery has been dealt with.
    pub fn settled(&self) -> bool {
        self.accepted == self.coalesced + self.dropped + self.skipped + self.fetched + self.failed
    }
}

/// How an integration's webhooks stand, for its page.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookOverview {
    /// Whether this server registers webhooks at all (it has a public URL).
    pub enabled: bool,
    pub status: Option<WebhookStatus>,
}

impl WebhookOverview {
    /// Every event type is registered.
    pub fn live(&self) -> bool {
        self.enabled && self.missing().is_empty()
    }

    /// The event types not registered at the last check.
    pub fn missing(&self) -> Vec<&'static str> {
        let registered = self.status.as_ref().map_or(&[][..], |status| status.event_types.as_slice());
        WEBHOOK_EVENT_TYPES.into_iter().filter(|wanted| !registered.iter().any(|r| r == wanted)).collect()
    }
}

/// The hints waiting per integration.
#[derive(Debug)]
pub(crate) struct Hints {
    lanes: Mutex<HashMap<IntegrationId, Lane>>,
    counters: watch::Sender<WebhookCounters>,
}

impl Default for Hints {
    fn default() -> Self {
        Self { lanes: Mutex::default(), counters: watch::Sender::new(WebhookCounters::default()) }
    }
}

#[derive(Debug, Default)]
struct Lane {
    order: VecDeque<String>,
    /// Ticket → the version its deliveries claim (`None`: unknown, fetch whatever is stored).
    waiting: HashMap<String, Option<Claim>>,
    /// A task is draining this lane.
    draining: bool,
    /// Deliveries were dropped since the lane was last empty (a sync was requested).
    overflowed: bool,
}

/// The version of a ticket a delivery claims to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Claim {
    updated_at: Timestamp,
    event_count: Option<u32>,
    /// As the sync names silos.
    silo: Option<String>,
}

impl Claim {
    fn of(hint: &WebhookHint) -> Option<Self> {
        Some(Self {
            updated_at: hint.updated_at?,
            event_count: hint.event_count,
            silo: hint.silo.as_deref().map(|silo| parse_silo(silo).as_str().to_owned()),
        })
    }

    /// What two deliveries for one ticket claim together: the later one; at the same time
    /// with different content, nothing (HelpDesk will say).
    fn merge(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        let (a, b) = (a?, b?);
        if a == b || a.updated_at > b.updated_at {
            Some(a)
        } else if b.updated_at > a.updated_at {
            Some(b)
        } else {
            None
        }
    }

    /// Whether a ticket at this version would replace `stored`; what the delivery left out
    /// is taken to be newer.
    fn replaces(&self, stored: &Version<'_>) -> bool {
        let claimed = Version {
            updated_at: self.updated_at,
            event_count: self.event_count.unwrap_or(u32::MAX),
            silo: self.silo.as_deref().unwrap_or(""),
        };
        claimed.replaces(stored)
    }
}

enum Queued {
    /// First in line for its ticket; `start` when no task drains the lane yet.
    New {
        start: bool,
    },
    Coalesced,
    /// The lane is full; `first` when this is the first drop since it was last empty.
    Full {
        first: bool,
    },
}

enum Fetch {
    Fetched { written: u64 },
    Failed,
}

impl Hints {
    fn lanes(&self) -> MutexGuard<'_, HashMap<IntegrationId, Lane>> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, change: impl FnOnce(&mut WebhookCounters)) {
        self.counters.send_modify(change);
    }

    fn queue(&self, id: IntegrationId, hint: WebhookHint, capacity: usize) -> Queued {
        let claim = Claim::of(&hint);
        let mut lanes = self.lanes();
        let lane = lanes.entry(id).or_default();
        if let Some(waiting) = lane.waiting.get_mut(&hint.ticket_id) {
            *waiting = Claim::merge(waiting.take(), claim);
            return Queued::Coalesced;
        }
        if lane.order.len() >= capacity {
            let first = !lane.overflowed;
            lane.overflowed = true;
            return Queued::Full { first };
        }
        lane.waiting.insert(hint.ticket_id.clone(), claim);
        lane.order.push_back(hint.ticket_id);
        let start = !lane.draining;
        lane.draining = true;
        Queued::New { start }
    }

    /// The next ticket of the lane; `None` when it is empty, and the draining task ends then.
    fn next(&self, id: IntegrationId) -> Option<(String, Option<Claim>)> {
        let mut lanes = self.lanes();
        let lane = lanes.get_mut(&id)?;
        match lane.order.pop_front() {
            Some(ticket_id) => {
                let claimed = lane.waiting.remove(&ticket_id).flatten();
                Some((ticket_id, claimed))
            }
            None => {
                lanes.remove(&id);
                None
            }
        }
    }
}

/// The token at the end of one of our webhook URLs.
fn token_of(url: &str) -> Option<SecretToken> {
    let last = url.trim_end_matches('/').rsplit('/').next()?;
    last.starts_with(TOKEN_PREFIX).then(|| SecretToken::from_presented(last))
}

impl App {
    fn webhook_settings(&self) -> &WebhookSettings {
        &self.settings().webhooks
    }

    /// `https://qa.example.com/hooks/helpdesk/`, when webhooks are on.
    fn webhook_base(&self) -> Option<String> {
        let public = self.webhook_settings().public_url.as_deref()?;
        Some(format!("{}{WEBHOOK_PATH}", public.trim_end_matches('/')))
    }

    /// What has become of deliveries so far; tests wait on it.
    pub fn webhook_counters(&self) -> watch::Receiver<WebhookCounters> {
        self.inner.hints.counters.subscribe()
    }

    pub async fn webhook_overview(&self, actor: &Actor, id: IntegrationId) -> AppResult<WebhookOverview> {
        self.get_integration(actor, id).await?;
        let status = self.db().webhook_endpoint(id).await?.map(|endpoint| endpoint.status);
        Ok(WebhookOverview { enabled: self.webhook_base().is_some(), status })
    }

    /// A delivery to `WEBHOOK_PATH{token}`: queued as a hint when the token is an integration's
    /// and the body names a ticket. Answers at once; the ticket is fetched later.
    pub async fn accept_webhook(&self, token: &str, body: &[u8]) -> AppResult<()> {
        let token = SecretToken::from_presented(token);
        let id = self.db().find_webhook_integration(&token.digest()).await?;
        let id = id.ok_or(AppError::NotFound("webhook"))?;
        let hint = WebhookHint::parse(body).map_err(|message| AppError::field("body", message))?;
        let hints = &self.inner.hints;
        hints.count(|c| c.accepted += 1);
        match hints.queue(id, hint, self.webhook_settings().queue_capacity.max(1)) {
            Queued::New { start } => {
                metrics::counter!("scoreline_webhook_deliveries_total", "outcome" => "queued").increment(1);
                if start {
                    let app = self.clone();
                    tokio::spawn(async move { app.drain_hints(id).await });
                }
            }
            Queued::Coalesced => {
                hints.count(|c| c.coalesced += 1);
                metrics::counter!("scoreline_webhook_deliveries_total", "outcome" => "coalesced")
                    .increment(1);
            }
            Queued::Full { first } => {
                hints.count(|c| c.dropped += 1);
                metrics::counter!("scoreline_webhook_deliveries_total", "outcome" => "dropped").increment(1);
                if first {
                    tracing::warn!(integration_id = %id, "too many webhook deliveries waiting; polling catches up instead");
                    self.db().request_sync(id, self.clock().now()).await?;
                }
            }
        }
        Ok(())
    }

    /// Fetches the lane's tickets one at a time, spaced out, until it is empty.
    async fn drain_hints(&self, id: IntegrationId) {
        let hints = &self.inner.hints;
        let spacing = self.webhook_settings().fetch_spacing;
        let mut client = None;
        let mut last_fetch: Option<Instant> = None;
        let mut noted: Option<Instant> = None;
        while let Some((ticket_id, claimed)) = hints.next(id) {
            if noted.is_none_or(|at| at.elapsed() >= NOTE_DELIVERY_EVERY) {
                noted = Some(Instant::now());
                if let Err(error) = self.db().note_webhook_delivery(id, self.clock().now()).await {
                    tracing::warn!(integration_id = %id, %error, "could not note a webhook delivery");
                }
            }
            if self.stored_as_new(id, &ticket_id, claimed.as_ref()).await {
                hints.count(|c| c.skipped += 1);
                continue;
            }
            if let Some(at) = last_fetch {
                tokio::time::sleep_until(at + spacing).await;
            }
            last_fetch = Some(Instant::now());
            match self.fetch_hinted(id, &mut client, &ticket_id).await {
                Fetch::Fetched { written } => hints.count(|c| {
                    c.fetched += 1;
                    c.stored += u64::from(written > 0);
                }),
                Fetch::Failed => hints.count(|c| c.failed += 1),
            }
        }
    }

    /// Whether the stored case is as new as the version a delivery claims: then reading the
    /// ticket again would change nothing (a late duplicate, a replay).
    async fn stored_as_new(&self, id: IntegrationId, ticket_id: &str, claim: Option<&Claim>) -> bool {
        let Some(claim) = claim else { return false };
        let Ok(Some((updated_at, event_count, silo))) = self.db().case_version(id, ticket_id).await else {
            return false;
        };
        !claim.replaces(&Version { updated_at, event_count, silo: &silo })
    }

    async fn fetch_hinted(
        &self,
        id: IntegrationId,
        client: &mut Option<HelpDeskClient>,
        ticket_id: &str,
    ) -> Fetch {
        let client = match client {
            Some(client) => client,
            None => match self.helpdesk_client(id, quick_retry()).await {
                Ok(made) => client.insert(made),
                Err(error) => {
                    tracing::warn!(integration_id = %id, %error, "no HelpDesk client for a webhook's ticket");
                    return Fetch::Failed;
                }
            },
        };
        let ticket = match client.get_ticket(ticket_id).await {
            Ok(ticket) => ticket,
            // Deleted since: the sync's business, nothing to store.
            Err(error) if error.is_not_found() => return Fetch::Fetched { written: 0 },
            Err(error) => {
                tracing::warn!(integration_id = %id, %error, "could not fetch a webhook's ticket");
                return Fetch::Failed;
            }
        };
        if ticket.id != ticket_id {
            tracing::warn!(integration_id = %id, "HelpDesk answered with another ticket than asked for");
            return Fetch::Failed;
        }
        let silo = parse_silo(ticket.silo.as_ref().map_or("tickets", Silo::as_str));
        let record = case_record(ticket, &silo);
        match self.db().store_page(id, &[record], &Checkpoint::Unchanged, self.clock().now()).await {
            Ok(write) => {
                metrics::counter!("scoreline_sync_tickets_stored_total").increment(write.written);
                Fetch::Fetched { written: write.written }
            }
            Err(error) => {
                tracing::warn!(integration_id = %id, %error, "could not store a webhook's ticket");
                Fetch::Failed
            }
        }
    }

    /// Makes HelpDesk's webhooks of this integration what they should be: ours for every event
    /// type at the current public URL, none elsewhere, no duplicates; none at all without a
    /// public URL. Failures are recorded for the page, never fail the sync.
    pub(crate) async fn check_webhooks(&self, id: IntegrationId, client: &HelpDeskClient) {
        let stored = match self.db().webhook_endpoint(id).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(integration_id = %id, %error, "could not read the webhook endpoint");
                return;
            }
        };
        let outcome = match self.webhook_base() {
            Some(base) => self.reconcile_webhooks(id, client, &base, stored).await,
            None => match stored {
                Some(endpoint) => self.take_down_webhooks(id, client, &endpoint).await,
                None => Ok(()),
            },
        };
        if let Err(error) = outcome {
            tracing::warn!(integration_id = %id, %error, "could not check the HelpDesk webhooks");
        }
    }

    async fn reconcile_webhooks(
        &self,
        id: IntegrationId,
        client: &HelpDeskClient,
        base: &str,
        stored: Option<WebhookEndpoint>,
    ) -> AppResult<()> {
        let now = self.clock().now();
        let hooks = match client.list_webhooks().await {
            Ok(hooks) => hooks,
            Err(error) => {
                // Keep the token the webhooks HelpDesk may still hold carry; only note the failure.
                let mut endpoint = stored.unwrap_or_else(|| WebhookEndpoint {
                    token_digest: SecretToken::generate(TOKEN_PREFIX).digest(),
                    status: empty_status(now),
                });
                endpoint.status.checked_at = now;
                endpoint.status.last_error = Some(format!("HelpDesk did not list its webhooks: {error}"));
                self.db().save_webhook_endpoint(id, &endpoint, now).await?;
                return Ok(());
            }
        };
        let digest = stored.as_ref().map(|endpoint| endpoint.token_digest);
        let ours: Vec<&Webhook> = hooks
            .iter()
            .filter(|hook| token_of(&hook.url).is_some_and(|token| Some(token.digest()) == digest))
            .collect();
        let (current, stale): (Vec<&Webhook>, Vec<&Webhook>) =
            ours.into_iter().partition(|hook| hook.url.starts_with(base));
        let token = match current.first().and_then(|hook| token_of(&hook.url)) {
            Some(token) => token,
            None => SecretToken::generate(TOKEN_PREFIX),
        };
        let mut endpoint = WebhookEndpoint {
            token_digest: token.digest(),
            status: WebhookStatus {
                last_delivery_at: stored.as_ref().and_then(|e| e.status.last_delivery_at),
                ..empty_status(now)
            },
        };
        // Known before HelpDesk has the URL: it may deliver as soon as a webhook exists.
        if Some(endpoint.token_digest) != digest
            && !self.db().save_webhook_endpoint(id, &endpoint, now).await?
        {
            return Ok(());
        }
        let url = format!("{base}{}", token.expose());
        let mut registered: Vec<String> = Vec::new();
        let mut surplus: Vec<&Webhook> = stale;
        for hook in current {
            if registered.contains(&hook.event_type)
                || !WEBHOOK_EVENT_TYPES.contains(&hook.event_type.as_str())
            {
                surplus.push(hook);
            } else {
                registered.push(hook.event_type.clone());
            }
        }
        let mut problem = None;
        for event_type in WEBHOOK_EVENT_TYPES {
            if registered.iter().any(|r| r == event_type) {
                continue;
            }
            match client.create_webhook(&url, event_type).await {
                Ok(_) => registered.push(event_type.to_owned()),
                Err(error) => {
                    problem = Some(format!(
                        "HelpDesk refused the {event_type} webhook: {}",
                        redacted(&error, &token)
                    ));
                    break;
                }
            }
        }
        for hook in surplus {
            if let Err(error) = client.delete_webhook(&hook.id).await {
                tracing::warn!(integration_id = %id, error = %redacted(&error, &token), "could not remove a stale webhook");
            }
        }
        registered.sort_by_key(|r| WEBHOOK_EVENT_TYPES.iter().position(|t| t == r));
        endpoint.status.event_types = registered;
        endpoint.status.last_error = problem;
        if !self.db().save_webhook_endpoint(id, &endpoint, now).await? {
            // Disconnected while this ran: take back what was just registered.
            self.take_down_webhooks(id, client, &endpoint).await?;
        }
        Ok(())
    }

    /// Removes the integration's webhooks from HelpDesk, then forgets the endpoint.
    async fn take_down_webhooks(
        &self,
        id: IntegrationId,
        client: &HelpDeskClient,
        endpoint: &WebhookEndpoint,
    ) -> AppResult<()> {
        let hooks = client.list_webhooks().await?;
        for hook in hooks
            .iter()
            .filter(|hook| token_of(&hook.url).is_some_and(|t| t.digest() == endpoint.token_digest))
        {
            client.delete_webhook(&hook.id).await?;
        }
        self.db().delete_webhook_endpoint(id).await?;
        Ok(())
    }

    /// Best effort before a disconnect deletes the credentials: HelpDesk stops sending, and
    /// whatever it still sends is refused once the endpoint is gone.
    pub(crate) async fn remove_webhooks(&self, id: IntegrationId) {
        let Ok(Some(endpoint)) = self.db().webhook_endpoint(id).await else { return };
        let removed = match self.helpdesk_client(id, quick_retry()).await {
            Ok(client) => self.take_down_webhooks(id, &client, &endpoint).await,
            Err(error) => Err(error),
        };
        if let Err(error) = removed {
            tracing::warn!(integration_id = %id, %error, "could not remove the HelpDesk webhooks; deliveries are refused");
        }
    }
}

fn empty_status(now: Timestamp) -> WebhookStatus {
    WebhookStatus { event_types: Vec::new(), checked_at: now, last_error: None, last_delivery_at: None }
}

/// An error's text without the token: HelpDesk may quote the URL it refused.
fn redacted(error: &HelpDeskError, token: &SecretToken) -> String {
    error.to_string().replace(token.expose(), "[token]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(ticket_id: &str, updated_at: Option<i64>) -> WebhookHint {
        WebhookHint {
            event_type: "tickets.update".to_owned(),
            ticket_id: ticket_id.to_owned(),
            updated_at: updated_at.map(Timestamp::from_millis),
            event_count: Some(3),
            silo: Some("inbox".to_owned()),
        }
    }

    fn claim(updated_at: i64) -> Option<Claim> {
        Claim::of(&hint("", Some(updated_at)))
    }

    #[test]
    fn a_burst_for_one_ticket_waits_once_and_the_lane_is_bounded() {
        let hints = Hints::default();
        let id = IntegrationId::new();
        assert!(matches!(hints.queue(id, hint("a", Some(5)), 2), Queued::New { start: true }));
        assert!(matches!(hints.queue(id, hint("a", Some(9)), 2), Queued::Coalesced));
        assert!(matches!(hints.queue(id, hint("b", None), 2), Queued::New { start: false }));
        assert!(matches!(hints.queue(id, hint("c", None), 2), Queued::Full { first: true }));
        assert!(matches!(hints.queue(id, hint("d", None), 2), Queued::Full { first: false }));
        assert_eq!(hints.next(id), Some(("a".to_owned(), claim(9))));
        // Unknown beats known: a delivery without `updatedAt` is always fetched.
        assert!(matches!(hints.queue(id, hint("b", Some(1)), 2), Queued::Coalesced));
        assert_eq!(hints.next(id), Some(("b".to_owned(), None)));
        assert_eq!(hints.next(id), None);
        // Empty again: the next delivery starts a new task.
        assert!(matches!(hints.queue(id, hint("a", None), 2), Queued::New { start: true }));
    }

    #[test]
    fn a_claim_covered_by_the_stored_case_is_not_fetched() {
        let stored = Version { updated_at: Timestamp::from_millis(9), event_count: 3, silo: "tickets" };
        let same = claim(9).unwrap();
        assert_eq!(same.silo.as_deref(), Some("tickets"), "inbox is the tickets silo");
        assert!(!same.replaces(&stored), "a duplicate or a replay");
        assert!(!claim(8).unwrap().replaces(&stored));
        assert!(claim(10).unwrap().replaces(&stored));
        // The same second with more events, another silo, or nothing said about either.
        assert!(Claim { event_count: Some(4), ..same.clone() }.replaces(&stored));
        assert!(Claim { silo: Some("archive".to_owned()), ..same }.replaces(&stored));
        assert!(Claim { event_count: None, ..same.clone() }.replaces(&stored));
        assert!(Claim { silo: None, ..same }.replaces(&stored));
        let other = Claim { event_count: Some(4), ..same.clone() };
        assert_eq!(Claim::merge(Some(same.clone()), Some(other)), None, "same time, different content");
        assert_eq!(Claim::merge(claim(3), Some(same.clone())), Some(same));
    }

    #[test]
    fn tokens_are_read_from_our_urls_only() {
        assert!(
            token_of("https://qa.example.com/hooks/helpdesk/slw_abc")
                .is_some_and(|t| t.expose() == "slw_abc")
        );
        assert!(token_of("https://elsewhere.example.com/hook").is_none());
        let overview = WebhookOverview {
            enabled: true,
            status: Some(WebhookStatus {
                event_types: vec!["tickets.update".to_owned()],
                ..empty_status(Timestamp::from_millis(0))
            }),
        };
        assert_eq!(overview.missing(), ["tickets.create", "tickets.events.message"]);
        assert!(!overview.live());
    }
}
