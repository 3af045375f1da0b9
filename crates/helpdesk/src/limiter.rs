//! The per-account request pacer: a token bucket on tokio time (so tests can pause the clock),
//! which a `Retry-After` can close until a given instant.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::HelpDeskError;

/// Requests per second and how many may go at once after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub requests_per_second: f64,
    pub burst: u32,
}

impl Default for RateLimit {
    /// Undocumented upstream; a few requests a second is what well-behaved clients use.
    fn default() -> Self {
        Self { requests_per_second: 5.0, burst: 5 }
    }
}

/// Requests go out at this share of the configured rate: exactly at the limit, a millisecond of
/// timer jitter makes two requests look too close to a strict server, and each 429 then costs
/// a whole `Retry-After`.
const PACING_HEADROOM: f64 = 0.95;

/// Every attempt to one account passes [`RateLimiter::acquire`] first.
///
/// Each caller reserves the next free slot (generic cell rate algorithm), so waiters are served in
/// arrival order without polling. [`RateLimiter::close_until`] stops everyone until an instant.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    /// How far ahead of the theoretical schedule a burst may run.
    tolerance: Duration,
    state: Mutex<Schedule>,
}

#[derive(Debug)]
struct Schedule {
    /// When the next request would be sent if requests had come at exactly the rate.
    theoretical_arrival: Instant,
    closed_until: Option<Instant>,
}

impl RateLimiter {
    /// An infinite rate means no pacing (only `Retry-After` holds).
    pub(crate) fn new(limit: RateLimit) -> Result<Self, HelpDeskError> {
        if limit.requests_per_second.is_nan() || limit.requests_per_second <= 0.0 {
            return Err(HelpDeskError::InvalidRequest(format!(
                "the rate limit must be above 0 requests per second, not {}",
                limit.requests_per_second
            )));
        }
        let interval = Duration::from_secs_f64(1.0 / (limit.requests_per_second * PACING_HEADROOM));
        Ok(Self {
            interval,
            tolerance: interval.saturating_mul(limit.burst.max(1) - 1),
            state: Mutex::new(Schedule { theoretical_arrival: Instant::now(), closed_until: None }),
        })
    }

    /// Waits until this request may be sent.
    pub(crate) async fn acquire(&self) {
        let asked = Instant::now();
        loop {
            let slot = self.reserve();
            tokio::time::sleep_until(slot).await;
            // A `Retry-After` may have closed the account while this request slept.
            if self.closed_at(Instant::now()).is_none() {
                metrics::histogram!("scoreline_helpdesk_rate_limit_wait_seconds")
                    .record(asked.elapsed().as_secs_f64());
                return;
            }
        }
    }

    /// Nobody passes before `until`; afterwards the bucket starts empty, so requests resume at
    /// the steady rate rather than in a burst.
    pub(crate) fn close_until(&self, until: Instant) {
        let mut schedule = self.lock();
        schedule.closed_until = Some(schedule.closed_until.map_or(until, |c| c.max(until)));
        schedule.theoretical_arrival = schedule.theoretical_arrival.max(until + self.tolerance);
    }

    fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut schedule = self.lock();
        let arrival = schedule.theoretical_arrival.max(now);
        let mut slot = arrival.checked_sub(self.tolerance).unwrap_or(now).max(now);
        if let Some(closed_until) = schedule.closed_until {
            slot = slot.max(closed_until);
        }
        schedule.theoretical_arrival = arrival.max(slot) + self.interval;
        slot
    }

    fn closed_at(&self, now: Instant) -> Option<Instant> {
        self.lock().closed_until.filter(|until| *until > now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        // The schedule stays consistent even if a holder panicked: every write is a single store.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send_times(limiter: &RateLimiter, count: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..count {
            limiter.acquire().await;
            times.push(start.elapsed());
        }
        times
    }

    #[test]
    fn a_rate_must_be_positive() {
        for rate in [0.0, -1.0, f64::NAN] {
            let limit = RateLimit { requests_per_second: rate, burst: 1 };
            assert!(RateLimiter::new(limit).is_err(), "{rate}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn allows_a_burst_then_the_steady_rate() {
        let limiter = RateLimiter::new(RateLimit { requests_per_second: 10.0, burst: 3 }).unwrap();
        let times = send_times(&limiter, 5).await;
        let millis: Vec<u128> = times.iter().map(Duration::as_millis).collect();
        // 10 per second less the pacing headroom: one every 105.3 ms.
        assert_eq!(millis, vec![0, 0, 0, 106, 211]);
    }

    #[tokio::test(start_paused = true)]
    async fn closing_holds_waiters_that_reserved_earlier_slots() {
        let limiter =
            std::sync::Arc::new(RateLimiter::new(RateLimit { requests_per_second: 1.0, burst: 1 }).unwrap());
        let start = Instant::now();
        limiter.acquire().await;
        // This waiter holds the slot at 1 s when the account is closed until 3 s.
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter.acquire().await;
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        limiter.close_until(start + Duration::from_secs(3));
        let later = send_times(&limiter, 2).await;
        let waited = waiter.await.unwrap();
        assert!(waited >= Duration::from_secs(3), "{waited:?}");
        // After the close the bucket starts empty: one request a second again (less headroom).
        let mut all: Vec<Duration> = later.iter().map(|t| *t + Duration::from_millis(500)).collect();
        all.push(waited);
        all.sort();
        assert_eq!(all.iter().map(Duration::as_millis).collect::<Vec<_>>(), vec![3000, 4053, 5106]);
    }
}
