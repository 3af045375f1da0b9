//! What the sync keeps besides cases: its state and lease, backfill windows, page writes with
//! their checkpoint, and the HelpDesk agents it refreshes.

use std::collections::HashMap;

use scoreline_core::{CaseId, IntegrationId, LastRun, RateLimitWait, SyncPhase, SyncState, Timestamp};
use sqlx::types::Json;
use sqlx::{Executor, QueryBuilder};
use uuid::Uuid;

use super::leases::SYNC_LEASE;
use super::{Backend, Database, WriteTransaction, count};
use crate::sync::{AgentRecord, CaseRecord, Checkpoint, PageWrite, SyncWindow, newest_per_ticket};
use crate::{StoreError, StoreResult};

/// Cases per multi-row statement: 17 parameters each stays far below both backends' limits.
const ROWS_PER_STATEMENT: usize = 200;

#[derive(sqlx::FromRow)]
struct SyncStateRow {
    phase: String,
    cursor_updated_at: Option<i64>,
    tickets_stored: i64,
    pages_fetched: i64,
    windows_total: i64,
    windows_done: i64,
    last_success_at: Option<i64>,
    last_error: Option<String>,
    requested_at: Option<i64>,
    updated_at: i64,
    lease_until: Option<i64>,
    rate_limit_wait: Option<String>,
    rate_limited_until: Option<i64>,
    backfill_resumed_at: Option<i64>,
    backfill_resumed_ppm: Option<i64>,
    last_run_at: Option<i64>,
    last_run_written: Option<i64>,
}

impl SyncStateRow {
    /// The state as seen at `now`: a lease that has not expired means a run is under way.
    fn at(self, now: Timestamp) -> StoreResult<SyncState> {
        let phase = SyncPhase::parse(&self.phase)
            .ok_or_else(|| StoreError::Corrupt(format!("sync_states.phase = `{}`", self.phase)))?;
        let row = self;
        Ok(SyncState {
            phase,
            cursor_updated_at: row.cursor_updated_at.map(Timestamp::from_millis),
            tickets_stored: count(row.tickets_stored),
            pages_fetched: count(row.pages_fetched),
            windows_total: count(row.windows_total),
            windows_done: count(row.windows_done),
            last_success_at: row.last_success_at.map(Timestamp::from_millis),
            last_error: row.last_error,
            requested_at: row.requested_at.map(Timestamp::from_millis),
            changed_at: Timestamp::from_millis(row.updated_at),
            running: row.lease_until.is_some_and(|until| until > now.as_millis()),
            rate_limit: row.rate_limit_wait.as_deref().and_then(|kind| {
                RateLimitWait::from_parts(kind, row.rate_limited_until.map(Timestamp::from_millis))
            }),
            backfill_resumed: row.backfill_resumed_at.map(|at| {
                let ppm = u32::try_from(row.backfill_resumed_ppm.unwrap_or(0)).unwrap_or(0);
                (Timestamp::from_millis(at), ppm)
            }),
            last_run: row.last_run_at.map(|at| LastRun {
                at: Timestamp::from_millis(at),
                written: row.last_run_written.map(count),
            }),
        })
    }
}

#[derive(sqlx::FromRow)]
struct SyncWindowRow {
    silo: String,
    window_start: i64,
    window_end: i64,
    after_value: Option<i64>,
    after_id: Option<String>,
    done: bool,
}

impl From<SyncWindowRow> for SyncWindow {
    fn from(row: SyncWindowRow) -> Self {
        Self {
            silo: row.silo,
            start: Timestamp::from_millis(row.window_start),
            end: Timestamp::from_millis(row.window_end),
            after: row.after_value.zip(row.after_id).map(|(value, id)| (Timestamp::from_millis(value), id)),
            done: row.done,
        }
    }
}

/// Creates the integration's sync state as `pending` when it is missing.
async fn ensure_sync_state(
    executor: impl Executor<'_, Database = Database>,
    id: IntegrationId,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sync_states
             (integration_id, phase, tickets_stored, pages_fetched, windows_total, windows_done, updated_at)
         VALUES ($1, 'pending', 0, 0, 0, 0, $2) ON CONFLICT (integration_id) DO NOTHING",
    )
    .bind(id.as_uuid())
    .bind(now.as_millis())
    .execute(executor)
    .await?;
    Ok(())
}

