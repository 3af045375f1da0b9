//! `GET /v1/tickets`: filters, sorting, cursor and legacy page paging over the sort indexes.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Mutex;

use uuid::Uuid;

use crate::dates::parse_date;
use crate::knobs::Options;
use crate::model::{PRIORITIES, Silo, SortKey, Status, Store, Ticket};

type Key = (i64, Uuid);

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    First,
    /// Strictly after this (sort value, ID) in the requested order.
    After(Key),
    /// Strictly before it: the page that precedes.
    Before(Key),
    /// Legacy 1-based page number.
    Page(usize),
}

/// A half-open `[from, to)` range of epoch milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Range {
    from: Option<i64>,
    to: Option<i64>,
}

impl Range {
    fn contains(self, at: i64) -> bool {
        self.from.is_none_or(|from| at >= from) && self.to.is_none_or(|to| at < to)
    }
}

#[derive(Debug)]
pub struct ListQuery {
    silo: Silo,
    status: Option<Status>,
    priority: Option<i8>,
    /// Team and tag indexes; `u32::MAX` stands for an ID the account does not have.
    teams: Option<Vec<u32>>,
    tags: Option<Vec<u32>>,
    has_assignee: Option<bool>,
    subject: Option<String>,
    text: Option<String>,
    short_id: Option<String>,
    created: Range,
    updated: Range,
    last_message: Range,
    sort: SortKey,
    descending: bool,
    pub page_size: usize,
    position: Position,
}

fn resolve(ids: &[String], known: impl Fn(Uuid) -> Option<usize>) -> Result<Vec<u32>, String> {
    ids.iter()
        .flat_map(|value| value.split(','))
        .filter(|value| !value.is_empty())
        .map(|value| {
            let id = Uuid::parse_str(value.trim()).map_err(|_| format!("invalid ID {value:?}"))?;
            Ok(known(id).map_or(u32::MAX, |index| index as u32))
        })
        .collect()
}

