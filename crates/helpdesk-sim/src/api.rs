//! The HelpDesk REST API v1: tickets (list, read, create, update, delete, silo moves, tags),
//! agents, teams, tags, licenses, custom fields and webhooks.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::SimError;
use crate::knobs::{AckBody, Options};
use crate::listing::ListQuery;
use crate::model::{CustomField, Silo, Store, Tag, Team, Webhook};
use crate::server::{LastPage, ListQuirk, Sim, api_error, lock_page};
use crate::wire::{self, TicketOut, WireFormat};

pub fn router() -> Router<Arc<Sim>> {
    let v1 = Router::new()
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/{id}", get(show_ticket).patch(update_ticket).delete(delete_ticket))
        .route("/tickets/{id}/silo", put(move_ticket))
        .route("/tickets/{id}/tags", post(add_tags))
        .route("/tickets/{id}/tags/{tag_id}", delete(remove_tag))
        .route("/agents", get(list_agents))
        .route("/agents/{id}", get(show_agent))
        .route("/teams", get(list_teams).post(create_team))
        .route("/teams/{id}", get(show_team))
        .route("/tags", get(list_tags).post(create_tag))
        .route("/tags/{id}", get(show_tag))
        .route("/licenses", get(list_licenses))
        .route("/licenses/{id}", get(show_license))
        .route("/customFields", get(list_custom_fields).post(create_custom_field))
        .route("/customFields/{id}", get(show_custom_field))
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", get(show_webhook).delete(delete_webhook))
        .fallback(not_found);
    Router::new().nest("/v1", v1)
}

async fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "Not Found", "no such resource")
}

/// Maps the simulator's errors to HelpDesk statuses (some chosen by options).
pub fn error_response(error: &SimError, options: &Options) -> Response {
    let status = |code| StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    match error {
        SimError::NotFound => api_error(StatusCode::NOT_FOUND, "Not Found", &error.to_string()),
        SimError::ReadOnlySilo(_) => {
            let status = status(options.read_only_status);
            api_error(status, status.canonical_reason().unwrap_or("Bad Request"), &error.to_string())
        }
        SimError::Validation(details) => {
            api_error(status(options.validation_status), "Validation error", details)
        }
    }
}

fn parse_id(text: &str) -> Result<Uuid, SimError> {
    Uuid::parse_str(text).map_err(|_| SimError::NotFound)
}

/// DELETE and silo moves answer `OK` (or `{}` when the option says so).
fn ack(options: &Options) -> Response {
    match options.ack_body {
        AckBody::Text => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "OK").into_response(),
        AckBody::EmptyJson => Json(serde_json::json!({})).into_response(),
    }
}

fn outcome(sim: &Sim, result: Result<Response, SimError>) -> Response {
    result.unwrap_or_else(|error| error_response(&error, &sim.options()))
}

fn json_bytes(bytes: impl Into<Bytes>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes.into()).into_response()
}

/// A ticket page: the bare array plus the paging headers.
fn page_response(page: LastPage, options: &Options) -> Response {
    let (pages, results, body) = page;
    let mut response = json_bytes(body);
    response.headers_mut().insert("x-total-pages", pages);
    if options.total_results_header {
        response.headers_mut().insert("x-total-results", results);
    }
    response
}

fn ticket_json(sim: &Sim, id: &Uuid) -> Result<Response, SimError> {
    let format = sim.wire_format();
    let store = sim.store();
    let ticket = store.ticket(id).ok_or(SimError::NotFound)?;
    let body = serde_json::to_vec(&TicketOut { store: &store, ticket, format })
        .map_err(|error| SimError::Validation(error.to_string()))?;
    Ok(json_bytes(body))
}

