//! Run-time knobs, the options for behaviour public sources leave unconfirmed, and faults.

use std::time::Duration;

use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::dates::Precision;

/// Settable at spawn, through `SimHandle`, and through `PUT /_sim/knobs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    /// Added to every answer (real time, not sim time).
    pub latency_ms: u64,
    /// Requests per second on `/v1`; `None` = unlimited.
    pub rate_limit: Option<RateLimit>,
    pub random_faults: Option<RandomFaults>,
    /// A ticket shows in list results only this long after its `updatedAt` (sim time).
    pub visibility_lag_ms: u64,
    pub precision: Precision,
    /// Customer and agent changes per minute of sim time (0 = a still account).
    pub activity_per_minute: f64,
    /// Chance in [0, 1] that a webhook delivery is lost: never sent (seeded dice).
    pub webhook_loss: f64,
    /// Extra copies sent of every webhook delivery, as a sender that retries too eagerly would.
    pub webhook_duplicates: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub per_second: f64,
    /// How many requests may come at once after a quiet period.
    pub burst: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomFaults {
    /// Chance in [0, 1] that a request gets one of `kinds`.
    pub probability: f64,
    /// Picked uniformly; empty means 500, 502, 503, a truncated body and an HTML body.
    #[serde(default)]
    pub kinds: Vec<Fault>,
}

/// What a faulty answer looks like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The status (usually 5xx) with a HelpDesk error body.
    Status { status: u16 },
    /// Waits `ms` before answering normally; `None` waits until the client gives up.
    Hang { ms: Option<u64> },
    /// A well-formed HTTP answer whose JSON body stops halfway.
    TruncatedBody,
    /// The connection drops after part of the body was sent.
    AbortedBody,
    /// An HTML error page, as a proxy in front of the API would send.
    HtmlBody { status: u16 },
    /// 429 with `Retry-After`, as if the rate limit were hit.
    RateLimited { retry_after_secs: u64 },
    /// A ticket list answers with the previous page again, so its last cursor repeats.
    RepeatPreviousPage,
    /// A ticket list answers with its items in the wrong order.
    OutOfOrderPage,
}

impl Fault {
    fn default_kinds() -> Vec<Self> {
        vec![
            Self::Status { status: 500 },
            Self::Status { status: 502 },
            Self::Status { status: 503 },
            Self::TruncatedBody,
            Self::HtmlBody { status: 200 },
        ]
    }
}

/// "The next `times` requests matching `method` and `path` get `fault`", after `skip` normal ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptedFault {
    /// `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Exact path, or a prefix when it ends in `*` (`/v1/tickets*`).
    pub path: String,
    #[serde(default)]
    pub skip: u32,
    pub times: u32,
    pub fault: Fault,
}

impl ScriptedFault {
    pub fn new(path: &str, times: u32, fault: Fault) -> Self {
        Self { method: None, path: path.to_owned(), skip: 0, times, fault }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|wanted| wanted.eq_ignore_ascii_case(method));
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.path,
        };
        method_ok && path_ok
    }
}

