//! Staff: users, groups, teams and memberships.

use scoreline_core::{
    AuditRecord, Group, GroupId, Page, PageRequest, Scope, StaffCandidate, Team, TeamId, Timestamp, UnitName,
    User, UserId,
};
use sqlx::{Executor, QueryBuilder};
use uuid::Uuid;

use super::audit::{commit_audited_change, write_audit};
use super::sessions::revoke_credentials;
use super::{Backend, Database, count, push_staff_in_scope, push_team_in_scope};
use crate::model::{ImportedUser, NewGroup, NewTeam, NewUser, UserChange, UserCredentials};
use crate::{StoreError, StoreResult};

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> StoreResult<Self> {
        let role = row
            .role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown role `{}` in users", row.role)))?;
        Ok(Self {
            id: UserId::from_uuid(row.id),
            email: row.email,
            name: row.name,
            role,
            active: row.active,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: Uuid,
    name: String,
    created_at: i64,
}

impl From<GroupRow> for Group {
    fn from(row: GroupRow) -> Self {
        Self {
            id: GroupId::from_uuid(row.id),
            name: row.name,
            created_at: Timestamp::from_millis(row.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: Uuid,
    group_id: Uuid,
    name: String,
    member_count: i64,
    created_at: i64,
}

impl From<TeamRow> for Team {
    fn from(row: TeamRow) -> Self {
        Self {
            id: TeamId::from_uuid(row.id),
            group_id: GroupId::from_uuid(row.group_id),
            name: row.name,
            member_count: count(row.member_count),
            created_at: Timestamp::from_millis(row.created_at),
        }
    }
}

/// Which users a read of staff wants.
#[derive(Clone, Copy)]
enum Users {
    One(UserId),
    Page(PageRequest),
    MembersOf(TeamId),
    /// Active staff, by name.
    Active,
}

/// Which groups a read wants.
#[derive(Clone, Copy)]
enum Groups {
    One(GroupId),
    Page(PageRequest),
}

/// Which teams a read wants.
#[derive(Clone, Copy)]
enum Teams {
    One(TeamId),
    Page(PageRequest),
}

/// Inserts an active user; a taken email is a conflict.
pub(super) async fn insert_user(
    executor: impl Executor<'_, Database = Database>,
    user: &NewUser,
) -> StoreResult<()> {
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
    .execute(executor)
    .await
    .map_err(|e| StoreError::classify(e, "A user with this email already exists."))?;
    Ok(())
}

/// Adds a membership; an existing one is a conflict.
pub(super) async fn insert_membership(
    executor: impl Executor<'_, Database = Database>,
    team_id: TeamId,
    user_id: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO memberships (team_id, user_id, created_at) VALUES ($1, $2, $3)")
        .bind(team_id.as_uuid())
        .bind(user_id.as_uuid())
        .bind(at.as_millis())
        .execute(executor)
        .await
        .map_err(|e| StoreError::classify(e, "Already a member of this team."))?;
    Ok(())
}

impl Backend {
    /// Every read of staff goes through here, so nobody outside `scope` is ever loaded.
    async fn read_users(&self, scope: &Scope, wanted: Users) -> StoreResult<Vec<User>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at FROM users u
             WHERE ",
        );
        push_staff_in_scope(&mut query, scope, "u.id");
        match wanted {
            Users::One(id) => {
                query.push(" AND u.id = ").push_bind(id.as_uuid());
            }
            Users::Page(page) => {
                if let Some(after) = page.after {
                    query.push(" AND u.id > ").push_bind(after);
                }
            }
            Users::MembersOf(team_id) => {
                query
                    .push(" AND u.id IN (SELECT m.user_id FROM memberships m WHERE m.team_id = ")
                    .push_bind(team_id.as_uuid())
                    .push(")");
            }
            Users::Active => {
                query.push(" AND u.active = ").push_bind(true);
            }
        }
        match wanted {
            Users::One(_) => {}
            Users::Page(page) => {
                query.push(" ORDER BY u.id LIMIT ").push_bind(i64::from(page.limit) + 1);
            }
            Users::MembersOf(_) | Users::Active => {
                query.push(" ORDER BY u.name, u.id");
            }
        }
        let rows: Vec<UserRow> = query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Every read of teams goes through here, so no team outside `scope` is ever loaded.
    async fn read_teams(&self, scope: &Scope, wanted: Teams) -> StoreResult<Vec<Team>> {
        let mut query = QueryBuilder::<Database>::new(
            "SELECT t.id, t.group_id, t.name, t.created_at,
                (SELECT COUNT(*) FROM memberships m WHERE m.team_id = t.id) AS member_count
             FROM teams t WHERE ",
        );
        push_team_in_scope(&mut query, scope, "t.id");
        match wanted {
            Teams::One(id) => {
                query.push(" AND t.id = ").push_bind(id.as_uuid());
            }
            Teams::Page(page) => {
                if let Some(after) = page.after {
                    query.push(" AND t.id > ").push_bind(after);
                }
            }
        }
        if let Teams::Page(page) = wanted {
            query.push(" ORDER BY t.id LIMIT ").push_bind(i64::from(page.limit) + 1);
        }
        let rows: Vec<TeamRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Team::from).collect())
    }

    pub(crate) async fn create_user(&self, user: &NewUser, audit: &AuditRecord) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        insert_user(&mut *tx, user).await?;
        write_audit(&mut *tx, audit).await?;
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

    /// The user `id`, if `scope` reaches them.
    pub(crate) async fn get_user(&self, scope: &Scope, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.read_users(scope, Users::One(id)).await?.pop())
    }

    /// The names of these users, in one query per thousand; the caller has decided they may be
    /// named (they come from a pool already limited to the caller's scope).
    pub(crate) async fn user_names(&self, ids: &[UserId]) -> StoreResult<Vec<(UserId, String)>> {
        let mut names = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let mut query = QueryBuilder::<Database>::new("SELECT id, name FROM users WHERE id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id.as_uuid());
            }
            query.push(")");
            let rows: Vec<(Uuid, String)> = query.build_query_as().fetch_all(&self.pool).await?;
            names.extend(rows.into_iter().map(|(id, name)| (UserId::from_uuid(id), name)));
        }
        Ok(names)
    }

    /// The user with this email and their password hash, for sign-in; `email` must be
    /// normalised (see `scoreline_core::Email`).
    pub(crate) async fn find_user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
        let row: Option<CredentialsRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at, u.password_hash
             FROM users u WHERE u.email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok(UserCredentials { user: row.user.try_into()?, password_hash: row.password_hash }))
            .transpose()
    }

    pub(crate) async fn list_users(&self, scope: &Scope, page: PageRequest) -> StoreResult<Page<User>> {
        let users = self.read_users(scope, Users::Page(page)).await?;
        Ok(Page::from_overfetch(users, page.limit, |user| user.id.as_uuid()))
    }

    /// Active staff in `scope`, by name, as matching compares them.
    pub(crate) async fn list_staff_candidates(&self, scope: &Scope) -> StoreResult<Vec<StaffCandidate>> {
        let users = self.read_users(scope, Users::Active).await?;
        Ok(users
            .into_iter()
            .map(|user| StaffCandidate { id: user.id, name: user.name, email: user.email })
            .collect())
    }

    /// Changes a user's email, name and role; `false` when there is no such user.
    pub(crate) async fn update_user(
        &self,
        id: UserId,
        change: &UserChange,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed =
            sqlx::query("UPDATE users SET email = $2, name = $3, role = $4, updated_at = $5 WHERE id = $1")
                .bind(id.as_uuid())
                .bind(change.email.as_str())
                .bind(change.name.as_str())
                .bind(change.role.as_str())
                .bind(change.at.as_millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::classify(e, "A user with this email already exists."))?
                .rows_affected();
        commit_audited_change(tx, changed, audit).await
    }

    /// Activates or deactivates a user; deactivation ends their sessions and revokes their tokens
    /// for good. `false` when there is no such user.
    pub(crate) async fn set_user_active(
        &self,
        id: UserId,
        active: bool,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query("UPDATE users SET active = $2, updated_at = $3 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(active)
            .bind(at.as_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if !active && changed > 0 {
            revoke_credentials(&mut tx, id, at).await?;
        }
        commit_audited_change(tx, changed, audit).await
    }

    pub(crate) async fn count_users(&self) -> StoreResult<u64> {
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
        Ok(count(users))
    }

    /// Creates the users with their memberships and audit records in one transaction: all or none.
    pub(crate) async fn import_users(&self, users: &[ImportedUser], at: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for imported in users {
            insert_user(&mut *tx, &imported.user).await?;
            if let Some(team_id) = imported.team_id {
                insert_membership(&mut *tx, team_id, imported.user.id, at).await?;
            }
            for audit in &imported.audits {
                write_audit(&mut *tx, audit).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn create_group(&self, group: &NewGroup, audit: &AuditRecord) -> StoreResult<Group> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO staff_groups (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(group.id.as_uuid())
            .bind(group.name.as_str())
            .bind(group.created_at.as_millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "A group with this name already exists."))?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(Group { id: group.id, name: group.name.as_str().to_owned(), created_at: group.created_at })
    }

    /// Every read of groups goes through here. A group lies in a scope when one of its teams
    /// does (a global admin's scope holds every group, also those without teams).
    async fn read_groups(&self, scope: &Scope, wanted: Groups) -> StoreResult<Vec<Group>> {
        let mut query =
            QueryBuilder::<Database>::new("SELECT g.id, g.name, g.created_at FROM staff_groups g WHERE ");
        if scope.is_everything() {
            query.push("TRUE");
        } else {
            query.push("g.id IN (SELECT t.group_id FROM teams t WHERE ");
            push_team_in_scope(&mut query, scope, "t.id");
            query.push(")");
        }
        match wanted {
            Groups::One(id) => {
                query.push(" AND g.id = ").push_bind(id.as_uuid());
            }
            Groups::Page(page) => {
                if let Some(after) = page.after {
                    query.push(" AND g.id > ").push_bind(after);
                }
                query.push(" ORDER BY g.id LIMIT ").push_bind(i64::from(page.limit) + 1);
            }
        }
        let rows: Vec<GroupRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Group::from).collect())
    }

    /// The group `id`, if `scope` reaches it.
    pub(crate) async fn get_group(&self, scope: &Scope, id: GroupId) -> StoreResult<Option<Group>> {
        Ok(self.read_groups(scope, Groups::One(id)).await?.pop())
    }

    pub(crate) async fn list_groups(&self, scope: &Scope, page: PageRequest) -> StoreResult<Page<Group>> {
        let groups = self.read_groups(scope, Groups::Page(page)).await?;
        Ok(Page::from_overfetch(groups, page.limit, |group| group.id.as_uuid()))
    }

    pub(crate) async fn create_team(&self, team: &NewTeam, audit: &AuditRecord) -> StoreResult<Team> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO teams (id, group_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(team.id.as_uuid())
            .bind(team.group_id.as_uuid())
            .bind(team.name.as_str())
            .bind(team.created_at.as_millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "This group already has a team with this name."))?;
        write_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(Team {
            id: team.id,
            group_id: team.group_id,
            name: team.name.as_str().to_owned(),
            member_count: 0,
            created_at: team.created_at,
        })
    }

    /// The team `id`, if `scope` reaches it.
    pub(crate) async fn get_team(&self, scope: &Scope, id: TeamId) -> StoreResult<Option<Team>> {
        Ok(self.read_teams(scope, Teams::One(id)).await?.pop())
    }

    pub(crate) async fn list_teams(&self, scope: &Scope, page: PageRequest) -> StoreResult<Page<Team>> {
        let teams = self.read_teams(scope, Teams::Page(page)).await?;
        Ok(Page::from_overfetch(teams, page.limit, |team| team.id.as_uuid()))
    }

    /// Adds a member; adding one twice is a no-op and is not audited.
    pub(crate) async fn add_team_member(
        &self,
        team_id: TeamId,
        user_id: UserId,
        at: Timestamp,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
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
            write_audit(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a member; `false` (and no audit record) when they were not one.
    pub(crate) async fn remove_team_member(
        &self,
        team_id: TeamId,
        user_id: UserId,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM memberships WHERE team_id = $1 AND user_id = $2")
            .bind(team_id.as_uuid())
            .bind(user_id.as_uuid())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        commit_audited_change(tx, removed, audit).await
    }

    /// Renames a group; `false` when there is no such group.
    pub(crate) async fn rename_group(
        &self,
        id: GroupId,
        name: &UnitName,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let taken = "A group with this name already exists.";
        self.rename("UPDATE staff_groups SET name = $2 WHERE id = $1", id.as_uuid(), name, taken, audit).await
    }

    /// Renames a team; `false` when there is no such team.
    pub(crate) async fn rename_team(
        &self,
        id: TeamId,
        name: &UnitName,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let taken = "This group already has a team with this name.";
        self.rename("UPDATE teams SET name = $2 WHERE id = $1", id.as_uuid(), name, taken, audit).await
    }

    async fn rename(
        &self,
        statement: &'static str,
        id: Uuid,
        name: &UnitName,
        taken: &'static str,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(statement)
            .bind(id)
            .bind(name.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, taken))?
            .rows_affected();
        commit_audited_change(tx, changed, audit).await
    }

    /// A team's members, by name. Whoever reaches the team reaches its members, so the caller
    /// checks the team against the scope.
    pub(crate) async fn list_team_members(&self, team_id: TeamId) -> StoreResult<Vec<User>> {
        self.read_users(&Scope::Everything, Users::MembersOf(team_id)).await
    }

    /// The teams `user_id` belongs to: what a team admin's or supervisor's scope reaches.
    pub(crate) async fn teams_of(&self, user_id: UserId) -> StoreResult<Vec<TeamId>> {
        let teams: Vec<Uuid> = sqlx::query_scalar("SELECT team_id FROM memberships WHERE user_id = $1")
            .bind(user_id.as_uuid())
            .fetch_all(&self.pool)
            .await?;
        Ok(teams.into_iter().map(TeamId::from_uuid).collect())
    }

    /// Every team of the groups `user_id` belongs to through any of their teams: what a group
    /// admin's scope reaches.
    pub(crate) async fn teams_of_groups_of(&self, user_id: UserId) -> StoreResult<Vec<TeamId>> {
        let teams: Vec<Uuid> = sqlx::query_scalar(
            "SELECT t.id FROM teams t
             WHERE t.group_id IN (SELECT mt.group_id FROM memberships m JOIN teams mt ON mt.id = m.team_id
                                  WHERE m.user_id = $1)",
        )
        .bind(user_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(teams.into_iter().map(TeamId::from_uuid).collect())
    }
}
