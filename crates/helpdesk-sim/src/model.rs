//! The simulator's ground truth: the account's agents, teams, tags, custom fields and tickets,
//! with per-silo indexes by each sort key so list pages never sort the whole set.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scoreline_core::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dates::DAY_MS;

/// How long trash and spam keep a ticket after its last update.
const TRASH_KEEP_MS: i64 = 30 * DAY_MS;
const SPAM_KEEP_MS: i64 = 60 * DAY_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Silo {
    Tickets,
    Archive,
    Spam,
    Trash,
}

impl Silo {
    pub const ALL: [Self; 4] = [Self::Tickets, Self::Archive, Self::Spam, Self::Trash];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tickets => "tickets",
            Self::Archive => "archive",
            Self::Spam => "spam",
            Self::Trash => "trash",
        }
    }

    /// `inbox` is the name newer LiveChat pushes use for `tickets`.
    pub fn parse(text: &str, accept_inbox: bool) -> Option<Self> {
        match text {
            "tickets" => Some(Self::Tickets),
            "inbox" if accept_inbox => Some(Self::Tickets),
            "archive" => Some(Self::Archive),
            "spam" => Some(Self::Spam),
            "trash" => Some(Self::Trash),
            _ => None,
        }
    }

    fn slot(self) -> usize {
        self as usize
    }

    /// Only the `tickets` silo accepts writes.
    pub fn is_writable(self) -> bool {
        self == Self::Tickets
    }

    fn keep_for(self) -> Option<i64> {
        match self {
            Self::Trash => Some(TRASH_KEEP_MS),
            Self::Spam => Some(SPAM_KEEP_MS),
            Self::Tickets | Self::Archive => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Pending,
    #[serde(rename = "onhold")]
    OnHold,
    Solved,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::OnHold => "onhold",
            Self::Solved => "solved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Pending, Self::OnHold, Self::Solved, Self::Closed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

pub const PRIORITIES: [i8; 4] = [-10, 0, 10, 20];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named after the `sortBy` values
pub enum SortKey {
    CreatedAt,
    UpdatedAt,
    LastMessageAt,
}

impl SortKey {
    const ALL: [Self; 3] = [Self::CreatedAt, Self::UpdatedAt, Self::LastMessageAt];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "createdAt" => Some(Self::CreatedAt),
            "updatedAt" => Some(Self::UpdatedAt),
            "lastMessageAt" => Some(Self::LastMessageAt),
            _ => None,
        }
    }

    pub fn value(self, ticket: &Ticket) -> i64 {
        match self {
            Self::CreatedAt => ticket.created_at,
            Self::UpdatedAt => ticket.updated_at,
            Self::LastMessageAt => ticket.last_message_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentRole {
    Owner,
    Normal,
    Viewer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Active,
    Invited,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: AgentRole,
    pub status: AgentStatus,
    pub teams: Vec<u32>,
    pub job_title: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Tag {
    pub id: Uuid,
    pub name: String,
    pub team: Option<u32>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct CustomField {
    pub id: Uuid,
    pub api_key: String,
    pub display_name: String,
    pub kind: &'static str,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    #[serde(rename = "ID")]
    pub id: Uuid,
    pub url: String,
    #[serde(rename = "eventType")]
    pub event_type: String,
    pub name: Option<String>,
    #[serde(skip)]
    pub created_at: i64,
}

/// Who did something: a customer (index into `customers`) or an agent (index into `agents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Client(u32),
    Agent(u32),
    System,
}

/// Indexes into `teams` and `agents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    pub team: u32,
    pub agent: Option<u32>,
}

#[derive(Debug, Clone)]
pub enum EventBody {
    Message { text: String, private: bool, html: Option<String> },
    Status { old: Status, new: Status },
    Assignment { old: Assignment, new: Assignment },
    Priority { old: i8, new: i8 },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: u32,
    pub date: i64,
    pub author: Author,
    pub body: EventBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Api,
    Chat,
}

#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: Uuid,
    pub short_id: String,
    pub silo: Silo,
    pub created_at: i64,
    pub created_by: Author,
    pub updated_at: i64,
    pub updated_by: Author,
    pub last_message_at: i64,
    pub status: Status,
    pub priority: i8,
    pub subject: String,
    pub requester: u32,
    pub cc: Vec<u32>,
    pub team_ids: Vec<u32>,
    pub assignment: Assignment,
    pub tag_ids: Vec<u32>,
    pub followers: Vec<u32>,
    pub custom_fields: Vec<(u32, String)>,
    pub channel: Channel,
    pub language: Option<&'static str>,
    pub rating_request_sent: bool,
    pub events: Vec<Event>,
}

impl Ticket {
    /// Appends an event numbered after the last one.
    pub fn push_event(&mut self, date: i64, author: Author, body: EventBody) {
        let id = self.events.last().map_or(1, |last| last.id + 1);
        self.events.push(Event { id, date, author, body });
    }
}

/// What webhooks announce about a ticket after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    Created,
    /// Events from this index on are new.
    Updated {
        new_events_from: usize,
    },
}

/// An agent as a person sees them: who, and in which HelpDesk teams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCard {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub team_names: Vec<String>,
    pub active: bool,
}

