//! Times as pages show them: how long ago ("3 hours ago") and the date and time, with the exact
//! UTC time on hover. Without JavaScript the date reads in UTC; `static/time.js` rewrites it in
//! the reader's time zone.

use std::fmt;

use scoreline_core::Timestamp;

/// A moment, seen from `now`. Renders as a `<time>` element.
pub struct When {
    at: Timestamp,
    now: Timestamp,
}

impl When {
    pub fn new(at: Timestamp, now: Timestamp) -> Self {
        Self { at, now }
    }

    /// "just now", "5 minutes ago", "in 2 days".
    fn relative(&self) -> String {
        let seconds = (self.now.as_millis() - self.at.as_millis()) / 1000;
        let distance = seconds.unsigned_abs();
        if distance < 45 {
            return "just now".to_owned();
        }
        const UNITS: [(u64, u64, &str); 6] = [
            // (below this many seconds, count in units of this many seconds, unit)
            (90 * 60, 60, "minute"),
            (36 * 3600, 3600, "hour"),
            (14 * 86_400, 86_400, "day"),
            (8 * 7 * 86_400, 7 * 86_400, "week"),
            (18 * 30 * 86_400, 30 * 86_400, "month"),
            (u64::MAX, 365 * 86_400, "year"),
        ];
        let (_, size, unit) = UNITS.into_iter().find(|(below, _, _)| distance < *below).unwrap_or(UNITS[5]);
        let count = ((distance + size / 2) / size).max(1);
        let plural = if count == 1 { "" } else { "s" };
        if seconds >= 0 {
            format!("{count} {unit}{plural} ago")
        } else {
            format!("in {count} {unit}{plural}")
        }
    }

    /// "24 Nov 2025, 16:02 UTC".
    fn date(&self) -> String {
        let at = self.at.to_offset_date_time();
        let month = at.month().to_string();
        format!(
            "{} {} {}, {:02}:{:02} UTC",
            at.day(),
            month.get(..3).unwrap_or(&month),
            at.year(),
            at.hour(),
            at.minute()
        )
    }

    /// "2025-11-24 16:02:03 UTC".
    fn exact(&self) -> String {
        let at = self.at.to_offset_date_time();
        format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        )
    }
}

/// Only digits, letters and punctuation of our own making: nothing to escape.
impl askama::filters::HtmlSafe for When {}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            r#"<time datetime="{}" title="{}">{} <span class="when-date">({})</span></time>"#,
            self.at.to_rfc3339(),
            self.exact(),
            self.relative(),
            self.date()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ago(seconds: i64) -> String {
        let now = Timestamp::from_millis(1_764_000_000_000);
        When::new(Timestamp::from_millis(now.as_millis() - seconds * 1000), now).relative()
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(ago(10), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(3 * 3600 + 100), "3 hours ago");
        assert_eq!(ago(36 * 3600), "2 days ago");
        assert_eq!(ago(-2 * 86_400), "in 2 days");
        assert_eq!(ago(20 * 86_400), "3 weeks ago");
        assert_eq!(ago(400 * 86_400), "13 months ago");
        assert_eq!(ago(3 * 365 * 86_400), "3 years ago");
    }

    #[test]
    fn a_time_element_carries_the_exact_utc_time() {
        let at = Timestamp::from_millis(1_764_000_123_456);
        let html = When::new(at, at).to_string();
        assert_eq!(
            html,
            r#"<time datetime="2025-11-24T16:02:03.456Z" title="2025-11-24 16:02:03 UTC">just now <span class="when-date">(24 Nov 2025, 16:02 UTC)</span></time>"#
        );
    }
}
