//! The queries of [`crate::SyncStore`], written once for both backends (see `queries.rs`).

/// Cases per multi-row statement: 17 parameters each stays far below both backends' limits.
pub(crate) const ROWS_PER_STATEMENT: usize = 200;

/// How a backend spells the parameters of a generated multi-row statement.
pub(crate) trait Placeholders: sqlx::Database {
    /// The `index`-th parameter, from 1.
    fn placeholder(sql: &mut String, index: usize);
}

impl Placeholders for sqlx::Postgres {
    fn placeholder(sql: &mut String, index: usize) {
        sql.push('$');
        sql.push_str(&index.to_string());
    }
}

impl Placeholders for sqlx::Sqlite {
    /// Plain `?`: SQLite looks numbered names up in a list, once per parameter, which makes
    /// binding a statement of thousands of `$n` parameters quadratic.
    fn placeholder(sql: &mut String, _index: usize) {
        sql.push('?');
    }
}

/// `rows` tuples of `columns` parameters, `(…), (…)`, for the backend of `_pool`.
pub(crate) fn placeholders<DB: Placeholders>(_pool: &sqlx::Pool<DB>, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            DB::placeholder(&mut sql, row * columns + column + 1);
        }
        sql.push(')');
    }
    sql
}

/// One record per ticket, as applying them one by one would leave it: a later record replaces
/// an earlier one under the upsert's own rule (newer `updatedAt`, or the same one with more
/// events or another silo). A multi-row upsert may not touch a row twice on PostgreSQL.
pub(crate) fn newest_per_ticket(cases: &[crate::sync::CaseRecord]) -> Vec<&crate::sync::CaseRecord> {
    let mut kept: Vec<&crate::sync::CaseRecord> = Vec::with_capacity(cases.len());
    let mut index: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(cases.len());
    for case in cases {
        match index.get(case.source_id.as_str()) {
            None => {
                index.insert(&case.source_id, kept.len());
                kept.push(case);
            }
            Some(&at) => {
                let earlier = kept[at];
                let replaces = case.updated_at > earlier.updated_at
                    || (case.updated_at == earlier.updated_at
                        && (case.event_count > earlier.event_count || case.silo != earlier.silo));
                if replaces {
                    kept[at] = case;
                }
            }
        }
    }
    kept
}

macro_rules! case_select {
    ($filter:literal) => {
        concat!(
            "SELECT c.id, c.integration_id, c.source_id, c.short_id, c.status, c.priority, c.silo, c.team_id,
                    c.team_name, c.agent_id, c.agent_name, c.created_at, c.updated_at, c.last_message_at,
                    c.message_count, c.event_count, c.purged_at, a.matched_user_id, cc.subject, cc.requester, cc.tags
             FROM cases c
             LEFT JOIN helpdesk_agents a ON a.integration_id = c.integration_id AND a.agent_id = c.agent_id
             LEFT JOIN case_contents cc ON cc.case_id = c.id ",
            $filter
        )
    };
}
pub(crate) use case_select;

