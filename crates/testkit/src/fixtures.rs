//! Ready-made states over the HelpDesk simulator: a connected integration, synced, and one with
//! a staff member matched to every agent.

use std::time::Duration;

use scoreline_app::{Actor, App, ConnectIntegration, CreateGroup, CreateStaffFromAgents, CreateTeam};
use scoreline_core::{
    AuditActor, AuditEntryId, AuditRecord, AuthMethod, Clock, Email, GroupId, IntegrationId,
    IntegrationSettings, LicenseId, Retention, TeamId, UserId,
};
use scoreline_store::integrations::{NewCredentials, NewIntegration};

use crate::TestApp;

/// A connected, synced integration whose agents all have a matched staff member.
#[derive(Debug, Clone)]
pub struct MatchedIntegration {
    pub id: IntegrationId,
    /// The group "Support", holding `team_id`.
    pub group_id: GroupId,
    /// The team "Tier 1", which every matched staff member joined as an employee.
    pub team_id: TeamId,
    /// In the order the agents are listed.
    pub agents: Vec<MatchedAgent>,
}

/// One HelpDesk agent and the staff member created for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedAgent {
    pub agent_id: String,
    pub name: String,
    pub email: String,
    pub user_id: UserId,
}

impl TestApp {
    /// Connects the simulator's account with its access token, our clock set to the
    /// simulator's time first. The form says label "HelpDesk", one month's retention and a
    /// 14-day backfill unless `change` says otherwise.
    pub async fn connect_token(&self, change: impl FnOnce(&mut ConnectIntegration)) -> IntegrationId {
        let sim = self.sim();
        self.clock.set(sim.now());
        let mut input = ConnectIntegration {
            label: "HelpDesk".to_owned(),
            auth_method: "token".to_owned(),
            account_id: sim.account_id(),
            token: Some(sim.pat().into()),
            retention_value: Some(1),
            retention_unit: "months".to_owned(),
            backfill_days: Some(14),
            // Tests connect the one simulated account as several integrations.
            allow_duplicate: true,
            ..ConnectIntegration::default()
        };
        change(&mut input);
        self.app.connect_with_token(&Actor::System, input).await.expect("connect HelpDesk").id
    }

    /// Stores a token integration directly, as connecting it would have, without asking
    /// HelpDesk: one of another license, or (`license` `None`) one stored before licenses were
    /// read, for what connecting compares with it.
    pub async fn store_integration(
        &self,
        label: &str,
        account_id: &str,
        license: Option<LicenseId>,
    ) -> IntegrationId {
        let now = self.clock.now();
        let integration = NewIntegration {
            id: IntegrationId::new(),
            settings: IntegrationSettings {
                label: label.to_owned(),
                description: String::new(),
                retention: Retention::parse(1, "months").expect("a valid retention"),
                backfill_days: 14,
            },
            auth_method: AuthMethod::Token,
            account_id: Some(account_id.to_owned()),
            license_id: license,
            created_at: now,
        };
        let audit = AuditRecord {
            id: AuditEntryId::new(),
            at: now,
            actor: AuditActor::system(),
            action: "integration.connect".to_owned(),
            target_kind: "integration".to_owned(),
            target_id: integration.id.to_string(),
            details: serde_json::json!({ "label": label }),
        };
        let credentials = NewCredentials::Token("dal:stored-by-the-test".to_owned().into());
        self.store()
            .create_integration(&integration, &credentials, &self.sealer, &audit)
            .await
            .expect("store an integration");
        integration.id
    }

    /// [`Self::connect_token`] with the defaults, then the first sync, so agents and cases are
    /// stored. That sync fetches one window at a time, so the cases are stored, and listed, in
    /// the same order on every run.
    pub async fn connect_and_sync(&self) -> IntegrationId {
        let id = self.connect_token(|_| {}).await;
        // Past the sync's safety lag, so tickets updated at the simulator's "now" are included.
        self.clock.advance(Duration::from_secs(120));
        let mut settings = self.app.settings().clone();
        settings.sync.concurrency = 1;
        let one_at_a_time =
            App::new(self.database.db.clone(), self.clock.clone(), self.sealer.clone(), settings);
        one_at_a_time.sync_integration(id, None).await.expect("first sync");
        id
    }

    /// The group "Support" with its team "Tier 1".
    pub async fn support_team(&self) -> (GroupId, TeamId) {
        let group = CreateGroup { name: "Support".to_owned() };
        let group = self.app.create_group(&Actor::System, group).await.expect("create group");
        let team = CreateTeam { group_id: Some(group.id), name: "Tier 1".to_owned() };
        let team = self.app.create_team(&Actor::System, team).await.expect("create team");
        (group.id, team.id)
    }

    /// [`Self::connect_and_sync`], then an employee of [`Self::support_team`] created from every
    /// listed agent and matched to it, as "create staff from agents" on Manage Users does.
    /// Cases of agents HelpDesk never listed stay held back.
    pub async fn connected_with_matched_agents(&self) -> MatchedIntegration {
        let id = self.connect_and_sync().await;
        let (group_id, team_id) = self.support_team().await;
        let listed = self.app.list_agents(&Actor::System, id).await.expect("list agents").agents;
        let agent_ids = listed
            .iter()
            .map(|entry| &entry.agent)
            .filter(|agent| agent.listed && Email::parse(&agent.email).is_ok())
            .map(|agent| agent.agent_id.clone())
            .collect();
        let input = CreateStaffFromAgents { agent_ids, team_id: Some(team_id) };
        self.app.create_staff_from_agents(&Actor::System, id, input).await.expect("staff from agents");
        let matched = self.app.list_agents(&Actor::System, id).await.expect("list agents").agents;
        let agents = matched
            .into_iter()
            .filter_map(|entry| {
                let agent = entry.agent;
                let user_id = agent.matched_user?.id;
                Some(MatchedAgent { agent_id: agent.agent_id, name: agent.name, email: agent.email, user_id })
            })
            .collect();
        MatchedIntegration { id, group_id, team_id, agents }
    }
}
