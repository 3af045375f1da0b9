//! Webhook delivery: after a change, every registered URL whose event type matches gets a POST
//! of `{eventType, createdAt, payload}`. No signature (none is documented) and no retries;
//! knobs lose deliveries or send copies of them, and every delivery made goes to a log.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::dates::Iso;
use crate::model::{Announcement, Store};
use crate::wire::{self, TicketOut, WireFormat};

/// The delivery log keeps the latest deliveries only.
pub const DELIVERY_LOG_CAP: usize = 10_000;

/// A receiver that does not answer within this long counts as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One POST to make.
#[derive(Debug)]
pub struct Delivery {
    url: String,
    event_type: String,
    ticket_id: Uuid,
    body: Value,
}

impl Delivery {
    fn record(&self, lost: bool) -> DeliveryRecord {
        DeliveryRecord {
            url: self.url.clone(),
            event_type: self.event_type.clone(),
            ticket_id: self.ticket_id,
            lost,
            status: None,
        }
    }
}

/// One webhook delivery as the simulator made it (or lost it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub url: String,
    pub event_type: String,
    /// The ticket the delivery is about.
    pub ticket_id: Uuid,
    /// Lost to the `webhook_loss` knob: never sent.
    pub lost: bool,
    /// The receiver's status; `None` when lost or when no answer came.
    pub status: Option<u16>,
}

/// Deliveries made, oldest first; clones share the log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryLog(Arc<Mutex<VecDeque<DeliveryRecord>>>);

impl DeliveryLog {
    fn push(&self, record: DeliveryRecord) {
        let mut log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() == DELIVERY_LOG_CAP {
            log.pop_front();
        }
        log.push_back(record);
    }

    pub fn all(&self) -> Vec<DeliveryRecord> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }
}

/// Renders what the announcements say to the webhooks that want it.
pub fn deliveries(
    store: &Store,
    announcements: &[(Uuid, Announcement)],
    format: WireFormat,
    now: i64,
) -> Vec<Delivery> {
    let mut messages: Vec<(Uuid, String, Value)> = Vec::new();
    for (id, what) in announcements {
        let Some(ticket) = store.ticket(id) else {
            continue;
        };
        let payload = || serde_json::to_value(TicketOut { store, ticket, format }).unwrap_or(Value::Null);
        match what {
            Announcement::Created => messages.push((*id, "tickets.create".to_owned(), payload())),
            Announcement::Updated { new_events_from } => {
                messages.push((*id, "tickets.update".to_owned(), payload()));
                let new_events = ticket.events.iter().skip(*new_events_from).filter(|e| format.shows(e));
                for event in new_events {
                    let name = format!("tickets.events.{}", wire::event_type(event));
                    messages.push((*id, name, wire::ticket_event(store, ticket, event, format)));
                }
            }
        }
    }
    let created_at = Iso(now, format.precision);
    messages
        .into_iter()
        .flat_map(|(ticket_id, event_type, payload)| {
            let body = json!({ "eventType": event_type, "createdAt": created_at, "payload": payload });
            store.webhooks.iter().filter(move |hook| hook.event_type == event_type).map(move |hook| {
                Delivery {
                    url: hook.url.clone(),
                    event_type: hook.event_type.clone(),
                    ticket_id,
                    body: body.clone(),
                }
            })
        })
        .collect()
}

/// Sends each delivery `copies` times in the background, unless `lose` says it is lost
/// (nothing is sent outside a Tokio runtime).
pub fn send(
    client: &reqwest::Client,
    log: &DeliveryLog,
    deliveries: Vec<Delivery>,
    mut lose: impl FnMut() -> bool,
    copies: u32,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    for delivery in deliveries {
        if lose() {
            log.push(delivery.record(true));
            continue;
        }
        for _ in 0..copies.max(1) {
            let request = client.post(&delivery.url).json(&delivery.body).timeout(DELIVERY_TIMEOUT).send();
            let (log, mut record) = (log.clone(), delivery.record(false));
            runtime.spawn(async move {
                match request.await {
                    Ok(response) => record.status = Some(response.status().as_u16()),
                    // The URL is the receiver's secret: left out.
                    Err(error) => {
                        tracing::debug!(event_type = %record.event_type, %error, "webhook delivery failed")
                    }
                }
                log.push(record);
            });
        }
    }
}