macro_rules! case_from_row {
    ($row:expr, $content:expr) => {{
        let row = $row;
        let count = |column: &str| -> StoreResult<u32> {
            Ok(u32::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
        };
        let user: Option<uuid::Uuid> = row.try_get("matched_user_id")?;
        let requester: Option<sqlx::types::Json<serde_json::Value>> = row.try_get("requester")?;
        let tags: Option<sqlx::types::Json<Vec<String>>> = row.try_get("tags")?;
        StoredCase {
            id: CaseId::from_uuid(row.try_get("id")?),
            integration_id: IntegrationId::from_uuid(row.try_get("integration_id")?),
            source_id: row.try_get("source_id")?,
            short_id: row.try_get("short_id")?,
            status: row.try_get("status")?,
            priority: row.try_get("priority")?,
            silo: row.try_get("silo")?,
            team_id: row.try_get("team_id")?,
            team_name: row.try_get("team_name")?,
            agent_id: row.try_get("agent_id")?,
            agent_name: row.try_get("agent_name")?,
            agent_user_id: user.map(UserId::from_uuid),
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
            updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
            last_message_at: row.try_get::<Option<i64>, _>("last_message_at")?.map(Timestamp::from_millis),
            message_count: count("message_count")?,
            event_count: count("event_count")?,
            purged_at: row.try_get::<Option<i64>, _>("purged_at")?.map(Timestamp::from_millis),
            subject: row.try_get("subject")?,
            requester: requester.map(|r| r.0),
            tags: tags.map(|t| t.0).unwrap_or_default(),
            content: $content,
        }
    }};
}
pub(crate) use case_from_row;

macro_rules! sync_state_from_row {
    ($row:expr) => {{
        let row = $row;
        let phase: String = row.try_get("phase")?;
        let count = |column: &str| -> StoreResult<u64> {
            Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
        };
        let at = |column: &str| -> StoreResult<Option<Timestamp>> {
            Ok(row.try_get::<Option<i64>, _>(column)?.map(Timestamp::from_millis))
        };
        SyncState {
            phase: SyncPhase::parse(&phase)
                .ok_or_else(|| StoreError::Corrupt(format!("sync_states.phase = `{phase}`")))?,
            cursor_updated_at: at("cursor_updated_at")?,
            tickets_stored: count("tickets_stored")?,
            pages_fetched: count("pages_fetched")?,
            windows_total: count("windows_total")?,
            windows_done: count("windows_done")?,
            last_success_at: at("last_success_at")?,
            last_error: row.try_get("last_error")?,
            requested_at: at("requested_at")?,
            changed_at: Timestamp::from_millis(row.try_get("updated_at")?),
        }
    }};
}
pub(crate) use sync_state_from_row;

macro_rules! ensure_sync_state {
    ($executor:expr, $id:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO sync_states (integration_id, phase, tickets_stored, pages_fetched, windows_total, windows_done, updated_at)
             VALUES ($1, 'pending', 0, 0, 0, 0, $2) ON CONFLICT (integration_id) DO NOTHING",
        )
        .bind($id.as_uuid())
        .bind($now.as_millis())
        .execute($executor)
        .await?
    };
}
pub(crate) use ensure_sync_state;

