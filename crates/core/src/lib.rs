//! Scoreline's domain: typed ids, validated inputs, roles and the permission matrix, the Clock.
//! No I/O lives here.

mod clock;
mod ids;
mod integration;
mod role;
mod scope;
mod timestamp;
mod validate;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use ids::*;
pub use integration::{
    AccountId, AuthMethod, BackfillDays, IntegrationState, Retention, RetentionUnit,
    check_retention_covers_backfill,
};
pub use role::{Permission, Role, UnknownRole};
pub use scope::Scope;
pub use timestamp::Timestamp;
pub use validate::{Description, Email, FieldError, FieldErrors, Label, NewPassword, PersonName, UnitName};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    #[error("a {role} may not do this ({permission:?})")]
    PermissionDenied { role: Role, permission: Permission },
}

impl Role {
    /// The proof that `self` holds `permission`, or the error that says why not.
    pub fn require(self, permission: Permission) -> Result<(), CoreError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(CoreError::PermissionDenied { role: self, permission })
        }
    }
}
