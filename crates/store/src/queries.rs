//! One body of queries for both backends. The SQL is written once, in the common subset of
//! SQLite and PostgreSQL (`$n` parameters, `ON CONFLICT`, `RETURNING`), and this macro expands it
//! for each driver so the two implementations cannot drift apart.

macro_rules! user_columns {
    () => {
        "u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at"
    };
}
pub(crate) use user_columns;

macro_rules! user_from_row {
    ($row:expr) => {{
        let row = $row;
        let role: String = row.try_get("role")?;
        User {
            id: UserId::from_uuid(row.try_get("id")?),
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            role: role.parse().map_err(|_| StoreError::Corrupt(format!("unknown role `{role}` in users")))?,
            active: row.try_get("active")?,
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
            updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        }
    }};
}
pub(crate) use user_from_row;

macro_rules! team_from_row {
    ($row:expr) => {{
        let row = $row;
        Team {
            id: TeamId::from_uuid(row.try_get("id")?),
            group_id: GroupId::from_uuid(row.try_get("group_id")?),
            name: row.try_get("name")?,
            member_count: u64::try_from(row.try_get::<i64, _>("member_count")?).unwrap_or(0),
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
        }
    }};
}
pub(crate) use team_from_row;

macro_rules! group_from_row {
    ($row:expr) => {{
        let row = $row;
        Group {
            id: GroupId::from_uuid(row.try_get("id")?),
            name: row.try_get("name")?,
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
        }
    }};
}
pub(crate) use group_from_row;

macro_rules! write_audit {
    ($executor:expr, $audit:expr) => {{
        let audit: &AuditRecord = $audit;
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_id, actor_label, action, target_kind, target_id, details)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(audit.id.as_uuid())
        .bind(audit.at.as_millis())
        .bind(audit.actor.user_id.map(|id| id.as_uuid()))
        .bind(&audit.actor.label)
        .bind(&audit.action)
        .bind(&audit.target_kind)
        .bind(&audit.target_id)
        .bind(sqlx::types::Json(&audit.details))
        .execute($executor)
        .await?;
    }};
}
pub(crate) use write_audit;

