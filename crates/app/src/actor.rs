use scoreline_core::{AuditActor, Permission, Role, Scope, User};

use crate::{App, AppResult};

/// Who is acting: a signed-in user with the scope their role reaches, or the operator at the
/// command line.
#[derive(Debug, Clone)]
pub enum Actor {
    User {
        user: User,
        scope: Scope,
    },
    /// The `scoreline` command run by whoever operates the server; may do anything.
    System,
}

impl Actor {
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        match self {
            Actor::User { user, .. } => Ok(user.role.require(permission)?),
            Actor::System => Ok(()),
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.require(permission).is_ok()
    }

    /// Whether this actor may give someone `role`, or manage someone who holds it: global admins
    /// any role, everyone else only roles below their own.
    pub fn may_grant(&self, role: Role) -> bool {
        match self {
            Actor::User { user, .. } => user.role == Role::GlobalAdmin || rank(user.role) < rank(role),
            Actor::System => true,
        }
    }

    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::User { user, .. } => Some(user),
            Actor::System => None,
        }
    }

    /// What this actor may see and act on.
    pub fn scope(&self) -> &Scope {
        match self {
            Actor::User { scope, .. } => scope,
            Actor::System => &Scope::Everything,
        }
    }

    pub(crate) fn audit_actor(&self) -> AuditActor {
        match self {
            Actor::User { user, .. } => AuditActor { user_id: Some(user.id), label: user.email.clone() },
            Actor::System => AuditActor::system(),
        }
    }
}

impl App {
    /// The actor for `user`, with the teams their role reaches: for a group admin every team of
    /// the groups they belong to, for team admins and supervisors their own teams.
    pub async fn actor_for(&self, user: User) -> AppResult<Actor> {
        let teams = match user.role {
            Role::GlobalAdmin | Role::Employee => Vec::new(),
            Role::GroupAdmin => self.db().teams_of_groups_of(user.id).await?,
            Role::TeamAdmin | Role::Supervisor => self.db().teams_of(user.id).await?,
        };
        let scope = Scope::for_role(user.role, user.id, teams);
        Ok(Actor::User { user, scope })
    }
}

const fn rank(role: Role) -> u8 {
    match role {
        Role::GlobalAdmin => 0,
        Role::GroupAdmin => 1,
        Role::TeamAdmin => 2,
        Role::Supervisor => 3,
        Role::Employee => 4,
    }
}
