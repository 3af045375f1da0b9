//! Credentials as listed and checked: API tokens (never their secret) and the verdict of the
//! sign-in throttle.

use serde::Serialize;

use crate::{ApiTokenId, Timestamp, UserId};

/// An API token as its owner and admins see it: the secret is shown once, at creation, and
/// only its digest is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    /// Recorded at most once a minute, so a busy token costs no write per request.
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether the token is past its expiry at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|expires| expires <= now)
    }
}

/// What the sign-in throttle decided about one attempt, before any password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInAdmission {
    /// The attempt is reserved: the password may be checked.
    Granted,
    /// Too many failures for this email from this address: locked for the window.
    PairLocked,
    /// Too many failures from this address, whatever the email: locked for the window.
    ClientLocked,
    /// Many failures for this email from many addresses: one attempt at a time, spaced out.
    EmailSlowed,
}
