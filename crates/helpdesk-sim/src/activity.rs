//! Life for the demo: at `activity_per_minute` of sim time, customers open tickets and reply
//! and agents answer. Changes are applied when the store is next read, each at its own
//! scheduled time, so a fixed clock stays deterministic.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::dates::Precision;
use crate::generate;
use crate::knobs::Options;
use crate::model::{Silo, Store};
use crate::ops;

/// A burst after a long clock jump is cut to this many changes.
const MAX_CHANGES_AT_ONCE: u64 = 10_000;

#[derive(Debug)]
pub struct Activity {
    /// Sim time up to which changes have been made.
    until: i64,
    rng: StdRng,
}

/// Changes that are due: `count` of them, `step_ms` apart, after `from`.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    from: i64,
    step_ms: f64,
    count: u64,
}

impl Activity {
    pub fn new(seed: u64, now: i64) -> Self {
        Self { until: now, rng: StdRng::seed_from_u64(seed ^ 0xac71_0000) }
    }

    /// Which changes fall between the last catch-up and `now` at `per_minute`.
    pub fn due(&mut self, now: i64, per_minute: f64) -> Option<Due> {
        if per_minute <= 0.0 {
            self.until = now;
            return None;
        }
        let step_ms = 60_000.0 / per_minute;
        let count = ((now - self.until) as f64 / step_ms).floor() as u64;
        if count == 0 {
            return None;
        }
        let from = self.until;
        self.until += (count as f64 * step_ms) as i64;
        Some(Due { from, step_ms, count: count.min(MAX_CHANGES_AT_ONCE) })
    }

    /// Makes the due changes: a quarter are new tickets, the rest replies on open tickets.
    pub fn apply(&mut self, store: &mut Store, due: Due, precision: Precision, options: &Options) {
        for n in 1..=due.count {
            let at = precision.truncate(due.from + (n as f64 * due.step_ms) as i64);
            let changed = if self.rng.random_bool(0.25) {
                self.new_ticket(store, at, options)
            } else {
                self.reply(store, at, options)
            };
            if let Err(error) = changed {
                tracing::debug!(%error, "simulated activity skipped a change");
            }
        }
    }

    fn new_ticket(&mut self, store: &mut Store, at: i64, options: &Options) -> Result<(), crate::SimError> {
        let customer = &store.customers[self.rng.random_range(0..store.customers.len())];
        let body = json!({
            "requester": { "email": customer.email, "name": customer.name },
            "subject": generate::subject(&mut self.rng),
            "message": { "text": generate::client_text(&mut self.rng) },
            "author": { "type": "client" },
        });
        let input = ops::input(body)?;
        ops::create_ticket(store, &input, at, options).map(drop)
    }

    fn reply(&mut self, store: &mut Store, at: i64, options: &Options) -> Result<(), crate::SimError> {
        let Some(ticket) = self.open_ticket(store) else {
            return Ok(());
        };
        let (id, agent) = (ticket.id, ticket.assignment.agent.unwrap_or(store.owner_agent()));
        let body = if self.rng.random_bool(0.5) {
            json!({
                "message": { "text": generate::client_text(&mut self.rng) },
                "author": { "type": "client" },
                "status": "open",
            })
        } else {
            json!({
                "message": { "text": generate::agent_text(&mut self.rng) },
                "author": { "type": "agent", "ID": store.agents[agent as usize].id },
                "status": "pending",
            })
        };
        ops::update_ticket(store, &id, &ops::input(body)?, at, options)
    }

    /// A random ticket of the writable silo (a few tries; none in an empty account).
    fn open_ticket<'a>(&mut self, store: &'a Store) -> Option<&'a crate::model::Ticket> {
        let slots = store.slot_count();
        (0..10)
            .filter_map(|_| store.at(self.rng.random_range(0..slots.max(1)) as u32))
            .find(|ticket| ticket.silo == Silo::Tickets)
    }
}