async fn list_tickets(
    State(sim): State<Arc<Sim>>,
    quirk: Option<Extension<ListQuirk>>,
    RawQuery(query): RawQuery,
) -> Response {
    let quirk = quirk.map(|Extension(quirk)| quirk);
    let options = sim.options();
    if quirk == Some(ListQuirk::RepeatPreviousPage)
        && let Some(last) = lock_page(&sim).clone()
    {
        return page_response(last, &options);
    }
    let knobs = sim.knobs();
    let format = sim.wire_format();
    let now = sim.clock.now_millis();
    let store = sim.store();
    let query = match ListQuery::parse(query.as_deref().unwrap_or_default(), &store, now, &options) {
        Ok(query) => query,
        Err(details) => return error_response(&SimError::Validation(details), &options),
    };
    // With a visibility lag, a ticket joins list results only once its update has "settled".
    let visible_until = (knobs.visibility_lag_ms > 0)
        .then(|| now - i64::try_from(knobs.visibility_lag_ms).unwrap_or(i64::MAX));
    let mut slots = query.page(&store, visible_until);
    let total = query.total(&store, visible_until, &sim.counts);
    if quirk == Some(ListQuirk::OutOfOrderPage) {
        slots.reverse();
    }
    let page: Vec<TicketOut<'_>> = slots
        .iter()
        .filter_map(|slot| store.at(*slot))
        .map(|ticket| TicketOut { store: &store, ticket, format })
        .collect();
    let body = match serde_json::to_vec(&page) {
        Ok(body) => body,
        Err(error) => {
            return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal", &error.to_string());
        }
    };
    drop(page);
    drop(store);
    let page =
        (HeaderValue::from(total.div_ceil(query.page_size)), HeaderValue::from(total), Bytes::from(body));
    *lock_page(&sim) = Some(page.clone());
    page_response(page, &options)
}

async fn show_ticket(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    outcome(&sim, parse_id(&id).and_then(|id| ticket_json(&sim, &id)))
}

async fn create_ticket(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let created = sim.create_ticket(&body).and_then(|id| ticket_json(&sim, &id));
    let status = StatusCode::from_u16(sim.options().create_status).unwrap_or(StatusCode::OK);
    match created {
        Ok(response) => (status, response).into_response(),
        Err(error) => error_response(&error, &sim.options()),
    }
}

async fn update_ticket(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let result = parse_id(&id).and_then(|id| {
        sim.update_ticket(&id, &body)?;
        ticket_json(&sim, &id)
    });
    outcome(&sim, result)
}

async fn delete_ticket(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let result = parse_id(&id).and_then(|id| sim.delete_ticket(&id));
    outcome(&sim, result.map(|()| ack(&sim.options())))
}

#[derive(Deserialize)]
struct SiloBody {
    silo: String,
}

async fn move_ticket(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let options = sim.options();
    let result = parse_id(&id).and_then(|id| {
        let body: SiloBody =
            serde_json::from_slice(&body).map_err(|error| SimError::Validation(error.to_string()))?;
        let silo = Silo::parse(&body.silo, options.accept_inbox_silo)
            .ok_or_else(|| SimError::Validation(format!("invalid silo {:?}", body.silo)))?;
        sim.move_ticket(&id, silo)
    });
    outcome(&sim, result.map(|()| ack(&options)))
}

async fn add_tags(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let result = parse_id(&id).and_then(|id| {
        let wanted: Value =
            serde_json::from_slice(&body).map_err(|error| SimError::Validation(error.to_string()))?;
        let current = current_tag_ids(&sim, &id)?;
        let mut tags = current;
        for tag in wanted["tagIDs"].as_array().into_iter().flatten() {
            tags.push(tag.clone());
        }
        let patch = serde_json::to_vec(&serde_json::json!({ "tagIDs": tags }))
            .map_err(|error| SimError::Validation(error.to_string()))?;
        sim.update_ticket(&id, &patch)?;
        ticket_json(&sim, &id)
    });
    outcome(&sim, result)
}

async fn remove_tag(State(sim): State<Arc<Sim>>, Path((id, tag_id)): Path<(String, String)>) -> Response {
    let result = parse_id(&id).and_then(|id| {
        let tags: Vec<Value> = current_tag_ids(&sim, &id)?
            .into_iter()
            .filter(|tag| tag.as_str() != Some(tag_id.as_str()))
            .collect();
        let patch = serde_json::to_vec(&serde_json::json!({ "tagIDs": tags }))
            .map_err(|error| SimError::Validation(error.to_string()))?;
        sim.update_ticket(&id, &patch)
    });
    outcome(&sim, result.map(|()| ack(&sim.options())))
}