/// Upserts one chunk of cases and the content of those inserted or changed; returns how many.
/// One multi-row statement per table, not two statements per case: a page costs a few round
/// trips to the database instead of two hundred.
async fn write_cases(
    tx: &mut WriteTransaction,
    integration_id: IntegrationId,
    chunk: &[&CaseRecord],
    now: Timestamp,
) -> StoreResult<u64> {
    let mut insert = QueryBuilder::<Database>::new(
        "INSERT INTO cases (id, integration_id, source_id, short_id, status, priority, silo, team_id,
             team_name, agent_id, agent_name, created_at, updated_at, last_message_at, message_count,
             event_count, agent_message_count, synced_at) ",
    );
    insert.push_values(chunk, |mut row, case| {
        row.push_bind(CaseId::new().as_uuid())
            .push_bind(integration_id.as_uuid())
            .push_bind(&case.source_id)
            .push_bind(case.short_id.as_deref())
            .push_bind(&case.status)
            .push_bind(case.priority)
            .push_bind(&case.silo)
            .push_bind(case.team_id.as_deref())
            .push_bind(case.team_name.as_deref())
            .push_bind(case.agent_id.as_deref())
            .push_bind(case.agent_name.as_deref())
            .push_bind(case.created_at.as_millis())
            .push_bind(case.updated_at.as_millis())
            .push_bind(case.last_message_at.map(Timestamp::as_millis))
            .push_bind(i64::from(case.message_count))
            .push_bind(i64::from(case.event_count))
            .push_bind(i64::from(case.agent_message_count))
            .push_bind(now.as_millis());
    });
    insert.push(
        " ON CONFLICT (integration_id, source_id) DO UPDATE SET
             short_id = excluded.short_id, status = excluded.status, priority = excluded.priority,
             silo = excluded.silo, team_id = excluded.team_id, team_name = excluded.team_name,
             agent_id = excluded.agent_id, agent_name = excluded.agent_name,
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             last_message_at = excluded.last_message_at, message_count = excluded.message_count,
             event_count = excluded.event_count, agent_message_count = excluded.agent_message_count,
             purged_at = NULL, synced_at = excluded.synced_at
         WHERE excluded.updated_at > cases.updated_at
            OR (excluded.updated_at = cases.updated_at AND cases.purged_at IS NULL
                AND (excluded.event_count > cases.event_count OR excluded.silo <> cases.silo))
         RETURNING id, source_id",
    );
    // Only inserted or changed rows come back; what is stored as new or newer stays.
    let written: Vec<(Uuid, String)> = insert.build_query_as().fetch_all(&mut **tx).await?;
    if written.is_empty() {
        return Ok(0);
    }
    let by_source: HashMap<&str, &CaseRecord> =
        chunk.iter().map(|case| (case.source_id.as_str(), *case)).collect();
    let mut changed = Vec::with_capacity(written.len());
    for (case_id, source_id) in &written {
        let case = by_source.get(source_id.as_str()).ok_or_else(|| {
            StoreError::Corrupt(format!("upsert returned case {source_id}, which was not written"))
        })?;
        changed.push((*case_id, &case.content));
    }
    let mut contents = QueryBuilder::<Database>::new(
        "INSERT INTO case_contents (case_id, subject, requester, tags, custom_fields, events) ",
    );
    contents.push_values(&changed, |mut row, (case_id, content)| {
        row.push_bind(*case_id)
            .push_bind(content.subject.as_deref())
            .push_bind(content.requester.as_ref().map(Json))
            .push_bind(Json(&content.tags))
            .push_bind(Json(&content.custom_fields))
            .push_bind(Json(&content.events));
    });
    contents.push(
        " ON CONFLICT (case_id) DO UPDATE SET subject = excluded.subject, requester = excluded.requester,
             tags = excluded.tags, custom_fields = excluded.custom_fields, events = excluded.events",
    );
    contents.build().execute(&mut **tx).await?;
    Ok(changed.len() as u64)
}

