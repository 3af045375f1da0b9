//! Timestamps as HelpDesk writes and reads them: ISO 8601 UTC, and relative dates like `-2d`.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// How many fractional digits timestamps carry on the wire (and in storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    Millis,
    Seconds,
}

impl Precision {
    pub fn truncate(self, millis: i64) -> i64 {
        match self {
            Self::Millis => millis,
            Self::Seconds => millis.div_euclid(1000) * 1000,
        }
    }
}

/// Renders `2024-05-02T10:11:12.345Z` (or `…12Z` with second precision) without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Iso(pub i64, pub Precision);

impl fmt::Display for Iso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(millis, precision) = *self;
        let days = millis.div_euclid(DAY_MS);
        let in_day = millis.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (in_day / HOUR_MS, in_day % HOUR_MS / MINUTE_MS);
        let (second, milli) = (in_day % MINUTE_MS / 1000, in_day % 1000);
        write!(f, "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")?;
        match precision {
            Precision::Millis => write!(f, ".{milli:03}Z"),
            Precision::Seconds => f.write_str("Z"),
        }
    }
}

impl Serialize for Iso {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`, the HTTP-date form of `Retry-After`.
pub fn http_date(millis: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = millis.div_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let in_day = millis.rem_euclid(DAY_MS) / 1000;
    let weekday = WEEKDAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{weekday}, {day:02} {month} {year:04} {:02}:{:02}:{:02} GMT",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Parses what HelpDesk accepts wherever a date goes: an ISO timestamp (zone optional, UTC
/// assumed), a bare `YYYY-MM-DD`, or a relative date such as `-2d`, `-0M`, `-10n`.
pub fn parse_date(text: &str, now: i64) -> Option<i64> {
    parse_relative(text, now).or_else(|| parse_iso(text))
}

pub fn parse_iso(text: &str) -> Option<i64> {
    if let Ok(at) = scoreline_core::Timestamp::parse_rfc3339(text) {
        return Some(at.as_millis());
    }
    let (date, time) = text.split_once('T').unwrap_or((text, "00:00:00"));
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (date_parts.next()?.ok()?, date_parts.next()?.ok()?, date_parts.next()?.ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut clock_parts = clock.splitn(3, ':').map(str::parse::<i64>);
    let hour = clock_parts.next()?.ok()?;
    let minute = clock_parts.next()?.ok()?;
    let second = clock_parts.next().unwrap_or(Ok(0)).ok()?;
    let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
    let millis = millis.parse::<i64>().ok()?;
    Some(
        days_from_civil(year, month, day) * DAY_MS
            + hour * HOUR_MS
            + minute * MINUTE_MS
            + second * 1000
            + millis,
    )
}

/// `[-+]<number><unit>`: lower-case units count from now, upper-case from the start of the
/// current minute (`N`), hour (`H`), day (`D`) or month (`M`).
fn parse_relative(text: &str, now: i64) -> Option<i64> {
    let sign = match text.as_bytes().first()? {
        b'-' => -1,
        b'+' => 1,
        _ => return None,
    };
    let unit = text.chars().last()?;
    let amount: i64 = text.get(1..text.len() - 1)?.parse().ok()?;
    let amount = sign * amount;
    let step_ms = match unit.to_ascii_lowercase() {
        'n' => MINUTE_MS,
        'h' => HOUR_MS,
        'd' => DAY_MS,
        'm' => return Some(add_months(now, amount, unit == 'M')),
        _ => return None,
    };
    let base = if unit.is_ascii_uppercase() { now.div_euclid(step_ms) * step_ms } else { now };
    Some(base + amount * step_ms)
}

fn add_months(now: i64, months: i64, from_month_start: bool) -> i64 {
    let days = now.div_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + (month - 1) + months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    if from_month_start {
        return days_from_civil(year, month, 1) * DAY_MS;
    }
    let day = day.min(days_in_month(year, month));
    days_from_civil(year, month, day) * DAY_MS + now.rem_euclid(DAY_MS)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let next =
        if month == 12 { days_from_civil(year + 1, 1, 1) } else { days_from_civil(year, month + 1, 1) };
    next - days_from_civil(year, month, 1)
}

// Howard Hinnant's proleptic Gregorian conversions.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_123_456; // 2025-11-24T16:02:03.456Z

    #[test]
    fn formats_both_precisions() {
        assert_eq!(Iso(NOW, Precision::Millis).to_string(), "2025-11-24T16:02:03.456Z");
        assert_eq!(Iso(NOW, Precision::Seconds).to_string(), "2025-11-24T16:02:03Z");
        assert_eq!(http_date(NOW), "Mon, 24 Nov 2025 16:02:03 GMT");
    }

    #[test]
    fn parses_iso_forms() {
        assert_eq!(parse_iso("2025-11-24T16:02:03.456Z"), Some(NOW));
        assert_eq!(parse_iso("2025-11-24T16:02:03.456"), Some(NOW));
        assert_eq!(parse_iso("2025-11-24T16:02:03Z"), Some(NOW - 456));
        assert_eq!(parse_iso("2025-11-24"), Some(NOW - 16 * HOUR_MS - 123_456));
        assert_eq!(parse_iso("yesterday"), None);
    }

    #[test]
    fn parses_relative_dates() {
        assert_eq!(parse_date("-2d", NOW), Some(NOW - 2 * DAY_MS));
        assert_eq!(parse_date("-10n", NOW), Some(NOW - 10 * MINUTE_MS));
        assert_eq!(parse_date("+3h", NOW), Some(NOW + 3 * HOUR_MS));
        assert_eq!(parse_date("-0D", NOW), parse_iso("2025-11-24"));
        assert_eq!(parse_date("-0M", NOW), parse_iso("2025-11-01"));
        assert_eq!(parse_date("-1M", NOW), parse_iso("2025-10-01"));
        assert_eq!(parse_date("-11M", NOW), parse_iso("2024-12-01"));
        assert_eq!(parse_date("+1m", NOW), parse_iso("2025-12-24T16:02:03.456Z"));
        assert_eq!(parse_date("-2x", NOW), None);
    }
}
