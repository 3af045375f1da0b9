//! HelpDesk's JSON as publicly documented: `ID`-style names, ISO times, bare arrays.
//! Ticket rendering borrows from the store, so a page of 100 tickets allocates little.

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::dates::{Iso, Precision};
use crate::model::{
    Agent, Assignment, Author, Channel, CustomField, Event, EventBody, Silo, Store, Tag, Team, Ticket,
};

/// Rendering choices that knobs and options control.
#[derive(Debug, Clone, Copy)]
pub struct WireFormat {
    pub precision: Precision,
    /// Emit `inbox` instead of `tickets` as the silo name.
    pub inbox_silo_name: bool,
    /// Show `priority` events; hidden ones leave gaps in event IDs.
    pub priority_events: bool,
}

impl WireFormat {
    fn time(self, millis: i64) -> Iso {
        Iso(millis, self.precision)
    }

    pub fn shows(self, event: &Event) -> bool {
        self.priority_events || !matches!(event.body, EventBody::Priority { .. })
    }

    fn silo(self, silo: Silo) -> &'static str {
        if self.inbox_silo_name && silo == Silo::Tickets { "inbox" } else { silo.as_str() }
    }
}

#[derive(Serialize)]
struct Ref<'a> {
    #[serde(rename = "ID")]
    id: &'a Uuid,
    name: &'a str,
}

#[derive(Serialize)]
struct Person<'a> {
    email: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct AssignmentOut<'a> {
    team: Ref<'a>,
    agent: Option<Ref<'a>>,
}

#[derive(Serialize)]
struct SourceOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "detailedSource")]
    detailed_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(rename = "integrationType", skip_serializing_if = "Option::is_none")]
    integration_type: Option<&'static str>,
}

#[derive(Serialize)]
struct AuthorOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    id: Option<&'a Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct Change<T> {
    old: T,
    new: T,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    text: &'a str,
    #[serde(rename = "isPrivate")]
    is_private: bool,
    #[serde(rename = "richTextHtml")]
    rich_text_html: Option<&'a str>,
    #[serde(rename = "richTextObj")]
    rich_text_obj: Option<[RichParagraph<'a>; 1]>,
}

#[derive(Serialize)]
struct RichParagraph<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    children: [RichText<'a>; 1],
}

#[derive(Serialize)]
struct RichText<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct SpamOut {
    status: bool,
    reason: Option<&'static str>,
}

/// One ticket as `GET /v1/tickets/{ID}` and list pages show it.
pub struct TicketOut<'a> {
    pub store: &'a Store,
    pub ticket: &'a Ticket,
    pub format: WireFormat,
}

impl<'a> TicketOut<'a> {
    fn team(&self, index: u32) -> Ref<'a> {
        let team = &self.store.teams[index as usize];
        Ref { id: &team.id, name: &team.name }
    }

    fn agent(&self, index: u32) -> Ref<'a> {
        let agent = &self.store.agents[index as usize];
        Ref { id: &agent.id, name: &agent.name }
    }

    fn assignment(&self, assignment: Assignment) -> AssignmentOut<'a> {
        AssignmentOut {
            team: self.team(assignment.team),
            agent: assignment.agent.map(|agent| self.agent(agent)),
        }
    }

    fn author(&self, author: Author) -> AuthorOut<'a> {
        match author {
            Author::Client(index) => {
                let customer = &self.store.customers[index as usize];
                AuthorOut {
                    kind: "client",
                    id: None,
                    name: Some(&customer.name),
                    email: Some(&customer.email),
                }
            }
            Author::Agent(index) => {
                let agent = &self.store.agents[index as usize];
                AuthorOut {
                    kind: "agent",
                    id: Some(&agent.id),
                    name: Some(&agent.name),
                    email: Some(&agent.email),
                }
            }
            Author::System => AuthorOut { kind: "system", id: None, name: None, email: None },
        }
    }

    fn actor_id(&self, author: Author) -> &'a Uuid {
        match author {
            Author::Client(index) => &self.store.customers[index as usize].id,
            Author::Agent(index) => &self.store.agents[index as usize].id,
            Author::System => &self.store.account_id,
        }
    }

    fn source(&self) -> SourceOut<'a> {
        let requester = &self.store.customers[self.ticket.requester as usize];
        match self.ticket.channel {
            Channel::Email => SourceOut {
                kind: "email",
                detailed_source: "support@example.com",
                from: Some(&requester.email),
                integration_type: None,
            },
            Channel::Chat => SourceOut {
                kind: "integration",
                detailed_source: "livechat",
                from: None,
                integration_type: Some("livechat"),
            },
            Channel::Api => AGENT_SOURCE,
        }
    }

    fn people(&self, indexes: &[u32]) -> Vec<Person<'a>> {
        indexes
            .iter()
            .map(|index| {
                let customer = &self.store.customers[*index as usize];
                Person { email: &customer.email, name: &customer.name }
            })
            .collect()
    }
}

const AGENT_SOURCE: SourceOut<'static> =
    SourceOut { kind: "api", detailed_source: "", from: None, integration_type: None };