impl ListQuery {
    pub fn parse(raw: &str, store: &Store, now: i64, options: &Options) -> Result<Self, String> {
        let mut single: HashMap<String, String> = HashMap::new();
        let mut team_ids = Vec::new();
        let mut tag_ids = Vec::new();
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            // Array filters need the `[]` suffix; `teamIDs=` alone is ignored, as HelpDesk does.
            match key.as_ref() {
                "teamIDs[]" => team_ids.push(value.into_owned()),
                "tagIDs[]" => tag_ids.push(value.into_owned()),
                _ => {
                    single.insert(key.into_owned(), value.into_owned());
                }
            }
        }
        let get = |key: &str| lookup(&single, key);
        let date = |key: &str| -> Result<Option<i64>, String> {
            get(key)
                .map(|text| parse_date(text, now).ok_or_else(|| format!("invalid date in {key}: {text:?}")))
                .transpose()
        };
        let range = |from: &str, to: &str| -> Result<Range, String> {
            Ok(Range { from: date(from)?, to: date(to)? })
        };
        let silo = match get("silo") {
            Some(text) => Silo::parse(text, options.accept_inbox_silo)
                .ok_or_else(|| format!("invalid silo {text:?}"))?,
            None => Silo::Tickets,
        };
        let sort = match get("sortBy") {
            Some(text) => SortKey::parse(text).ok_or_else(|| format!("invalid sortBy {text:?}"))?,
            None => SortKey::CreatedAt,
        };
        let descending = match get("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => return Err(format!("invalid order {other:?}")),
        };
        let page_size = match get("pageSize") {
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|size| (1..=100).contains(size))
                .ok_or_else(|| format!("pageSize must be 1-100, got {text:?}"))?,
            None => 20,
        };
        let status = get("status")
            .map(|text| Status::parse(text).ok_or_else(|| format!("invalid status {text:?}")))
            .transpose()?;
        let priority = get("priority")
            .map(|text| {
                text.parse::<i8>()
                    .ok()
                    .filter(|priority| PRIORITIES.contains(priority))
                    .ok_or_else(|| format!("invalid priority {text:?}"))
            })
            .transpose()?;
        let has_assignee = match get("hasAssignee") {
            None => None,
            Some("Y") => Some(true),
            Some("N") => Some(false),
            Some(other) => return Err(format!("hasAssignee must be Y or N, got {other:?}")),
        };
        let teams = (!team_ids.is_empty())
            .then(|| resolve(&team_ids, |id| store.teams.iter().position(|team| team.id == id)))
            .transpose()?;
        let tags = (!tag_ids.is_empty())
            .then(|| resolve(&tag_ids, |id| store.tags.iter().position(|tag| tag.id == id)))
            .transpose()?;
        let position = Self::position(&single, now, options)?;
        Ok(Self {
            silo,
            status,
            priority,
            teams,
            tags,
            has_assignee,
            subject: get("subject").map(str::to_lowercase),
            text: get("query").map(str::to_lowercase),
            short_id: get("shortID").map(str::to_owned),
            created: range("createdDateFrom", "createdDateTo")?,
            updated: range("updatedDateFrom", "updatedDateTo")?,
            last_message: range("lastMessageFrom", "lastMessageTo")?,
            sort,
            descending,
            page_size,
            position,
        })
    }

    fn position(params: &HashMap<String, String>, now: i64, options: &Options) -> Result<Position, String> {
        let cursor = |prefix: &str| -> Result<Option<Key>, String> {
            let value = lookup(params, &format!("{prefix}.value"));
            let id = lookup(params, &format!("{prefix}.ID"));
            match (value, id) {
                (None, None) => Ok(None),
                (Some(value), Some(id)) => {
                    let value = value
                        .parse::<i64>()
                        .ok()
                        .or_else(|| parse_date(value, now))
                        .ok_or_else(|| format!("invalid {prefix}.value {value:?}"))?;
                    let id = Uuid::parse_str(id).map_err(|_| format!("invalid {prefix}.ID {id:?}"))?;
                    Ok(Some((value, id)))
                }
                _ => Err(format!("{prefix}.value and {prefix}.ID go together")),
            }
        };
        let page = match lookup(params, "page") {
            Some(text) if options.legacy_page => Some(
                text.parse::<usize>()
                    .ok()
                    .filter(|page| *page >= 1)
                    .ok_or_else(|| format!("invalid page {text:?}"))?,
            ),
            _ => None,
        };
        match (cursor("next")?, cursor("prev")?, page) {
            (Some(_), Some(_), _) => Err("next.* and prev.* cannot be combined".to_owned()),
            (Some(key), None, _) => Ok(Position::After(key)),
            (None, Some(key), _) => Ok(Position::Before(key)),
            (None, None, Some(page)) => Ok(Position::Page(page)),
            (None, None, None) => Ok(Position::First),
        }
    }

    fn sort_range(&self) -> Range {
        match self.sort {
            SortKey::CreatedAt => self.created,
            SortKey::UpdatedAt => self.updated,
            SortKey::LastMessageAt => self.last_message,
        }
    }

    fn matches(&self, ticket: &Ticket, visible_until: Option<i64>) -> bool {
        let any_of = |wanted: &Option<Vec<u32>>, have: &[u32]| {
            wanted.as_ref().is_none_or(|wanted| wanted.iter().any(|index| have.contains(index)))
        };
        visible_until.is_none_or(|until| ticket.updated_at <= until)
            && self.status.is_none_or(|status| ticket.status == status)
            && self.priority.is_none_or(|priority| ticket.priority == priority)
            && any_of(&self.teams, &ticket.team_ids)
            && any_of(&self.tags, &ticket.tag_ids)
            && self.has_assignee.is_none_or(|wanted| ticket.assignment.agent.is_some() == wanted)
            && self.created.contains(ticket.created_at)
            && self.updated.contains(ticket.updated_at)
            && self.last_message.contains(ticket.last_message_at)
            && self.short_id.as_deref().is_none_or(|short_id| ticket.short_id.eq_ignore_ascii_case(short_id))
            && self.subject.as_deref().is_none_or(|subject| ticket.subject.to_lowercase().contains(subject))
            && self.text.as_deref().is_none_or(|text| mentions(ticket, text))
    }

    /// The slots of this page's tickets, in the requested order.
    pub fn page(&self, store: &Store, visible_until: Option<i64>) -> Vec<u32> {
        let (lower, upper) = bounds(self.sort_range());
        let index = store.index(self.silo, self.sort);
        let wanted = |slot: &u32| store.at(*slot).is_some_and(|t| self.matches(t, visible_until));
        let take = |lower: Bound<Key>, upper: Bound<Key>, backwards: bool, skip: usize| -> Vec<u32> {
            if empty(&lower, &upper) {
                return Vec::new();
            }
            let range = index.range((lower, upper)).map(|(_, slot)| *slot);
            let matching: Box<dyn Iterator<Item = u32>> =
                if backwards { Box::new(range.rev().filter(wanted)) } else { Box::new(range.filter(wanted)) };
            matching.skip(skip).take(self.page_size).collect()
        };
        let descending = self.descending;
        match self.position {
            Position::First => take(lower, upper, descending, 0),
            Position::Page(page) => take(lower, upper, descending, (page - 1) * self.page_size),
            Position::After(key) if descending => take(lower, tighter_upper(upper, key), true, 0),
            Position::After(key) => take(tighter_lower(lower, key), upper, false, 0),
            Position::Before(key) => {
                let mut slots = if descending {
                    take(tighter_lower(lower, key), upper, false, 0)
                } else {
                    take(lower, tighter_upper(upper, key), true, 0)
                };
                slots.reverse();
                slots
            }
        }
    }

    /// How many tickets match regardless of position; cached per store version.
    pub fn total(
        &self,
        store: &Store,
        visible_until: Option<i64>,
        cache: &Mutex<HashMap<String, (u64, usize)>>,
    ) -> usize {
        let key = format!("{:?}", (self.filters_key(), visible_until));
        let version = store.version();
        if let Ok(cache) = cache.lock()
            && let Some((cached_version, count)) = cache.get(&key)
            && *cached_version == version
        {
            return *count;
        }
        let (lower, upper) = bounds(self.sort_range());
        let count = if empty(&lower, &upper) {
            0
        } else {
            store
                .index(self.silo, self.sort)
                .range((lower, upper))
                .filter(|(_, slot)| store.at(**slot).is_some_and(|t| self.matches(t, visible_until)))
                .count()
        };
        if let Ok(mut cache) = cache.lock() {
            if cache.len() > 1000 {
                cache.clear();
            }
            cache.insert(key, (version, count));
        }
        count
    }

    fn filters_key(&self) -> String {
        format!(
            "{:?}",
            (
                self.silo,
                self.status,
                self.priority,
                &self.teams,
                &self.tags,
                self.has_assignee,
                (&self.subject, &self.text, &self.short_id),
                (self.created, self.updated, self.last_message),
                self.sort,
            )
        )
    }
}

