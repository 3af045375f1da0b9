//! Ticket writes shared by the `/v1` routes, the admin API and `SimHandle`.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::SimError;
use crate::knobs::Options;
use crate::model::{
    Agent, AgentRole, AgentStatus, Announcement, Assignment, Author, Channel, Customer, EventBody,
    PRIORITIES, Silo, Status, Store, Ticket,
};

/// The body of `POST /v1/tickets` and `PATCH /v1/tickets/{ID}` (all optional for PATCH).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketInput {
    subject: Option<String>,
    status: Option<String>,
    priority: Option<i8>,
    requester: Option<PersonInput>,
    message: Option<MessageInput>,
    is_private: Option<bool>,
    #[serde(rename = "teamIDs")]
    team_ids: Option<Vec<Uuid>>,
    assignment: Option<AssignmentInput>,
    #[serde(rename = "tagIDs")]
    tag_ids: Option<Vec<Uuid>>,
    followers: Option<Vec<Uuid>>,
    cc: Option<Vec<PersonInput>>,
    custom_fields: Option<HashMap<String, String>>,
    author: Option<AuthorInput>,
}

#[derive(Debug, Deserialize)]
struct PersonInput {
    email: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessageInput {
    text: String,
    #[serde(default, rename = "isPrivate")]
    is_private: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct RefInput {
    #[serde(rename = "ID")]
    id: Uuid,
}

#[derive(Debug, Deserialize)]
struct AssignmentInput {
    team: Option<RefInput>,
    /// Absent keeps the agent; `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    agent: Option<Option<RefInput>>,
}

#[derive(Debug, Deserialize)]
struct AuthorInput {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, rename = "ID")]
    id: Option<Uuid>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

pub fn parse_input(body: &[u8]) -> Result<TicketInput, SimError> {
    serde_json::from_slice(body).map_err(|error| SimError::Validation(error.to_string()))
}

pub fn input(body: serde_json::Value) -> Result<TicketInput, SimError> {
    serde_json::from_value(body).map_err(|error| SimError::Validation(error.to_string()))
}

fn invalid(message: impl Into<String>) -> SimError {
    SimError::Validation(message.into())
}

fn team_index(store: &Store, id: Uuid) -> Result<u32, SimError> {
    index_of(store.teams.iter().map(|team| team.id), id, "team")
}

fn agent_index(store: &Store, id: Uuid) -> Result<u32, SimError> {
    index_of(store.agents.iter().map(|agent| agent.id), id, "agent")
}

fn index_of(ids: impl Iterator<Item = Uuid>, id: Uuid, what: &str) -> Result<u32, SimError> {
    ids.into_iter()
        .position(|candidate| candidate == id)
        .map(|index| index as u32)
        .ok_or_else(|| invalid(format!("unknown {what} ID {id}")))
}

fn indexes(
    store: &Store,
    ids: &[Uuid],
    find: fn(&Store, Uuid) -> Result<u32, SimError>,
) -> Result<Vec<u32>, SimError> {
    ids.iter().map(|id| find(store, *id)).collect()
}

fn tag_index(store: &Store, id: Uuid) -> Result<u32, SimError> {
    index_of(store.tags.iter().map(|tag| tag.id), id, "tag")
}

fn customer(store: &mut Store, person: &PersonInput) -> Result<u32, SimError> {
    if !person.email.contains('@') {
        return Err(invalid(format!("invalid e-mail {:?}", person.email)));
    }
    if let Some(index) =
        store.customers.iter().position(|customer| customer.email.eq_ignore_ascii_case(&person.email))
    {
        return Ok(index as u32);
    }
    let id = store.new_id();
    store.customers.push(Customer {
        id,
        name: person.name.clone().unwrap_or_default(),
        email: person.email.clone(),
    });
    Ok((store.customers.len() - 1) as u32)
}

fn parse_status(text: &str) -> Result<Status, SimError> {
    Status::parse(text).ok_or_else(|| invalid(format!("invalid status {text:?}")))
}

fn check_priority(priority: i8) -> Result<i8, SimError> {
    if PRIORITIES.contains(&priority) {
        Ok(priority)
    } else {
        Err(invalid(format!("invalid priority {priority}")))
    }
}

/// Who writes: the client (the requester), or an agent (the credentials' owner by default).
fn author(store: &Store, input: &TicketInput, requester: u32) -> Result<Author, SimError> {
    match &input.author {
        Some(author) if author.kind == "client" => Ok(Author::Client(requester)),
        Some(author) if author.kind == "agent" => match author.id {
            Some(id) => agent_index(store, id).map(Author::Agent),
            None => Ok(Author::Agent(store.owner_agent())),
        },
        Some(author) => Err(invalid(format!("invalid author.type {:?}", author.kind))),
        None => Ok(Author::Agent(store.owner_agent())),
    }
}

fn message_privacy(input: &TicketInput, author: Author, options: &Options) -> Result<bool, SimError> {
    let private = input
        .is_private
        .or_else(|| input.message.as_ref().and_then(|message| message.is_private))
        .unwrap_or(false);
    if private && matches!(author, Author::Client(_)) && options.reject_private_client_messages {
        return Err(invalid("isPrivate is not allowed when author.type is client"));
    }
    Ok(private)
}

fn next_assignment(
    store: &Store,
    current: Assignment,
    input: Option<&AssignmentInput>,
) -> Result<Assignment, SimError> {
    let Some(input) = input else {
        return Ok(current);
    };
    let team = match &input.team {
        Some(team) => team_index(store, team.id)?,
        None => current.team,
    };
    let agent = match &input.agent {
        Some(Some(agent)) => Some(agent_index(store, agent.id)?),
        Some(None) => None,
        None => current.agent,
    };
    Ok(Assignment { team, agent })
}

/// `POST /v1/tickets`: `requester` and `message` are required; without an assignment the
/// ticket goes to the default team, which must then be among `teamIDs`.
pub fn create_ticket(
    store: &mut Store,
    input: &TicketInput,
    now: i64,
    options: &Options,
) -> Result<Uuid, SimError> {
    let person = input.requester.as_ref().ok_or_else(|| invalid("requester is required"))?;
    let message = input.message.as_ref().ok_or_else(|| invalid("message is required"))?;
    let requester = customer(store, person)?;
    let author = author(store, input, requester)?;
    let private = message_privacy(input, author, options)?;
    let unassigned = Assignment { team: store.default_team(), agent: None };
    let assignment = next_assignment(store, unassigned, input.assignment.as_ref())?;
    let team_ids = match &input.team_ids {
        Some(ids) => indexes(store, ids, team_index)?,
        None => vec![assignment.team],
    };
    if !team_ids.contains(&assignment.team) {
        return Err(invalid("the assigned team must be one of teamIDs"));
    }
    let status = input.status.as_deref().map(parse_status).transpose()?;
    let cc =
        input.cc.iter().flatten().map(|person| customer(store, person)).collect::<Result<Vec<_>, _>>()?;
    let mut ticket = Ticket {
        id: store.new_id(),
        short_id: store.next_short_id(),
        silo: Silo::Tickets,
        created_at: now,
        created_by: author,
        updated_at: now,
        updated_by: author,
        last_message_at: now,
        status: status.unwrap_or(Status::Open),
        priority: check_priority(input.priority.unwrap_or(0))?,
        subject: input.subject.clone().unwrap_or_default(),
        requester,
        cc,
        team_ids,
        assignment,
        tag_ids: indexes(store, input.tag_ids.as_deref().unwrap_or_default(), tag_index)?,
        followers: indexes(store, input.followers.as_deref().unwrap_or_default(), agent_index)?,
        custom_fields: custom_fields(store, input)?,
        channel: Channel::Api,
        language: None,
        rating_request_sent: false,
        events: Vec::new(),
    };
    let body = EventBody::Message { text: message.text.clone(), private, html: None };
    ticket.push_event(now, author, body);
    if assignment != unassigned {
        let body = EventBody::Assignment { old: unassigned, new: assignment };
        ticket.push_event(now, author, body);
    }
    let id = ticket.id;
    store.insert(ticket);
    store.announce(id, Announcement::Created);
    Ok(id)
}

fn custom_fields(store: &Store, input: &TicketInput) -> Result<Vec<(u32, String)>, SimError> {
    let Some(values) = &input.custom_fields else {
        return Ok(Vec::new());
    };
    let mut fields = values
        .iter()
        .map(|(key, value)| {
            let index = store
                .custom_fields
                .iter()
                .position(|field| &field.api_key == key)
                .ok_or_else(|| invalid(format!("unknown custom field {key:?}")))?;
            Ok((index as u32, value.clone()))
        })
        .collect::<Result<Vec<_>, SimError>>()?;
    fields.sort();
    Ok(fields)
}

/// `PATCH /v1/tickets/{ID}`: changes fields, appends message/status/assignment/priority
/// events, bumps `updatedAt` (and `lastMessageAt` for a public message).
pub fn update_ticket(
    store: &mut Store,
    id: &Uuid,
    input: &TicketInput,
    now: i64,
    options: &Options,
) -> Result<(), SimError> {
    let current = store.ticket(id).ok_or(SimError::NotFound)?;
    if !current.silo.is_writable() {
        return Err(SimError::ReadOnlySilo(current.silo));
    }
    let (requester, current_assignment, new_events_from) =
        (current.requester, current.assignment, current.events.len());
    let author = author(store, input, requester)?;
    let private = message_privacy(input, author, options)?;
    let status = input.status.as_deref().map(parse_status).transpose()?;
    let priority = input.priority.map(check_priority).transpose()?;
    let assignment = next_assignment(store, current_assignment, input.assignment.as_ref())?;
    let team_ids = input.team_ids.as_deref().map(|ids| indexes(store, ids, team_index)).transpose()?;
    let tag_ids = input.tag_ids.as_deref().map(|ids| indexes(store, ids, tag_index)).transpose()?;
    let followers = input.followers.as_deref().map(|ids| indexes(store, ids, agent_index)).transpose()?;
    let fields = input.custom_fields.is_some().then(|| custom_fields(store, input)).transpose()?;
    let cc = input
        .cc
        .as_ref()
        .map(|people| people.iter().map(|person| customer(store, person)).collect())
        .transpose()?;
    store.modify(id, |ticket| {
        if let Some(message) = &input.message {
            let body = EventBody::Message { text: message.text.clone(), private, html: None };
            ticket.push_event(now, author, body);
            if !private {
                ticket.last_message_at = now;
            }
        }
        if let Some(new) = status.filter(|new| *new != ticket.status) {
            let old = std::mem::replace(&mut ticket.status, new);
            ticket.push_event(now, author, EventBody::Status { old, new });
        }
        if let Some(new) = priority.filter(|new| *new != ticket.priority) {
            let old = std::mem::replace(&mut ticket.priority, new);
            ticket.push_event(now, author, EventBody::Priority { old, new });
        }
        if assignment != ticket.assignment {
            let old = std::mem::replace(&mut ticket.assignment, assignment);
            ticket.push_event(now, author, EventBody::Assignment { old, new: assignment });
        }
        if let Some(subject) = &input.subject {
            ticket.subject.clone_from(subject);
        }
        ticket.team_ids = team_ids.unwrap_or(std::mem::take(&mut ticket.team_ids));
        ticket.tag_ids = tag_ids.unwrap_or(std::mem::take(&mut ticket.tag_ids));
        ticket.followers = followers.unwrap_or(std::mem::take(&mut ticket.followers));
        ticket.custom_fields = fields.unwrap_or(std::mem::take(&mut ticket.custom_fields));
        ticket.cc = cc.unwrap_or(std::mem::take(&mut ticket.cc));
        if !ticket.team_ids.contains(&ticket.assignment.team) {
            ticket.team_ids.push(ticket.assignment.team);
        }
        ticket.updated_at = now;
        ticket.updated_by = author;
    });
    store.announce(*id, Announcement::Updated { new_events_from });
    Ok(())
}

/// `DELETE /v1/tickets/{ID}`: to trash (from trash, for good when the option says so).
pub fn delete_ticket(store: &mut Store, id: &Uuid, now: i64, options: &Options) -> Result<(), SimError> {
    let silo = store.ticket(id).ok_or(SimError::NotFound)?.silo;
    if silo == Silo::Trash && options.delete_in_trash_is_permanent {
        store.remove(id);
        return Ok(());
    }
    move_ticket(store, id, Silo::Trash, now)
}

/// Moving bumps `updatedAt`, which starts the trash/spam keep period.
pub fn move_ticket(store: &mut Store, id: &Uuid, silo: Silo, now: i64) -> Result<(), SimError> {
    let owner = Author::Agent(store.owner_agent());
    let moved = store
        .modify(id, |ticket| {
            let moved = ticket.silo != silo;
            if moved {
                ticket.silo = silo;
                ticket.updated_at = now;
                ticket.updated_by = owner;
            }
            moved.then_some(ticket.events.len())
        })
        .ok_or(SimError::NotFound)?;
    if let Some(new_events_from) = moved {
        store.announce(*id, Announcement::Updated { new_events_from });
    }
    Ok(())
}

/// Adds an active agent with the `normal` role in the default team.
pub fn add_agent(store: &mut Store, name: &str, email: &str, now: i64) -> Uuid {
    let id = store.new_id();
    let account_id = store.new_id();
    store.agents.push(Agent {
        id,
        account_id,
        email: email.to_owned(),
        name: name.to_owned(),
        role: AgentRole::Normal,
        status: AgentStatus::Active,
        teams: vec![store.default_team()],
        job_title: None,
        created_at: now,
    });
    id
}
