//! Ticket listing: filters, cursor paging and a stream of pages.

use std::collections::HashSet;
use std::fmt;

use futures::Stream;
use reqwest::header::HeaderMap;
use scoreline_core::Timestamp;
use serde::{Deserialize, Serialize};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::{HelpDeskClient, HelpDeskError, Silo, Ticket, TicketStatus};

/// The API's largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Timestamps in queries use the API's own form, always with milliseconds.
const QUERY_TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

fn query_timestamp(at: Timestamp) -> String {
    at.to_offset_date_time().format(QUERY_TIMESTAMP).unwrap_or_else(|_| at.to_rfc3339())
}

/// The field tickets are sorted and paged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortBy {
    CreatedAt,
    UpdatedAt,
    LastMessageAt,
}

impl SortBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "createdAt",
            Self::UpdatedAt => "updatedAt",
            Self::LastMessageAt => "lastMessageAt",
        }
    }

    fn value_of(self, ticket: &Ticket) -> Option<Timestamp> {
        match self {
            Self::CreatedAt => Some(ticket.created_at),
            Self::UpdatedAt => Some(ticket.updated_at),
            Self::LastMessageAt => ticket.last_message_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// A date filter bound: an instant, or a date relative to the server's now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateBound {
    At(Timestamp),
    Relative(RelativeDate),
}

impl From<Timestamp> for DateBound {
    fn from(at: Timestamp) -> Self {
        Self::At(at)
    }
}

impl From<RelativeDate> for DateBound {
    fn from(relative: RelativeDate) -> Self {
        Self::Relative(relative)
    }
}

impl DateBound {
    fn to_query(&self) -> String {
        match self {
            Self::At(at) => query_timestamp(*at),
            Self::Relative(relative) => relative.0.clone(),
        }
    }
}

/// HelpDesk's relative date, `[-+]<number><unit>`: units `n` minutes, `h` hours, `d` days,
/// `m` months; upper case counts from the start of the current period (`-0D` = last midnight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelativeDate(String);

impl RelativeDate {
    pub fn parse(text: &str) -> Result<Self, HelpDeskError> {
        let valid = text.len() >= 3
            && text.starts_with(['-', '+'])
            && text.ends_with(['n', 'h', 'd', 'm', 'N', 'H', 'D', 'M'])
            && text[1..text.len() - 1].bytes().all(|b| b.is_ascii_digit());
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(HelpDeskError::InvalidRequest(format!(
                "{text:?} is not a relative date like -2d, -10n or -0M"
            )))
        }
    }
}

/// Where the next page starts: the sort value and `ID` of the last ticket of the previous page.
/// Store it to resume a listing later with [`TicketQuery::after`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TicketCursor {
    pub value: Timestamp,
    pub id: String,
}

impl fmt::Display for TicketCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "next.value={} next.ID={}", query_timestamp(self.value), self.id)
    }
}

/// Which tickets to list and how to page through them. The default is what a sync wants: the
/// `tickets` silo's server default, sorted by `updatedAt` ascending, 100 per page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketQuery {
    silo: Option<Silo>,
    status: Option<TicketStatus>,
    team_ids: Vec<String>,
    created_from: Option<DateBound>,
    created_to: Option<DateBound>,
    updated_from: Option<DateBound>,
    updated_to: Option<DateBound>,
    sort_by: SortBy,
    order: Order,
    page_size: u32,
    after: Option<TicketCursor>,
}

impl Default for TicketQuery {
    fn default() -> Self {
        Self {
            silo: None,
            status: None,
            team_ids: Vec::new(),
            created_from: None,
            created_to: None,
            updated_from: None,
            updated_to: None,
            sort_by: SortBy::UpdatedAt,
            order: Order::Asc,
            page_size: MAX_PAGE_SIZE,
            after: None,
        }
    }
}

impl TicketQuery {
    #[must_use]
    pub fn silo(mut self, silo: Silo) -> Self {
        self.silo = Some(silo);
        self
    }

    #[must_use]
    pub fn status(mut self, status: TicketStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Tickets of any of these teams (`teamIDs[]`).
    #[must_use]
    pub fn teams<I: IntoIterator<Item = S>, S: Into<String>>(mut self, team_ids: I) -> Self {
        self.team_ids = team_ids.into_iter().map(Into::into).collect();
        self
    }

    /// `createdAt` in `[from, to)`.
    #[must_use]
    pub fn created(mut self, from: Option<DateBound>, to: Option<DateBound>) -> Self {
        self.created_from = from;
        self.created_to = to;
        self
    }

    /// `updatedAt` in `[from, to)`.
    #[must_use]
    pub fn updated(mut self, from: Option<DateBound>, to: Option<DateBound>) -> Self {
        self.updated_from = from;
        self.updated_to = to;
        self
    }

    #[must_use]
    pub fn sort(mut self, sort_by: SortBy, order: Order) -> Self {
        self.sort_by = sort_by;
        self.order = order;
        self
    }

    /// 1 to [`MAX_PAGE_SIZE`].
    pub fn page_size(mut self, page_size: u32) -> Result<Self, HelpDeskError> {
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(HelpDeskError::InvalidRequest(format!(
                "page size must be 1 to {MAX_PAGE_SIZE}, not {page_size}"
            )));
        }
        self.page_size = page_size;
        Ok(self)
    }

