//! HelpDesk API objects, spelled as the API spells them (`ID`, `shortID`, `teamIDs`...).
//!
//! Every object but the ticket keeps the fields it does not model in `extra` (a ticket keeps its
//! events as the text received instead, see [`TicketEvents`]), tolerates missing optional fields,
//! and every enum has an `Other` variant for values added after this was written.

use scoreline_core::{RawJson, Timestamp};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A string enum whose unknown values survive as `Other(text)`.
macro_rules! open_string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($variant,)+
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match text.as_str() {
                    $($text => Self::$variant,)+
                    _ => Self::Other(text),
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                match value {
                    $name::Other(text) => text,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_string_enum!(
    /// A ticket's workflow state.
    TicketStatus {
        Open = "open",
        Pending = "pending",
        OnHold = "onhold",
        Solved = "solved",
        Closed = "closed",
    }
);

open_string_enum!(
    /// The folder a ticket lives in. `tickets` is the live folder, the others are read-only.
    Silo {
        Tickets = "tickets",
        Archive = "archive",
        Spam = "spam",
        Trash = "trash",
    }
);

open_string_enum!(
    /// What a ticket event records.
    EventType {
        Message = "message",
        Status = "status",
        Assignment = "assignment",
        Priority = "priority",
        Tags = "tags",
        Followers = "followers",
    }
);

open_string_enum!(
    /// Who caused an event or created an object.
    AuthorType {
        Agent = "agent",
        Client = "client",
        System = "system",
    }
);

open_string_enum!(
    /// Whether an agent has accepted the invitation.
    AgentStatus {
        Active = "active",
        Invited = "invited",
    }
);

/// A ticket's priority, an integer on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
    Other(i64),
}

impl From<i64> for Priority {
    fn from(value: i64) -> Self {
        match value {
            -10 => Self::Low,
            0 => Self::Medium,
            10 => Self::High,
            20 => Self::Urgent,
            other => Self::Other(other),
        }
    }
}

impl From<Priority> for i64 {
    fn from(priority: Priority) -> Self {
        match priority {
            Priority::Low => -10,
            Priority::Medium => 0,
            Priority::High => 10,
            Priority::Urgent => 20,
            Priority::Other(value) => value,
        }
    }
}

/// A HelpDesk ticket with its history. Messages are the events of type `message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "shortID", default)]
    pub short_id: Option<String>,
    #[serde(rename = "licenseID", default)]
    pub license_id: Option<i64>,
    #[serde(rename = "createdAt")]
    pub created_at: Timestamp,
    #[serde(rename = "updatedAt")]
    pub updated_at: Timestamp,
    #[serde(rename = "lastMessageAt", default)]
    pub last_message_at: Option<Timestamp>,
    #[serde(rename = "createdBy", default)]
    pub created_by: Option<String>,
    #[serde(rename = "createdByType", default)]
    pub created_by_type: Option<AuthorType>,
    #[serde(rename = "updatedBy", default)]
    pub updated_by: Option<String>,
    #[serde(default)]
    pub status: Option<TicketStatus>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub silo: Option<Silo>,
    #[serde(default)]
    pub requester: Option<Person>,
    #[serde(default)]
    pub cc: Vec<Person>,
    #[serde(default)]
    pub assignment: Option<Assignment>,
    #[serde(rename = "teamIDs", default)]
    pub team_ids: Vec<String>,
    #[serde(rename = "tagIDs", default)]
    pub tag_ids: Vec<String>,
    #[serde(default)]
    pub followers: Vec<String>,
    /// Custom-field `apiKey` → value.
    #[serde(rename = "customFields", default)]
    pub custom_fields: Map<String, Value>,
    #[serde(default)]
    pub events: TicketEvents,
}

/// A ticket's events as the JSON text HelpDesk sent, and what the sync counts in them. The sync
/// stores the text as it came; [`TicketEvents::parse`] reads the events in full.
///
/// Unlike the other objects, a ticket has no `extra`: collecting unknown fields would make serde
/// buffer the whole ticket, events included, before reading any of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TicketEvents {
    json: RawJson,
    #[serde(skip)]
    counts: EventCounts,
}

/// Counted as a ticket's events are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub events: u32,
    /// Messages: public replies and private notes.
    pub messages: u32,
    /// Public replies written by agents.
    pub agent_replies: u32,
}

impl TicketEvents {
    /// The events as HelpDesk sent them.
    pub fn json(&self) -> &RawJson {
        &self.json
    }

    pub fn into_json(self) -> RawJson {
        self.json
    }

    pub fn counts(&self) -> EventCounts {
        self.counts
    }

