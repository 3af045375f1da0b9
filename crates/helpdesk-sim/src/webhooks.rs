//! Webhook delivery: after a change, every registered URL whose event type matches gets a POST
//! of `{eventType, createdAt, payload}`. No signature (none is documented) and no retries;
//! a failed delivery is only logged.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::dates::Iso;
use crate::model::{Announcement, Store};
use crate::wire::{self, TicketOut, WireFormat};

/// One POST to make.
#[derive(Debug)]
pub struct Delivery {
    url: String,
    body: Value,
}

/// Renders what the announcements say to the webhooks that want it.
pub fn deliveries(
    store: &Store,
    announcements: &[(Uuid, Announcement)],
    format: WireFormat,
    now: i64,
) -> Vec<Delivery> {
    let mut messages: Vec<(String, Value)> = Vec::new();
    for (id, what) in announcements {
        let Some(ticket) = store.ticket(id) else {
            continue;
        };
        let payload = || serde_json::to_value(TicketOut { store, ticket, format }).unwrap_or(Value::Null);
        match what {
            Announcement::Created => messages.push(("tickets.create".to_owned(), payload())),
            Announcement::Updated { new_events_from } => {
                messages.push(("tickets.update".to_owned(), payload()));
                let new_events = ticket.events.iter().skip(*new_events_from).filter(|e| format.shows(e));
                for event in new_events {
                    let name = format!("tickets.events.{}", wire::event_type(event));
                    messages.push((name, wire::ticket_event(store, ticket, event, format)));
                }
            }
        }
    }
    let created_at = Iso(now, format.precision);
    messages
        .into_iter()
        .flat_map(|(event_type, payload)| {
            let body = json!({ "eventType": event_type, "createdAt": created_at, "payload": payload });
            store
                .webhooks
                .iter()
                .filter(move |hook| hook.event_type == event_type)
                .map(move |hook| Delivery { url: hook.url.clone(), body: body.clone() })
        })
        .collect()
}

/// Sends each delivery in the background (nothing is sent outside a Tokio runtime).
pub fn send(client: &reqwest::Client, deliveries: Vec<Delivery>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    for Delivery { url, body } in deliveries {
        let request = client.post(&url).json(&body).send();
        runtime.spawn(async move {
            if let Err(error) = request.await {
                tracing::debug!(%url, %error, "webhook delivery failed");
            }
        });
    }
}
