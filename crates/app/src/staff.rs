//! Staff, groups and teams.

use scoreline_core::{
    AuditEntryId, AuditRecord, Email, FieldErrors, Group, GroupId, NewPassword, Page, PageRequest,
    Permission, PersonName, Role, Scope, Team, TeamId, UnitName, User, UserId,
};
use scoreline_store::model::{Membership, NewGroup, NewTeam, NewUser, UserChange};
use serde::Deserialize;
use serde_json::json;

use crate::{Actor, App, AppError, AppResult};

/// A new staff member as submitted by a form, the API or the command line.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: String,
    /// Staff who only get scored may have no password and never sign in.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub team_ids: Vec<TeamId>,
}

/// A change to a staff member; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UpdateUser {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

/// Who a signed-in person is here: their teams and the teams their scope reaches.
#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub user: User,
    /// The teams they belong to, by name.
    pub teams: Vec<Team>,
    /// The teams whose staff they see (for group admins, every team of their groups); empty
    /// when their scope is everyone or only themselves.
    pub reach: Vec<Team>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateGroup {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateTeam {
    pub group_id: Option<GroupId>,
    pub name: String,
}

impl App {
    pub(crate) fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: &str,
        details: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord {
            id: AuditEntryId::new(),
            at: self.clock().now(),
            actor: actor.audit_actor(),
            action: action.to_owned(),
            target_kind: target_kind.to_owned(),
            target_id: target_id.to_owned(),
            details,
        }
    }

    pub async fn create_user(&self, actor: &Actor, input: CreateUser) -> AppResult<User> {
        actor.require(Permission::ManageStaff)?;
        let mut errors = FieldErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        let name = errors.check("name", PersonName::parse(&input.name));
        let role = errors.check("role", input.role.parse::<Role>().map_err(|e| e.to_string()));
        let password = match input.password.as_deref().filter(|p| !p.is_empty()) {
            Some(password) => errors.check("password", NewPassword::parse(password)),
            None => None,
        };
        if let Some(role) = role
            && !actor.may_grant(role)
        {
            errors.push("role", format!("You may not create a {} account.", role.label()));
        }
        for team_id in &input.team_ids {
            if self.db().get_team(actor.scope(), *team_id).await?.is_none() {
                errors.push("team_ids", format!("Team {team_id} does not exist."));
            }
        }
        if input.team_ids.is_empty() && !actor.scope().is_everything() {
            errors.push("team_ids", "Choose a team of yours for this person, so they stay in your scope.");
        }
        errors.into_result()?;
        let (Some(email), Some(name), Some(role)) = (email, name, role) else {
            return Err(AppError::Internal("validated fields missing".to_owned()));
        };
        let password_hash = match password {
            Some(password) => Some(self.hash_password(password.expose().to_owned()).await?),
            None => None,
        };
        let new_user =
            NewUser { id: UserId::new(), email, name, role, password_hash, created_at: self.clock().now() };
        let audit = self.audit(
            actor,
            "user.create",
            "user",
            &new_user.id.to_string(),
            json!({ "email": new_user.email.as_str(), "role": role.as_str() }),
        );
        let user = self.db().create_user(&new_user, &audit).await.map_err(AppError::conflict_on("email"))?;
        for team_id in input.team_ids {
            self.insert_membership(actor, team_id, user.id).await?;
        }
        Ok(user)
    }

    pub async fn list_users(&self, actor: &Actor, page: PageRequest) -> AppResult<Page<User>> {
        actor.require(Permission::ViewStaff)?;
        Ok(self.db().list_users(actor.scope(), page).await?)
    }

    pub async fn get_user(&self, actor: &Actor, id: UserId) -> AppResult<User> {
        actor.require(Permission::ViewStaff)?;
        self.user_in_scope(actor, id).await
    }

    /// The staff member `id`, if `actor`'s scope reaches them; out of scope is not found.
    pub(crate) async fn user_in_scope(&self, actor: &Actor, id: UserId) -> AppResult<User> {
        self.db().get_user(actor.scope(), id).await?.ok_or(AppError::NotFound("user"))
    }

    /// Refuses changes to someone of the actor's rank or above (their own name and email
    /// excepted: nobody changes their own role or deactivates themselves, checked apart).
    fn require_outranks(actor: &Actor, target: &User) -> AppResult<()> {
        match actor.user() {
            Some(me) if me.id != target.id && !actor.may_grant(target.role) => {
                Err(AppError::PermissionDenied { role: me.role, permission: Permission::ManageStaff })
            }
            _ => Ok(()),
        }
    }

    /// The user with this email, if there is one.
    pub async fn find_user_by_email(&self, actor: &Actor, email: &str) -> AppResult<Option<User>> {
        actor.require(Permission::ViewStaff)?;
        let email = Email::parse(email).map_err(|message| AppError::field("email", message))?;
        Ok(self.db().find_user_credentials(email.as_str()).await?.map(|found| found.user))
    }

    /// Edits a staff member's email, name, role or active state. Nobody edits someone above
    /// them, grants a role above their own, or changes their own role.
    pub async fn update_user(&self, actor: &Actor, id: UserId, input: UpdateUser) -> AppResult<User> {
        actor.require(Permission::ManageStaff)?;
        let user = self.user_in_scope(actor, id).await?;
        Self::require_outranks(actor, &user)?;
        let mut errors = FieldErrors::new();
        let email = errors.check("email", Email::parse(input.email.as_deref().unwrap_or(&user.email)));
        let name = errors.check("name", PersonName::parse(input.name.as_deref().unwrap_or(&user.name)));
        let role = match input.role.as_deref() {
            None => Some(user.role),
            Some(text) => errors.check("role", text.parse::<Role>().map_err(|e| e.to_string())),
        };
        if let Some(role) = role.filter(|role| *role != user.role) {
            if !actor.may_grant(role) {
                errors.push("role", format!("You may not grant the {} role.", role.label()));
            }
            if actor.user().is_some_and(|me| me.id == id) {
                errors.push("role", "You cannot change your own role.");
            }
        }
        if input.active == Some(false) && actor.user().is_some_and(|me| me.id == id) {
            errors.push("active", "You cannot deactivate yourself.");
        }
        errors.into_result()?;
        let (Some(email), Some(name), Some(role)) = (email, name, role) else {
            return Err(AppError::Internal("validated fields missing".to_owned()));
        };
        if email.as_str() != user.email || name.as_str() != user.name || role != user.role {
            let audit = self.audit(
                actor,
                "user.update",
                "user",
                &id.to_string(),
                json!({
                    "email": email.as_str(), "previous_email": user.email,
                    "name": name.as_str(), "role": role.as_str(), "previous_role": user.role.as_str(),
                }),
            );
            let change = UserChange { email, name, role, at: self.clock().now() };
            self.db().update_user(id, &change, &audit).await.map_err(AppError::conflict_on("email"))?;
        }
        match input.active {
            Some(active) => self.set_user_active(actor, id, active).await,
            None => self.user_in_scope(actor, id).await,
        }
    }

    /// Deactivates (or reactivates) a staff member. Nobody is deleted: their evaluations and
    /// matches stay. A deactivated user cannot sign in or use API tokens, and automatic matching
    /// skips them.
    pub async fn set_user_active(&self, actor: &Actor, id: UserId, active: bool) -> AppResult<User> {
        actor.require(Permission::ManageStaff)?;
        let user = self.user_in_scope(actor, id).await?;
        Self::require_outranks(actor, &user)?;
        if actor.user().is_some_and(|me| me.id == id) && !active {
            return Err(AppError::field("active", "You cannot deactivate yourself."));
        }
        if user.active == active {
            return Ok(user);
        }
        let action = if active { "user.reactivate" } else { "user.deactivate" };
        let audit = self.audit(actor, action, "user", &id.to_string(), json!({ "email": user.email }));
        if !self.db().set_user_active(id, active, self.clock().now(), &audit).await? {
            return Err(AppError::NotFound("user"));
        }
        self.user_in_scope(actor, id).await
    }

    /// The signed-in person's own account, with what their scope reaches.
    pub async fn account_overview(&self, actor: &Actor) -> AppResult<AccountOverview> {
        let user = actor.user().cloned().ok_or(AppError::Unauthenticated)?;
        let all = PageRequest::first(PageRequest::MAX_LIMIT);
        let by_name = |mut teams: Vec<Team>| {
            teams.sort_by(|a, b| a.name.cmp(&b.name));
            teams
        };
        let teams = by_name(self.db().list_teams(&Scope::Own(user.id), all).await?.items);
        let reach = match actor.scope() {
            Scope::Teams(_) => by_name(self.db().list_teams(actor.scope(), all).await?.items),
            Scope::Everything | Scope::Own(_) => Vec::new(),
        };
        Ok(AccountOverview { user, teams, reach })
    }

    pub async fn count_users(&self) -> AppResult<u64> {
        Ok(self.db().count_users().await?)
    }

    pub async fn create_group(&self, actor: &Actor, input: CreateGroup) -> AppResult<Group> {
        actor.require(Permission::ManageGroups)?;
        let name = UnitName::parse(&input.name).map_err(|message| AppError::field("name", message))?;
        let group = NewGroup { id: GroupId::new(), name, created_at: self.clock().now() };
        let audit = self.audit(
            actor,
            "group.create",
            "group",
            &group.id.to_string(),
            json!({ "name": group.name.as_str() }),
        );
        self.db().create_group(&group, &audit).await.map_err(AppError::conflict_on("name"))
    }

    pub async fn list_groups(&self, actor: &Actor, page: PageRequest) -> AppResult<Page<Group>> {
        actor.require(Permission::ViewStaff)?;
        Ok(self.db().list_groups(actor.scope(), page).await?)
    }

    pub async fn create_team(&self, actor: &Actor, input: CreateTeam) -> AppResult<Team> {
        actor.require(Permission::ManageTeams)?;
        let mut errors = FieldErrors::new();
        let name = errors.check("name", UnitName::parse(&input.name));
        let group_id = match input.group_id {
            Some(id) if self.db().get_group(actor.scope(), id).await?.is_some() => Some(id),
            Some(_) => errors.check("group_id", Err("This group does not exist.".to_owned())),
            None => errors.check("group_id", Err("Choose the group this team belongs to.".to_owned())),
        };
        errors.into_result()?;
        let (Some(name), Some(group_id)) = (name, group_id) else {
            return Err(AppError::Internal("validated fields missing".to_owned()));
        };
        let team = NewTeam { id: TeamId::new(), group_id, name, created_at: self.clock().now() };
        let audit = self.audit(
            actor,
            "team.create",
            "team",
            &team.id.to_string(),
            json!({ "name": team.name.as_str(), "group_id": team.group_id }),
        );
        self.db().create_team(&team, &audit).await.map_err(AppError::conflict_on("name"))
    }

    pub async fn list_teams(&self, actor: &Actor, page: PageRequest) -> AppResult<Page<Team>> {
        actor.require(Permission::ViewStaff)?;
        Ok(self.db().list_teams(actor.scope(), page).await?)
    }

    pub async fn add_team_member(&self, actor: &Actor, team_id: TeamId, user_id: UserId) -> AppResult<()> {
        actor.require(Permission::ManageTeams)?;
        if self.db().get_team(actor.scope(), team_id).await?.is_none() {
            return Err(AppError::NotFound("team"));
        }
        self.user_in_scope(actor, user_id).await?;
        self.insert_membership(actor, team_id, user_id).await
    }

    /// Takes someone out of a team (their evaluations and matches stay). Nobody takes out
    /// someone of their own rank or above, themselves included, so nobody cuts off their own
    /// scope.
    pub async fn remove_team_member(&self, actor: &Actor, team_id: TeamId, user_id: UserId) -> AppResult<()> {
        actor.require(Permission::ManageTeams)?;
        if self.db().get_team(actor.scope(), team_id).await?.is_none() {
            return Err(AppError::NotFound("team"));
        }
        let user = self.user_in_scope(actor, user_id).await?;
        if actor.user().is_some_and(|me| me.id == user_id && me.role != Role::GlobalAdmin) {
            return Err(AppError::field("user_id", "You cannot take yourself out of a team."));
        }
        Self::require_outranks(actor, &user)?;
        let audit = self.audit(
            actor,
            "team.member.remove",
            "team",
            &team_id.to_string(),
            json!({ "user_id": user_id, "email": user.email }),
        );
        if !self.db().remove_team_member(team_id, user_id, &audit).await? {
            return Err(AppError::NotFound("membership"));
        }
        Ok(())
    }

    pub async fn rename_group(&self, actor: &Actor, id: GroupId, name: &str) -> AppResult<Group> {
        actor.require(Permission::ManageGroups)?;
        let group = self.db().get_group(actor.scope(), id).await?.ok_or(AppError::NotFound("group"))?;
        let name = UnitName::parse(name).map_err(|message| AppError::field("name", message))?;
        if name.as_str() != group.name {
            let details = json!({ "name": name.as_str(), "previous_name": group.name });
            let audit = self.audit(actor, "group.rename", "group", &id.to_string(), details);
            self.db().rename_group(id, &name, &audit).await.map_err(AppError::conflict_on("name"))?;
        }
        self.db().get_group(actor.scope(), id).await?.ok_or(AppError::NotFound("group"))
    }

    pub async fn rename_team(&self, actor: &Actor, id: TeamId, name: &str) -> AppResult<Team> {
        actor.require(Permission::ManageTeams)?;
        let team = self.db().get_team(actor.scope(), id).await?.ok_or(AppError::NotFound("team"))?;
        let name = UnitName::parse(name).map_err(|message| AppError::field("name", message))?;
        if name.as_str() != team.name {
            let details = json!({ "name": name.as_str(), "previous_name": team.name });
            let audit = self.audit(actor, "team.rename", "team", &id.to_string(), details);
            self.db().rename_team(id, &name, &audit).await.map_err(AppError::conflict_on("name"))?;
        }
        self.db().get_team(actor.scope(), id).await?.ok_or(AppError::NotFound("team"))
    }

    /// The members of a team, by name.
    pub async fn list_team_members(&self, actor: &Actor, team_id: TeamId) -> AppResult<Vec<User>> {
        actor.require(Permission::ViewStaff)?;
        if self.db().get_team(actor.scope(), team_id).await?.is_none() {
            return Err(AppError::NotFound("team"));
        }
        Ok(self.db().list_team_members(team_id).await?)
    }

    /// Every membership of a team in the actor's scope, with team and group names, in one read.
    pub async fn team_memberships(&self, actor: &Actor) -> AppResult<Vec<Membership>> {
        actor.require(Permission::ViewStaff)?;
        Ok(self.db().memberships_in_scope(actor.scope()).await?)
    }

    async fn insert_membership(&self, actor: &Actor, team_id: TeamId, user_id: UserId) -> AppResult<()> {
        let audit =
            self.audit(actor, "team.member.add", "team", &team_id.to_string(), json!({ "user_id": user_id }));
        self.db().add_team_member(team_id, user_id, self.clock().now(), &audit).await.map_err(|e| match e {
            scoreline_store::StoreError::MissingReference => AppError::NotFound("team or user"),
            other => other.into(),
        })
    }
}