    /// Start after this cursor (resume from a checkpoint) instead of at the beginning.
    #[must_use]
    pub fn after(mut self, cursor: TicketCursor) -> Self {
        self.after = Some(cursor);
        self
    }

    fn params(&self, cursor: Option<&TicketCursor>) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("sortBy", self.sort_by.as_str().to_owned()),
            ("order", self.order.as_str().to_owned()),
            ("pageSize", self.page_size.to_string()),
        ];
        if let Some(silo) = &self.silo {
            params.push(("silo", silo.to_string()));
        }
        if let Some(status) = &self.status {
            params.push(("status", status.to_string()));
        }
        params.extend(self.team_ids.iter().map(|id| ("teamIDs[]", id.clone())));
        let dates = [
            ("createdDateFrom", &self.created_from),
            ("createdDateTo", &self.created_to),
            ("updatedDateFrom", &self.updated_from),
            ("updatedDateTo", &self.updated_to),
        ];
        params.extend(dates.into_iter().filter_map(|(name, bound)| Some((name, bound.as_ref()?.to_query()))));
        if let Some(cursor) = cursor {
            params.push(("next.value", query_timestamp(cursor.value)));
            params.push(("next.ID", cursor.id.clone()));
        }
        params
    }
}

impl TicketQuery {
    /// Whether `ticket` may appear on a page of this listing. (A page of this same listing
    /// served again is the repeated-cursor check's business, which reports it as such.)
    fn admits(&self, ticket: &Ticket) -> Result<(), String> {
        // `inbox` is what newer APIs call the `tickets` silo.
        fn canonical(silo: &Silo) -> &str {
            match silo.as_str() {
                "inbox" => "tickets",
                other => other,
            }
        }
        if let (Some(wanted), Some(got)) = (&self.silo, &ticket.silo)
            && canonical(wanted) != canonical(got)
        {
            return Err(format!("ticket {} is in silo {got}, not {wanted}", ticket.id));
        }
        let within = |at: Timestamp, from: &Option<DateBound>, to: &Option<DateBound>| {
            let after_from = !matches!(from, Some(DateBound::At(from)) if at < *from);
            let before_to = !matches!(to, Some(DateBound::At(to)) if at >= *to);
            after_from && before_to
        };
        if !within(ticket.updated_at, &self.updated_from, &self.updated_to)
            || !within(ticket.created_at, &self.created_from, &self.created_to)
        {
            return Err(format!("ticket {} lies outside the requested dates", ticket.id));
        }
        Ok(())
    }
}

/// One page of a ticket listing.
#[derive(Debug, Clone)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    /// The cursor this page was requested with (`None` for the first page of a listing).
    pub cursor: Option<TicketCursor>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<TicketCursor>,
    /// `X-Total-Pages`, when the server sends it.
    pub total_pages: Option<u64>,
    /// `X-Total-Results`, when the server sends it.
    pub total_results: Option<u64>,
}

impl HelpDeskClient {
    /// Every page of tickets matching `query`, in order. The listing ends after a page shorter
    /// than the page size (which may be empty). An error ends the stream; resume from the last
    /// page's `next_cursor` with [`TicketQuery::after`].
    pub fn list_tickets(
        &self,
        query: TicketQuery,
    ) -> impl Stream<Item = Result<TicketPage, HelpDeskError>> + Send + 'static {
        let paging =
            Paging { client: self.clone(), cursor: query.after.clone(), seen: HashSet::new(), query };
        futures::stream::try_unfold(Some(paging), |paging| async move {
            let Some(mut paging) = paging else {
                return Ok(None);
            };
            let page = paging.next_page().await?;
            let more = page.next_cursor.is_some().then_some(paging);
            Ok(Some((page, more)))
        })
    }
}

struct Paging {
    client: HelpDeskClient,
    query: TicketQuery,
    cursor: Option<TicketCursor>,
    /// Every cursor handed out so far: seeing one again means the server is going round in circles.
    seen: HashSet<TicketCursor>,
}