    /// Every event, typed.
    pub fn parse(&self) -> Result<Vec<TicketEvent>, serde_json::Error> {
        self.json.parse()
    }
}

impl Default for TicketEvents {
    fn default() -> Self {
        Self { json: RawJson::empty_array(), counts: EventCounts::default() }
    }
}

impl<'de> Deserialize<'de> for TicketEvents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = RawJson::deserialize(deserializer)?;
        let events: Vec<EventSummary> = json.parse().map_err(D::Error::custom)?;
        let counts = EventCounts {
            events: saturating_count(events.len()),
            messages: saturating_count(
                events.iter().filter(|event| event.kind == EventType::Message).count(),
            ),
            agent_replies: saturating_count(events.iter().filter(|event| event.is_agent_reply()).count()),
        };
        Ok(Self { json, counts })
    }
}

fn saturating_count(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The parts of an event the counts need; serde skips the rest without building it.
#[derive(Deserialize)]
struct EventSummary {
    #[serde(rename = "type")]
    kind: EventType,
    #[serde(default)]
    author: Option<AuthorSummary>,
    #[serde(default)]
    message: Option<MessageSummary>,
}

#[derive(Deserialize)]
struct AuthorSummary {
    #[serde(rename = "type", default)]
    kind: Option<AuthorType>,
}

#[derive(Deserialize)]
struct MessageSummary {
    #[serde(rename = "isPrivate", default)]
    is_private: bool,
}

impl EventSummary {
    /// A reply the requester sees, written by an agent.
    fn is_agent_reply(&self) -> bool {
        let by_agent =
            self.author.as_ref().and_then(|author| author.kind.as_ref()) == Some(&AuthorType::Agent);
        self.kind == EventType::Message
            && by_agent
            && self.message.as_ref().is_some_and(|message| !message.is_private)
    }
}

/// The requester or a cc'd person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The team and agent a ticket is assigned to; `agent` is `None` while the ticket waits in the
/// team's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    #[serde(default)]
    pub team: Option<NamedRef>,
    #[serde(default)]
    pub agent: Option<NamedRef>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A reference to a team or agent by id, with its name at the time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedRef {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketEvent {
    /// Sequence number within the ticket.
    #[serde(rename = "ID", default)]
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When it happened (HelpDesk calls it `date`, not `createdAt`).
    #[serde(default)]
    pub date: Option<Timestamp>,
    #[serde(default)]
    pub author: Option<EventAuthor>,
    #[serde(default)]
    pub message: Option<EventMessage>,
    #[serde(default)]
    pub status: Option<Change<TicketStatus>>,
    #[serde(default)]
    pub assignment: Option<Change<Assignment>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventAuthor {
    #[serde(rename = "type", default)]
    pub kind: Option<AuthorType>,
    #[serde(rename = "ID", default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMessage {
    #[serde(default)]
    pub text: Option<String>,
    /// An internal note rather than a reply the requester sees.
    #[serde(rename = "isPrivate", default)]
    pub is_private: bool,
    #[serde(rename = "richTextHtml", default)]
    pub rich_text_html: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The before and after of a status or assignment event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    pub old: Option<T>,
    pub new: Option<T>,
}

/// An agent of the HelpDesk account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    #[serde(rename = "ID")]
    pub id: String,
    /// The Text/LiveChat account behind the agent.
    #[serde(rename = "accountID", default)]
    pub account_id: Option<String>,
    #[serde(rename = "licenseID", default)]
    pub license_id: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `owner`, `normal`, `viewer`...
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub status: Option<AgentStatus>,
    #[serde(rename = "teamIDs", default)]
    pub team_ids: Vec<String>,
    #[serde(rename = "jobTitle", default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(rename = "createdAt", default)]
    pub created_at: Option<Timestamp>,
    #[serde(rename = "updatedAt", default)]
    pub updated_at: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "licenseID", default)]
    pub license_id: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "createdAt", default)]
    pub created_at: Option<Timestamp>,
    #[serde(rename = "updatedAt", default)]
    pub updated_at: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The team the tag is scoped to; `None` = shared by all teams.
    #[serde(rename = "teamID", default)]
    pub team_id: Option<String>,
    #[serde(rename = "licenseID", default)]
    pub license_id: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The HelpDesk customer account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct License {
    #[serde(rename = "ID")]
    pub id: i64,
    #[serde(rename = "defaultTeamID", default)]
    pub default_team_id: Option<String>,
    #[serde(rename = "createdAt", default)]
    pub created_at: Option<Timestamp>,
    #[serde(rename = "updatedAt", default)]
    pub updated_at: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A webhook: HelpDesk POSTs events of one type to one URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    #[serde(rename = "ID")]
    pub id: String,
    pub url: String,
    #[serde(rename = "eventType")]
    pub event_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a webhook delivery says, read as a hint only: which ticket, and how new the sender
/// claims its version is. Nothing in it is trusted, since deliveries are not signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHint {
    pub event_type: String,
    pub ticket_id: String,
    /// The ticket's `updatedAt`, number of events and silo as the delivery gives them, when it does.
    pub updated_at: Option<Timestamp>,
    pub event_count: Option<u32>,
    pub silo: Option<String>,
}

