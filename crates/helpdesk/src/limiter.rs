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

/// Until the first 429 a request released late is made up for by the next ones (the schedule
/// keeps its pace), but with a burst of one no request leaves closer to the previous one than
/// the interval at this share of the configured rate...
const CATCH_UP_PACE: f64 = 0.985;
/// ...nor closer than the configured interval plus this. Two requests released a precise
/// interval apart reached the server up to 2.8 ms closer together (measured between two
/// processes on one busy 2-core machine: timer wake-ups and socket hand-offs on both sides),
/// and a bucket of one refuses the second; a network adds its own jitter. A bucket of more than
/// one absorbs it instead, so this applies to a burst of one only.
const JITTER_ALLOWANCE: Duration = Duration::from_millis(3);

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
    /// Requests released while a `Retry-After` this pacer had already read still held: 0 unless
    /// the pacer is broken. Checked against every hold read, apart from the schedule that
    /// enforces them.
    pub released_while_closed: u64,
}

/// Every attempt to one account passes [`Pacer::acquire`] first. Cheap to clone; clones share
/// one schedule, so every client of one account (every window of a backfill, every run of a
/// sync) should share one pacer.
///
/// Requests go out one at a time in arrival order (a fair lock) on a generic cell rate
/// schedule. Until the first 429 the schedule keeps its own pace, so a request released late by
/// a busy machine costs no throughput against a server that tolerates it; after a 429 it moves
/// from the instant each request was actually released, so a late one pushes the next one back
/// instead of letting two go too close together. A 429 closes the account for its
/// `Retry-After` and gives up the burst, and unless the refused request went on the burst it
/// lowers the pace; accepted requests raise the pace again gradually.
#[derive(Debug, Clone)]
pub struct Pacer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The interval at exactly the configured rate.
    configured_interval: Duration,
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
    /// How many may go at once: the configured burst until a 429, then one.
    burst: u32,
    accepted_in_a_row: u32,
    /// When the pace was last lowered: a 429 to a request released before that says nothing
    /// about the new pace.
    lowered_at: Option<Instant>,
    /// When the last request was released.
    last_release: Option<Instant>,
    throttled: u64,
    /// Each `Retry-After` read and not over yet: (read at, holds until).
    holds_read: Vec<(Instant, Instant)>,
    released_while_closed: u64,
}

