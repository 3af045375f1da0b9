//! The per-account request pacer: a token bucket on tokio time (so tests can pause the clock)
//! that learns the rate the server accepts, and that a `Retry-After` closes until an instant.

use std::sync::{Arc, Mutex};
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

/// The pace a fresh pacer starts at, as a share of the configured rate. Exactly at the limit, a
/// millisecond of timer jitter makes two requests look too close to a strict server, and each
/// 429 then costs a whole `Retry-After` second.
const START_PACE: f64 = 0.97;
/// After a 429 the pace drops to this share of what it was (multiplicative decrease)...
const DECREASE: f64 = 0.85;
/// ...and never below this share of the configured rate.
const FLOOR_PACE: f64 = 0.05;
/// Every this many accepted requests in a row the pace rises by [`RECOVERY_STEP`] (additive
/// increase), back up to [`START_PACE`].
const RECOVERY_EVERY: u32 = 20;
const RECOVERY_STEP: f64 = 0.01;

/// The resolution of tokio's timers.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// A request held longer than this before release was waiting for the pace, not passing by.
const HELD_AFTER: Duration = Duration::from_millis(25);

/// Whether the pacer is holding requests back, as [`Pacer::watch_hold`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The last request went out as soon as it asked.
    Free,
    /// The last request waited for its turn at the pace.
    Paced,
    /// A `Retry-After` holds every request until this instant.
    Closed { until: Instant },
}

/// What the pacer is doing right now, for people watching a sync.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacerStatus {
    /// Until when a `Retry-After` holds every request, if it does now.
    pub closed_for: Option<Duration>,
    /// The rate the pacer sends at now.
    pub requests_per_second: f64,
    /// 429 answers this pacer has read.
    pub throttled: u64,
}

/// Every attempt to one account passes [`Pacer::acquire`] first. Cheap to clone; clones share
/// one schedule, so every client of one account (every window of a backfill, every run of a
/// sync) should share one pacer.
///
/// Requests go out one at a time in arrival order (a fair lock), and the schedule moves from
/// the instant each one was actually released (generic cell rate algorithm): a request released
/// late by a busy machine pushes the next one back instead of letting two go too close
/// together. A 429 closes the account for its `Retry-After` and lowers the pace; accepted
/// requests raise it again gradually.
#[derive(Debug, Clone)]
pub struct Pacer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The interval at exactly the configured rate.
    configured_interval: Duration,
    burst: u32,
    /// Held from reserving a slot until the request is released, so releases keep their order.
    turn: tokio::sync::Mutex<()>,
    state: Mutex<Schedule>,
    hold: tokio::sync::watch::Sender<Hold>,
}

#[derive(Debug)]
struct Schedule {
    /// When the next request would go if requests had come at exactly the current pace.
    theoretical_arrival: Instant,
    closed_until: Option<Instant>,
    /// Share of the configured rate, in `[FLOOR_PACE, START_PACE]`.
    pace: f64,
    accepted_in_a_row: u32,
    /// When the pace was last lowered: a 429 to a request released before that says nothing
    /// about the new pace.
    lowered_at: Option<Instant>,
    throttled: u64,
}

/// The instant a request was released, handed back with its outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Release(Instant);

