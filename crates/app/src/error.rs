use scoreline_core::{CoreError, FieldError, Permission, Role};
use scoreline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    #[error("not signed in")]
    Unauthenticated,
    #[error("a {role} may not do this")]
    PermissionDenied { role: Role, permission: Permission },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    /// The HelpDesk account is connected already; the admin may confirm a second connection.
    #[error("{0}")]
    AlreadyConnected(String),
    #[error("the email or password is not correct")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// Every password check is taken; the request waited its turn and gave up.
    #[error("too many password checks at once; try again in {retry_after_secs} seconds")]
    Busy { retry_after_secs: u64 },
    /// HelpDesk could not be reached or refused a check; the message says what to do.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    OAuth(#[from] crate::OAuthFailure),
    /// HelpDesk failed or refused during a sync.
    #[error("HelpDesk: {0}")]
    HelpDesk(#[source] scoreline_helpdesk::HelpDeskError),
    #[error("storage failed")]
    Store(#[source] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A uniqueness conflict reported against the form field that caused it.
    pub(crate) fn conflict_on(field: &'static str) -> impl FnOnce(StoreError) -> Self {
        move |error| match error {
            StoreError::Conflict(message) => Self::field(field, message),
            other => Self::from(other),
        }
    }
}

impl From<CoreError> for AppError {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::Validation(fields) => Self::Validation(fields),
            CoreError::PermissionDenied { role, permission } => Self::PermissionDenied { role, permission },
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => Self::Conflict(message),
            other => Self::Store(other),
        }
    }
}
