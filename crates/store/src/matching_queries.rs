//! The queries of [`crate::MatchingStore`], written once for both backends (see `queries.rs`).

macro_rules! agent_match_select {
    ($filter:literal) => {
        concat!(
            "SELECT a.integration_id, a.agent_id, a.name, a.email, a.roles, a.status, a.listed, a.match_source,
                    u.id AS user_id, u.name AS user_name, u.email AS user_email, u.active AS user_active,
                    (SELECT COUNT(*) FROM cases c
                     WHERE c.integration_id = a.integration_id AND c.agent_id = a.agent_id) AS case_count
             FROM helpdesk_agents a LEFT JOIN users u ON u.id = a.matched_user_id ",
            $filter
        )
    };
}

macro_rules! agent_match_from_row {
    ($row:expr) => {{
        let row = $row;
        let roles: String = row.try_get("roles")?;
        let source: Option<String> = row.try_get("match_source")?;
        let user_id: Option<uuid::Uuid> = row.try_get("user_id")?;
        let matched_user = match user_id {
            Some(id) => Some(MatchedUser {
                id: UserId::from_uuid(id),
                name: row.try_get("user_name")?,
                email: row.try_get("user_email")?,
                active: row.try_get("user_active")?,
            }),
            None => None,
        };
        AgentMatch {
            integration_id: IntegrationId::from_uuid(row.try_get("integration_id")?),
            agent_id: row.try_get("agent_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            roles: roles.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
            status: row.try_get("status")?,
            listed: row.try_get("listed")?,
            case_count: u64::try_from(row.try_get::<i64, _>("case_count")?).unwrap_or(0),
            matched_user,
            match_source: match source {
                Some(text) => Some(MatchSource::parse(&text).ok_or_else(|| {
                    StoreError::Corrupt(format!("helpdesk_agents.match_source = `{text}`"))
                })?),
                None => None,
            },
        }
    }};
}

macro_rules! impl_matching_store {
    ($store:ty) => {
        impl $crate::MatchingStore for $store {
            async fn list_agent_matches(
                &self,
                integration_id: IntegrationId,
            ) -> StoreResult<Vec<AgentMatch>> {
                let rows = sqlx::query(agent_match_select!(
                    "WHERE a.integration_id = $1 ORDER BY a.name, a.agent_id"
                ))
                .bind(integration_id.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(|row| Ok(agent_match_from_row!(row))).collect()
            }

            async fn get_agent_match(
                &self,
                integration_id: IntegrationId,
                agent_id: &str,
            ) -> StoreResult<Option<AgentMatch>> {
                let row = sqlx::query(agent_match_select!("WHERE a.integration_id = $1 AND a.agent_id = $2"))
                    .bind(integration_id.as_uuid())
                    .bind(agent_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row {
                    Some(row) => Some(agent_match_from_row!(&row)),
                    None => None,
                })
            }

            async fn list_staff_candidates(&self) -> StoreResult<Vec<StaffCandidate>> {
                let rows =
                    sqlx::query("SELECT id, name, email FROM users WHERE active = $1 ORDER BY name, id")
                        .bind(true)
                        .fetch_all(&self.pool)
                        .await?;
                rows.iter()
                    .map(|row| {
                        Ok(StaffCandidate {
                            id: UserId::from_uuid(row.try_get("id")?),
                            name: row.try_get("name")?,
                            email: row.try_get("email")?,
                        })
                    })
                    .collect()
            }

            async fn set_agent_match(
                &self,
                integration_id: IntegrationId,
                agent_id: &str,
                user_id: Option<UserId>,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
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
                $crate::queries::commit_audited_change!(tx, changed, audit)
            }

            async fn apply_auto_matches(
                &self,
                integration_id: IntegrationId,
                matches: &[AutoMatch],
            ) -> StoreResult<Vec<String>> {
                let mut tx = self.pool.begin().await?;
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
                        write_audit!(&mut *tx, &candidate.audit);
                        applied.push(candidate.agent_id.clone());
                    }
                }
                tx.commit().await?;
                Ok(applied)
            }

            async fn create_staff_from_agents(
                &self,
                integration_id: IntegrationId,
                team_id: TeamId,
                staff: &[StaffFromAgent],
                at: Timestamp,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for person in staff {
                    let user = &person.user;
                    insert_user!(&mut *tx, user);
                    sqlx::query("INSERT INTO memberships (team_id, user_id, created_at) VALUES ($1, $2, $3)")
                        .bind(team_id.as_uuid())
                        .bind(user.id.as_uuid())
                        .bind(at.as_millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| StoreError::classify(e, "Already a member of this team."))?;
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
                        write_audit!(&mut *tx, audit);
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

mod impls {
    use scoreline_core::{
        AgentMatch, AuditRecord, IntegrationId, MatchSource, MatchedUser, StaffCandidate, TeamId, Timestamp,
        UserId,
    };
    use sqlx::Row;

    use crate::StoreError;
    use crate::backends::{PostgresStore, SqliteStore};
    use crate::matching::{AutoMatch, StaffFromAgent};
    use crate::model::NewUser;
    use crate::queries::{insert_user, write_audit};
    use crate::store::StoreResult;

    impl_matching_store!(SqliteStore);
    impl_matching_store!(PostgresStore);
}