/// The longest ticket ID accepted from a delivery; real ones are UUIDs.
const MAX_TICKET_ID_CHARS: usize = 64;

impl WebhookHint {
    /// Reads `{eventType, payload}` where `payload` is the ticket (`tickets.create`,
    /// `tickets.update`) or `{ticket, event}` (`tickets.events.*`).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "eventType")]
            event_type: String,
            payload: Value,
        }
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|error| format!("not a webhook delivery: {error}"))?;
        let ticket = match envelope.payload.get("ticket") {
            Some(ticket) if ticket.is_object() => ticket,
            _ => &envelope.payload,
        };
        let ticket_id = ticket
            .get("ID")
            .and_then(Value::as_str)
            .ok_or_else(|| "the delivery names no ticket ID".to_owned())?;
        let plausible = !ticket_id.is_empty()
            && ticket_id.len() <= MAX_TICKET_ID_CHARS
            && ticket_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !plausible {
            return Err("the ticket ID of the delivery is not one HelpDesk gives".to_owned());
        }
        let updated_at = ticket.get("updatedAt").and_then(|value| Timestamp::deserialize(value).ok());
        let event_count = ticket
            .get("events")
            .and_then(Value::as_array)
            .and_then(|events| u32::try_from(events.len()).ok());
        let silo = ticket.get("silo").and_then(Value::as_str).map(str::to_owned);
        Ok(Self {
            event_type: envelope.event_type,
            ticket_id: ticket_id.to_owned(),
            updated_at,
            event_count,
            silo,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_hints_name_the_ticket_of_either_payload_shape() {
        let update = br#"{"eventType":"tickets.update","createdAt":"2024-05-02T11:00:00.000Z",
            "payload":{"ID":"0c04cb99-817a-4935-9d62-137c89a74388","updatedAt":"2024-05-02T11:00:00.000Z",
            "silo":"tickets","events":[{"ID":1},{"ID":2}]}}"#;
        let hint = WebhookHint::parse(update).unwrap();
        assert_eq!(hint.ticket_id, "0c04cb99-817a-4935-9d62-137c89a74388");
        assert_eq!(hint.updated_at, Some(Timestamp::parse_rfc3339("2024-05-02T11:00:00.000Z").unwrap()));
        assert_eq!((hint.event_count, hint.silo.as_deref()), (Some(2), Some("tickets")));
        let message =
            br#"{"eventType":"tickets.events.message","payload":{"ticket":{"ID":"t-1"},"event":{"ID":3}}}"#;
        let hint = WebhookHint::parse(message).unwrap();
        assert_eq!(
            (hint.event_type.as_str(), hint.ticket_id.as_str(), hint.updated_at),
            ("tickets.events.message", "t-1", None)
        );
        assert_eq!((hint.event_count, hint.silo), (None, None));
        for bad in [
            &br#"{"eventType":"tickets.update","payload":{}}"#[..],
            b"not json",
            br#"{"eventType":"x","payload":{"ID":"../agents"}}"#,
        ] {
            assert!(WebhookHint::parse(bad).is_err());
        }
    }

    const EXAMPLE: &str = r#"{
      "ID": "0c04cb99-817a-4935-9d62-137c89a74388", "licenseID": 13381337, "shortID": "ABC12",
      "createdAt": "2024-05-02T10:11:12.345Z", "createdByType": "client",
      "updatedAt": "2024-05-02T11:00:00Z", "lastMessageAt": null,
      "status": "escalated", "priority": 20, "subject": "Cannot log in",
      "requester": { "email": "jane@example.com", "name": "Jane Doe" }, "cc": [],
      "teamIDs": ["t1"], "tagIDs": ["g1"],
      "assignment": { "team": { "ID": "t1", "name": "Support" }, "agent": null },
      "customFields": { "order": "1001" }, "silo": "inbox", "detectedLanguage": "en",
      "events": [
        { "ID": 1, "type": "message", "date": "2024-05-02T10:11:12.345Z",
          "author": { "type": "client", "email": "jane@example.com" },
          "message": { "text": "I cannot log in", "isPrivate": false, "richTextObj": null } },
        { "ID": 2, "type": "message", "date": "2024-05-02T10:30:00.000Z",
          "author": { "type": "agent", "ID": "a1" },
          "message": { "text": "Try resetting it", "isPrivate": false } },
        { "ID": 3, "type": "status", "date": "2024-05-02T11:00:00.000Z",
          "status": { "old": "open", "new": "pending" } },
        { "ID": 4, "type": "rating", "date": "2024-05-02T11:00:01.000Z", "rating": "good" }
      ]
    }"#;

    #[test]
    fn parses_a_ticket_keeping_its_events_as_sent_and_unknown_values() {
        let ticket: Ticket = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(ticket.id, "0c04cb99-817a-4935-9d62-137c89a74388");
        assert_eq!(ticket.short_id.as_deref(), Some("ABC12"));
        assert_eq!(ticket.license_id, Some(13_381_337));
        assert_eq!(ticket.created_at.as_millis() % 1000, 345);
        assert_eq!(ticket.updated_at.as_millis() % 1000, 0);
        assert_eq!(ticket.last_message_at, None);
        assert_eq!(ticket.status, Some(TicketStatus::Other("escalated".into())));
        assert_eq!(ticket.priority, Some(Priority::Urgent));
        assert_eq!(ticket.silo, Some(Silo::Other("inbox".into())));
        let assignment = ticket.assignment.as_ref().unwrap();
        assert_eq!(assignment.team.as_ref().unwrap().id, "t1");
        assert_eq!(assignment.agent, None);
        assert_eq!(ticket.events.counts(), EventCounts { events: 4, messages: 2, agent_replies: 1 });
        assert!(ticket.events.json().get().contains(r#""richTextObj": null"#), "the text as sent");
        let events = ticket.events.parse().unwrap();
        assert_eq!(events[2].status.as_ref().unwrap().new, Some(TicketStatus::Pending));
        assert_eq!(events[3].kind, EventType::Other("rating".into()));
        assert_eq!(events[3].extra["rating"], "good");
    }

    #[test]
    fn a_ticket_round_trips_with_the_api_field_names() {
        let ticket: Ticket = serde_json::from_str(EXAMPLE).unwrap();
        let json = serde_json::to_value(&ticket).unwrap();
        for field in ["ID", "shortID", "licenseID", "teamIDs", "tagIDs", "events"] {
            assert!(json.get(field).is_some(), "{field} missing");
        }
        assert_eq!(json["priority"], 20);
        assert_eq!(json["status"], "escalated");
        assert_eq!(json["events"][3]["rating"], "good");
        // Written out, the events are the text received, so reading it back gives the same ticket.
        let again: Ticket = serde_json::from_str(&serde_json::to_string(&ticket).unwrap()).unwrap();
        assert_eq!(again, ticket);
    }

    #[test]
    fn a_minimal_ticket_parses() {
        let ticket: Ticket = serde_json::from_str(
            r#"{"ID":"x","createdAt":"2024-05-02T10:11:12Z","updatedAt":"2024-05-02T10:11:12.5Z"}"#,
        )
        .unwrap();
        assert_eq!(ticket.events.counts(), EventCounts::default());
        assert_eq!(ticket.events.json().get(), "[]");
        assert_eq!(ticket.updated_at.as_millis() % 1000, 500);
        assert_eq!(Priority::from(5), Priority::Other(5));
    }

    #[test]
    fn agents_teams_tags_and_licenses_parse() {
        let agent: Agent = serde_json::from_str(
            r#"{"ID":"a1","accountID":"acc","name":"Ann","roles":["owner"],"status":"suspended","teamIDs":["t1"],"flags":{}}"#,
        )
        .unwrap();
        assert_eq!(agent.status, Some(AgentStatus::Other("suspended".into())));
        assert!(agent.extra.contains_key("flags"));
        let tag: Tag = serde_json::from_str(r#"{"ID":"g","name":"vip","teamID":null}"#).unwrap();
        assert_eq!(tag.team_id, None);
        let license: License = serde_json::from_str(
            r#"{"ID":13381337,"defaultTeamID":"t1","createdAt":"2020-04-30T22:02:08.901Z","flags":{"defaultInboxUsed":true}}"#,
        )
        .unwrap();
        assert_eq!(license.id, 13_381_337);
        let team: Team = serde_json::from_str(r#"{"ID":"t1","name":"Support"}"#).unwrap();
        assert_eq!(team.name.as_deref(), Some("Support"));
    }
}