impl Paging {
    async fn next_page(&mut self) -> Result<TicketPage, HelpDeskError> {
        let cursor = self.cursor.take();
        let (sort_by, order) = (self.query.sort_by, self.query.order);
        let in_order = |tickets: &Vec<Ticket>| {
            let values = tickets.iter().map(|ticket| sort_by.value_of(ticket));
            let sorted = values.clone().zip(values.skip(1)).all(|(a, b)| match order {
                Order::Asc => a <= b,
                Order::Desc => a >= b,
            });
            // The next cursor comes from the last ticket, so a shuffled page would mislead it.
            sorted.then_some(()).ok_or_else(|| format!("tickets not sorted by {}", sort_by.as_str()))
        };
        let query = &self.query;
        let fits = |tickets: &Vec<Ticket>| {
            in_order(tickets)?;
            // A proxy or cache that answers with another listing's page (another silo or date
            // window) would otherwise end this listing early (a short page) or move its cursor;
            // refused, the request is sent again.
            tickets.iter().try_for_each(|ticket| query.admits(ticket))
        };
        let answer = self.client.get(&["tickets"], &self.query.params(cursor.as_ref()), fits).await?;
        let tickets = answer.body;
        let full_page = tickets.len() >= self.query.page_size as usize;
        let next_cursor = match tickets.last() {
            Some(last) if full_page => Some(self.cursor_after(last)?),
            _ => None,
        };
        if let Some(next) = &next_cursor {
            self.check_progress(cursor.as_ref(), next)?;
        }
        self.cursor.clone_from(&next_cursor);
        Ok(TicketPage {
            tickets,
            cursor,
            next_cursor,
            total_pages: header_number(&answer.headers, "x-total-pages"),
            total_results: header_number(&answer.headers, "x-total-results"),
        })
    }

    fn cursor_after(&self, last: &Ticket) -> Result<TicketCursor, HelpDeskError> {
        let value = self.query.sort_by.value_of(last).ok_or_else(|| {
            HelpDeskError::UnexpectedResponse(format!(
                "ticket {} has no {} to continue paging from",
                last.id,
                self.query.sort_by.as_str()
            ))
        })?;
        Ok(TicketCursor { value, id: last.id.clone() })
    }

    /// The next cursor must lie beyond the previous one in the sort order and be new.
    fn check_progress(
        &mut self,
        previous: Option<&TicketCursor>,
        next: &TicketCursor,
    ) -> Result<(), HelpDeskError> {
        let went_back = previous.is_some_and(|previous| match self.query.order {
            Order::Asc => next.value < previous.value,
            Order::Desc => next.value > previous.value,
        });
        let repeated = previous == Some(next) || !self.seen.insert(next.clone());
        if went_back || repeated {
            return Err(HelpDeskError::RepeatedCursor { cursor: next.to_string() });
        }
        Ok(())
    }
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_spell_every_filter_as_the_api_does() {
        let at = Timestamp::parse_rfc3339("2024-05-02T10:11:12Z").unwrap();
        let query = TicketQuery::default()
            .silo(Silo::Archive)
            .status(TicketStatus::OnHold)
            .teams(["t1", "t2"])
            .created(Some(RelativeDate::parse("-2d").unwrap().into()), None)
            .updated(Some(at.into()), Some(RelativeDate::parse("-0M").unwrap().into()))
            .sort(SortBy::CreatedAt, Order::Desc)
            .page_size(50)
            .unwrap();
        let cursor = TicketCursor { value: at, id: "abc".into() };
        let params = query.params(Some(&cursor));
        let expected = [
            ("sortBy", "createdAt"),
            ("order", "desc"),
            ("pageSize", "50"),
            ("silo", "archive"),
            ("status", "onhold"),
            ("teamIDs[]", "t1"),
            ("teamIDs[]", "t2"),
            ("createdDateFrom", "-2d"),
            ("updatedDateFrom", "2024-05-02T10:11:12.000Z"),
            ("updatedDateTo", "-0M"),
            ("next.value", "2024-05-02T10:11:12.000Z"),
            ("next.ID", "abc"),
        ];
        let expected: Vec<(&str, String)> = expected.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        assert_eq!(params, expected);
    }

    #[test]
    fn page_size_and_relative_dates_are_validated() {
        assert!(TicketQuery::default().page_size(0).is_err());
        assert!(TicketQuery::default().page_size(101).is_err());
        assert!(TicketQuery::default().page_size(100).is_ok());
        for good in ["-2d", "+1m", "-0M", "-10n", "-0D", "-12h"] {
            assert!(RelativeDate::parse(good).is_ok(), "{good}");
        }
        for bad in ["2d", "-d", "-2x", "-2.5d", "", "-2dd"] {
            assert!(RelativeDate::parse(bad).is_err(), "{bad}");
        }
    }
}
