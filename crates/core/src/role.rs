//! Roles and the one permission matrix that the app enforces and the UI consults.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GlobalAdmin,
    GroupAdmin,
    TeamAdmin,
    Supervisor,
    Employee,
}

impl Role {
    pub const ALL: [Role; 5] =
        [Role::GlobalAdmin, Role::GroupAdmin, Role::TeamAdmin, Role::Supervisor, Role::Employee];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "global_admin",
            Role::GroupAdmin => "group_admin",
            Role::TeamAdmin => "team_admin",
            Role::Supervisor => "supervisor",
            Role::Employee => "employee",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "Global admin",
            Role::GroupAdmin => "Group admin",
            Role::TeamAdmin => "Team admin",
            Role::Supervisor => "Supervisor",
            Role::Employee => "Employee",
        }
    }

    /// `Global admins`, for filters and headings.
    pub const fn plural_label(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "Global admins",
            Role::GroupAdmin => "Group admins",
            Role::TeamAdmin => "Team admins",
            Role::Supervisor => "Supervisors",
            Role::Employee => "Employees",
        }
    }

    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ManageIntegrations | ViewAuditLog | ManageGroups => matches!(self, GlobalAdmin),
            ManageMatches | ManageTeams | ManageScorecards => matches!(self, GlobalAdmin | GroupAdmin),
            ManageStaff | ManageLists => matches!(self, GlobalAdmin | GroupAdmin | TeamAdmin),
            ViewStaff | Evaluate => !matches!(self, Employee),
            // Scope narrows what each role reads: an employee's own cases only.
            ViewCases | ViewOwnEvaluations => true,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected one of global_admin, group_admin, team_admin, supervisor, employee")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text.trim())
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

/// What an actor may do. Checked in `app` before every use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Connect, edit and disconnect HelpDesk integrations.
    ManageIntegrations,
    /// Read the audit log.
    ViewAuditLog,
    /// Create and rename groups.
    ManageGroups,
    /// Create teams and change their members.
    ManageTeams,
    /// Match HelpDesk agents to staff.
    ManageMatches,
    /// Create, edit and deactivate staff.
    ManageStaff,
    /// Build and run lists of cases.
    ManageLists,
    /// Build, publish and archive scorecards.
    ManageScorecards,
    /// See the staff directory.
    ViewStaff,
    /// Read stored cases (those in the actor's scope).
    ViewCases,
    /// Score cases.
    Evaluate,
    /// See one's own evaluations.
    ViewOwnEvaluations,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::ManageIntegrations,
        Permission::ViewAuditLog,
        Permission::ManageGroups,
        Permission::ManageTeams,
        Permission::ManageMatches,
        Permission::ManageStaff,
        Permission::ManageLists,
        Permission::ManageScorecards,
        Permission::ViewStaff,
        Permission::ViewCases,
        Permission::Evaluate,
        Permission::ViewOwnEvaluations,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole matrix, written out so any change to it is a visible diff here.
    #[test]
    fn permission_matrix_is_exactly_as_documented() {
        use Permission::*;
        #[rustfmt::skip]
        let expected: [(Permission, [bool; 5]); 12] = [
            //                    global group  team   super  employee
            (ManageIntegrations, [true,  false, false, false, false]),
            (ViewAuditLog,       [true,  false, false, false, false]),
            (ManageGroups,       [true,  false, false, false, false]),
            (ManageTeams,        [true,  true,  false, false, false]),
            (ManageMatches,      [true,  true,  false, false, false]),
            (ManageStaff,        [true,  true,  true,  false, false]),
            (ManageLists,        [true,  true,  true,  false, false]),
            (ManageScorecards,   [true,  true,  false, false, false]),
            (ViewStaff,          [true,  true,  true,  true,  false]),
            (ViewCases,          [true,  true,  true,  true,  true ]),
            (Evaluate,           [true,  true,  true,  true,  false]),
            (ViewOwnEvaluations, [true,  true,  true,  true,  true ]),
        ];
        assert_eq!(expected.len(), Permission::ALL.len());
        for (permission, allowed) in expected {
            for (role, allowed) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(role.can(permission), allowed, "{role} / {permission:?}");
            }
        }
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