/// Inserts an active user; a taken email is a conflict.
macro_rules! insert_user {
    ($executor:expr, $user:expr) => {{
        let user: &NewUser = $user;
        sqlx::query(
            "INSERT INTO users (id, email, name, role, password_hash, active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(user.id.as_uuid())
        .bind(user.email.as_str())
        .bind(user.name.as_str())
        .bind(user.role.as_str())
        .bind(user.password_hash.as_deref())
        .bind(true)
        .bind(user.created_at.as_millis())
        .execute($executor)
        .await
        .map_err(|e| StoreError::classify(e, "A user with this email already exists."))?;
    }};
}
pub(crate) use insert_user;

/// Ends an audited single-row change: `false` when no row was found (nothing is written),
/// else the audit record is added and the transaction committed.
macro_rules! commit_audited_change {
    ($tx:ident, $changed:expr, $audit:expr) => {{
        if $changed == 0 {
            return Ok(false);
        }
        write_audit!(&mut *$tx, $audit);
        $tx.commit().await?;
        Ok(true)
    }};
}
pub(crate) use commit_audited_change;

macro_rules! team_select {
    ($filter:literal) => {
        concat!(
            "SELECT t.id, t.group_id, t.name, t.created_at,
                (SELECT COUNT(*) FROM memberships m WHERE m.team_id = t.id) AS member_count
             FROM teams t ",
            $filter
        )
    };
}
pub(crate) use team_select;

/// Takes a lease row (`$owner_col`, `$until_col` of `$table`, keyed by `integration_id`) unless
/// another holder's lease is still live; a holder may renew its own. True when taken.
macro_rules! take_lease {
    ($pool:expr, $table:literal, $owner_col:literal, $until_col:literal, $id:expr, $owner:expr, $until:expr, $now:expr) => {{
        let taken = sqlx::query(concat!(
            "UPDATE ",
            $table,
            " SET ",
            $owner_col,
            " = $2, ",
            $until_col,
            " = $3
             WHERE integration_id = $1
               AND (",
            $until_col,
            " IS NULL OR ",
            $until_col,
            " < $4 OR ",
            $owner_col,
            " = $2)"
        ))
        .bind($id.as_uuid())
        .bind($owner)
        .bind($until.as_millis())
        .bind($now.as_millis())
        .execute($pool)
        .await?
        .rows_affected();
        taken == 1
    }};
}
pub(crate) use take_lease;

/// Gives a lease row back, if `$owner` still holds it.
macro_rules! release_lease {
    ($pool:expr, $table:literal, $owner_col:literal, $until_col:literal, $id:expr, $owner:expr) => {{
        sqlx::query(concat!(
            "UPDATE ",
            $table,
            " SET ",
            $owner_col,
            " = NULL, ",
            $until_col,
            " = NULL
             WHERE integration_id = $1 AND ",
            $owner_col,
            " = $2"
        ))
        .bind($id.as_uuid())
        .bind($owner)
        .execute($pool)
        .await?;
    }};
}
pub(crate) use release_lease;

macro_rules! impl_store {
    ($store:ty) => {
        impl $crate::Store for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_user(&self, user: &NewUser, audit: &AuditRecord) -> StoreResult<User> {
                let mut tx = self.pool.begin().await?;
                $crate::queries::insert_user!(&mut *tx, user);
                write_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(User {
                    id: user.id,
                    email: user.email.as_str().to_owned(),
                    name: user.name.as_str().to_owned(),
                    role: user.role,
                    active: true,
                    created_at: user.created_at,
                    updated_at: user.created_at,
                })
            }

            async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
                let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1"))
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row { Some(row) => Some(user_from_row!(&row)), None => None })
            }

            async fn find_user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
                let row = sqlx::query(concat!(
                    "SELECT ", user_columns!(), ", u.password_hash FROM users u WHERE u.email = $1"
                ))
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
                Ok(match row {
                    Some(row) => Some(UserCredentials {
                        user: user_from_row!(&row),
                        password_hash: row.try_get("password_hash")?,
                    }),
                    None => None,
                })
            }

            async fn list_users(&self, page: PageRequest) -> StoreResult<Page<User>> {
                let rows = sqlx::query(concat!(
                    "SELECT ", user_columns!(), " FROM users u
                     WHERE ($1 IS NULL OR u.id > $1) ORDER BY u.id LIMIT $2"
                ))
                .bind(page.after)
                .bind(i64::from(page.limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                let items = rows.iter().map(|row| Ok(user_from_row!(row))).collect::<StoreResult<Vec<_>>>()?;
                Ok(Page::from_overfetch(items, page.limit, |user| user.id.as_uuid()))
            }

            async fn update_user(&self, id: UserId, change: &$crate::model::UserChange, audit: &AuditRecord) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let changed = sqlx::query("UPDATE users SET email = $2, name = $3, role = $4, updated_at = $5 WHERE id = $1")
                    .bind(id.as_uuid())
                    .bind(change.email.as_str())
                    .bind(change.name.as_str())
                    .bind(change.role.as_str())
                    .bind(change.at.as_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::classify(e, "A user with this email already exists."))?
                    .rows_affected();
                $crate::queries::commit_audited_change!(tx, changed, audit)
            }

            async fn set_user_active(&self, id: UserId, active: bool, at: Timestamp, audit: &AuditRecord) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let changed = sqlx::query("UPDATE users SET active = $2, updated_at = $3 WHERE id = $1")
                    .bind(id.as_uuid())
                    .bind(active)
                    .bind(at.as_millis())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if !active {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.as_uuid()).execute(&mut *tx).await?;
                }
                $crate::queries::commit_audited_change!(tx, changed, audit)
            }

            async fn import_users(&self, users: &[$crate::model::ImportedUser], at: Timestamp) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for imported in users {
                    $crate::queries::insert_user!(&mut *tx, &imported.user);
                    if let Some(team_id) = imported.team_id {
                        sqlx::query("INSERT INTO memberships (team_id, user_id, created_at) VALUES ($1, $2, $3)")
                            .bind(team_id.as_uuid())
                            .bind(imported.user.id.as_uuid())
                            .bind(at.as_millis())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| StoreError::classify(e, "Already a member of this team."))?;
                    }
                    for audit in &imported.audits {
                        write_audit!(&mut *tx, audit);
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn count_users(&self) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn create_group(&self, group: &NewGroup, audit: &AuditRecord) -> StoreResult<Group> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO staff_groups (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(group.id.as_uuid())
                    .bind(group.name.as_str())
                    .bind(group.created_at.as_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::classify(e, "A group with this name already exists."))?;
                write_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(Group { id: group.id, name: group.name.as_str().to_owned(), created_at: group.created_at })
            }

            async fn get_group(&self, id: GroupId) -> StoreResult<Option<Group>> {
                let row = sqlx::query("SELECT id, name, created_at FROM staff_groups WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row { Some(row) => Some(group_from_row!(&row)), None => None })
            }

            async fn list_groups(&self, page: PageRequest) -> StoreResult<Page<Group>> {
                let rows = sqlx::query(
                    "SELECT id, name, created_at FROM staff_groups
                     WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
                )
                .bind(page.after)
                .bind(i64::from(page.limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                let items = rows.iter().map(|row| Ok(group_from_row!(row))).collect::<StoreResult<Vec<_>>>()?;
                Ok(Page::from_overfetch(items, page.limit, |group| group.id.as_uuid()))
            }

            async fn create_team(&self, team: &NewTeam, audit: &AuditRecord) -> StoreResult<Team> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO teams (id, group_id, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(team.id.as_uuid())
                    .bind(team.group_id.as_uuid())
                    .bind(team.name.as_str())
                    .bind(team.created_at.as_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::classify(e, "This group already has a team with this name."))?;
                write_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(Team {
                    id: team.id,
                    group_id: team.group_id,
                    name: team.name.as_str().to_owned(),
                    member_count: 0,
                    created_at: team.created_at,
                })
            }

            async fn get_team(&self, id: TeamId) -> StoreResult<Option<Team>> {
                let row = sqlx::query(team_select!("WHERE t.id = $1"))
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row { Some(row) => Some(team_from_row!(&row)), None => None })
            }

            async fn list_teams(&self, page: PageRequest) -> StoreResult<Page<Team>> {
                let rows = sqlx::query(team_select!("WHERE ($1 IS NULL OR t.id > $1) ORDER BY t.id LIMIT $2"))
                    .bind(page.after)
                    .bind(i64::from(page.limit) + 1)
                    .fetch_all(&self.pool)
                    .await?;
                let items = rows.iter().map(|row| Ok(team_from_row!(row))).collect::<StoreResult<Vec<_>>>()?;
                Ok(Page::from_overfetch(items, page.limit, |team| team.id.as_uuid()))
            }

            async fn add_team_member(
                &self,
                team_id: TeamId,
                user_id: UserId,
                at: Timestamp,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO memberships (team_id, user_id, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (team_id, user_id) DO NOTHING",
                )
                .bind(team_id.as_uuid())
                .bind(user_id.as_uuid())
                .bind(at.as_millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::classify(e, "Already a member of this team."))?
                .rows_affected();
                if inserted > 0 {
                    write_audit!(&mut *tx, audit);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_team_members(&self, team_id: TeamId) -> StoreResult<Vec<User>> {
                let rows = sqlx::query(concat!(
                    "SELECT ", user_columns!(), " FROM users u
                     JOIN memberships m ON m.user_id = u.id WHERE m.team_id = $1 ORDER BY u.name, u.id"
                ))
                .bind(team_id.as_uuid())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(|row| Ok(user_from_row!(row))).collect()
            }

            async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(session.id.as_uuid())
                .bind(&session.token_digest[..])
                .bind(session.user_id.as_uuid())
                .bind(session.created_at.as_millis())
                .bind(session.expires_at.as_millis())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn find_session_user(
                &self,
                digest: &TokenDigest,
                now: Timestamp,
            ) -> StoreResult<Option<(SessionId, User)>> {
                let row = sqlx::query(concat!(
                    "SELECT s.id AS session_id, ", user_columns!(), " FROM sessions s
                     JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = $3"
                ))
                .bind(&digest[..])
                .bind(now.as_millis())
                .bind(true)
                .fetch_optional(&self.pool)
                .await?;
                Ok(match row {
                    Some(row) => Some((SessionId::from_uuid(row.try_get("session_id")?), user_from_row!(&row))),
                    None => None,
                })
            }

            async fn delete_session(&self, digest: &TokenDigest) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(&digest[..])
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now.as_millis())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn create_api_token(&self, token: &NewApiToken, audit: &AuditRecord) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO api_tokens (id, token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(token.id.as_uuid())
                .bind(&token.token_digest[..])
                .bind(token.user_id.as_uuid())
                .bind(&token.name)
                .bind(token.created_at.as_millis())
                .execute(&mut *tx)
                .await?;
                write_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn use_api_token(&self, digest: &TokenDigest, now: Timestamp) -> StoreResult<Option<User>> {
                let row = sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $2
                     WHERE token_hash = $1 AND revoked_at IS NULL
                     RETURNING user_id",
                )
                .bind(&digest[..])
                .bind(now.as_millis())
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let user = self.get_user(UserId::from_uuid(row.try_get("user_id")?)).await?;
                Ok(user.filter(|user| user.active))
            }

            async fn record_sign_in_failure(&self, throttle_key: &str, at: Timestamp) -> StoreResult<()> {
                sqlx::query("INSERT INTO sign_in_failures (throttle_key, at) VALUES ($1, $2)")
                    .bind(throttle_key)
                    .bind(at.as_millis())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn count_sign_in_failures(&self, throttle_key: &str, since: Timestamp) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sign_in_failures WHERE throttle_key = $1 AND at >= $2",
                )
                .bind(throttle_key)
                .bind(since.as_millis())
                .fetch_one(&self.pool)
                .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn clear_sign_in_failures(&self, throttle_key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1")
                    .bind(throttle_key)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn append_audit(&self, audit: &AuditRecord) -> StoreResult<()> {
                write_audit!(&self.pool, audit);
                Ok(())
            }

            async fn list_audit(&self, page: PageRequest) -> StoreResult<Page<AuditRecord>> {
                let rows = sqlx::query(
                    "SELECT id, at, actor_id, actor_label, action, target_kind, target_id, details FROM audit_log
                     WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(page.after)
                .bind(i64::from(page.limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                let items = rows
                    .iter()
                    .map(|row| {
                        let actor_id: Option<uuid::Uuid> = row.try_get("actor_id")?;
                        let details: sqlx::types::Json<serde_json::Value> = row.try_get("details")?;
                        Ok(AuditRecord {
                            id: AuditEntryId::from_uuid(row.try_get("id")?),
                            at: Timestamp::from_millis(row.try_get("at")?),
                            actor: AuditActor { user_id: actor_id.map(UserId::from_uuid), label: row.try_get("actor_label")? },
                            action: row.try_get("action")?,
                            target_kind: row.try_get("target_kind")?,
                            target_id: row.try_get("target_id")?,
                            details: details.0,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                Ok(Page::from_overfetch(items, page.limit, |entry| entry.id.as_uuid()))
            }
        }
    };
}
pub(crate) use impl_store;
