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
    /// A server holds the sync lease: a run is under way.
    pub running: bool,
    /// What the running sync waits for at HelpDesk's rate limit, as last reported.
    pub rate_limit: Option<RateLimitWait>,
    /// When this run took the backfill up, and its millionths done then.
    pub backfill_resumed: Option<(Timestamp, u32)>,
    pub last_run: Option<LastRun>,
}

impl SyncState {
    /// What the sync waits for at HelpDesk's rate limit at `now`: only while a run holds the
    /// lease (a stopped run's last report says nothing), and a `Retry-After` until it ends.
    pub fn rate_limit_wait(&self, now: Timestamp) -> Option<RateLimitWait> {
        if !self.running {
            return None;
        }
        match self.rate_limit? {
            RateLimitWait::RetryAfter { until } if until <= now => None,
            wait => Some(wait),
        }
    }
}

/// Why a running sync is waiting for HelpDesk's rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitWait {
    /// Requests wait for their turn at the pace HelpDesk accepts.
    Pacing,
    /// HelpDesk answered 429: nothing is sent before `until`.
    RetryAfter { until: Timestamp },
}

impl RateLimitWait {
    pub const fn kind(self) -> &'static str {
        match self {
            Self::Pacing => "pacing",
            Self::RetryAfter { .. } => "retry_after",
        }
    }

    /// Read back from its kind and the instant stored beside it.
    pub fn from_parts(kind: &str, until: Option<Timestamp>) -> Option<Self> {
        match (kind, until) {
            ("pacing", _) => Some(Self::Pacing),
            ("retry_after", Some(until)) => Some(Self::RetryAfter { until }),
            _ => None,
        }
    }
}

/// How the last run ended: when, and how many cases it changed (`None`: it failed, and
/// `SyncState::last_error` says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LastRun {
    pub at: Timestamp,
    pub written: Option<u64>,
}

/// How far one backfill window has been read: paging goes by `updatedAt` ascending, so the
/// cursor's `updatedAt` says how much of the window's span lies behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowReach {
    pub start: Timestamp,
    pub end: Timestamp,
    pub reached: Option<Timestamp>,
    pub done: bool,
}

/// Millionths of the backfill's time span already read, over all its windows.
pub fn backfill_ppm(windows: impl IntoIterator<Item = WindowReach>) -> u32 {
    let (mut span, mut covered) = (0u128, 0u128);
    for window in windows {
        let length = u128::try_from(window.end.as_millis() - window.start.as_millis()).unwrap_or(0);
        let read = match (window.done, window.reached) {
            (true, _) => length,
            (false, None) => 0,
            (false, Some(reached)) => {
                u128::try_from(reached.as_millis() - window.start.as_millis()).unwrap_or(0).min(length)
            }
        };
        span += length;
        covered += read;
    }
    if span == 0 {
        return 0;
    }
    u32::try_from(covered * 1_000_000 / span).unwrap_or(1_000_000)
}

/// What the time left of a backfill is believed to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Eta {
    /// Too little has happened since the run took the backfill up to tell.
    Estimating,
    Left(std::time::Duration),
}

/// Before this long and this much progress, an estimate would mostly be noise.
const ETA_MIN_ELAPSED_MS: i64 = 5_000;
const ETA_MIN_GAIN_PPM: u32 = 10_000;

/// The time left at the rate since the backfill was taken up at `resumed_at` with
/// `resumed_ppm` done; `ppm` is done `now`.
pub fn estimate_left(resumed_at: Timestamp, resumed_ppm: u32, now: Timestamp, ppm: u32) -> Eta {
    let elapsed = now.as_millis() - resumed_at.as_millis();
    let gained = ppm.saturating_sub(resumed_ppm);
    if elapsed < ETA_MIN_ELAPSED_MS || gained < ETA_MIN_GAIN_PPM {
        return Eta::Estimating;
    }
    let left = u128::from(1_000_000u32.saturating_sub(ppm));
    let millis = u128::try_from(elapsed).unwrap_or(0) * left / u128::from(gained);
    Eta::Left(std::time::Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn backfill_progress_counts_the_span_behind_each_cursor() {
        let window = |start, end, reached: Option<i64>, done| WindowReach {
            start: at(start),
            end: at(end),
            reached: reached.map(at),
            done,
        };
        assert_eq!(backfill_ppm([]), 0);
        let windows = [
            window(0, 1000, None, true),
            window(1000, 2000, Some(1250), false),
            window(2000, 3000, None, false),
            // A cursor past its window's end counts as the whole window.
            window(3000, 4000, Some(9000), false),
        ];
        assert_eq!(backfill_ppm(windows), 562_500);
    }

    #[test]
    fn the_time_left_follows_the_rate_since_the_run_took_the_backfill_up() {
        let start = at(1_000_000);
        assert_eq!(estimate_left(start, 0, at(1_004_000), 500_000), Eta::Estimating, "too soon");
        assert_eq!(estimate_left(start, 100_000, at(1_060_000), 105_000), Eta::Estimating, "too little");
        // 20% in 10 s from 30%: the remaining 50% takes 25 s.
        assert_eq!(estimate_left(start, 300_000, at(1_010_000), 500_000), Eta::Left(Duration::from_secs(25)));
        assert_eq!(estimate_left(start, 0, at(1_010_000), 1_000_000), Eta::Left(Duration::ZERO));
    }
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
