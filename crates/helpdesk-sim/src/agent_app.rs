//! The simulator's stand-in for HelpDesk's agent web app: `GET /tickets/{ID}`, the page a
//! person opens from Scoreline's "open the ticket in HelpDesk" (on HelpDesk,
//! `https://app.helpdesk.com/tickets/{ID}`). A plain page of the ticket and its messages.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;

use crate::accounts::escape;
use crate::model::{Author, EventBody};
use crate::server::Sim;

pub fn router() -> Router<Arc<Sim>> {
    Router::new().route("/tickets/{id}", get(ticket_page))
}

async fn ticket_page(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let store = sim.store();
    let Some(ticket) = Uuid::parse_str(&id).ok().and_then(|id| store.ticket(&id)) else {
        let page = "<!doctype html><html><body><h1>Ticket not found</h1></body></html>";
        return (StatusCode::NOT_FOUND, Html(page)).into_response();
    };
    let mut messages = String::new();
    for event in &ticket.events {
        if let EventBody::Message { text, private, .. } = &event.body {
            let who = match event.author {
                Author::Client(_) => "Customer",
                Author::Agent(_) => "Agent",
                Author::System => "System",
            };
            let note = if *private { " (private note)" } else { "" };
            let _ = write!(messages, "<li><strong>{who}{note}</strong><p>{}</p></li>", escape(text));
        }
    }
    Html(format!(
        "<!doctype html><html><head><title>#{short} · HelpDesk (simulated)</title></head><body>\
         <h1 id=\"ticket-subject\">{subject}</h1><p>Ticket <span id=\"ticket-short-id\">#{short}</span> · \
         {status}</p><ol>{messages}</ol></body></html>",
        short = escape(&ticket.short_id),
        subject = escape(&ticket.subject),
        status = ticket.status.as_str(),
    ))
    .into_response()
}
