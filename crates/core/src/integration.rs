//! Settings of a HelpDesk integration, validated: retention, backfill, account id.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::Month;

use crate::{IntegrationId, Timestamp};

const DAY: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionUnit {
    Days,
    Weeks,
    Months,
    Quarters,
    Years,
}

impl RetentionUnit {
    pub const ALL: [RetentionUnit; 5] = [
        RetentionUnit::Days,
        RetentionUnit::Weeks,
        RetentionUnit::Months,
        RetentionUnit::Quarters,
        RetentionUnit::Years,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Days => "days",
            Self::Weeks => "weeks",
            Self::Months => "months",
            Self::Quarters => "quarters",
            Self::Years => "years",
        }
    }
}

impl FromStr for RetentionUnit {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|unit| unit.as_str() == text.trim())
            .ok_or_else(|| format!("Unknown unit `{text}`; use days, weeks, months, quarters or years."))
    }
}

impl fmt::Display for RetentionUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long case content is kept after its last activity in HelpDesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub value: u32,
    pub unit: RetentionUnit,
}

impl Retention {
    /// Up to ten years: longer is almost certainly a typo.
    pub const MAX_DAYS: u32 = 3660;

    pub fn parse(value: i64, unit: &str) -> Result<Self, String> {
        let unit: RetentionUnit = unit.parse()?;
        let value = u32::try_from(value).ok().filter(|v| *v >= 1).ok_or("Retention must be at least 1.")?;
        let retention = Self { value, unit };
        if retention.shortest().as_secs() / DAY.as_secs() > u64::from(Self::MAX_DAYS) {
            return Err("Retention may be at most 10 years.".to_owned());
        }
        Ok(retention)
    }

    /// The shortest span this retention can mean (months of 28 days, years of 365): what a
    /// backfill must fit into.
    pub fn shortest(self) -> Duration {
        let days = match self.unit {
            RetentionUnit::Days => 1,
            RetentionUnit::Weeks => 7,
            RetentionUnit::Months => 28,
            RetentionUnit::Quarters => 89,
            RetentionUnit::Years => 365,
        };
        DAY * days * self.value
    }

    /// Content whose last activity is before this instant is due for removal. Months,
    /// quarters and years are calendar spans, clamped to the end of shorter months.
    pub fn cutoff(self, now: Timestamp) -> Timestamp {
        let months = match self.unit {
            RetentionUnit::Days => return now.saturating_sub(DAY * self.value),
            RetentionUnit::Weeks => return now.saturating_sub(DAY * 7 * self.value),
            RetentionUnit::Months => self.value,
            RetentionUnit::Quarters => self.value * 3,
            RetentionUnit::Years => self.value * 12,
        };
        Timestamp::from_offset_date_time(months_before(now.to_offset_date_time(), months))
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = self.unit.as_str();
        if self.value == 1 {
            write!(f, "1 {}", unit.trim_end_matches('s'))
        } else {
            write!(f, "{} {unit}", self.value)
        }
    }
}

fn months_before(at: time::OffsetDateTime, months: u32) -> time::OffsetDateTime {
    let total =
        at.year() * 12 + i32::from(u8::from(at.month())) - 1 - i32::try_from(months).unwrap_or(i32::MAX);
    let year = total.div_euclid(12);
    let month =
        Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1)).unwrap_or(Month::January);
    let day = at.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).map_or(at, |date| at.replace_date(date))
}

/// How many days of history the first sync fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BackfillDays(u32);

impl BackfillDays {
    pub const DEFAULT: BackfillDays = BackfillDays(7);

    /// `cap_days` is the operator's limit (28 unless configured).
    pub fn parse(days: i64, cap_days: u32) -> Result<Self, String> {
        match u32::try_from(days) {
            Ok(days) if (1..=cap_days).contains(&days) => Ok(Self(days)),
            _ => Err(format!("Backfill must be between 1 and {cap_days} days ({} weeks).", cap_days / 7)),
        }
    }

    /// The same in whole weeks, as the pages ask for it; the message speaks in weeks too.
    pub fn parse_weeks(weeks: i64, cap_days: u32) -> Result<Self, String> {
        let cap_weeks = (cap_days / 7).max(1);
        match u32::try_from(weeks) {
            Ok(weeks) if (1..=cap_weeks).contains(&weeks) => Ok(Self(weeks * 7)),
            _ if cap_weeks == 1 => Err("Backfill can only be 1 week.".to_owned()),
            _ => Err(format!("Backfill must be between 1 and {cap_weeks} weeks.")),
        }
    }

    /// A span read back from storage, checked when it was saved.
    pub const fn stored(days: u32) -> Self {
        Self(days)
    }

    pub const fn days(self) -> u32 {
        self.0
    }

    pub fn duration(self) -> Duration {
        DAY * self.0
    }
}

/// `1 week`, `3 weeks`; `10 days` for a span that is not whole weeks.
impl fmt::Display for BackfillDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, unit) = if self.0.is_multiple_of(7) { (self.0 / 7, "week") } else { (self.0, "day") };
        write!(f, "{count} {unit}{}", if count == 1 { "" } else { "s" })
    }
}

/// Refuses a retention that would delete what the backfill just fetched.
pub fn check_retention_covers_backfill(retention: Retention, backfill: BackfillDays) -> Result<(), String> {
    if retention.shortest() < backfill.duration() {
        return Err(format!(
            "Retention ({retention}) is shorter than the backfill ({backfill}): the first purge would delete what the backfill fetched. Keep cases longer or backfill less."
        ));
    }
    Ok(())
}