fn author_type(author: Author) -> &'static str {
    match author {
        Author::Client(_) => "client",
        Author::Agent(_) => "agent",
        Author::System => "system",
    }
}

impl Serialize for TicketOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ticket = self.ticket;
        let store = self.store;
        let format = self.format;
        let ids = |indexes: &[u32], of: &dyn Fn(u32) -> Uuid| -> Vec<Uuid> {
            indexes.iter().map(|index| of(*index)).collect()
        };
        let team_ids = ids(&ticket.team_ids, &|i| store.teams[i as usize].id);
        let tag_ids = ids(&ticket.tag_ids, &|i| store.tags[i as usize].id);
        let followers = ids(&ticket.followers, &|i| store.agents[i as usize].id);
        let custom_fields: serde_json::Map<String, Value> = ticket
            .custom_fields
            .iter()
            .map(|(field, value)| {
                let key = store.custom_fields[*field as usize].api_key.clone();
                (key, Value::String(value.clone()))
            })
            .collect();
        let requester = &store.customers[ticket.requester as usize];

        let mut out = serializer.serialize_struct("Ticket", 29)?;
        out.serialize_field("ID", &ticket.id)?;
        out.serialize_field("licenseID", &store.license_id)?;
        out.serialize_field("shortID", &ticket.short_id)?;
        out.serialize_field("createdAt", &format.time(ticket.created_at))?;
        out.serialize_field("createdBy", self.actor_id(ticket.created_by))?;
        out.serialize_field("createdByType", author_type(ticket.created_by))?;
        out.serialize_field("updatedAt", &format.time(ticket.updated_at))?;
        out.serialize_field("updatedBy", self.actor_id(ticket.updated_by))?;
        out.serialize_field("lastMessageAt", &format.time(ticket.last_message_at))?;
        out.serialize_field("status", ticket.status.as_str())?;
        out.serialize_field("priority", &ticket.priority)?;
        out.serialize_field("subject", &ticket.subject)?;
        out.serialize_field("requester", &Person { email: &requester.email, name: &requester.name })?;
        out.serialize_field("cc", &self.people(&ticket.cc))?;
        out.serialize_field("teamIDs", &team_ids)?;
        out.serialize_field("assignment", &self.assignment(ticket.assignment))?;
        out.serialize_field("tagIDs", &tag_ids)?;
        out.serialize_field("followers", &followers)?;
        out.serialize_field("customFields", &custom_fields)?;
        out.serialize_field("ratingRequestSent", &ticket.rating_request_sent)?;
        out.serialize_field("rating", &Option::<()>::None)?;
        let spam = SpamOut {
            status: ticket.silo == Silo::Spam,
            reason: (ticket.silo == Silo::Spam).then_some("manual"),
        };
        out.serialize_field("spam", &spam)?;
        out.serialize_field("source", &self.source())?;
        out.serialize_field("integrations", &json!({}))?;
        out.serialize_field("detectedLanguage", &ticket.language)?;
        out.serialize_field("parentTicket", &Option::<()>::None)?;
        out.serialize_field("childTickets", &[(); 0])?;
        out.serialize_field("silo", format.silo(ticket.silo))?;
        out.serialize_field("events", &EventsOut(self))?;
        out.end()
    }
}

struct EventsOut<'t, 'a>(&'t TicketOut<'a>);

impl Serialize for EventsOut<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ticket = self.0;
        let shown = ticket.ticket.events.iter().filter(|event| ticket.format.shows(event));
        serializer.collect_seq(shown.map(|event| EventOut { ticket, event }))
    }
}

struct EventOut<'t, 'a> {
    ticket: &'t TicketOut<'a>,
    event: &'a Event,
}

impl Serialize for EventOut<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Self { ticket, event } = self;
        let mut out = serializer.serialize_struct("Event", 6)?;
        out.serialize_field("ID", &event.id)?;
        out.serialize_field("type", event_type(event))?;
        out.serialize_field("date", &ticket.format.time(event.date))?;
        out.serialize_field("author", &ticket.author(event.author))?;
        match event.author {
            Author::Client(_) => out.serialize_field("source", &ticket.source())?,
            Author::Agent(_) | Author::System => out.serialize_field("source", &AGENT_SOURCE)?,
        }
        match &event.body {
            EventBody::Message { text, private, html } => {
                let from_agent = matches!(event.author, Author::Agent(_));
                let message = MessageOut {
                    text,
                    is_private: *private,
                    rich_text_html: html.as_deref(),
                    rich_text_obj: from_agent
                        .then_some([RichParagraph { kind: "paragraph", children: [RichText { text }] }]),
                };
                out.serialize_field("message", &message)?;
            }
            EventBody::Status { old, new } => {
                out.serialize_field("status", &Change { old: old.as_str(), new: new.as_str() })?
            }
            EventBody::Assignment { old, new } => out.serialize_field(
                "assignment",
                &Change { old: ticket.assignment(*old), new: ticket.assignment(*new) },
            )?,
            EventBody::Priority { old, new } => {
                out.serialize_field("priority", &Change { old, new })?;
            }
        }
        out.end()
    }
}

