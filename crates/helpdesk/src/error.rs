//! The one error type of this crate, and how each failure is classified.

use std::time::Duration;

/// Longest server text quoted in an error message: enough to diagnose, too short to leak a body.
const EXCERPT_CHARS: usize = 160;

/// Every failure of the HelpDesk and accounts clients.
///
/// Use [`HelpDeskError::kind`] to decide what to do; the variants carry the detail for a message.
#[derive(Debug, thiserror::Error)]
pub enum HelpDeskError {
    /// A failure that may pass if the same request is sent again later (from [`crate::OAuthClient`];
    /// the API client retries these and reports [`HelpDeskError::GaveUp`]).
    #[error("temporary failure: {0}")]
    Retryable(Transient),
    /// The credentials were refused (HTTP 401/403), also after one refresh of an OAuth token.
    #[error("HelpDesk rejected the credentials (HTTP {status}){}", suffix(detail))]
    Authentication { status: u16, detail: Option<String> },
    /// The accounts service says the refresh token or authorization code is expired or revoked:
    /// only a new authorization by a person can help.
    #[error("the authorization is no longer valid (invalid_grant){}", suffix(description))]
    InvalidGrant { description: Option<String> },
    /// Any other OAuth error answer from the accounts service.
    #[error("the accounts service refused the request (HTTP {status}, {code}){}", suffix(description))]
    OAuth { status: u16, code: String, description: Option<String> },
    /// The server refused the request for good (a 4xx other than 401/403/429, or 501).
    #[error("HelpDesk refused the request (HTTP {status}){}", suffix(detail))]
    Permanent { status: u16, detail: Option<String> },
    /// A request that this side built wrong (bad option, bad URL); it was never sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A well-formed answer that cannot be used (e.g. a ticket without the field a cursor needs).
    #[error("unexpected answer from HelpDesk: {0}")]
    UnexpectedResponse(String),
    /// Retries ran out: the attempt budget or the cap on total waiting was reached.
    #[error("gave up after {attempts} attempt(s) and {:.1}s: {reason}; last failure: {last}", waited.as_secs_f64())]
    GaveUp { attempts: u32, waited: Duration, reason: GiveUpReason, last: Transient },
    /// Ticket paging stopped advancing; following it would loop forever.
    #[error("the ticket cursor repeated ({cursor}); paging stopped to avoid a loop")]
    RepeatedCursor { cursor: String },
    /// The application's [`crate::TokenSource`] could not produce a token.
    #[error("no access token available: {0}")]
    TokenUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth trying again. The API client retries these itself and reports [`ErrorKind::GaveUp`]
    /// when it stops; the OAuth client, which never retries, returns them as they are.
    Retryable,
    /// The integration needs new credentials or a new authorization.
    Authentication,
    /// The same request will keep failing.
    Permanent,
    /// Retries are exhausted; the cause was transient, so a later sync may succeed.
    GaveUp,
    /// The server's paging is broken for this query.
    RepeatedCursor,
}

impl HelpDeskError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Retryable(_) => ErrorKind::Retryable,
            Self::Authentication { .. } | Self::InvalidGrant { .. } => ErrorKind::Authentication,
            Self::OAuth { .. }
            | Self::Permanent { .. }
            | Self::InvalidRequest(_)
            | Self::UnexpectedResponse(_)
            | Self::TokenUnavailable(_) => ErrorKind::Permanent,
            Self::GaveUp { .. } => ErrorKind::GaveUp,
            Self::RepeatedCursor { .. } => ErrorKind::RepeatedCursor,
        }
    }

    /// True when the integration must be re-authorized by a person (HelpDesk refused the
    /// credentials, or the accounts service answered `invalid_grant`).
    pub fn needs_reauthorization(&self) -> bool {
        self.kind() == ErrorKind::Authentication
    }

    /// True for a 404 answer, e.g. a ticket that no longer exists.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Permanent { status: 404, .. })
    }
}

/// Why the retry loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GiveUpReason {
    #[error("attempt budget exhausted")]
    AttemptsExhausted,
    #[error("the next wait of {:.1}s would pass the cap on total waiting", .next_wait.as_secs_f64())]
    WaitCapReached { next_wait: Duration },
}

/// A failure that is worth retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Transient {
    /// 429, or a 5xx other than 501. `retry_after` is the server's advice, already resolved to a
    /// delay.
    #[error("HTTP {status}{}", suffix(detail))]
    Status { status: u16, retry_after: Option<Duration>, detail: Option<String> },
    #[error("no complete answer within {:.1}s", .0.as_secs_f64())]
    Timeout(Duration),
    /// Connect failure, reset, or a body cut short.
    #[error("connection failed: {0}")]
    Connection(String),
    /// A success status whose body is not the expected JSON (truncated, an HTML error page...).
    #[error("the answer was not the expected JSON: {0}")]
    InvalidBody(String),
}

impl Transient {
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A 429: the server's word that requests come too fast.
    pub(crate) fn is_rate_limited(&self) -> bool {
        matches!(self, Self::Status { status: 429, .. })
    }

    /// A 429 throttles the whole account, so its wait is imposed on every request to it.
    pub(crate) fn throttles_account(&self) -> bool {
        self.is_rate_limited() || self.retry_after().is_some()
    }
}

fn suffix(detail: &Option<String>) -> String {
    detail.as_deref().map(|text| format!(": {text}")).unwrap_or_default()
}

/// A short, single-line quote of untrusted server text with every known secret blanked out.
/// Returns `None` for an empty body.
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let mut text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        text = text.replace(secret, "[REDACTED]");
    }
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut quoted: String = text.chars().take(EXCERPT_CHARS).collect();
    if quoted.len() < text.len() {
        quoted.push('…');
    }
    Some(quoted)
}

/// The error text of an HTTP error answer: the `error`/`details` of a JSON body when present,
/// otherwise a capped excerpt of the raw body.
pub(crate) fn error_detail(body: &[u8], secrets: &[&str]) -> Option<String> {
    let message = serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|json| {
        let field = |name: &str| match json.get(name)? {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        };
        let parts: Vec<String> =
            ["error", "error_description", "details"].into_iter().filter_map(field).collect();
        (!parts.is_empty()).then(|| parts.join(" - "))
    });
    match message {
        Some(message) => excerpt(message.as_bytes(), secrets),
        None => excerpt(body, secrets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_capped_single_line_and_redacted() {
        let body = format!("line one\nsecret-token {}", "x".repeat(500));
        let quoted = excerpt(body.as_bytes(), &["secret-token"]).unwrap();
        assert!(!quoted.contains('\n'));
        assert!(!quoted.contains("secret-token"));
        assert!(quoted.contains("[REDACTED]"));
        assert!(quoted.chars().count() <= EXCERPT_CHARS + 1);
    }

    #[test]
    fn json_error_bodies_give_their_message() {
        let body = br#"{"error":"Bad request","details":{"pageSize":"too big"}}"#;
        assert_eq!(error_detail(body, &[]).unwrap(), r#"Bad request - {"pageSize":"too big"}"#);
        assert_eq!(error_detail(b"", &[]), None);
    }
}