impl Pacer {
    /// An infinite rate means no pacing (only `Retry-After` holds).
    pub fn new(limit: RateLimit) -> Result<Self, HelpDeskError> {
        if limit.requests_per_second.is_nan() || limit.requests_per_second <= 0.0 {
            return Err(HelpDeskError::InvalidRequest(format!(
                "the rate limit must be above 0 requests per second, not {}",
                limit.requests_per_second
            )));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                configured_interval: Duration::from_secs_f64(1.0 / limit.requests_per_second),
                burst: limit.burst.max(1),
                turn: tokio::sync::Mutex::new(()),
                hold: tokio::sync::watch::Sender::new(Hold::Free),
                state: Mutex::new(Schedule {
                    theoretical_arrival: Instant::now(),
                    closed_until: None,
                    pace: START_PACE,
                    accepted_in_a_row: 0,
                    lowered_at: None,
                    throttled: 0,
                }),
            }),
        })
    }

    /// Waits until this request may be sent.
    pub(crate) async fn acquire(&self) -> Release {
        let asked = Instant::now();
        let _turn = self.inner.turn.lock().await;
        loop {
            let slot = self.lock().next_slot(self.inner.as_ref(), Instant::now());
            tokio::time::sleep_until(slot).await;
            let now = Instant::now();
            let mut schedule = self.lock();
            // A `Retry-After` may have closed the account while this request slept.
            if schedule.closed_until.is_some_and(|until| until > now) {
                continue;
            }
            let interval = schedule.interval(self.inner.as_ref());
            // Timers fire up to a tick after their deadline; only a later release is "late".
            let released = if now - slot <= TIMER_TICK { slot } else { now };
            schedule.theoretical_arrival = schedule.theoretical_arrival.max(released) + interval;
            drop(schedule);
            let waited = asked.elapsed();
            let hold = if waited > HELD_AFTER { Hold::Paced } else { Hold::Free };
            self.inner.hold.send_if_modified(|shown| std::mem::replace(shown, hold) != hold);
            metrics::histogram!("scoreline_helpdesk_rate_limit_wait_seconds").record(waited.as_secs_f64());
            return Release(now);
        }
    }

    /// A request released at `release` was answered without a 429.
    pub(crate) fn accepted(&self, release: Release) {
        let mut schedule = self.lock();
        if schedule.lowered_at.is_some_and(|lowered| release.0 <= lowered) {
            return;
        }
        schedule.accepted_in_a_row += 1;
        if schedule.accepted_in_a_row >= RECOVERY_EVERY {
            schedule.accepted_in_a_row = 0;
            schedule.pace = (schedule.pace + RECOVERY_STEP).min(START_PACE);
        }
    }

    /// A request released at `release` was refused with 429: slow down, once per refusal of
    /// the current pace, and hold everyone until `until`.
    pub(crate) fn throttled(&self, release: Release, until: Instant) {
        let mut schedule = self.lock();
        schedule.throttled += 1;
        if schedule.lowered_at.is_none_or(|lowered| release.0 > lowered) {
            schedule.pace = (schedule.pace * DECREASE).max(FLOOR_PACE);
            schedule.lowered_at = Some(Instant::now());
            schedule.accepted_in_a_row = 0;
            tracing::debug!(pace = schedule.pace, "HelpDesk answered 429; slowing down");
        }
        drop(schedule);
        self.close_until(until);
    }

    /// Nobody passes before `until`; afterwards the bucket starts empty, so requests resume at
    /// the steady pace rather than in a burst.
    pub(crate) fn close_until(&self, until: Instant) {
        let mut schedule = self.lock();
        let closed = schedule.closed_until.map_or(until, |c| c.max(until));
        schedule.closed_until = Some(closed);
        let tolerance = schedule.tolerance(self.inner.as_ref());
        schedule.theoretical_arrival = schedule.theoretical_arrival.max(until + tolerance);
        drop(schedule);
        self.inner.hold.send_replace(Hold::Closed { until: closed });
    }

    /// Follows whether requests are held back: for people watching a sync, who should know
    /// when HelpDesk's rate limit, not Scoreline, sets its speed.
    pub fn watch_hold(&self) -> tokio::sync::watch::Receiver<Hold> {
        self.inner.hold.subscribe()
    }

    pub fn status(&self) -> PacerStatus {
        let now = Instant::now();
        let schedule = self.lock();
        PacerStatus {
            closed_for: schedule.closed_until.filter(|until| *until > now).map(|until| until - now),
            requests_per_second: schedule.pace / self.inner.configured_interval.as_secs_f64(),
            throttled: schedule.throttled,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        // The schedule stays consistent even if a holder panicked: every write is a single store.
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Schedule {
    fn interval(&self, inner: &Inner) -> Duration {
        inner.configured_interval.div_f64(self.pace)
    }

    /// How far ahead of the theoretical schedule a burst may run.
    fn tolerance(&self, inner: &Inner) -> Duration {
        self.interval(inner).saturating_mul(inner.burst - 1)
    }

    fn next_slot(&self, inner: &Inner, now: Instant) -> Instant {
        let earliest = self.theoretical_arrival.checked_sub(self.tolerance(inner)).unwrap_or(now);
        earliest.max(now).max(self.closed_until.unwrap_or(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send_times(pacer: &Pacer, count: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..count {
            pacer.accepted(pacer.acquire().await);
            times.push(start.elapsed());
        }
        times
    }

    fn millis(times: &[Duration]) -> Vec<u128> {
        times.iter().map(Duration::as_millis).collect()
    }

    #[test]
    fn a_rate_must_be_positive() {
        for rate in [0.0, -1.0, f64::NAN] {
            let limit = RateLimit { requests_per_second: rate, burst: 1 };
            assert!(Pacer::new(limit).is_err(), "{rate}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn allows_a_burst_then_the_steady_rate() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 10.0, burst: 3 }).unwrap();
        let times = send_times(&pacer, 5).await;
        // 10 per second at the starting pace of 97%: one every 103.1 ms (timers round up to
        // the next millisecond).
        assert_eq!(millis(&times), vec![0, 0, 0, 104, 207]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_released_late_pushes_the_next_one_back() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 10.0, burst: 1 }).unwrap();
        let start = Instant::now();
        pacer.acquire().await;
        // The caller comes back for its second slot 150 ms late; the third still keeps its
        // distance from the second instead of following the original schedule.
        tokio::time::sleep(Duration::from_millis(253)).await;
        pacer.acquire().await;
        let second = start.elapsed();
        pacer.acquire().await;
        let third = start.elapsed();
        assert_eq!(second.as_millis(), 253);
        assert!(third - second >= Duration::from_millis(103), "{:?}", third - second);
    }

    #[tokio::test(start_paused = true)]
    async fn closing_holds_waiters_that_reserved_earlier_slots() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 1.0, burst: 1 }).unwrap();
        let start = Instant::now();
        pacer.acquire().await;
        // This waiter holds the slot at ~1 s when the account is closed until 3 s.
        let waiter = {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                pacer.acquire().await;
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        pacer.close_until(start + Duration::from_secs(3));
        assert!(pacer.status().closed_for.is_some());
        let later = send_times(&pacer, 2).await;
        let waited = waiter.await.unwrap();
        assert_eq!(waited.as_millis(), 3000);
        // After the close the bucket starts empty: one request per 1/0.97 s again.
        let later: Vec<Duration> = later.iter().map(|t| *t + Duration::from_millis(500)).collect();
        assert_eq!(millis(&later), vec![4031, 5062]);
        assert_eq!(pacer.status().closed_for, None);
    }

    /// A strict server: a token bucket of one, refilled at `rate`, that answers 429 with a
    /// whole-second `Retry-After` when a request comes early.
    struct StrictServer {
        rate: f64,
        tokens: f64,
        last: Instant,
    }

    impl StrictServer {
        fn answer(&mut self, now: Instant) -> Result<(), Duration> {
            self.tokens = (self.tokens + (now - self.last).as_secs_f64() * self.rate).min(1.0);
            self.last = now;
            if self.tokens >= 1.0 - 1e-9 {
                self.tokens -= 1.0;
                Ok(())
            } else {
                Err(Duration::from_secs(1))
            }
        }
    }

    /// Sends `count` requests through `pacer` to a server that accepts `server_rate`, each one
    /// arriving `jitter(i)` after its release; returns (accepted, refused, elapsed).
    async fn against_strict_server(
        pacer: &Pacer,
        server_rate: f64,
        count: usize,
        jitter: impl Fn(usize) -> Duration,
    ) -> (usize, usize, Duration) {
        let start = Instant::now();
        let mut server = StrictServer { rate: server_rate, tokens: 1.0, last: start };
        let (mut accepted, mut refused) = (0, 0);
        let mut closed_until: Option<Instant> = None;
        let mut arrivals = Vec::new();
        while accepted < count {
            let release = pacer.acquire().await;
            assert!(closed_until.is_none_or(|until| release.0 >= until), "released during a Retry-After");
            let arrival = release.0 + jitter(accepted + refused);
            arrivals.push(arrival);
            match server.answer(arrival) {
                Ok(()) => {
                    accepted += 1;
                    pacer.accepted(release);
                }
                Err(wait) => {
                    refused += 1;
                    let until = Instant::now() + wait;
                    closed_until = Some(until);
                    pacer.throttled(release, until);
                }
            }
        }
        (accepted, refused, start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_of_one_is_used_to_over_ninety_percent_without_a_refusal() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 20.0, burst: 1 }).unwrap();
        // Arrival jitter of up to a millisecond, alternating, as timers and sockets add.
        let jitter = |i: usize| Duration::from_micros(if i.is_multiple_of(2) { 900 } else { 0 });
        let (accepted, refused, elapsed) = against_strict_server(&pacer, 20.0, 400, jitter).await;
        let utilisation = accepted as f64 / elapsed.as_secs_f64() / 20.0;
        assert_eq!(refused, 0);
        assert!(utilisation >= 0.95, "{utilisation}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_slower_than_configured_is_learned_after_a_few_refusals() {
        // Configured for 20 per second; the server accepts 10.
        let pacer = Pacer::new(RateLimit { requests_per_second: 20.0, burst: 1 }).unwrap();
        let (accepted, refused, elapsed) = against_strict_server(&pacer, 10.0, 300, |_| Duration::ZERO).await;
        let rate = pacer.status().requests_per_second;
        assert!(rate <= 10.0, "{rate}");
        // Each decrease takes 15%: 0.97 → … → under half the configured rate in five steps;
        // recovery then probes upwards and is refused now and then.
        assert!((5..=20).contains(&refused), "{refused} refusals");
        let utilisation = accepted as f64 / elapsed.as_secs_f64() / 10.0;
        assert!(utilisation >= 0.75, "{utilisation}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_storm_of_429s_lowers_the_pace_once_per_pace_and_holds_every_request() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 10.0, burst: 4 }).unwrap();
        let start = Instant::now();
        // Four requests go out at once and all four are refused: one lesson, not four.
        let releases =
            [pacer.acquire().await, pacer.acquire().await, pacer.acquire().await, pacer.acquire().await];
        for release in releases {
            pacer.throttled(release, start + Duration::from_secs(2));
        }
        let status = pacer.status();
        assert_eq!(status.throttled, 4);
        assert!((status.requests_per_second - 10.0 * START_PACE * DECREASE).abs() < 1e-9, "{status:?}");
        // Nothing is released before the Retry-After ends.
        let next = pacer.acquire().await;
        assert_eq!(next.0 - start, Duration::from_secs(2));
        // A refusal of a request released after the decrease lowers the pace again, down to
        // the floor and no further.
        let mut release = next;
        for _ in 0..40 {
            pacer.throttled(release, Instant::now());
            tokio::time::sleep(Duration::from_millis(1)).await;
            release = pacer.acquire().await;
        }
        assert!((pacer.status().requests_per_second - 10.0 * FLOOR_PACE).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn the_hold_says_when_requests_wait_for_the_pace_or_a_retry_after() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 2.0, burst: 1 }).unwrap();
        let hold = pacer.watch_hold();
        pacer.acquire().await;
        assert_eq!(*hold.borrow(), Hold::Free, "the first request goes at once");
        pacer.acquire().await;
        assert_eq!(*hold.borrow(), Hold::Paced, "the second waits half a second");
        tokio::time::sleep(Duration::from_secs(2)).await;
        pacer.acquire().await;
        assert_eq!(*hold.borrow(), Hold::Free, "after a quiet spell nothing waits");
        let until = Instant::now() + Duration::from_secs(3);
        pacer.close_until(until);
        assert_eq!(*hold.borrow(), Hold::Closed { until });
        pacer.acquire().await;
        assert_eq!(*hold.borrow(), Hold::Paced, "released after the Retry-After");
    }

    #[tokio::test(start_paused = true)]
    async fn accepted_requests_recover_the_pace_gradually() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 100.0, burst: 1 }).unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let release = pacer.acquire().await;
        pacer.throttled(release, Instant::now());
        let lowered = pacer.status().requests_per_second;
        send_times(&pacer, RECOVERY_EVERY as usize).await;
        let once = pacer.status().requests_per_second;
        assert!((once - lowered - 100.0 * RECOVERY_STEP).abs() < 1e-9, "{lowered} → {once}");
        send_times(&pacer, 40 * RECOVERY_EVERY as usize).await;
        assert!((pacer.status().requests_per_second - 100.0 * START_PACE).abs() < 1e-9);
    }
}
