//! Client for the HelpDesk REST API v1 and the LiveChat/Text accounts OAuth service.
//!
//! - [`HelpDeskClient`]: typed reads of tickets (as a stream of cursor pages), agents, teams,
//!   tags and licenses; every attempt passes the account's rate limiter; transient failures are
//!   retried with full-jitter backoff and `Retry-After`, within a cap on total waiting.
//! - [`OAuthClient`]: authorize URL with PKCE, code exchange, refresh, revoke, token info.
//! - [`HelpDeskError`]: every failure, classified by [`HelpDeskError::kind`].

mod auth;
mod client;
mod error;
mod http;
mod limiter;
mod model;
mod oauth;
mod retry;
mod tickets;

pub use auth::{Credentials, StaticToken, TokenSource};
pub use client::{DEFAULT_API_BASE_URL, HelpDeskClient, HelpDeskConfig};
pub use error::{ErrorKind, GiveUpReason, HelpDeskError, Transient};
pub use http::USER_AGENT;
pub use limiter::{Hold, Pacer, PacerStatus, RateLimit};
pub use model::{
    Agent, AgentStatus, Assignment, AuthorType, Change, EventAuthor, EventCounts, EventMessage, EventType,
    License, NamedRef, Person, Priority, Silo, Tag, Team, Ticket, TicketEvent, TicketEvents, TicketStatus,
    Webhook, WebhookHint,
};
pub use oauth::{DEFAULT_ACCOUNTS_URL, OAuthClient, Pkce, TokenInfo, TokenSet};
pub use retry::RetryPolicy;
pub use secrecy::{ExposeSecret, SecretString};
pub use tickets::{
    DateBound, MAX_PAGE_SIZE, Order, RelativeDate, SortBy, TicketCursor, TicketPage, TicketQuery,
};
