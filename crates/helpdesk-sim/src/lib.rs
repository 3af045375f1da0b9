//! A faithful local HelpDesk: the REST API v1 (`/v1/…`) and the LiveChat accounts service
//! (OAuth authorize page, `/v2/token`, `/v2/info`), over seeded generated data, with knobs for
//! time, latency, rate limits, faults and visibility lag, and an admin API under `/_sim`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use scoreline_helpdesk_sim::{SimConfig, Simulator};
//! let sim = Simulator::spawn(SimConfig::default()).await?;
//! println!("{} {}:{}", sim.api_base_url(), sim.account_id(), sim.pat());
//! # Ok(()) }
//! ```

mod accounts;
mod activity;
mod admin;
mod agent_app;
mod api;
mod clock;
mod dates;
mod generate;
mod knobs;
mod listing;
mod model;
mod ops;
mod server;
mod webhooks;
mod wire;

use std::sync::Arc;

use rand::SeedableRng;
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use scoreline_core::{Clock, Timestamp};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use accounts::{
    ACCESS_TOKEN_TTL_SECS, AuthKind, CODE_TTL_SECS, OAuthApp, TOKEN_CAP, TokenPair, redirect_allowed,
};
pub use clock::SimClock;
pub use dates::Precision;
pub use knobs::{
    AckBody, Fault, Knobs, Options, RandomFaults, RateLimit, RateLimitBody, RetryAfterForm, Rotation,
    ScriptedFault,
};
pub use model::{AgentCard, Silo, Status, TicketTruth};
pub use server::{REQUEST_LOG_CAP, RequestRecord};
pub use webhooks::{DELIVERY_LOG_CAP, DeliveryRecord};

use server::{Sim, SimParts};

/// 2026-01-15T09:00:00.000Z: where sim time starts unless the config says otherwise.
pub const DEFAULT_START: Timestamp = Timestamp::from_millis(1_768_467_600_000);

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("ticket not found")]
    NotFound,
    #[error("the {} silo is read-only", .0.as_str())]
    ReadOnlySilo(Silo),
    #[error("{0}")]
    Validation(String),
}

/// Where the simulator's "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Stands still at this time until advanced: deterministic, for tests.
    Fixed(Timestamp),
    /// Follows the wall clock: for the demo.
    System,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub agents: usize,
    pub tickets: usize,
    /// Generated tickets are spread over this many days before the start time.
    pub days: u32,
    pub clock: ClockMode,
    /// 0 picks a free port.
    pub api_port: u16,
    pub accounts_port: u16,
    pub knobs: Knobs,
    pub options: Options,
    /// Allowed OAuth redirect URIs (`:*` = any port).
    pub redirect_uris: Vec<String>,
    /// Grant OAuth consent without showing the page.
    pub oauth_auto_approve: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            agents: 25,
            tickets: 200,
            days: 14,
            clock: ClockMode::Fixed(DEFAULT_START),
            api_port: 0,
            accounts_port: 0,
            knobs: Knobs::default(),
            options: Options::default(),
            redirect_uris: vec!["http://127.0.0.1:*".to_owned(), "http://localhost:*".to_owned()],
            oauth_auto_approve: false,
        }
    }
}

pub struct Simulator;