/// The Text/LiveChat account id used as the Basic auth username: a UUID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("Account ID is required for the access-token method.".to_owned());
        }
        uuid::Uuid::parse_str(trimmed).map(|id| Self(id.hyphenated().to_string())).map_err(|_| {
            "This is not an Account ID: it looks like b7eff798-f8df-4364-8059-649c35c9ed0c (shown in the Developers Console)."
                .to_owned()
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A HelpDesk license: the customer account (`GET /v1/licenses`, its integer `ID`), which every
/// person of that account shares, unlike their Account IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LicenseId(i64);

impl LicenseId {
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for LicenseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How an integration authenticates to HelpDesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Oauth,
    Token,
}

impl AuthMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Oauth => "oauth",
            Self::Token => "token",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Oauth => "OAuth",
            Self::Token => "Access token",
        }
    }
}

impl FromStr for AuthMethod {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "oauth" => Ok(Self::Oauth),
            "token" => Ok(Self::Token),
            other => Err(format!("Unknown auth method `{other}`; use oauth or token.")),
        }
    }
}

/// Where an integration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationState {
    /// Credentials work; syncing as scheduled.
    Connected,
    /// HelpDesk refused the credentials or the authorization expired: an admin must reconnect.
    NeedsReauthorization,
    /// Credentials deleted by an admin; stored cases kept.
    Disconnected,
}

impl IntegrationState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::NeedsReauthorization => "needs_reauthorization",
            Self::Disconnected => "disconnected",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Connected => "Connected",
            Self::NeedsReauthorization => "Needs re-authorization",
            Self::Disconnected => "Disconnected",
        }
    }
}

impl FromStr for IntegrationState {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Connected, Self::NeedsReauthorization, Self::Disconnected]
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| format!("unknown integration state `{text}`"))
    }
}

/// An integration as pages and the API show it (its credentials stay in storage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub kind: String,
    pub label: String,
    pub description: String,
    pub auth_method: AuthMethod,
    /// The Text account id of a token integration (not a secret).
    pub account_id: Option<String>,
    /// The HelpDesk license it reads; `None` until it was read (connected before it was, or
    /// HelpDesk did not answer).
    pub license_id: Option<LicenseId>,
    pub retention: Retention,
    pub backfill_days: u32,
    pub state: IntegrationState,
    /// Whether credentials are stored, and the last characters of a personal access token.
    pub credential_set: bool,
    pub token_last4: Option<String>,
    pub last_synced_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What an admin chooses for an integration (everything but its credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationSettings {
    pub label: String,
    pub description: String,
    pub retention: Retention,
    pub backfill_days: u32,
}

/// What happens to an integration's cases when it is disconnected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnect {
    /// Delete credentials; keep the integration (state `disconnected`) and its cases.
    KeepCases,
    /// Delete the integration, its credentials and its cases.
    RemoveEverything,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn calendar_retention_clamps_to_month_ends() {
        let now = at("2026-05-31T10:00:00Z");
        assert_eq!(Retention::parse(3, "months").unwrap().cutoff(now), at("2026-02-28T10:00:00Z"));
        assert_eq!(Retention::parse(1, "quarters").unwrap().cutoff(now), at("2026-02-28T10:00:00Z"));
        assert_eq!(
            Retention::parse(2, "years").unwrap().cutoff(at("2028-02-29T00:00:00Z")),
            at("2026-02-28T00:00:00Z")
        );
        assert_eq!(
            Retention::parse(13, "months").unwrap().cutoff(at("2026-01-15T00:00:00Z")),
            at("2024-12-15T00:00:00Z")
        );
        assert_eq!(Retention::parse(10, "days").unwrap().cutoff(now), at("2026-05-21T10:00:00Z"));
    }

    #[test]
    fn retention_input_is_checked() {
        assert!(Retention::parse(0, "days").is_err());
        assert!(Retention::parse(-1, "weeks").is_err());
        assert!(Retention::parse(1, "fortnights").unwrap_err().contains("Unknown unit"));
        assert!(Retention::parse(11, "years").is_err());
        assert_eq!(Retention::parse(1, "weeks").unwrap().to_string(), "1 week");
    }

    #[test]
    fn backfill_must_fit_in_retention_and_cap() {
        assert!(BackfillDays::parse(35, 28).is_err());
        assert!(BackfillDays::parse(0, 28).is_err());
        let four_weeks = BackfillDays::parse(28, 28).unwrap();
        assert!(check_retention_covers_backfill(Retention::parse(1, "months").unwrap(), four_weeks).is_ok());
        assert!(check_retention_covers_backfill(Retention::parse(3, "weeks").unwrap(), four_weeks).is_err());
    }

    #[test]
    fn backfill_in_weeks_says_weeks() {
        assert_eq!(BackfillDays::parse_weeks(2, 28).unwrap().days(), 14);
        assert_eq!(BackfillDays::parse_weeks(5, 28).unwrap_err(), "Backfill must be between 1 and 4 weeks.");
        assert!(BackfillDays::parse_weeks(0, 28).is_err());
        assert_eq!(BackfillDays::parse_weeks(1, 28).unwrap().to_string(), "1 week");
        assert_eq!(BackfillDays::parse(10, 28).unwrap().to_string(), "10 days");
    }

    #[test]
    fn account_ids_are_uuids() {
        assert_eq!(
            AccountId::parse(" B7EFF798-F8DF-4364-8059-649C35C9ED0C ").unwrap().as_str(),
            "b7eff798-f8df-4364-8059-649c35c9ed0c"
        );
        assert!(AccountId::parse("12345").is_err());
    }
}
