//! Matches between HelpDesk agents and staff. A match is a column on the agent row that cases
//! join through, so matching or unmatching changes what every case query sees at once.

use scoreline_core::{
    AgentMatch, AuditRecord, IntegrationId, MatchSource, MatchedUser, Scope, TeamId, Timestamp, UserId,
};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::audit::{commit_audited_change, write_audit};
use super::users::{insert_membership, insert_user};
use super::{Backend, Database, count, push_staff_in_scope};
use crate::matching::{AutoMatch, StaffFromAgent};
use crate::sync::{HelpDeskAgent, split_roles};
use crate::{StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct AgentMatchRow {
    integration_id: Uuid,
    agent_id: String,
    name: String,
    email: String,
    roles: String,
    status: String,
    listed: bool,
    match_source: Option<String>,
    user_id: Option<Uuid>,
    user_name: Option<String>,
    user_email: Option<String>,
    user_active: Option<bool>,
    case_count: i64,
}

impl TryFrom<AgentMatchRow> for AgentMatch {
    type Error = StoreError;

    fn try_from(row: AgentMatchRow) -> StoreResult<Self> {
        let matched_user = match (row.user_id, row.user_name, row.user_email, row.user_active) {
            (Some(id), Some(name), Some(email), Some(active)) => {
                Some(MatchedUser { id: UserId::from_uuid(id), name, email, active })
            }
            (None, ..) => None,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "the user matched to agent {} is incomplete",
                    row.agent_id
                )));
            }
        };
        let match_source = match row.match_source {
            Some(text) => Some(
                MatchSource::parse(&text)
                    .ok_or_else(|| StoreError::Corrupt(format!("helpdesk_agents.match_source = `{text}`")))?,
            ),
            None => None,
        };
        Ok(Self {
            integration_id: IntegrationId::from_uuid(row.integration_id),
            agent_id: row.agent_id,
            name: row.name,
            email: row.email,
            roles: split_roles(&row.roles),
            status: row.status,
            listed: row.listed,
            case_count: count(row.case_count),
            matched_user,
            match_source,
        })
    }
}

impl Backend {
    /// Every read of agents with their matches goes through here: one agent when `agent_id` is
    /// given, else all of the integration's by name. Beyond a scope of everything, only agents
    /// matched to staff in `scope`, and unmatched ones (they are there to be matched).
    async fn read_agent_matches(
        &self,
        scope: &Scope,
        integration_id: IntegrationId,
        agent_id: Option<&str>,
    ) -> StoreResult<Vec<AgentMatch>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT a.integration_id, a.agent_id, a.name, a.email, a.roles, a.status, a.listed,
                    a.match_source,
                    u.id AS user_id, u.name AS user_name, u.email AS user_email, u.active AS user_active,
                    (SELECT COUNT(*) FROM cases c
                     WHERE c.integration_id = a.integration_id AND c.agent_id = a.agent_id) AS case_count
             FROM helpdesk_agents a LEFT JOIN users u ON u.id = a.matched_user_id
             WHERE a.integration_id = ",
        );
        query.push_bind(integration_id.as_uuid());
        if !scope.is_everything() {
            query.push(" AND (a.matched_user_id IS NULL OR ");
            push_staff_in_scope(&mut query, scope, "a.matched_user_id");
            query.push(")");
        }
        if let Some(agent_id) = agent_id {
            query.push(" AND a.agent_id = ").push_bind(agent_id);
        }
        if agent_id.is_none() {
            query.push(" ORDER BY a.name, a.agent_id");
        }
        let rows: Vec<AgentMatchRow> = query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(AgentMatch::try_from).collect()
    }

    /// The integration's agents that `scope` shows, by name.
    pub(crate) async fn list_agent_matches(
        &self,
        scope: &Scope,
        integration_id: IntegrationId,
    ) -> StoreResult<Vec<AgentMatch>> {
        self.read_agent_matches(scope, integration_id, None).await
    }

    /// The integration's agents as the sync refreshed them, by name.
    pub(crate) async fn list_helpdesk_agents(
        &self,
        integration_id: IntegrationId,
    ) -> StoreResult<Vec<HelpDeskAgent>> {
        let agents = self.read_agent_matches(&Scope::Everything, integration_id, None).await?;
        Ok(agents
            .into_iter()
            .map(|agent| HelpDeskAgent {
                integration_id: agent.integration_id,
                agent_id: agent.agent_id,
                name: agent.name,
                email: agent.email,
                roles: agent.roles,
                status: agent.status,
                listed: agent.listed,
                matched_user_id: agent.matched_user.map(|user| user.id),
                case_count: agent.case_count,
            })
            .collect())
    }

    pub(crate) async fn get_agent_match(
        &self,
        scope: &Scope,
        integration_id: IntegrationId,
        agent_id: &str,
    ) -> StoreResult<Option<AgentMatch>> {
        Ok(self.read_agent_matches(scope, integration_id, Some(agent_id)).await?.pop())
    }

    /// Sets (or with `None` clears) an agent's match by hand; `false` when there is no such agent.
    pub(crate) async fn set_agent_match(
        &self,
        integration_id: IntegrationId,
        agent_id: &str,
        user_id: Option<UserId>,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE helpdesk_agents SET matched_user_id = $3, match_source = $4
             WHERE integration_id = $1 AND agent_id = $2",
        )
        .bind(integration_id.as_uuid())
        .bind(agent_id)
        .bind(user_id.map(|id| id.as_uuid()))
        .bind(MatchSource::Manual.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "This agent is already matched."))?
        .rows_affected();
        commit_audited_change(tx, changed, audit).await
    }

    /// Applies the matches whose agent is still unmatched and was never set by hand, each with its
    /// audit record, in one transaction; returns the agent ids that were matched.
    pub(crate) async fn apply_auto_matches(
        &self,
        integration_id: IntegrationId,
        matches: &[AutoMatch],
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let mut applied = Vec::new();
        for candidate in matches {
            let changed = sqlx::query(
                "UPDATE helpdesk_agents SET matched_user_id = $3, match_source = $4
                 WHERE integration_id = $1 AND agent_id = $2 AND matched_user_id IS NULL
                   AND (match_source IS NULL OR match_source = $4)",
            )
            .bind(integration_id.as_uuid())
            .bind(&candidate.agent_id)
            .bind(candidate.user_id.as_uuid())
            .bind(MatchSource::Auto.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed > 0 {
                write_audit(&mut *tx, &candidate.audit).await?;
                applied.push(candidate.agent_id.clone());
            }
        }
        tx.commit().await?;
        Ok(applied)
    }

    /// Creates the staff, adds them to the team and matches them, all or nothing. Fails with a
    /// conflict when an agent was matched meanwhile or an email is taken.
    pub(crate) async fn create_staff_from_agents(
        &self,
        integration_id: IntegrationId,
        team_id: TeamId,
        staff: &[StaffFromAgent],
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for person in staff {
            let user = &person.user;
            insert_user(&mut *tx, user).await?;
            insert_membership(&mut *tx, team_id, user.id, at).await?;
            let matched = sqlx::query(
                "UPDATE helpdesk_agents SET matched_user_id = $3, match_source = $4
                 WHERE integration_id = $1 AND agent_id = $2 AND matched_user_id IS NULL",
            )
            .bind(integration_id.as_uuid())
            .bind(&person.agent_id)
            .bind(user.id.as_uuid())
            .bind(MatchSource::Manual.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if matched == 0 {
                return Err(StoreError::Conflict(
                    "An agent was matched or removed meanwhile; nothing was created.",
                ));
            }
            for audit in &person.audits {
                write_audit(&mut *tx, audit).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