fn lookup<'a>(params: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    params.get(key).map(String::as_str)
}

/// The `query` full-text filter: subject or any message.
fn mentions(ticket: &Ticket, text: &str) -> bool {
    ticket.subject.to_lowercase().contains(text)
        || ticket.events.iter().any(|event| match &event.body {
            crate::model::EventBody::Message { text: body, .. } => body.to_lowercase().contains(text),
            _ => false,
        })
}

/// `[from, to)` on the sort value as index bounds (nil is the smallest UUID).
fn bounds(range: Range) -> (Bound<Key>, Bound<Key>) {
    let lower = range.from.map_or(Bound::Unbounded, |from| Bound::Included((from, Uuid::nil())));
    let upper = range.to.map_or(Bound::Unbounded, |to| Bound::Excluded((to, Uuid::nil())));
    (lower, upper)
}

fn tighter_lower(bound: Bound<Key>, after: Key) -> Bound<Key> {
    match bound {
        Bound::Included(key) if key > after => Bound::Included(key),
        Bound::Excluded(key) if key > after => Bound::Excluded(key),
        _ => Bound::Excluded(after),
    }
}

fn tighter_upper(bound: Bound<Key>, before: Key) -> Bound<Key> {
    match bound {
        Bound::Included(key) if key < before => Bound::Included(key),
        Bound::Excluded(key) if key < before => Bound::Excluded(key),
        _ => Bound::Excluded(before),
    }
}

/// Whether the bounds select nothing (`BTreeMap::range` panics on inverted bounds).
fn empty(lower: &Bound<Key>, upper: &Bound<Key>) -> bool {
    let (low, low_inclusive) = match lower {
        Bound::Included(key) => (key, true),
        Bound::Excluded(key) => (key, false),
        Bound::Unbounded => return false,
    };
    let (high, high_inclusive) = match upper {
        Bound::Included(key) => (key, true),
        Bound::Excluded(key) => (key, false),
        Bound::Unbounded => return false,
    };
    low > high || (low == high && !(low_inclusive && high_inclusive))
}
