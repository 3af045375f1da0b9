//! Scoreline's use cases. Every entry point takes the [`Actor`] doing the work and checks the
//! permission matrix of `scoreline_core` before touching storage.

mod actor;
mod auth;
mod calibrations;
mod cases;
mod conversation;
mod credentials;
mod error;
mod evaluations;
mod integrations;
mod lists;
mod matching;
mod notes;
mod purge;
mod results;
mod scheduler;
mod scorecards;
mod staff;
mod staff_import;
mod sync;
mod token_source;
mod tokens;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use scoreline_core::SharedClock;
use scoreline_store::{Db, Sealer};

pub use actor::Actor;
pub use auth::{
    ARGON2_MEMORY_KIB, PASSWORD_MEMORY_BUDGET_KIB, PasswordCheckSettings, SignedIn, ThrottleSettings,
};
pub use calibrations::{
    CalibrationDetail, CreateCalibration, MAX_PARTICIPANTS, MIN_PARTICIPANTS, PeriodAgreement,
    ScoreCalibration,
};
pub use cases::{BackfillProgress, IntegrationOverview};
pub use conversation::{Conversation, ConversationEntry, EntryKind};
pub use credentials::{PasswordChange, PasswordResetLink, TokenRequest};
pub use error::AppError;
pub use evaluations::{ResolveDispute, StartEvaluation, UpdateEvaluation};
pub use integrations::{
    ConnectIntegration, HelpDeskSettings, OAuthCallback, OAuthFailure, OAuthFinished, OAuthStart,
    UpdateIntegration,
};
pub use lists::{AgentPreview, ListPreview, MAX_COUNT, PoolChoices, Skipped, definition_error};
pub use matching::{AgentDirectory, AgentEntry, AutoMatchReport, CreateStaffFromAgents, MatchSuggestion};
pub use purge::{PURGE_BATCH, PURGE_BATCH_SECONDS, PurgeReport};
pub use results::{AgentResults, EXPORT_PAGE, ResultsInput, ResultsReport, ResultsRequest};
pub use scorecards::MAX_SCORECARD_FILE_BYTES;
pub use scoreline_helpdesk::{PacerStatus, RateLimit};
pub use staff::{AccountOverview, CreateGroup, CreateTeam, CreateUser, UpdateUser};
pub use staff_import::{ImportPreview, ImportRow, MAX_IMPORT_ROWS};
pub use sync::{
    ProgressSender, SyncOutcome, SyncProgress, SyncSettings, case_record, is_transient, plan_windows,
};
pub use token_source::IntegrationTokens;
pub use tokens::{IssuedToken, SecretToken};
pub use webhooks::{WEBHOOK_EVENT_TYPES, WEBHOOK_PATH, WebhookCounters, WebhookOverview, WebhookSettings};

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, Clone)]
pub struct AppSettings {
    /// How long a browser session lasts.
    pub session_ttl: Duration,
    pub throttle: ThrottleSettings,
    pub password_checks: PasswordCheckSettings,
    /// How long an admin's password reset link works.
    pub password_reset_ttl: Duration,
    pub helpdesk: HelpDeskSettings,
    pub sync: SyncSettings,
    pub webhooks: WebhookSettings,
    /// Cases the retention purge removes per transaction ([`PURGE_BATCH`]).
    pub purge_batch: u32,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(12 * 3600),
            throttle: ThrottleSettings::default(),
            password_checks: PasswordCheckSettings::default(),
            password_reset_ttl: Duration::from_secs(24 * 3600),
            helpdesk: HelpDeskSettings::default(),
            sync: SyncSettings::default(),
            webhooks: WebhookSettings::default(),
            purge_batch: PURGE_BATCH,
        }
    }
}

/// The application: storage, clock and settings, shared by the web layer and the CLI.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    clock: SharedClock,
    sealer: Arc<Sealer>,
    settings: AppSettings,
    /// Permits for argon2 work, so its memory stays within `PASSWORD_MEMORY_BUDGET_KIB`.
    password_checks: Arc<auth::PasswordChecks>,
    /// Names this process in lock rows shared with other servers.
    instance_id: String,
    /// One OAuth refresh at a time per integration within this process; the lock row does the
    /// same across processes.
    refresh_locks: std::sync::Mutex<
        std::collections::HashMap<scoreline_core::IntegrationId, Arc<tokio::sync::Mutex<()>>>,
    >,
    /// One HelpDesk pacer per integration within this process, kept across sync runs.
    pacers:
        std::sync::Mutex<std::collections::HashMap<scoreline_core::IntegrationId, scoreline_helpdesk::Pacer>>,
    /// Webhook deliveries waiting for their ticket to be fetched.
    hints: webhooks::Hints,
}

impl App {
    pub fn new(db: Db, clock: SharedClock, sealer: Arc<Sealer>, settings: AppSettings) -> Self {
        let instance_id = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
        Self {
            inner: Arc::new(Inner {
                db,
                clock,
                sealer,
                password_checks: Arc::new(auth::PasswordChecks::new(&settings.password_checks)),
                settings,
                instance_id,
                refresh_locks: Default::default(),
                pacers: Default::default(),
                hints: Default::default(),
            }),
        }
    }

    /// Seals and unseals the credentials of integrations.
    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Storage, for the use cases only: nothing outside this crate reaches it through the app.
    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    pub(crate) fn refresh_lock(&self, id: scoreline_core::IntegrationId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.inner.refresh_locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(id).or_default().clone()
    }

    pub(crate) fn password_checks(&self) -> Arc<auth::PasswordChecks> {
        self.inner.password_checks.clone()
    }

    pub fn settings(&self) -> &AppSettings {
        &self.inner.settings
    }

    /// Whether the database answers, for readiness probes.
    pub async fn ready(&self) -> AppResult<()> {
        self.db().ping().await?;
        Ok(())
    }
}
