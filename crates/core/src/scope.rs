//! What a person may see and act on (DESIGN.md §7.1). The app resolves a signed-in user's scope
//! once, when the actor is built; every store query that returns cases, staff or agents takes it
//! as a filter, so nothing out of scope is ever loaded.

use crate::{Role, TeamId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Global admins and the operator at the command line.
    Everything,
    /// Group admins (every team of their groups), team admins and supervisors (their own teams):
    /// the staff who are members of these teams, sorted and without repeats. May be empty.
    Teams(Vec<TeamId>),
    /// Employees: themselves only.
    Own(UserId),
}

impl Scope {
    /// The scope of a user with `role`, given the teams their scope reaches (for a group admin,
    /// every team of the groups they belong to; otherwise the teams they belong to).
    pub fn for_role(role: Role, user_id: UserId, mut reachable_teams: Vec<TeamId>) -> Self {
        match role {
            Role::GlobalAdmin => Self::Everything,
            Role::GroupAdmin | Role::TeamAdmin | Role::Supervisor => {
                reachable_teams.sort_unstable();
                reachable_teams.dedup();
                Self::Teams(reachable_teams)
            }
            Role::Employee => Self::Own(user_id),
        }
    }

    pub fn is_everything(&self) -> bool {
        matches!(self, Self::Everything)
    }

    /// Whether a staff member who belongs to `teams` (and is `user_id`) lies in this scope.
    pub fn covers_staff(&self, user_id: UserId, teams: &[TeamId]) -> bool {
        match self {
            Self::Everything => true,
            Self::Teams(scope) => teams.iter().any(|team| scope.binary_search(team).is_ok()),
            Self::Own(own) => *own == user_id,
        }
    }

    /// Whether `team` lies in this scope.
    pub fn covers_team(&self, team: TeamId) -> bool {
        match self {
            Self::Everything => true,
            Self::Teams(scope) => scope.binary_search(&team).is_ok(),
            Self::Own(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_scopes_cover_members_of_any_of_their_teams() {
        let (a, b, c) = (TeamId::new(), TeamId::new(), TeamId::new());
        let me = UserId::new();
        let scope = Scope::for_role(Role::TeamAdmin, me, vec![b, a, b]);
        assert_eq!(
            scope,
            Scope::Teams({
                let mut teams = vec![a, b];
                teams.sort_unstable();
                teams
            })
        );
        assert!(scope.covers_staff(UserId::new(), &[c, a]));
        assert!(!scope.covers_staff(UserId::new(), &[c]));
        assert!(!scope.covers_staff(me, &[]), "a team scope is about teams, not the person");
        assert!(scope.covers_team(b) && !scope.covers_team(c));
    }

    #[test]
    fn employees_see_themselves_and_global_admins_everything() {
        let me = UserId::new();
        let own = Scope::for_role(Role::Employee, me, vec![TeamId::new()]);
        assert!(own.covers_staff(me, &[]) && !own.covers_staff(UserId::new(), &[]));
        assert!(!own.covers_team(TeamId::new()));
        let all = Scope::for_role(Role::GlobalAdmin, me, Vec::new());
        assert!(all.is_everything() && all.covers_staff(UserId::new(), &[]));
    }
}