macro_rules! impl_sync_store {
    ($store:ty, $flush_deleted:ident) => {
        impl $crate::SyncStore for $store {
            async fn store_page(
                &self,
                integration_id: IntegrationId,
                cases: &[CaseRecord],
                checkpoint: &Checkpoint,
                now: Timestamp,
            ) -> StoreResult<PageWrite> {
                // One multi-row statement per table and chunk, not two statements per case: a page
                // costs a few round trips to the database instead of two hundred.
                let cases = $crate::sync_queries::newest_per_ticket(cases);
                let mut tx = self.pool.begin().await?;
                let mut written = 0u64;
                for chunk in cases.chunks($crate::sync_queries::ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO cases (id, integration_id, source_id, short_id, status, priority, silo, team_id,
                             team_name, agent_id, agent_name, created_at, updated_at, last_message_at, message_count,
                             event_count, synced_at)
                         VALUES {}
                         ON CONFLICT (integration_id, source_id) DO UPDATE SET
                             short_id = excluded.short_id, status = excluded.status, priority = excluded.priority,
                             silo = excluded.silo, team_id = excluded.team_id, team_name = excluded.team_name,
                             agent_id = excluded.agent_id, agent_name = excluded.agent_name,
                             created_at = excluded.created_at, updated_at = excluded.updated_at,
                             last_message_at = excluded.last_message_at, message_count = excluded.message_count,
                             event_count = excluded.event_count, purged_at = NULL, synced_at = excluded.synced_at
                         WHERE excluded.updated_at > cases.updated_at
                            OR (excluded.updated_at = cases.updated_at AND cases.purged_at IS NULL
                                AND (excluded.event_count > cases.event_count OR excluded.silo <> cases.silo))
                         RETURNING id, source_id",
                        $crate::sync_queries::placeholders(&self.pool, chunk.len(), 17)
                    );
                    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for case in chunk {
                        insert = insert
                            .bind(CaseId::new().as_uuid())
                            .bind(integration_id.as_uuid())
                            .bind(&case.source_id)
                            .bind(case.short_id.as_deref())
                            .bind(&case.status)
                            .bind(case.priority)
                            .bind(&case.silo)
                            .bind(case.team_id.as_deref())
                            .bind(case.team_name.as_deref())
                            .bind(case.agent_id.as_deref())
                            .bind(case.agent_name.as_deref())
                            .bind(case.created_at.as_millis())
                            .bind(case.updated_at.as_millis())
                            .bind(case.last_message_at.map(Timestamp::as_millis))
                            .bind(i64::from(case.message_count))
                            .bind(i64::from(case.event_count))
                            .bind(now.as_millis());
                    }
                    // Only inserted or changed rows come back; what is stored as new or newer stays.
                    let rows = insert.fetch_all(&mut *tx).await?;
                    if rows.is_empty() {
                        continue;
                    }
                    let by_source: std::collections::HashMap<&str, &CaseRecord> =
                        chunk.iter().map(|case| (case.source_id.as_str(), *case)).collect();
                    let mut changed = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let case_id: uuid::Uuid = row.try_get("id")?;
                        let source_id: String = row.try_get("source_id")?;
                        let case = by_source.get(source_id.as_str()).ok_or_else(|| {
                            StoreError::Corrupt(format!("upsert returned case {source_id}, which was not written"))
                        })?;
                        changed.push((case_id, &case.content));
                    }
                    let sql = format!(
                        "INSERT INTO case_contents (case_id, subject, requester, tags, custom_fields, events)
                         VALUES {}
                         ON CONFLICT (case_id) DO UPDATE SET subject = excluded.subject, requester = excluded.requester,
                             tags = excluded.tags, custom_fields = excluded.custom_fields, events = excluded.events",
                        $crate::sync_queries::placeholders(&self.pool, changed.len(), 6)
                    );
                    let mut contents = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (case_id, content) in &changed {
                        contents = contents
                            .bind(*case_id)
                            .bind(content.subject.as_deref())
                            .bind(content.requester.as_ref().map(sqlx::types::Json))
                            .bind(sqlx::types::Json(&content.tags))
                            .bind(sqlx::types::Json(&content.custom_fields))
                            .bind(sqlx::types::Json(&content.events));
                    }
                    contents.execute(&mut *tx).await?;
                    written += changed.len() as u64;
                }
                ensure_sync_state!(&mut *tx, integration_id, now);
                match checkpoint {
                    Checkpoint::Window { silo, window_start, after, done } => {
                        sqlx::query(
                            "UPDATE sync_windows SET after_value = $4, after_id = $5, done = $6
                             WHERE integration_id = $1 AND silo = $2 AND window_start = $3",
                        )
                        .bind(integration_id.as_uuid())
                        .bind(silo)
                        .bind(window_start.as_millis())
                        .bind(after.as_ref().map(|(value, _)| value.as_millis()))
                        .bind(after.as_ref().map(|(_, id)| id.as_str()))
                        .bind(*done)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE sync_states SET pages_fetched = pages_fetched + 1, tickets_stored = tickets_stored + $2,
                                 windows_done = windows_done + $3, updated_at = $4
                             WHERE integration_id = $1",
                        )
                        .bind(integration_id.as_uuid())
                        .bind(i64::try_from(written).unwrap_or(i64::MAX))
                        .bind(i64::from(*done))
                        .bind(now.as_millis())
                        .execute(&mut *tx)
                        .await?;
                    }
                    Checkpoint::Cursor { updated_at } => {
                        sqlx::query(
                            "UPDATE sync_states SET pages_fetched = pages_fetched + 1, tickets_stored = tickets_stored + $2,
                                 cursor_updated_at = CASE WHEN cursor_updated_at IS NULL OR cursor_updated_at < $3
                                                          THEN $3 ELSE cursor_updated_at END,
                                 updated_at = $4
                             WHERE integration_id = $1",
                        )
                        .bind(integration_id.as_uuid())
                        .bind(i64::try_from(written).unwrap_or(i64::MAX))
                        .bind(updated_at.as_millis())
                        .bind(now.as_millis())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok(PageWrite { written })
            }

            async fn sync_state(&self, integration_id: IntegrationId, now: Timestamp) -> StoreResult<SyncState> {
                ensure_sync_state!(&self.pool, integration_id, now);
                let row = sqlx::query(
                    "SELECT phase, cursor_updated_at, tickets_stored, pages_fetched, windows_total, windows_done,
                            last_success_at, last_error, requested_at, updated_at
                     FROM sync_states WHERE integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .fetch_one(&self.pool)
                .await?;
                Ok(sync_state_from_row!(&row))
            }

            async fn set_sync_phase(
                &self,
                integration_id: IntegrationId,
                phase: SyncPhase,
                last_error: Option<&str>,
                now: Timestamp,
            ) -> StoreResult<()> {
                ensure_sync_state!(&self.pool, integration_id, now);
                sqlx::query(
                    "UPDATE sync_states SET phase = $2, last_error = COALESCE($3, last_error), updated_at = $4
                     WHERE integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .bind(phase.as_str())
                .bind(last_error)
                .bind(now.as_millis())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn record_sync_success(&self, integration_id: IntegrationId, now: Timestamp) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE sync_states SET phase = 'live', last_success_at = $2, last_error = NULL,
                         requested_at = CASE WHEN requested_at <= $2 THEN NULL ELSE requested_at END, updated_at = $2
                     WHERE integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .bind(now.as_millis())
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE integrations SET last_synced_at = $2, last_error = NULL WHERE id = $1")
                    .bind(integration_id.as_uuid())
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn request_sync(&self, integration_id: IntegrationId, now: Timestamp) -> StoreResult<()> {
                ensure_sync_state!(&self.pool, integration_id, now);
                sqlx::query("UPDATE sync_states SET requested_at = $2 WHERE integration_id = $1")
                    .bind(integration_id.as_uuid())
                    .bind(now.as_millis())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn acquire_sync_lease(
                &self,
                integration_id: IntegrationId,
                owner: &str,
                until: Timestamp,
                now: Timestamp,
            ) -> StoreResult<bool> {
                ensure_sync_state!(&self.pool, integration_id, now);
                Ok(take_lease!(&self.pool, "sync_states", "lease_owner", "lease_until", integration_id, owner, until, now))
            }

            async fn release_sync_lease(&self, integration_id: IntegrationId, owner: &str) -> StoreResult<()> {
                release_lease!(&self.pool, "sync_states", "lease_owner", "lease_until", integration_id, owner);
                Ok(())
            }

            async fn plan_windows(&self, integration_id: IntegrationId, windows: &[SyncWindow]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for window in windows {
                    sqlx::query(
                        "INSERT INTO sync_windows (integration_id, silo, window_start, window_end, done)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (integration_id, silo, window_start) DO NOTHING",
                    )
                    .bind(integration_id.as_uuid())
                    .bind(&window.silo)
                    .bind(window.start.as_millis())
                    .bind(window.end.as_millis())
                    .bind(false)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "UPDATE sync_states SET phase = 'backfilling',
                         windows_total = (SELECT COUNT(*) FROM sync_windows WHERE integration_id = $1)
                     WHERE integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn sync_windows(&self, integration_id: IntegrationId) -> StoreResult<Vec<SyncWindow>> {
                let rows = sqlx::query(
                    "SELECT silo, window_start, window_end, after_value, after_id, done FROM sync_windows
                     WHERE integration_id = $1 ORDER BY window_start, silo",
                )
                .bind(integration_id.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let after_value: Option<i64> = row.try_get("after_value")?;
                        let after_id: Option<String> = row.try_get("after_id")?;
                        Ok(SyncWindow {
                            silo: row.try_get("silo")?,
                            start: Timestamp::from_millis(row.try_get("window_start")?),
                            end: Timestamp::from_millis(row.try_get("window_end")?),
                            after: after_value.zip(after_id).map(|(value, id)| (Timestamp::from_millis(value), id)),
                            done: row.try_get("done")?,
                        })
                    })
                    .collect()
            }

            async fn upsert_agents(&self, integration_id: IntegrationId, agents: &[AgentRecord], now: Timestamp) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE helpdesk_agents SET listed = $2 WHERE integration_id = $1")
                    .bind(integration_id.as_uuid())
                    .bind(false)
                    .execute(&mut *tx)
                    .await?;
                for agent in agents {
                    sqlx::query(
                        "INSERT INTO helpdesk_agents (integration_id, agent_id, name, email, roles, status, listed, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (integration_id, agent_id) DO UPDATE SET name = excluded.name,
                             email = excluded.email, roles = excluded.roles, status = excluded.status,
                             listed = excluded.listed, updated_at = excluded.updated_at",
                    )
                    .bind(integration_id.as_uuid())
                    .bind(&agent.agent_id)
                    .bind(&agent.name)
                    .bind(&agent.email)
                    .bind(agent.roles.join(","))
                    .bind(&agent.status)
                    .bind(true)
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_helpdesk_agents(&self, integration_id: IntegrationId) -> StoreResult<Vec<HelpDeskAgent>> {
                let rows = sqlx::query(
                    "SELECT a.agent_id, a.name, a.email, a.roles, a.status, a.listed, a.matched_user_id,
                            (SELECT COUNT(*) FROM cases c WHERE c.integration_id = a.integration_id AND c.agent_id = a.agent_id) AS case_count
                     FROM helpdesk_agents a WHERE a.integration_id = $1 ORDER BY a.name, a.agent_id",
                )
                .bind(integration_id.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let roles: String = row.try_get("roles")?;
                        let user: Option<uuid::Uuid> = row.try_get("matched_user_id")?;
                        Ok(HelpDeskAgent {
                            integration_id,
                            agent_id: row.try_get("agent_id")?,
                            name: row.try_get("name")?,
                            email: row.try_get("email")?,
                            roles: roles.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
                            status: row.try_get("status")?,
                            listed: row.try_get("listed")?,
                            matched_user_id: user.map(UserId::from_uuid),
                            case_count: u64::try_from(row.try_get::<i64, _>("case_count")?).unwrap_or(0),
                        })
                    })
                    .collect()
            }

            async fn list_cases(&self, filter: &CaseFilter, page: PageRequest) -> StoreResult<Page<StoredCase>> {
                let rows = sqlx::query(case_select!(
                    "WHERE ($1 IS NULL OR c.integration_id = $1)
                       AND ($2 IS NULL OR a.matched_user_id = $2)
                       AND ($3 IS NULL OR c.status = $3)
                       AND ($4 IS NULL OR c.updated_at >= $4)
                       AND ($5 IS NULL OR c.updated_at < $5)
                       AND ($6 IS NULL OR c.id > $6)
                     ORDER BY c.id LIMIT $7"
                ))
                .bind(filter.integration_id.map(|id| id.as_uuid()))
                .bind(filter.agent_user_id.map(|id| id.as_uuid()))
                .bind(filter.status.as_deref())
                .bind(filter.updated_from.map(Timestamp::as_millis))
                .bind(filter.updated_to.map(Timestamp::as_millis))
                .bind(page.after)
                .bind(i64::from(page.limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                let items = rows.iter().map(|row| Ok(case_from_row!(row, None))).collect::<StoreResult<Vec<_>>>()?;
                Ok(Page::from_overfetch(items, page.limit, |case| case.id.as_uuid()))
            }

            async fn get_case(&self, id: CaseId) -> StoreResult<Option<StoredCase>> {
                let Some(row) = sqlx::query(case_select!("WHERE c.id = $1")).bind(id.as_uuid()).fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let content = sqlx::query("SELECT subject, requester, tags, custom_fields, events FROM case_contents WHERE case_id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                let content = match content {
                    Some(content) => {
                        let requester: Option<sqlx::types::Json<serde_json::Value>> = content.try_get("requester")?;
                        let tags: sqlx::types::Json<Vec<String>> = content.try_get("tags")?;
                        let custom_fields: sqlx::types::Json<serde_json::Value> = content.try_get("custom_fields")?;
                        let events: sqlx::types::Json<serde_json::Value> = content.try_get("events")?;
                        Some(CaseContent {
                            subject: content.try_get("subject")?,
                            requester: requester.map(|r| r.0),
                            tags: tags.0,
                            custom_fields: custom_fields.0,
                            events: events.0,
                        })
                    }
                    None => None,
                };
                Ok(Some(case_from_row!(&row, content)))
            }

            async fn count_cases(&self, integration_id: IntegrationId) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE integration_id = $1")
                    .bind(integration_id.as_uuid())
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn case_counts(&self, integration_id: IntegrationId) -> StoreResult<CaseCounts> {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS total,
                            COUNT(CASE WHEN c.agent_id IS NOT NULL AND a.matched_user_id IS NULL THEN 1 END) AS held_back
                     FROM cases c
                     LEFT JOIN helpdesk_agents a ON a.integration_id = c.integration_id AND a.agent_id = c.agent_id
                     WHERE c.integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .fetch_one(&self.pool)
                .await?;
                let count = |column: &str| -> StoreResult<u64> { Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0)) };
                Ok(CaseCounts { total: count("total")?, held_back: count("held_back")? })
            }

            async fn count_purgeable(&self, integration_id: IntegrationId, cutoff: Timestamp) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM cases WHERE integration_id = $1 AND purged_at IS NULL AND updated_at < $2",
                )
                .bind(integration_id.as_uuid())
                .bind(cutoff.as_millis())
                .fetch_one(&self.pool)
                .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn flush_deleted(&self) -> StoreResult<()> {
                $flush_deleted(&self.pool).await
            }

            async fn newest_case_update(&self, integration_id: IntegrationId) -> StoreResult<Option<Timestamp>> {
                let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(updated_at) FROM cases WHERE integration_id = $1")
                    .bind(integration_id.as_uuid())
                    .fetch_one(&self.pool)
                    .await?;
                Ok(newest.map(Timestamp::from_millis))
            }

            async fn purge_batch(&self, integration_id: IntegrationId, cutoff: Timestamp, batch: u32, now: Timestamp) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
                    "SELECT id FROM cases WHERE integration_id = $1 AND purged_at IS NULL AND updated_at < $2
                     ORDER BY updated_at LIMIT $3",
                )
                .bind(integration_id.as_uuid())
                .bind(cutoff.as_millis())
                .bind(i64::from(batch))
                .fetch_all(&mut *tx)
                .await?;
                for id in &ids {
                    sqlx::query("DELETE FROM case_contents WHERE case_id = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("UPDATE cases SET purged_at = $2 WHERE id = $1").bind(id).bind(now.as_millis()).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(ids.len() as u64)
            }
        }
    };
}
pub(crate) use impl_sync_store;

#[cfg(test)]
mod tests {
    use super::{newest_per_ticket, placeholders};
    use scoreline_core::CaseContent;
    use scoreline_core::Timestamp;

    use crate::sync::CaseRecord;

    fn case(source_id: &str, updated_at: i64, event_count: u32, silo: &str) -> CaseRecord {
        CaseRecord {
            source_id: source_id.to_owned(),
            short_id: None,
            status: "open".to_owned(),
            priority: None,
            silo: silo.to_owned(),
            team_id: None,
            team_name: None,
            agent_id: None,
            agent_name: None,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(updated_at),
            last_message_at: None,
            message_count: 0,
            event_count,
            content: CaseContent {
                subject: None,
                requester: None,
                tags: Vec::new(),
                custom_fields: serde_json::Value::Null,
                events: serde_json::Value::Null,
            },
        }
    }

    #[tokio::test]
    async fn placeholders_are_rows_of_columns_in_each_backends_spelling() {
        let sqlite = sqlx::Pool::<sqlx::Sqlite>::connect_lazy("sqlite::memory:").unwrap();
        assert_eq!(placeholders(&sqlite, 2, 2), "(?, ?), (?, ?)");
        let postgres = sqlx::Pool::<sqlx::Postgres>::connect_lazy("postgres://localhost/x").unwrap();
        assert_eq!(placeholders(&postgres, 1, 3), "($1, $2, $3)");
        assert_eq!(placeholders(&postgres, 2, 2), "($1, $2), ($3, $4)");
    }

    #[test]
    fn a_ticket_listed_twice_keeps_the_version_the_upsert_would_keep() {
        let cases = [
            case("a", 10, 2, "tickets"),
            case("b", 10, 1, "tickets"),
            case("a", 9, 5, "tickets"),  // older: ignored
            case("b", 10, 1, "archive"), // same version, moved: replaces
            case("a", 10, 3, "tickets"), // same time, more events: replaces
            case("c", 1, 0, "tickets"),
        ];
        let kept: Vec<(&str, i64, u32, &str)> = newest_per_ticket(&cases)
            .iter()
            .map(|c| (c.source_id.as_str(), c.updated_at.as_millis(), c.event_count, c.silo.as_str()))
            .collect();
        assert_eq!(kept, vec![("a", 10, 3, "tickets"), ("b", 10, 1, "archive"), ("c", 1, 0, "tickets")]);
    }
}