impl Simulator {
    /// Generates the data, binds both listeners on 127.0.0.1, and serves until the handle is
    /// dropped or shut down. Requests are accepted as soon as this returns.
    pub async fn spawn(config: SimConfig) -> std::io::Result<SimHandle> {
        let api_listener = TcpListener::bind(("127.0.0.1", config.api_port)).await?;
        let accounts_listener = TcpListener::bind(("127.0.0.1", config.accounts_port)).await?;
        let api_url = format!("http://{}", api_listener.local_addr()?);
        let accounts_url = format!("http://{}", accounts_listener.local_addr()?);
        let clock = match config.clock {
            ClockMode::Fixed(start) => SimClock::fixed(start),
            ClockMode::System => SimClock::system(),
        };
        let spec = generate::Spec {
            seed: config.seed,
            agents: config.agents,
            tickets: config.tickets,
            days: config.days,
            now: clock.now_millis(),
            precision: config.knobs.precision,
        };
        let store = tokio::task::spawn_blocking(move || generate::generate(spec))
            .await
            .map_err(std::io::Error::other)?;
        let mut rng = StdRng::seed_from_u64(config.seed ^ 0x0acc_0047);
        let app = OAuthApp {
            client_id: Alphanumeric.sample_string(&mut rng, 32).to_lowercase(),
            client_secret: Alphanumeric.sample_string(&mut rng, 40),
            redirect_uris: config.redirect_uris.clone(),
            auto_approve: config.oauth_auto_approve,
        };
        let organization_id = model::random_uuid(&mut rng);
        let account_id = store.account_id.to_string();
        let accounts = accounts::Accounts::new(account_id, organization_id, app, rng);
        let faults = knobs::FaultPlan::new(StdRng::seed_from_u64(config.seed ^ 0xfa17_0175));
        let activity = activity::Activity::new(config.seed, clock.now_millis());
        let (stop, shutdown) = watch::channel(false);
        let sim = Arc::new(Sim::new(SimParts {
            clock,
            api_url,
            accounts_url,
            store,
            knobs: config.knobs,
            options: config.options,
            accounts,
            faults,
            activity,
            shutdown,
            http: reqwest::Client::builder().build().map_err(std::io::Error::other)?,
            webhook_dice: StdRng::seed_from_u64(config.seed ^ 0x0e6b_0005),
        }));
        let serve = |listener: TcpListener, router: axum::Router| {
            let mut shutdown = stop.subscribe();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                };
                if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(stopped).await {
                    tracing::warn!(%error, "helpdesk simulator listener stopped");
                }
            })
        };
        let tasks = vec![
            serve(api_listener, server::router(sim.clone())),
            serve(accounts_listener, server::accounts_router(sim.clone())),
        ];
        Ok(SimHandle { sim, stop, tasks })
    }
}

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookCard {
    pub id: Uuid,
    pub url: String,
    pub event_type: String,
}

/// A running simulator. Dropping it stops the listeners.
pub struct SimHandle {
    sim: Arc<Sim>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`; API paths start with `/v1/…`, as under `https://api.helpdesk.com`.
    pub fn api_base_url(&self) -> String {
        self.sim.api_url.clone()
    }

    /// The accounts service root: authorize at `{accounts_url}/`, tokens at `/v2/token`.
    pub fn accounts_url(&self) -> String {
        self.sim.accounts_url.clone()
    }

    /// The Text/LiveChat account ID (a UUID), the user part of Basic auth.
    pub fn account_id(&self) -> String {
        self.sim.accounts().account_id.clone()
    }

    /// A personal access token (`dal:…`, with a colon like real ones).
    pub fn pat(&self) -> String {
        self.sim.accounts().pat()
    }

    pub fn oauth_client_id(&self) -> String {
        self.sim.accounts().app.client_id.clone()
    }

    pub fn oauth_client_secret(&self) -> String {
        self.sim.accounts().app.client_secret.clone()
    }

    pub fn redirect_uris(&self) -> Vec<String> {
        self.sim.accounts().app.redirect_uris.clone()
    }

    /// The numeric HelpDesk license ID (`licenseID`).
    pub fn license_id(&self) -> i64 {
        self.sim.store().license_id
    }

    /// Sim time; advance or set it through this handle (clones share the time).
    pub fn clock(&self) -> SimClock {
        self.sim.clock.clone()
    }

    pub fn now(&self) -> Timestamp {
        self.sim.clock.now()
    }

    pub fn knobs(&self) -> Knobs {
        self.sim.knobs()
    }

    pub fn set_knobs(&self, knobs: Knobs) {
        self.sim.set_knobs(knobs);
    }

    /// `sim.update_knobs(|knobs| knobs.latency_ms = 50)`.
    pub fn update_knobs(&self, change: impl FnOnce(&mut Knobs)) {
        let mut knobs = self.sim.knobs();
        change(&mut knobs);
        self.sim.set_knobs(knobs);
    }

    pub fn options(&self) -> Options {
        self.sim.options()
    }

    pub fn update_options(&self, change: impl FnOnce(&mut Options)) {
        let mut options = self.sim.options();
        change(&mut options);
        self.sim.set_options(options);
    }

    pub fn script_fault(&self, fault: ScriptedFault) {
        self.sim.script_fault(fault);
    }

    /// Scripted faults not yet used up.
    pub fn pending_faults(&self) -> Vec<ScriptedFault> {
        self.sim.faults().pending()
    }

    pub fn clear_faults(&self) {
        self.sim.faults().clear();
    }

