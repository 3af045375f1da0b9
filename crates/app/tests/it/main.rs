//! Use cases against real databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod credentials;
mod purge;
mod sign_in;
mod staff;
mod sync;
mod sync_faults;
mod sync_support;
mod webhooks;

use std::sync::Arc;

use scoreline_app::{Actor, App, AppSettings, CreateUser};
use scoreline_core::{ManualClock, Timestamp, User};
use scoreline_store::{Db, Sealer};
use scoreline_testkit::{TestBackend, TestDatabase};

pub const T0: Timestamp = Timestamp::from_millis(1_764_000_000_000);

pub struct Fixture {
    pub app: App,
    pub clock: Arc<ManualClock>,
    database: TestDatabase,
}

impl Fixture {
    pub async fn new(backend: TestBackend) -> Self {
        let database = TestDatabase::fresh(backend).await;
        let clock = Arc::new(ManualClock::new(T0));
        let sealer = Arc::new(Sealer::from_encoded_key(&Sealer::generate_encoded_key()).unwrap());
        let app = App::new(database.db.clone(), clock.clone(), sealer, AppSettings::default());
        Self { app, clock, database }
    }

    /// The database itself, for checks past the use cases.
    pub fn store(&self) -> &Db {
        &self.database.db
    }

    pub fn clock_now(&self) -> Timestamp {
        scoreline_core::Clock::now(&*self.clock)
    }

    /// The actions of the audit log, oldest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        let page = self.store().list_audit(scoreline_core::PageRequest::first(500)).await.unwrap();
        page.items.into_iter().map(|record| record.action).collect()
    }

    pub async fn user(&self, email: &str, role: &str, password: Option<&str>) -> User {
        let input = CreateUser {
            email: email.to_owned(),
            name: format!("Person {email}"),
            role: role.to_owned(),
            password: password.map(str::to_owned),
            team_ids: Vec::new(),
        };
        self.app.create_user(&Actor::System, input).await.unwrap()
    }
}