fn current_tag_ids(sim: &Sim, id: &Uuid) -> Result<Vec<Value>, SimError> {
    let store = sim.store();
    let ticket = store.ticket(id).ok_or(SimError::NotFound)?;
    Ok(ticket.tag_ids.iter().map(|index| Value::String(store.tags[*index as usize].id.to_string())).collect())
}

/// Renders every resource of one kind, each with its `ID` as text.
type Render = fn(&Store, WireFormat) -> Vec<(String, Value)>;

/// Lists one kind of resource as a bare JSON array.
fn list_of(sim: &Sim, render: Render) -> Response {
    let format = sim.wire_format();
    let all: Vec<Value> = render(&sim.store(), format).into_iter().map(|(_, value)| value).collect();
    Json(all).into_response()
}

/// Shows the resource whose `ID` matches, or 404.
fn one_of(sim: &Sim, id: &str, render: Render) -> Response {
    let format = sim.wire_format();
    let found =
        render(&sim.store(), format).into_iter().find(|(candidate, _)| candidate.eq_ignore_ascii_case(id));
    match found {
        Some((_, body)) => Json(body).into_response(),
        None => api_error(StatusCode::NOT_FOUND, "Not Found", "no such resource"),
    }
}

fn agents(store: &Store, format: WireFormat) -> Vec<(String, Value)> {
    store.agents.iter().map(|agent| (agent.id.to_string(), wire::agent(store, agent, format))).collect()
}

fn teams(store: &Store, format: WireFormat) -> Vec<(String, Value)> {
    store.teams.iter().map(|team| (team.id.to_string(), wire::team(store, team, format))).collect()
}

fn tags(store: &Store, format: WireFormat) -> Vec<(String, Value)> {
    (0..store.tags.len())
        .map(|index| {
            let id = store.tags[index].id.to_string();
            (id, wire::tag(store, index as u32, format))
        })
        .collect()
}

fn licenses(store: &Store, format: WireFormat) -> Vec<(String, Value)> {
    vec![(store.license_id.to_string(), wire::license(store, format))]
}

fn custom_fields(store: &Store, format: WireFormat) -> Vec<(String, Value)> {
    store
        .custom_fields
        .iter()
        .map(|field| (field.id.to_string(), wire::custom_field(store, field, format)))
        .collect()
}

fn webhooks(store: &Store, format: WireFormat) -> Vec<(String, Value)> {
    store.webhooks.iter().map(|hook| (hook.id.to_string(), wire::webhook(store, hook, format))).collect()
}

async fn list_agents(State(sim): State<Arc<Sim>>) -> Response {
    list_of(&sim, agents)
}

async fn show_agent(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    one_of(&sim, &id, agents)
}

async fn list_teams(State(sim): State<Arc<Sim>>) -> Response {
    list_of(&sim, teams)
}

async fn show_team(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    one_of(&sim, &id, teams)
}

async fn list_tags(State(sim): State<Arc<Sim>>) -> Response {
    list_of(&sim, tags)
}

async fn show_tag(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    one_of(&sim, &id, tags)
}

async fn list_licenses(State(sim): State<Arc<Sim>>) -> Response {
    list_of(&sim, licenses)
}

async fn show_license(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    one_of(&sim, &id, licenses)
}

async fn list_custom_fields(State(sim): State<Arc<Sim>>) -> Response {
    list_of(&sim, custom_fields)
}

async fn show_custom_field(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    one_of(&sim, &id, custom_fields)
}

async fn list_webhooks(State(sim): State<Arc<Sim>>) -> Response {
    list_of(&sim, webhooks)
}