    /// Another valid PAT for the same account.
    pub fn issue_pat(&self) -> String {
        self.sim.accounts().issue_pat()
    }

    /// Another person of the same license: the Account ID of the first agent other than the
    /// owner, with a PAT of their own (each call issues that person another). Returns
    /// `(account_id, pat)`.
    pub fn add_person(&self) -> (String, String) {
        let owner = self.account_id();
        let account_id = self
            .sim
            .store()
            .agents
            .iter()
            .map(|agent| agent.account_id.to_string())
            .find(|account| *account != owner)
            .unwrap_or_else(|| Uuid::now_v7().to_string());
        let pat = self.sim.accounts().issue_pat_for(&account_id);
        (account_id, pat)
    }

    /// Revokes a PAT, access token or refresh token; false if none matched.
    pub fn revoke(&self, token: &str) -> bool {
        self.sim.accounts().revoke(token)
    }

    /// Tokens as a completed OAuth flow would give them, without the browser part.
    pub fn issue_tokens(&self) -> TokenPair {
        self.sim.issue_tokens()
    }

    /// Creates a ticket from a `POST /v1/tickets` body (author defaults to the owner agent).
    pub fn create_ticket(&self, body: &Value) -> Result<Uuid, SimError> {
        self.sim.create_ticket(body.to_string().as_bytes())
    }

    /// Applies a `PATCH /v1/tickets/{ID}` body.
    pub fn update_ticket(&self, id: Uuid, body: &Value) -> Result<(), SimError> {
        self.sim.update_ticket(&id, body.to_string().as_bytes())
    }

    pub fn delete_ticket(&self, id: Uuid) -> Result<(), SimError> {
        self.sim.delete_ticket(&id)
    }

    pub fn move_ticket(&self, id: Uuid, silo: Silo) -> Result<(), SimError> {
        self.sim.move_ticket(&id, silo)
    }

    /// Adds an active agent (role `normal`, default team); returns its `ID`.
    pub fn add_agent(&self, name: &str, email: &str) -> Uuid {
        self.sim.add_agent(name, email)
    }

    /// Every agent of the account, in the order HelpDesk lists them.
    pub fn agents(&self) -> Vec<AgentCard> {
        let store = self.sim.store();
        let team_name = |index: &u32| store.teams.get(*index as usize).map(|team| team.name.clone());
        store
            .agents
            .iter()
            .map(|agent| AgentCard {
                id: agent.id,
                name: agent.name.clone(),
                email: agent.email.clone(),
                team_names: agent.teams.iter().filter_map(team_name).collect(),
                active: agent.status == model::AgentStatus::Active,
            })
            .collect()
    }

    /// Every ticket with its ID, updatedAt, silo and event count, by (updatedAt, ID).
    pub fn truth(&self) -> Vec<TicketTruth> {
        self.sim.truth()
    }

    /// One ticket exactly as `GET /v1/tickets/{ID}` renders it.
    pub fn ticket_json(&self, id: Uuid) -> Option<Value> {
        let format = self.sim.wire_format();
        let store = self.sim.store();
        let ticket = store.ticket(&id)?;
        serde_json::to_value(wire::TicketOut { store: &store, ticket, format }).ok()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sim.requests()
    }

    /// Webhook deliveries made so far (and lost ones), oldest first; a delivery whose answer
    /// has not come yet is not listed.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.sim.deliveries.all()
    }

    /// The registered webhooks, as `GET /v1/webhooks` lists them.
    pub fn webhooks(&self) -> Vec<WebhookCard> {
        let store = self.sim.store();
        store
            .webhooks
            .iter()
            .map(|hook| WebhookCard {
                id: hook.id,
                url: hook.url.clone(),
                event_type: hook.event_type.clone(),
            })
            .collect()
    }

    /// Removes a webhook as a HelpDesk admin would; false if there was none.
    pub fn remove_webhook(&self, id: Uuid) -> bool {
        self.sim.store_mut().remove_webhook(id)
    }

    pub fn clear_requests(&self) {
        self.sim.clear_requests();
    }

    /// Requests received and not yet in [`Self::requests`].
    pub fn requests_in_flight(&self) -> usize {
        self.sim.requests_in_flight()
    }

    /// The real clock of [`RequestRecord::received_micros`].
    pub fn real_micros(&self) -> u64 {
        self.sim.real_micros()
    }

    /// Stops both listeners and waits for them (hung requests are released first).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}
