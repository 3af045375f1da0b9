//! How an integration's sync stands, as pages and the API show it.

use serde::Serialize;

use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Never synced yet.
    Pending,
    Backfilling,
    Live,
    Paused,
    NeedsReauthorization,
    Error,
}

impl SyncPhase {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Backfilling => "backfilling",
            Self::Live => "live",
            Self::Paused => "paused",
            Self::NeedsReauthorization => "needs_reauthorization",
            Self::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Backfilling, Self::Live, Self::Paused, Self::NeedsReauthorization, Self::Error]
            .into_iter()
            .find(|phase| phase.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncState {
    pub phase: SyncPhase,
    /// The incremental cursor: the greatest `updatedAt` HelpDesk has shown us.
    pub cursor_updated_at: Option<Timestamp>,
    pub tickets_stored: u64,
    pub pages_fetched: u64,
    pub windows_total: u64,
    pub windows_done: u64,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// A "sync now" request not yet served.
    pub requested_at: Option<Timestamp>,
    /// When this state last changed (a page, a phase, an error).
    pub changed_at: Timestamp,
}

/// An integration's HelpDesk webhooks as this server last found them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookStatus {
    /// The event types HelpDesk had registered for the integration's URL at the last check.
    pub event_types: Vec<String>,
    pub checked_at: Timestamp,
    /// Why the last check or registration failed, if it did.
    pub last_error: Option<String>,
    /// When a delivery last came (noted at most once a minute).
    pub last_delivery_at: Option<Timestamp>,
}