/// One row of the ground truth tests compare a sync against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketTruth {
    #[serde(rename = "ID")]
    pub id: Uuid,
    #[serde(rename = "updatedAt")]
    pub updated_at: Timestamp,
    pub silo: Silo,
    #[serde(rename = "eventCount")]
    pub event_count: usize,
    #[serde(rename = "messageCount")]
    pub message_count: usize,
    pub status: Status,
}

type SortIndex = BTreeMap<(i64, Uuid), u32>;

#[derive(Debug, Default)]
struct SiloIndex {
    by_key: [SortIndex; 3],
}

#[derive(Debug)]
pub struct Store {
    pub license_id: i64,
    pub account_id: Uuid,
    pub created_at: i64,
    pub agents: Vec<Agent>,
    pub teams: Vec<Team>,
    pub tags: Vec<Tag>,
    pub custom_fields: Vec<CustomField>,
    pub customers: Vec<Customer>,
    pub webhooks: Vec<Webhook>,
    tickets: Vec<Option<Ticket>>,
    by_id: HashMap<Uuid, u32>,
    indexes: [SiloIndex; 4],
    /// Changes for webhooks to announce, kept only while webhooks are registered.
    outbox: Vec<(Uuid, Announcement)>,
    /// Bumped by every change, so cached counts know when they are stale.
    version: u64,
    next_short_id: u64,
    rng: StdRng,
}

impl Store {
    pub fn new(seed: u64, license_id: i64, account_id: Uuid, created_at: i64) -> Self {
        Self {
            license_id,
            account_id,
            created_at,
            agents: Vec::new(),
            teams: Vec::new(),
            tags: Vec::new(),
            custom_fields: Vec::new(),
            customers: Vec::new(),
            webhooks: Vec::new(),
            tickets: Vec::new(),
            by_id: HashMap::new(),
            indexes: Default::default(),
            outbox: Vec::new(),
            version: 0,
            next_short_id: 1,
            rng: StdRng::seed_from_u64(seed ^ 0x05ee_d1d5),
        }
    }

    /// Fresh ids come from the seeded RNG so a replayed scenario yields the same ids.
    pub fn new_id(&mut self) -> Uuid {
        random_uuid(&mut self.rng)
    }

