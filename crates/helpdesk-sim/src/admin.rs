//! `/_sim/…`: knobs, clock, faults, credentials, mutations, ground truth and the request log,
//! for tests and benchmarks in other processes. No authentication: it listens on loopback.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::SimError;
use crate::api::error_response;
use crate::knobs::{Knobs, Options, ScriptedFault};
use crate::model::Silo;
use crate::server::{Sim, iso};

pub fn router() -> Router<Arc<Sim>> {
    let admin = Router::new()
        .route("/state", get(show_state))
        .route("/knobs", get(show_knobs).put(set_knobs))
        .route("/options", get(show_options).put(set_options))
        .route("/clock", get(show_clock).post(move_clock))
        .route("/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/truth", get(show_truth))
        .route("/requests", get(list_requests).delete(clear_requests))
        .route("/deliveries", get(list_deliveries))
        .route("/revoke", post(revoke))
        .route("/pats", post(issue_pat))
        .route("/tokens", post(issue_tokens))
        .route("/tickets", post(create_ticket))
        .route("/tickets/{id}", axum::routing::patch(update_ticket).delete(delete_ticket))
        .route("/tickets/{id}/silo", put(move_ticket))
        .route("/agents", post(add_agent));
    Router::new().nest("/_sim", admin)
}

async fn show_state(State(sim): State<Arc<Sim>>) -> Response {
    let accounts = sim.accounts();
    Json(json!({
        "api_base_url": sim.api_url,
        "accounts_url": sim.accounts_url,
        "account_id": accounts.account_id,
        "pat": accounts.pat(),
        "oauth_client_id": accounts.app.client_id,
        "oauth_client_secret": accounts.app.client_secret,
        "redirect_uris": accounts.app.redirect_uris,
        "now": iso(sim.clock.now_millis()),
    }))
    .into_response()
}

async fn show_knobs(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.knobs()).into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, (StatusCode, String)> {
    serde_json::from_slice(body).map_err(|error| (StatusCode::BAD_REQUEST, error.to_string()))
}

async fn set_knobs(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Knobs>(&body) {
        Ok(knobs) => {
            sim.set_knobs(knobs);
            Json(sim.knobs()).into_response()
        }
        Err(response) => response.into_response(),
    }
}

async fn show_options(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.options()).into_response()
}

async fn set_options(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Options>(&body) {
        Ok(options) => {
            sim.set_options(options);
            Json(sim.options()).into_response()
        }
        Err(response) => response.into_response(),
    }
}

fn clock_body(sim: &Sim) -> Response {
    let now = sim.clock.now_millis();
    Json(json!({ "now": iso(now), "millis": now })).into_response()
}

async fn show_clock(State(sim): State<Arc<Sim>>) -> Response {
    clock_body(&sim)
}

#[derive(Deserialize)]
struct ClockChange {
    #[serde(default)]
    advance_ms: Option<u64>,
    /// An ISO timestamp.
    #[serde(default)]
    set: Option<String>,
}

async fn move_clock(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let change = match parse::<ClockChange>(&body) {
        Ok(change) => change,
        Err(response) => return response.into_response(),
    };
    if let Some(set) = change.set {
        match crate::dates::parse_iso(&set) {
            Some(millis) => sim.clock.set(scoreline_core::Timestamp::from_millis(millis)),
            None => return (StatusCode::BAD_REQUEST, "invalid time").into_response(),
        }
    }
    if let Some(advance) = change.advance_ms {
        sim.clock.advance(Duration::from_millis(advance));
    }
    clock_body(&sim)
}

async fn list_faults(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.faults().pending()).into_response()
}

async fn add_fault(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<ScriptedFault>(&body) {
        Ok(fault) => {
            sim.script_fault(fault);
            Json(sim.faults().pending()).into_response()
        }
        Err(response) => response.into_response(),
    }
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Response {
    sim.faults().clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn show_truth(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.truth()).into_response()
}

async fn list_requests(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.requests()).into_response()
}

async fn list_deliveries(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.deliveries.all()).into_response()
}

async fn clear_requests(State(sim): State<Arc<Sim>>) -> Response {
    sim.clear_requests();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Revoke {
    token: String,
}

async fn revoke(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Revoke>(&body) {
        Ok(revoke) if sim.accounts().revoke(&revoke.token) => StatusCode::NO_CONTENT.into_response(),
        Ok(_) => StatusCode::NOT_FOUND.into_response(),
        Err(response) => response.into_response(),
    }
}

async fn issue_pat(State(sim): State<Arc<Sim>>) -> Response {
    Json(json!({ "pat": sim.accounts().issue_pat() })).into_response()
}

async fn issue_tokens(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.issue_tokens()).into_response()
}

fn done(sim: &Sim, result: Result<Response, SimError>) -> Response {
    result.unwrap_or_else(|error| error_response(&error, &sim.options()))
}

fn ticket_id(text: &str) -> Result<Uuid, SimError> {
    Uuid::parse_str(text).map_err(|_| SimError::NotFound)
}

async fn create_ticket(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let result = sim.create_ticket(&body).map(|id| Json(json!({ "ID": id })).into_response());
    done(&sim, result)
}

async fn update_ticket(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let result = ticket_id(&id).and_then(|id| sim.update_ticket(&id, &body));
    done(&sim, result.map(|()| StatusCode::NO_CONTENT.into_response()))
}

async fn delete_ticket(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let result = ticket_id(&id).and_then(|id| sim.delete_ticket(&id));
    done(&sim, result.map(|()| StatusCode::NO_CONTENT.into_response()))
}

#[derive(Deserialize)]
struct SiloChange {
    silo: Silo,
}

async fn move_ticket(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let change = match parse::<SiloChange>(&body) {
        Ok(change) => change,
        Err(response) => return response.into_response(),
    };
    let result = ticket_id(&id).and_then(|id| sim.move_ticket(&id, change.silo));
    done(&sim, result.map(|()| StatusCode::NO_CONTENT.into_response()))
}

#[derive(Deserialize)]
struct NewAgent {
    name: String,
    email: String,
}

async fn add_agent(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<NewAgent>(&body) {
        Ok(agent) => Json(json!({ "ID": sim.add_agent(&agent.name, &agent.email) })).into_response(),
        Err(response) => response.into_response(),
    }
}