impl Backend {
    /// Writes a page of cases (newer versions only) and its checkpoint in one transaction.
    pub(crate) async fn store_page(
        &self,
        integration_id: IntegrationId,
        cases: &[CaseRecord],
        checkpoint: &Checkpoint,
        now: Timestamp,
    ) -> StoreResult<PageWrite> {
        let cases = newest_per_ticket(cases);
        let mut tx = self.begin_write().await?;
        let mut written = 0u64;
        for chunk in cases.chunks(ROWS_PER_STATEMENT) {
            written += write_cases(&mut tx, integration_id, chunk, now).await?;
        }
        ensure_sync_state(&mut *tx, integration_id, now).await?;
        let written_count = i64::try_from(written).unwrap_or(i64::MAX);
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
                    "UPDATE sync_states SET pages_fetched = pages_fetched + 1,
                         tickets_stored = tickets_stored + $2, windows_done = windows_done + $3,
                         updated_at = $4
                     WHERE integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .bind(written_count)
                .bind(i64::from(*done))
                .bind(now.as_millis())
                .execute(&mut *tx)
                .await?;
            }
            Checkpoint::Cursor { updated_at } => {
                sqlx::query(
                    "UPDATE sync_states SET pages_fetched = pages_fetched + 1,
                         tickets_stored = tickets_stored + $2,
                         cursor_updated_at = CASE WHEN cursor_updated_at IS NULL OR cursor_updated_at < $3
                                                  THEN $3 ELSE cursor_updated_at END,
                         updated_at = $4
                     WHERE integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .bind(written_count)
                .bind(updated_at.as_millis())
                .bind(now.as_millis())
                .execute(&mut *tx)
                .await?;
            }
            Checkpoint::Unchanged => {
                sqlx::query(
                    "UPDATE sync_states SET tickets_stored = tickets_stored + $2, updated_at = $3
                     WHERE integration_id = $1",
                )
                .bind(integration_id.as_uuid())
                .bind(written_count)
                .bind(now.as_millis())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(PageWrite { written })
    }

    /// The integration's sync state, created as `pending` when missing.
    pub(crate) async fn sync_state(
        &self,
        integration_id: IntegrationId,
        now: Timestamp,
    ) -> StoreResult<SyncState> {
        ensure_sync_state(&self.pool, integration_id, now).await?;
        let row: SyncStateRow = sqlx::query_as(
            "SELECT phase, cursor_updated_at, tickets_stored, pages_fetched, windows_total, windows_done,
                    last_success_at, last_error, requested_at, updated_at, lease_until, rate_limit_wait,
                    rate_limited_until, backfill_resumed_at, backfill_resumed_ppm, last_run_at,
                    last_run_written
             FROM sync_states WHERE integration_id = $1",
        )
        .bind(integration_id.as_uuid())
        .fetch_one(&self.pool)
        .await?;
        row.at(now)
    }

    /// What the running sync waits for at HelpDesk's rate limit (`None`: nothing).
    pub(crate) async fn note_rate_limit(
        &self,
        integration_id: IntegrationId,
        wait: Option<RateLimitWait>,
    ) -> StoreResult<()> {
        let until = match wait {
            Some(RateLimitWait::RetryAfter { until }) => Some(until.as_millis()),
            _ => None,
        };
        sqlx::query(
            "UPDATE sync_states SET rate_limit_wait = $2, rate_limited_until = $3 WHERE integration_id = $1",
        )
        .bind(integration_id.as_uuid())
        .bind(wait.map(RateLimitWait::kind))
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A run takes the backfill up with `ppm` millionths of it done: the time left is
    /// estimated from the rate since then.
    pub(crate) async fn note_backfill_resumed(
        &self,
        integration_id: IntegrationId,
        ppm: u32,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sync_states SET backfill_resumed_at = $2, backfill_resumed_ppm = $3 WHERE integration_id = $1",
        )
        .bind(integration_id.as_uuid())
        .bind(now.as_millis())
        .bind(i64::from(ppm))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a failed run: its phase and error, and when it ended.
    pub(crate) async fn record_sync_failure(
        &self,
        integration_id: IntegrationId,
        phase: SyncPhase,
        error: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let update =
            "UPDATE sync_states SET phase = $2, last_error = $3, last_run_at = $4, last_run_written = NULL,
                 rate_limit_wait = NULL, rate_limited_until = NULL, updated_at = $4
             WHERE integration_id = $1";
        self.update_sync_phase(update, integration_id, phase, Some(error), now).await
    }

    pub(crate) async fn set_sync_phase(
        &self,
        integration_id: IntegrationId,
        phase: SyncPhase,
        last_error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let update =
            "UPDATE sync_states SET phase = $2, last_error = COALESCE($3, last_error), updated_at = $4
             WHERE integration_id = $1";
        self.update_sync_phase(update, integration_id, phase, last_error, now).await
    }

    /// Runs `update` on the integration's sync-state row, made first if missing: `$1` is the
    /// integration, `$2` the phase, `$3` the error and `$4` now.
    async fn update_sync_phase(
        &self,
        update: &'static str,
        integration_id: IntegrationId,
        phase: SyncPhase,
        error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<()> {
        ensure_sync_state(&self.pool, integration_id, now).await?;
        sqlx::query(update)
            .bind(integration_id.as_uuid())
            .bind(phase.as_str())
            .bind(error)
            .bind(now.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a completed run that changed `written` cases; clears any error and an answered
    /// "sync now".
    pub(crate) async fn record_sync_success(
        &self,
        integration_id: IntegrationId,
        written: u64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE sync_states SET phase = 'live', last_success_at = $2, last_error = NULL,
                 requested_at = CASE WHEN requested_at <= $2 THEN NULL ELSE requested_at END, updated_at = $2,
                 last_run_at = $2, last_run_written = $3, rate_limit_wait = NULL, rate_limited_until = NULL
             WHERE integration_id = $1",
        )
        .bind(integration_id.as_uuid())
        .bind(now.as_millis())
        .bind(i64::try_from(written).unwrap_or(i64::MAX))
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

    pub(crate) async fn request_sync(
        &self,
        integration_id: IntegrationId,
        now: Timestamp,
    ) -> StoreResult<()> {
        ensure_sync_state(&self.pool, integration_id, now).await?;
        sqlx::query("UPDATE sync_states SET requested_at = $2 WHERE integration_id = $1")
            .bind(integration_id.as_uuid())
            .bind(now.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes or renews the lease unless another live holder has it.
    pub(crate) async fn acquire_sync_lease(
        &self,
        integration_id: IntegrationId,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        ensure_sync_state(&self.pool, integration_id, now).await?;
        self.take_lease(&SYNC_LEASE, integration_id, owner, until, now).await
    }

    pub(crate) async fn release_sync_lease(
        &self,
        integration_id: IntegrationId,
        owner: &str,
    ) -> StoreResult<()> {
        self.release_lease(&SYNC_LEASE, integration_id, owner).await
    }

    /// Adds the windows that do not exist yet.
    pub(crate) async fn plan_windows(
        &self,
        integration_id: IntegrationId,
        windows: &[SyncWindow],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
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

    pub(crate) async fn sync_windows(&self, integration_id: IntegrationId) -> StoreResult<Vec<SyncWindow>> {
        let rows: Vec<SyncWindowRow> = sqlx::query_as(
            "SELECT silo, window_start, window_end, after_value, after_id, done FROM sync_windows
             WHERE integration_id = $1 ORDER BY window_start, silo",
        )
        .bind(integration_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(SyncWindow::from).collect())
    }

    /// Replaces the listed agents; agents no longer listed are kept, marked unlisted.
    pub(crate) async fn upsert_agents(
        &self,
        integration_id: IntegrationId,
        agents: &[AgentRecord],
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE helpdesk_agents SET listed = $2 WHERE integration_id = $1")
            .bind(integration_id.as_uuid())
            .bind(false)
            .execute(&mut *tx)
            .await?;
        for agent in agents {
            sqlx::query(
                "INSERT INTO helpdesk_agents
                     (integration_id, agent_id, name, email, roles, status, listed, updated_at)
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
}