async fn show_webhook(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    one_of(&sim, &id, webhooks)
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SimError> {
    serde_json::from_slice(body).map_err(|error| SimError::Validation(error.to_string()))
}

#[derive(Deserialize)]
struct NewTeam {
    name: String,
}

async fn create_team(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let result = parse_body::<NewTeam>(&body).map(|new| {
        let now = sim.now();
        let format = sim.wire_format();
        let mut store = sim.store_mut();
        let team = Team { id: store.new_id(), name: new.name, created_at: now };
        let body = wire::team(&store, &team, format);
        store.teams.push(team);
        Json(body).into_response()
    });
    outcome(&sim, result)
}

#[derive(Deserialize)]
struct NewTag {
    name: String,
    #[serde(default, rename = "teamID")]
    team_id: Option<Uuid>,
}

/// Tag names are unique per account, whatever team they belong to.
async fn create_tag(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let result = parse_body::<NewTag>(&body).and_then(|new| {
        let now = sim.now();
        let format = sim.wire_format();
        let mut store = sim.store_mut();
        if store.tags.iter().any(|tag| tag.name.eq_ignore_ascii_case(&new.name)) {
            return Err(SimError::Validation(format!("tag {:?} already exists", new.name)));
        }
        let team = match new.team_id {
            Some(id) => Some(
                store
                    .teams
                    .iter()
                    .position(|team| team.id == id)
                    .ok_or_else(|| SimError::Validation(format!("unknown team {id}")))?
                    as u32,
            ),
            None => None,
        };
        let tag = Tag { id: store.new_id(), name: new.name, team, created_at: now };
        store.tags.push(tag);
        let index = (store.tags.len() - 1) as u32;
        Ok(Json(wire::tag(&store, index, format)).into_response())
    });
    outcome(&sim, result)
}

/// Webhook event types; one URL and one event type per webhook.
const EVENT_TYPES: &[&str] = &[
    "tickets.create",
    "tickets.update",
    "tickets.events.status",
    "tickets.events.priority",
    "tickets.events.assignment",
    "tickets.events.message",
    "tickets.events.tags",
    "tickets.events.followers",
];

#[derive(Deserialize)]
struct NewWebhook {
    url: String,
    #[serde(rename = "eventType")]
    event_type: String,
    #[serde(default)]
    name: Option<String>,
}

async fn create_webhook(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let result = parse_body::<NewWebhook>(&body).and_then(|new| {
        if !EVENT_TYPES.contains(&new.event_type.as_str()) {
            return Err(SimError::Validation(format!("invalid eventType {:?}", new.event_type)));
        }
        if url::Url::parse(&new.url).is_err() {
            return Err(SimError::Validation(format!("invalid url {:?}", new.url)));
        }
        let now = sim.now();
        let format = sim.wire_format();
        let mut store = sim.store_mut();
        let hook = Webhook {
            id: store.new_id(),
            url: new.url,
            event_type: new.event_type,
            name: new.name,
            created_at: now,
        };
        let body = wire::webhook(&store, &hook, format);
        store.webhooks.push(hook);
        Ok(Json(body).into_response())
    });
    outcome(&sim, result)
}

async fn delete_webhook(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let result = parse_id(&id).and_then(|id| {
        if !sim.store_mut().remove_webhook(id) {
            return Err(SimError::NotFound);
        }
        Ok(ack(&sim.options()))
    });
    outcome(&sim, result)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCustomField {
    display_name: String,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(rename = "type")]
    kind: String,
}

const CUSTOM_FIELD_TYPES: &[&str] = &["singleLine", "multiLine", "date", "url"];

/// The `apiKey` defaults to the display name in snake case; keys are unique.
async fn create_custom_field(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let result = parse_body::<NewCustomField>(&body).and_then(|new| {
        let kind = CUSTOM_FIELD_TYPES
            .iter()
            .find(|kind| **kind == new.kind)
            .ok_or_else(|| SimError::Validation(format!("invalid type {:?}", new.kind)))?;
        let api_key = new.api_key.unwrap_or_else(|| new.display_name.to_lowercase().replace(' ', "_"));
        let now = sim.now();
        let format = sim.wire_format();
        let mut store = sim.store_mut();
        if store.custom_fields.iter().any(|field| field.api_key == api_key) {
            return Err(SimError::Validation(format!("apiKey {api_key:?} already exists")));
        }
        let field = CustomField {
            id: store.new_id(),
            api_key,
            display_name: new.display_name,
            kind,
            created_at: now,
        };
        let body = wire::custom_field(&store, &field, format);
        store.custom_fields.push(field);
        Ok(Json(body).into_response())
    });
    outcome(&sim, result)
}