    pub fn next_short_id(&mut self) -> String {
        let n = self.next_short_id;
        self.next_short_id += 1;
        short_id(n)
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn default_team(&self) -> u32 {
        0
    }

    /// The agent behind the account's own credentials (PAT and OAuth tokens).
    pub fn owner_agent(&self) -> u32 {
        0
    }

    pub fn insert(&mut self, ticket: Ticket) {
        let slot = u32::try_from(self.tickets.len()).unwrap_or(u32::MAX);
        self.by_id.insert(ticket.id, slot);
        self.index_add(&ticket, slot);
        self.tickets.push(Some(ticket));
        self.version += 1;
    }

    pub fn announce(&mut self, id: Uuid, what: Announcement) {
        if !self.webhooks.is_empty() {
            self.outbox.push((id, what));
        }
    }

    /// Removes a webhook; false if there was none.
    pub fn remove_webhook(&mut self, id: Uuid) -> bool {
        let before = self.webhooks.len();
        self.webhooks.retain(|hook| hook.id != id);
        self.webhooks.len() < before
    }

    pub fn take_announcements(&mut self) -> Vec<(Uuid, Announcement)> {
        std::mem::take(&mut self.outbox)
    }

    pub fn ticket(&self, id: &Uuid) -> Option<&Ticket> {
        self.by_id.get(id).and_then(|slot| self.at(*slot))
    }

    /// Slots ever used (removed tickets leave empty slots).
    pub fn slot_count(&self) -> usize {
        self.tickets.len()
    }

    pub fn at(&self, slot: u32) -> Option<&Ticket> {
        self.tickets.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.iter().flatten()
    }

    pub fn index(&self, silo: Silo, key: SortKey) -> &SortIndex {
        &self.indexes[silo.slot()].by_key[key as usize]
    }

    /// Applies `change` to one ticket and keeps the indexes in step.
    pub fn modify<R>(&mut self, id: &Uuid, change: impl FnOnce(&mut Ticket) -> R) -> Option<R> {
        let slot = *self.by_id.get(id)?;
        let mut ticket = self.tickets.get_mut(slot as usize)?.take()?;
        self.index_remove(&ticket);
        let result = change(&mut ticket);
        self.index_add(&ticket, slot);
        self.tickets[slot as usize] = Some(ticket);
        self.version += 1;
        Some(result)
    }

    pub fn remove(&mut self, id: &Uuid) -> Option<Ticket> {
        let slot = self.by_id.remove(id)?;
        let ticket = self.tickets.get_mut(slot as usize)?.take()?;
        self.index_remove(&ticket);
        self.version += 1;
        Some(ticket)
    }

    /// Whether trash or spam holds a ticket past its keep period (a cheap read-only check).
    pub fn purge_due(&self, now: i64) -> bool {
        !self.expired(now).is_empty()
    }

    /// Drops trash and spam tickets whose keep period has run out.
    pub fn purge(&mut self, now: i64) -> usize {
        let expired = self.expired(now);
        for id in &expired {
            self.remove(id);
        }
        expired.len()
    }

    fn expired(&self, now: i64) -> Vec<Uuid> {
        Silo::ALL
            .into_iter()
            .filter_map(|silo| Some((silo, silo.keep_for()?)))
            .flat_map(|(silo, keep)| {
                self.index(silo, SortKey::UpdatedAt)
                    .keys()
                    .take_while(move |(updated_at, _)| updated_at + keep <= now)
                    .map(|(_, id)| *id)
            })
            .collect()
    }

    /// Every ticket, counting the events `shown` lets through, by (updatedAt, ID).
    pub fn truth(&self, shown: impl Fn(&Event) -> bool) -> Vec<TicketTruth> {
        let mut rows: Vec<TicketTruth> = self
            .tickets()
            .map(|ticket| TicketTruth {
                id: ticket.id,
                updated_at: Timestamp::from_millis(ticket.updated_at),
                silo: ticket.silo,
                event_count: ticket.events.iter().filter(|event| shown(event)).count(),
                message_count: ticket
                    .events
                    .iter()
                    .filter(|event| matches!(event.body, EventBody::Message { .. }))
                    .count(),
                status: ticket.status,
            })
            .collect();
        rows.sort_by_key(|row| (row.updated_at, row.id));
        rows
    }

    /// Rewrites every stored time to whole seconds (the second-precision knob).
    pub fn truncate_to_seconds(&mut self) {
        let truncate = |millis: &mut i64| *millis = millis.div_euclid(1000) * 1000;
        let ids: Vec<Uuid> = self.by_id.keys().copied().collect();
        for id in ids {
            self.modify(&id, |ticket| {
                truncate(&mut ticket.created_at);
                truncate(&mut ticket.updated_at);
                truncate(&mut ticket.last_message_at);
                ticket.events.iter_mut().for_each(|event| truncate(&mut event.date));
            });
        }
    }

    fn index_add(&mut self, ticket: &Ticket, slot: u32) {
        let index = &mut self.indexes[ticket.silo.slot()];
        for key in SortKey::ALL {
            index.by_key[key as usize].insert((key.value(ticket), ticket.id), slot);
        }
    }

    fn index_remove(&mut self, ticket: &Ticket) {
        let index = &mut self.indexes[ticket.silo.slot()];
        for key in SortKey::ALL {
            index.by_key[key as usize].remove(&(key.value(ticket), ticket.id));
        }
    }
}

pub fn random_uuid(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// HelpDesk short ids are short upper-case codes; ours count up in base 36.
pub fn short_id(n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut n = n + 36u64.pow(4); // at least five characters
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
