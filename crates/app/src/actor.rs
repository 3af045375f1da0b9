use scoreline_core::{AuditActor, Permission, Role, User};

use crate::AppResult;

/// Who is acting: a signed-in user, or the operator at the command line.
#[derive(Debug, Clone)]
pub enum Actor {
    User(User),
    /// The `scoreline` command run by whoever operates the server; may do anything.
    System,
}

impl Actor {
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        match self {
            Actor::User(user) => Ok(user.role.require(permission)?),
            Actor::System => Ok(()),
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.require(permission).is_ok()
    }

    /// The most powerful role this actor may hand out: nobody grants more than they hold.
    pub fn may_grant(&self, role: Role) -> bool {
        match self {
            Actor::User(user) => rank(user.role) <= rank(role),
            Actor::System => true,
        }
    }

    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::User(user) => Some(user),
            Actor::System => None,
        }
    }

    pub(crate) fn audit_actor(&self) -> AuditActor {
        match self {
            Actor::User(user) => AuditActor { user_id: Some(user.id), label: user.email.clone() },
            Actor::System => AuditActor::system(),
        }
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
