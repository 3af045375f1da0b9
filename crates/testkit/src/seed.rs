//! Cases written straight into the store, with exactly the attributes a test needs, as a sync
//! would have stored them; and agents matched to new staff. For filters and list pools, where
//! the simulator's random tickets would make the expected answer hard to state.

use scoreline_app::{Actor, CreateUser};
use scoreline_core::{
    CaseContent, CaseFilter, CaseId, Clock, IntegrationId, PageRequest, Scope, TeamId, Timestamp, User,
};
use scoreline_store::sync::{AgentRecord, CaseRecord, Checkpoint};

use crate::TestApp;

/// One case to store; [`SeedCase::new`] gives a solved, medium-priority ticket in `tickets`.
#[derive(Debug, Clone)]
pub struct SeedCase {
    pub source_id: String,
    pub agent_id: Option<String>,
    pub status: String,
    pub priority: Option<i64>,
    pub silo: String,
    pub team_id: Option<String>,
    pub tags: Vec<String>,
    pub subject: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Option<Timestamp>,
    pub agent_messages: u32,
}

impl SeedCase {
    /// Created, updated and last answered at `at`, by the agent `agent_id`.
    pub fn new(source_id: impl Into<String>, agent_id: Option<&str>, at: Timestamp) -> Self {
        let source_id = source_id.into();
        Self {
            subject: format!("Ticket {source_id}"),
            source_id,
            agent_id: agent_id.map(str::to_owned),
            status: "solved".to_owned(),
            priority: Some(0),
            silo: "tickets".to_owned(),
            team_id: None,
            tags: Vec::new(),
            created_at: at,
            updated_at: at,
            last_message_at: Some(at),
            agent_messages: 1,
        }
    }

    pub fn with(mut self, change: impl FnOnce(&mut Self)) -> Self {
        change(&mut self);
        self
    }

    /// The case as the sync would store it.
    pub fn record(&self) -> CaseRecord {
        CaseRecord {
            source_id: self.source_id.clone(),
            short_id: Some(self.source_id.clone()),
            status: self.status.clone(),
            priority: self.priority,
            silo: self.silo.clone(),
            team_id: self.team_id.clone(),
            team_name: self.team_id.clone(),
            agent_id: self.agent_id.clone(),
            agent_name: self.agent_id.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_message_at: self.last_message_at,
            message_count: self.agent_messages + 1,
            event_count: self.agent_messages + 1,
            agent_message_count: self.agent_messages,
            content: CaseContent {
                subject: Some(self.subject.clone()),
                requester: None,
                tags: self.tags.clone(),
                custom_fields: serde_json::json!({}),
                events: scoreline_core::RawJson::empty_array(),
            },
        }
    }
}

impl TestApp {
    /// Stores `cases` for `integration` as one sync page; returns their ids, in order.
    pub async fn seed_cases(&self, integration: IntegrationId, cases: &[SeedCase]) -> Vec<CaseId> {
        let records: Vec<CaseRecord> = cases.iter().map(SeedCase::record).collect();
        let newest = cases.iter().map(|c| c.updated_at).max().unwrap_or(Timestamp::from_millis(0));
        for chunk in records.chunks(500) {
            self.store()
                .store_page(integration, chunk, &Checkpoint::Cursor { updated_at: newest }, self.clock.now())
                .await
                .expect("store seeded cases");
        }
        let mut ids = Vec::with_capacity(cases.len());
        let filter = CaseFilter::of_integration(integration);
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        let mut stored = Vec::new();
        loop {
            let found = self.store().list_cases(&Scope::Everything, &filter, page).await.expect("list cases");
            stored.extend(found.items);
            match found.next_after {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        for case in cases {
            let id = stored.iter().find(|s| s.source_id == case.source_id).expect("seeded case stored").id;
            ids.push(id);
        }
        ids
    }

    /// The HelpDesk agent `agent_id` of `integration`, matched to a new employee named `name`
    /// in `team` (none: in no team). Returns the employee.
    pub async fn seed_matched_agent(
        &self,
        integration: IntegrationId,
        agent_id: &str,
        name: &str,
        team: Option<TeamId>,
    ) -> User {
        let input = CreateUser {
            email: format!("{}@staff.example", agent_id.to_lowercase().replace(' ', "-")),
            name: name.to_owned(),
            role: "employee".to_owned(),
            password: Some(crate::PASSWORD.to_owned()),
            team_ids: team.into_iter().collect(),
        };
        let user = self.app.create_user(&Actor::System, input).await.expect("create staff");
        self.seed_agent(integration, agent_id).await;
        self.app.match_agent(&Actor::System, integration, agent_id, user.id).await.expect("match agent");
        user
    }

    /// The HelpDesk agent `agent_id` of `integration`, stored as a sync lists it, unmatched.
    pub async fn seed_agent(&self, integration: IntegrationId, agent_id: &str) {
        let mut agents: Vec<AgentRecord> = self
            .store()
            .list_helpdesk_agents(integration)
            .await
            .expect("agents")
            .into_iter()
            .map(|a| AgentRecord {
                agent_id: a.agent_id,
                name: a.name,
                email: a.email,
                roles: a.roles,
                status: a.status,
            })
            .collect();
        agents.push(AgentRecord {
            agent_id: agent_id.to_owned(),
            name: agent_id.to_owned(),
            email: format!("{}@helpdesk.example", agent_id.to_lowercase().replace(' ', "-")),
            roles: vec!["agent".to_owned()],
            status: "active".to_owned(),
        });
        self.store().upsert_agents(integration, &agents, self.clock.now()).await.expect("store agent");
    }
}
