//! How long to wait before retrying: full-jitter exponential backoff and `Retry-After`.

use std::time::Duration;

use scoreline_core::Timestamp;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// The IMF-fixdate form of an HTTP date, e.g. `Wed, 21 Oct 2015 07:28:00 GMT`.
const HTTP_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");

/// Bounds on retrying one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry; it doubles per retry up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Give up instead of waiting when the time spent on this request plus the next wait would
    /// pass this.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: uniform in `[0, min(max_backoff, initial_backoff · 2^(retry-1))]`, so
    /// clients that failed together do not retry together.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let doubling = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.initial_backoff.saturating_mul(doubling).min(self.max_backoff);
        ceiling.mul_f64(rand::random::<f64>())
    }
}

/// Reads a `Retry-After` value: delta seconds, or an HTTP date compared with `now`.
/// A date in the past means "now"; an unreadable value is ignored.
pub(crate) fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    let millis = at.as_millis().saturating_sub(now.as_millis());
    Some(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))
}

/// An HTTP date (`Date`, `Retry-After`) as a timestamp.
pub(crate) fn parse_http_date(value: &str) -> Option<Timestamp> {
    let at = time::PrimitiveDateTime::parse(value.trim(), HTTP_DATE).ok()?.assume_utc();
    let millis = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()?;
    Some(Timestamp::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Timestamp::parse_rfc3339("2015-10-21T07:27:58.250Z").unwrap();
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_millis(1750))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(now.to_offset_date_time().format(HTTP_DATE).unwrap(), "Wed, 21 Oct 2015 07:27:58 GMT");
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling_with_jitter() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(3) <= Duration::from_millis(350));
            assert!(policy.backoff(40) <= Duration::from_millis(350));
        }
        let spread: std::collections::HashSet<Duration> = (0..50).map(|_| policy.backoff(3)).collect();
        assert!(spread.len() > 10, "full jitter spreads the waits");
    }
}