/// A request's release, handed back with its outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Release {
    at: Instant,
    /// It went ahead of the steady schedule, on the burst.
    on_burst: bool,
}

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
                turn: tokio::sync::Mutex::new(()),
                hold: tokio::sync::watch::Sender::new(Hold::Free),
                state: Mutex::new(Schedule {
                    theoretical_arrival: Instant::now(),
                    closed_until: None,
                    pace: START_PACE,
                    burst: limit.burst.max(1),
                    accepted_in_a_row: 0,
                    lowered_at: None,
                    last_release: None,
                    throttled: 0,
                    holds_read: Vec::new(),
                    released_while_closed: 0,
                }),
            }),
        })
    }

    /// Waits until this request may be sent.
    pub(crate) async fn acquire(&self) -> Release {
        let asked = Instant::now();
        let _turn = self.inner.turn.lock().await;
        loop {
            let turn = Instant::now();
            let slot = self.lock().next_slot(self.inner.as_ref(), turn);
            tokio::time::sleep_until(slot).await;
            let now = Instant::now();
            let mut schedule = self.lock();
            // A `Retry-After` may have closed the account while this request slept.
            if schedule.closed_until.is_some_and(|until| until > now) {
                continue;
            }
            let on_burst = schedule.release(self.inner.as_ref(), turn, slot, now);
            drop(schedule);
            let waited = asked.elapsed();
            let hold = if waited > HELD_AFTER { Hold::Paced } else { Hold::Free };
            self.inner.hold.send_if_modified(|shown| std::mem::replace(shown, hold) != hold);
            metrics::histogram!("scoreline_helpdesk_rate_limit_wait_seconds").record(waited.as_secs_f64());
            return Release { at: now, on_burst };
        }
    }

    /// A request released at `release` was answered without a 429.
    pub(crate) fn accepted(&self, release: Release) {
        let mut schedule = self.lock();
        if schedule.lowered_at.is_some_and(|lowered| release.at <= lowered) {
            return;
        }
        schedule.accepted_in_a_row += 1;
        if schedule.accepted_in_a_row >= RECOVERY_EVERY {
            schedule.accepted_in_a_row = 0;
            schedule.pace = (schedule.pace + RECOVERY_STEP).min(START_PACE);
        }
    }

    /// A request released at `release` was refused with 429: give up the burst if it went on
    /// one, otherwise slow down, once per refusal of the current pace; hold everyone until
    /// `until`.
    pub(crate) fn throttled(&self, release: Release, until: Instant) {
        let mut schedule = self.lock();
        schedule.throttled += 1;
        // Whatever bucket the server keeps, it holds no burst for us.
        schedule.burst = 1;
        // A request on the burst was refused for the burst, not for the pace.
        if !release.on_burst && schedule.lowered_at.is_none_or(|lowered| release.at > lowered) {
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
        schedule.holds_read.push((Instant::now(), until));
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
            released_while_closed: schedule.released_while_closed,
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
        self.interval(inner).saturating_mul(self.burst - 1)
    }

    /// With a burst of one, the closest two releases may be.
    fn closest(inner: &Inner) -> Duration {
        inner.configured_interval.div_f64(CATCH_UP_PACE).max(inner.configured_interval + JITTER_ALLOWANCE)
    }

    fn next_slot(&self, inner: &Inner, now: Instant) -> Instant {
        let earliest = self.theoretical_arrival.checked_sub(self.tolerance(inner)).unwrap_or(now);
        let spaced = match self.last_release {
            Some(last) if self.burst == 1 => last + Self::closest(inner),
            _ => now,
        };
        earliest.max(now).max(spaced).max(self.closed_until.unwrap_or(now))
    }

    /// Moves the schedule past a request that took its turn at `turn`, was due at `slot` and
    /// was released at `now`, and counts the release if a `Retry-After` read before it still
    /// held. True when the slot was ahead of the steady schedule, on the burst.
    fn release(&mut self, inner: &Inner, turn: Instant, slot: Instant, now: Instant) -> bool {
        let on_burst = slot < self.theoretical_arrival;
        let from = if self.lowered_at.is_none() {
            // The schedule alone: neither a late timer nor the catch-up spacing moves it.
            turn
        } else if now - slot <= TIMER_TICK {
            // Timers fire up to a tick after their deadline; only a later release is "late".
            slot
        } else {
            now
        };
        self.theoretical_arrival = self.theoretical_arrival.max(from) + self.interval(inner);
        self.last_release = Some(now);
        self.holds_read.retain(|(_, until)| *until > now);
        if self.holds_read.iter().any(|(read, until)| *read <= now && now < *until) {
            self.released_while_closed += 1;
        }
        on_burst
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

    /// Releases `count` requests on `pacer`'s schedule directly, the one at index `late` that
    /// much after its slot (a busy machine's timer); returns the release instants.
    fn release_with_a_late_timer(pacer: &Pacer, count: usize, late: (usize, Duration)) -> Vec<Instant> {
        let inner = pacer.inner.as_ref();
        let mut schedule = pacer.lock();
        let mut turn = Instant::now();
        let mut releases = Vec::new();
        for i in 0..count {
            let slot = schedule.next_slot(inner, turn);
            let now = if i == late.0 { slot + late.1 } else { slot };
            schedule.release(inner, turn, slot, now);
            releases.push(now);
            turn = now;
        }
        releases
    }

    #[tokio::test(start_paused = true)]
    async fn until_the_first_429_a_late_timer_is_made_up_for_without_crowding_the_server() {
        // Five a second: the schedule's interval (206 ms) leaves room to catch up above the
        // closest two releases may be (203 ms).
        let pacer = Pacer::new(RateLimit { requests_per_second: 5.0, burst: 1 }).unwrap();
        let releases = release_with_a_late_timer(&pacer, 12, (1, Duration::from_millis(5)));
        let interval = Duration::from_secs_f64(0.2 / START_PACE);
        let closest = Schedule::closest(pacer.inner.as_ref());
        assert_eq!(closest, Duration::from_secs_f64(0.2 / CATCH_UP_PACE));
        for pair in releases.windows(2) {
            assert!(pair[1] - pair[0] >= closest, "{:?}", pair[1] - pair[0]);
        }
        // Five milliseconds late once, and back on the schedule ten requests later.
        let behind = releases[11] - releases[0] - interval * 11;
        assert!(behind < Duration::from_micros(10), "{behind:?} behind");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_429_a_late_release_pushes_the_next_one_back() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 20.0, burst: 1 }).unwrap();
        let refused = pacer.acquire().await;
        pacer.throttled(refused, Instant::now());
        let interval = pacer.lock().interval(pacer.inner.as_ref());
        let releases = release_with_a_late_timer(&pacer, 4, (1, Duration::from_millis(5)));
        assert!(releases[2] - releases[1] >= interval, "{:?}", releases[2] - releases[1]);
        assert!(releases[3] - releases[2] >= interval, "{:?}", releases[3] - releases[2]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_release_within_a_retry_after_read_is_counted() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 20.0, burst: 1 }).unwrap();
        let start = Instant::now();
        pacer.close_until(start + Duration::from_secs(1));
        // Past the schedule's guard, straight to the ledger: half a second into the hold, then
        // at its end.
        let inner = pacer.inner.as_ref();
        let mut schedule = pacer.lock();
        for at in [start + Duration::from_millis(500), start + Duration::from_secs(1)] {
            schedule.release(inner, at, at, at);
        }
        assert_eq!(schedule.released_while_closed, 1);
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
            assert!(closed_until.is_none_or(|until| release.at >= until), "released during a Retry-After");
            let arrival = release.at + jitter(accepted + refused);
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
        assert_eq!(pacer.status().released_while_closed, 0);
        (accepted, refused, start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_of_one_is_used_to_over_ninety_percent_without_a_refusal() {
        let pacer = Pacer::new(RateLimit { requests_per_second: 20.0, burst: 1 }).unwrap();
        // Arrival jitter of up to 2.9 ms, alternating: as much as timers and sockets added
        // between two processes on one busy machine.
        let jitter = |i: usize| Duration::from_micros(if i.is_multiple_of(2) { 2900 } else { 0 });
        let (accepted, refused, elapsed) = against_strict_server(&pacer, 20.0, 400, jitter).await;
        let utilisation = accepted as f64 / elapsed.as_secs_f64() / 20.0;
        assert_eq!(refused, 0);
        assert!(utilisation >= 0.92, "{utilisation}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_the_server_refuses_is_given_up() {
        // Configured with a burst of five; the server holds one.
        let pacer = Pacer::new(RateLimit { requests_per_second: 20.0, burst: 5 }).unwrap();
        let jitter = |i: usize| Duration::from_micros(if i.is_multiple_of(2) { 2000 } else { 0 });
        let (accepted, refused, _) = against_strict_server(&pacer, 20.0, 200, jitter).await;
        // The second request of the opening burst is refused; after that the pacer keeps the
        // strict spacing and is never refused again. The pace was not what the server refused,
        // so it stays.
        assert_eq!((accepted, refused), (200, 1));
        assert_eq!(pacer.lock().burst, 1);
        assert!((pacer.status().requests_per_second - 20.0 * START_PACE).abs() < 1e-9);
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
        assert_eq!(next.at - start, Duration::from_secs(2));
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
    async fn concurrent_requests_in_a_storm_of_429s_never_leave_during_a_retry_after() {
        // Four windows of a backfill share one pacer configured for twice what the server
        // takes; each request is answered 50 ms after its release.
        let pacer = Pacer::new(RateLimit { requests_per_second: 20.0, burst: 1 }).unwrap();
        let start = Instant::now();
        let server = Arc::new(Mutex::new(StrictServer { rate: 10.0, tokens: 1.0, last: start }));
        // Releases and the holds read, in the order they happened (one thread, and no await
        // between an event and its entry): `Ok(released at)` or `Err(held until)`.
        let events = Arc::new(Mutex::new(Vec::new()));
        let windows: Vec<_> = (0..4)
            .map(|_| {
                let (pacer, server, events) = (pacer.clone(), server.clone(), events.clone());
                tokio::spawn(async move {
                    for _ in 0..60 {
                        let release = pacer.acquire().await;
                        events.lock().unwrap().push(Ok(release.at));
                        let answer = server.lock().unwrap().answer(release.at);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        match answer {
                            Ok(()) => pacer.accepted(release),
                            Err(wait) => {
                                let until = Instant::now() + wait;
                                pacer.throttled(release, until);
                                events.lock().unwrap().push(Err(until));
                            }
                        }
                    }
                })
            })
            .collect();
        for window in windows {
            window.await.unwrap();
        }
        let events = std::mem::take(&mut *events.lock().unwrap());
        let mut holds_read = Vec::new();
        let mut during = 0;
        for event in events {
            match event {
                Ok(released) => during += usize::from(holds_read.iter().any(|until| released < *until)),
                Err(until) => holds_read.push(until),
            }
        }
        assert!(holds_read.len() >= 3, "the storm came: {} refusals", holds_read.len());
        assert_eq!(during, 0, "released during a Retry-After read before");
        assert_eq!(pacer.status().released_while_closed, 0);
        assert_eq!(pacer.status().throttled, holds_read.len() as u64);
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