/// A `tickets.events.*` webhook payload: `{ticket, event}`.
pub fn ticket_event(store: &Store, ticket: &Ticket, event: &Event, format: WireFormat) -> Value {
    let ticket = TicketOut { store, ticket, format };
    let event = EventOut { ticket: &ticket, event };
    json!({ "ticket": &ticket, "event": event })
}

/// The `type` of an event as the API and webhook names spell it.
pub fn event_type(event: &Event) -> &'static str {
    match event.body {
        EventBody::Message { .. } => "message",
        EventBody::Status { .. } => "status",
        EventBody::Assignment { .. } => "assignment",
        EventBody::Priority { .. } => "priority",
    }
}

fn audit(store: &Store, created_at: i64, format: WireFormat) -> Value {
    let owner = &store.agents[store.owner_agent() as usize].id;
    json!({
        "createdAt": format.time(created_at),
        "createdBy": owner,
        "createdByType": "agent",
        "updatedAt": format.time(created_at),
        "updatedBy": owner,
    })
}

fn with_audit(mut object: Value, store: &Store, created_at: i64, format: WireFormat) -> Value {
    if let (Value::Object(fields), Value::Object(extra)) = (&mut object, audit(store, created_at, format)) {
        fields.extend(extra);
    }
    object
}

pub fn agent(store: &Store, agent: &Agent, format: WireFormat) -> Value {
    let team_ids: Vec<Uuid> = agent.teams.iter().map(|index| store.teams[*index as usize].id).collect();
    let body = json!({
        "ID": agent.id,
        "accountID": agent.account_id,
        "licenseID": store.license_id,
        "email": agent.email,
        "emailVerified": agent.status == crate::model::AgentStatus::Active,
        "name": agent.name,
        "roles": [agent.role],
        "status": agent.status,
        "teamIDs": team_ids,
        "autoassignment": false,
        "autoassignmentTeamIDs": [],
        "avatar": null,
        "jobTitle": agent.job_title,
        "organizationOwner": agent.role == crate::model::AgentRole::Owner,
        "settings": { "emailNotificationsActive": true, "theme": "light", "timeZone": "Europe/Warsaw" },
        "signature": { "text": "" },
        "flags": {},
    });
    with_audit(body, store, agent.created_at, format)
}

pub fn team(store: &Store, team: &Team, format: WireFormat) -> Value {
    let body = json!({
        "ID": team.id,
        "licenseID": store.license_id,
        "name": team.name,
        "replyAddressID": null,
        "replyName": null,
        "templateID": null,
        "settings": {
            "notifyTeamAboutAssignedTicket": true,
            "notifyTeamAboutRequestersActivity": false,
            "tagReminder": false,
            "unauthReplyCreatesNewTicket": false,
        },
        "integrations": {},
    });
    with_audit(body, store, team.created_at, format)
}

pub fn tag(store: &Store, index: u32, format: WireFormat) -> Value {
    let tag: &Tag = &store.tags[index as usize];
    let count = store.tickets().filter(|ticket| ticket.tag_ids.contains(&index));
    let body = json!({
        "ID": tag.id,
        "licenseID": store.license_id,
        "name": tag.name,
        "teamID": tag.team.map(|index| store.teams[index as usize].id),
        "count": count.count(),
    });
    with_audit(body, store, tag.created_at, format)
}

pub fn custom_field(store: &Store, field: &CustomField, format: WireFormat) -> Value {
    let body = json!({
        "ID": field.id,
        "licenseID": store.license_id,
        "apiKey": field.api_key,
        "displayName": field.display_name,
        "type": field.kind,
        "status": "active",
        "roleLevel": "normal",
        "teamIDs": [],
    });
    with_audit(body, store, field.created_at, format)
}

pub fn license(store: &Store, format: WireFormat) -> Value {
    let body = json!({
        "ID": store.license_id,
        "defaultTeamID": store.teams[store.default_team() as usize].id,
        "defaultTemplateID": null,
        "detectedLanguages": ["en", "de", "es", "ja"],
        "flags": { "defaultInboxUsed": true },
        "settings": {
            "companyName": "Example Inc.",
            "externalTickets": false,
            "poweredByFooter": true,
            "ticketThread": true,
        },
        "subscription": { "state": "active", "pastDue": false },
        "availableSources": ["email", "api", "integration"],
        "verifiedAt": format.time(store.created_at),
        "verifiedBy": store.agents[store.owner_agent() as usize].id,
    });
    with_audit(body, store, store.created_at, format)
}

pub fn webhook(store: &Store, webhook: &crate::model::Webhook, format: WireFormat) -> Value {
    let body = json!({
        "ID": webhook.id,
        "licenseID": store.license_id,
        "url": webhook.url,
        "eventType": webhook.event_type,
        "name": webhook.name,
    });
    with_audit(body, store, webhook.created_at, format)
}