/// Where public sources leave a behaviour unconfirmed, each choice is an option.
/// Defaults are the best guesses; `README.md` says why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// Accept `silo=inbox` as another name for `tickets`.
    pub accept_inbox_silo: bool,
    /// Write `"silo": "inbox"` instead of `"tickets"`.
    pub emit_inbox_silo: bool,
    /// Accept legacy offset paging with `page`.
    pub legacy_page: bool,
    /// Send `X-Total-Results` next to `X-Total-Pages`.
    pub total_results_header: bool,
    /// Status for invalid parameters and bodies (400 or 422).
    pub validation_status: u16,
    /// Status for writes to `archive`, `spam` or `trash` (400 or 403).
    pub read_only_status: u16,
    /// Status of a successful `POST /v1/tickets` (200 or 201).
    pub create_status: u16,
    /// Body of DELETE and silo moves.
    pub ack_body: AckBody,
    pub retry_after: RetryAfterForm,
    pub rate_limit_body: RateLimitBody,
    /// Accept `grant_type=code` as well as `authorization_code`.
    pub accept_code_grant_type: bool,
    /// Refuse `isPrivate` on messages whose author is the client.
    pub reject_private_client_messages: bool,
    /// Refuse requests without a `User-Agent` (403).
    pub require_user_agent: bool,
    pub refresh_rotation: Rotation,
    /// DELETE of a ticket already in trash removes it for good.
    pub delete_in_trash_is_permanent: bool,
    /// Publish `priority` events (only `message`, `status` and `assignment` were observed).
    pub priority_events: bool,
    /// Enforce the documented limit of 3 authorize redirects per 30 s (`too_many_redirects`).
    pub authorize_redirect_limit: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            accept_inbox_silo: true,
            emit_inbox_silo: false,
            legacy_page: true,
            total_results_header: true,
            validation_status: 400,
            read_only_status: 400,
            create_status: 200,
            ack_body: AckBody::Text,
            retry_after: RetryAfterForm::Seconds,
            rate_limit_body: RateLimitBody::Json,
            accept_code_grant_type: true,
            reject_private_client_messages: true,
            require_user_agent: false,
            refresh_rotation: Rotation::PublicClients,
            delete_in_trash_is_permanent: true,
            priority_events: true,
            authorize_redirect_limit: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckBody {
    /// `OK` as `text/plain`.
    Text,
    /// `{}` as JSON.
    EmptyJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfterForm {
    Seconds,
    HttpDate,
    Omitted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitBody {
    /// The HelpDesk error shape `{"error", "details"}`.
    Json,
    PlainText,
    Empty,
}

/// When a refresh grant replaces the refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    Never,
    /// Clients that authenticate without a secret (PKCE) get single-use refresh tokens.
    PublicClients,
    Always,
}

/// A token bucket on real time: benchmarks measure real throughput.
#[derive(Debug)]
pub struct Limiter {
    tokens: f64,
    last: Instant,
}

impl Limiter {
    pub fn new() -> Self {
        Self { tokens: f64::MAX, last: Instant::now() }
    }

    /// `Ok` to go ahead, or how long until a request would be allowed.
    pub fn take(&mut self, limit: RateLimit) -> Result<(), Duration> {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        let burst = f64::from(limit.burst.max(1));
        self.tokens = (self.tokens + elapsed * limit.per_second).min(burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - self.tokens;
        Err(Duration::from_secs_f64(missing / limit.per_second.max(1e-6)))
    }
}

/// Scripted faults in order, plus the seeded dice for random ones.
#[derive(Debug)]
pub struct FaultPlan {
    scripted: Vec<ScriptedFault>,
    rng: StdRng,
}

impl FaultPlan {
    pub fn new(rng: StdRng) -> Self {
        Self { scripted: Vec::new(), rng }
    }

    pub fn add(&mut self, fault: ScriptedFault) {
        self.scripted.push(fault);
    }

    pub fn clear(&mut self) {
        self.scripted.clear();
    }

    pub fn pending(&self) -> Vec<ScriptedFault> {
        self.scripted.clone()
    }

    /// The fault this request gets, if any; scripted faults come before random ones.
    pub fn next(&mut self, method: &str, path: &str, random: Option<&RandomFaults>) -> Option<Fault> {
        if let Some(position) = self.scripted.iter().position(|f| f.matches(method, path)) {
            let scripted = &mut self.scripted[position];
            if scripted.skip > 0 {
                scripted.skip -= 1;
                return None;
            }
            let fault = scripted.fault.clone();
            scripted.times = scripted.times.saturating_sub(1);
            if scripted.times == 0 {
                self.scripted.remove(position);
            }
            return Some(fault);
        }
        let random = random?;
        if !self.rng.random_bool(random.probability.clamp(0.0, 1.0)) {
            return None;
        }
        let defaults;
        let kinds = if random.kinds.is_empty() {
            defaults = Fault::default_kinds();
            &defaults
        } else {
            &random.kinds
        };
        let index = self.rng.random_range(0..kinds.len());
        Some(kinds[index].clone())
    }
}
