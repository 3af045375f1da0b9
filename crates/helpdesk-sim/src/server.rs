//! Shared state, the request pipeline (latency, rate limit, faults, log) and the listeners.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use uuid::Uuid;

use crate::accounts::{Accounts, AuthKind, TokenPair};
use crate::activity::Activity;
use crate::clock::SimClock;
use crate::dates::{Iso, Precision, http_date};
use crate::knobs::{Fault, FaultPlan, Knobs, Limiter, Options, RateLimitBody, RetryAfterForm, ScriptedFault};
use crate::model::{Silo, Store, TicketTruth};
use crate::wire::WireFormat;
use crate::{SimError, ops, webhooks};

/// The request log keeps the latest requests only, so long benchmarks do not grow it forever.
pub const REQUEST_LOG_CAP: usize = 100_000;

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// `api` or `accounts`.
    pub service: String,
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub auth: AuthKind,
    pub status: u16,
    /// Sim time, epoch milliseconds.
    pub at_millis: i64,
    /// Real time since the simulator started, in microseconds: when the request came in (and
    /// met the rate limit, before the configured latency) and when its answer left.
    #[serde(default)]
    pub received_micros: u64,
    #[serde(default)]
    pub answered_micros: u64,
    /// The `Retry-After` of a 429 or 503, in milliseconds.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

impl RequestRecord {
    /// Whether this request came in while `refusal`'s `Retry-After` held: after its answer
    /// left and before the wait it named was over.
    pub fn came_during_retry_after_of(&self, refusal: &Self) -> bool {
        refusal.retry_after_ms.is_some_and(|wait| {
            let end = refusal.answered_micros + wait * 1000;
            self.received_micros > refusal.answered_micros && self.received_micros < end
        })
    }
}

/// Tells the ticket list handler to misbehave on this one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListQuirk {
    RepeatPreviousPage,
    OutOfOrderPage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Api,
    Accounts,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Accounts => "accounts",
        }
    }
}

pub struct Sim {
    pub clock: SimClock,
    pub api_url: String,
    pub accounts_url: String,
    store: RwLock<Store>,
    knobs: RwLock<Knobs>,
    options: RwLock<Options>,
    accounts: Mutex<Accounts>,
    faults: Mutex<FaultPlan>,
    limiter: Mutex<Limiter>,
    log: Mutex<VecDeque<RequestRecord>>,
    activity: Mutex<Activity>,
    /// The last ticket page served, for the repeat-page fault.
    last_page: Mutex<Option<LastPage>>,
    /// Total counts of list queries, valid for one store version.
    pub counts: Mutex<HashMap<String, (u64, usize)>>,
    shutdown: watch::Receiver<bool>,
    /// Sends webhook deliveries.
    http: reqwest::Client,
    pub deliveries: webhooks::DeliveryLog,
    /// The dice of the `webhook_loss` knob.
    webhook_dice: Mutex<StdRng>,
    /// Real time zero of the request log.
    started: tokio::time::Instant,
    /// Requests received and not yet logged (answered or dropped).
    in_flight: AtomicUsize,
}

/// The headers (`X-Total-Pages`, `X-Total-Results`) and body of a ticket page.
pub type LastPage = (HeaderValue, HeaderValue, Bytes);

pub fn lock_page(sim: &Sim) -> MutexGuard<'_, Option<LastPage>> {
    lock(&sim.last_page)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct SimParts {
    pub clock: SimClock,
    pub api_url: String,
    pub accounts_url: String,
    pub store: Store,
    pub knobs: Knobs,
    pub options: Options,
    pub accounts: Accounts,
    pub faults: FaultPlan,
    pub activity: Activity,
    pub shutdown: watch::Receiver<bool>,
    pub http: reqwest::Client,
    pub webhook_dice: StdRng,
}

impl Sim {
    pub fn new(parts: SimParts) -> Self {
        Self {
            clock: parts.clock,
            api_url: parts.api_url,
            accounts_url: parts.accounts_url,
            store: RwLock::new(parts.store),
            knobs: RwLock::new(parts.knobs),
            options: RwLock::new(parts.options),
            accounts: Mutex::new(parts.accounts),
            faults: Mutex::new(parts.faults),
            limiter: Mutex::new(Limiter::new()),
            log: Mutex::new(VecDeque::new()),
            activity: Mutex::new(parts.activity),
            last_page: Mutex::new(None),
            counts: Mutex::new(HashMap::new()),
            shutdown: parts.shutdown,
            http: parts.http,
            deliveries: webhooks::DeliveryLog::default(),
            webhook_dice: Mutex::new(parts.webhook_dice),
            started: tokio::time::Instant::now(),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Real time since the sim started, the clock of `received_micros` and `answered_micros`.
    pub fn real_micros(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Sim time, cut to the configured precision.
    pub fn now(&self) -> i64 {
        self.knobs().precision.truncate(self.clock.now_millis())
    }

    /// Reads the store, first making the simulated activity that is due and purging trash and
    /// spam that outlived their keep period.
    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        let now = self.clock.now_millis();
        let knobs = self.knobs();
        let mut activity = lock(&self.activity);
        let due = activity.due(now, knobs.activity_per_minute);
        let guard = self.store.read().unwrap_or_else(PoisonError::into_inner);
        if due.is_none() && !guard.purge_due(now) {
            return guard;
        }
        drop(guard);
        let mut store = self.store_mut();
        if let Some(due) = due {
            activity.apply(&mut store, due, knobs.precision, &self.options());
        }
        drop(activity);
        store.purge(now);
        let announcements = store.take_announcements();
        drop(store);
        self.announce(&announcements);
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn knobs(&self) -> Knobs {
        self.knobs.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn set_knobs(&self, knobs: Knobs) {
        let seconds = knobs.precision == Precision::Seconds;
        let was_seconds = self.knobs().precision == Precision::Seconds;
        *self.knobs.write().unwrap_or_else(PoisonError::into_inner) = knobs;
        if seconds && !was_seconds {
            self.store_mut().truncate_to_seconds();
        }
    }

    pub fn options(&self) -> Options {
        self.options.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn set_options(&self, options: Options) {
        *self.options.write().unwrap_or_else(PoisonError::into_inner) = options;
    }

    pub fn accounts(&self) -> MutexGuard<'_, Accounts> {
        lock(&self.accounts)
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultPlan> {
        lock(&self.faults)
    }

    pub fn wire_format(&self) -> WireFormat {
        let options = self.options();
        WireFormat {
            precision: self.knobs().precision,
            inbox_silo_name: options.emit_inbox_silo,
            priority_events: options.priority_events,
        }
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.log).iter().cloned().collect()
    }

    pub fn requests_in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub fn clear_requests(&self) {
        lock(&self.log).clear();
    }

    pub fn truth(&self) -> Vec<TicketTruth> {
        let format = self.wire_format();
        self.store().truth(|event| format.shows(event))
    }

    pub fn issue_tokens(&self) -> TokenPair {
        let now = self.now();
        self.accounts().issue_tokens(now)
    }

    /// Runs a ticket write, then tells the webhooks about it.
    fn write<R>(&self, change: impl FnOnce(&mut Store, i64, &Options) -> R) -> R {
        let (now, options) = (self.now(), self.options());
        let mut store = self.store_mut();
        let result = change(&mut store, now, &options);
        let announcements = store.take_announcements();
        drop(store);
        self.announce(&announcements);
        result
    }

    fn announce(&self, announcements: &[(Uuid, crate::model::Announcement)]) {
        if announcements.is_empty() {
            return;
        }
        let (format, now, knobs) = (self.wire_format(), self.now(), self.knobs());
        let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
        let deliveries = webhooks::deliveries(&store, announcements, format, now);
        drop(store);
        let mut dice = lock(&self.webhook_dice);
        let lose = || knobs.webhook_loss > 0.0 && dice.random_bool(knobs.webhook_loss.clamp(0.0, 1.0));
        webhooks::send(&self.http, &self.deliveries, deliveries, lose, 1 + knobs.webhook_duplicates);
    }

    pub fn create_ticket(&self, body: &[u8]) -> Result<Uuid, SimError> {
        let input = ops::parse_input(body)?;
        self.write(|store, now, options| ops::create_ticket(store, &input, now, options))
    }

    pub fn update_ticket(&self, id: &Uuid, body: &[u8]) -> Result<(), SimError> {
        let input = ops::parse_input(body)?;
        self.write(|store, now, options| ops::update_ticket(store, id, &input, now, options))
    }

    pub fn delete_ticket(&self, id: &Uuid) -> Result<(), SimError> {
        self.write(|store, now, options| ops::delete_ticket(store, id, now, options))
    }

    pub fn move_ticket(&self, id: &Uuid, silo: Silo) -> Result<(), SimError> {
        self.write(|store, now, _| ops::move_ticket(store, id, silo, now))
    }

    pub fn add_agent(&self, name: &str, email: &str) -> Uuid {
        let now = self.now();
        ops::add_agent(&mut self.store_mut(), name, email, now)
    }

    pub fn script_fault(&self, fault: ScriptedFault) {
        self.faults().add(fault);
    }

    /// Resolves when the simulator shuts down (hung requests end then).
    async fn shutting_down(&self) {
        let mut shutdown = self.shutdown.clone();
        let _ = shutdown.wait_for(|stop| *stop).await;
    }
}

/// HelpDesk's error body: `{"error": "<message>", "details": "<text>"}`.
pub fn api_error(status: StatusCode, error: &str, details: &str) -> Response {
    let body = serde_json::json!({ "error": error, "details": details });
    (status, axum::Json(body)).into_response()
}

fn status_or(code: u16, fallback: StatusCode) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(fallback)
}

pub fn router(sim: Arc<Sim>) -> Router {
    crate::api::router()
        .merge(crate::agent_app::router())
        .merge(crate::admin::router())
        .layer(middleware::from_fn_with_state((sim.clone(), Service::Api), pipeline))
        .with_state(sim)
}

pub fn accounts_router(sim: Arc<Sim>) -> Router {
    crate::accounts::router()
        .layer(middleware::from_fn_with_state((sim.clone(), Service::Accounts), pipeline))
        .with_state(sim)
}

fn auth_kind(request: &Request) -> AuthKind {
    let header = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    match header.and_then(|value| value.split_once(' ')).map(|(scheme, _)| scheme) {
        None if header.is_none() => AuthKind::None,
        Some(scheme) if scheme.eq_ignore_ascii_case("basic") => AuthKind::Basic,
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer") => AuthKind::Bearer,
        _ => AuthKind::Other,
    }
}

/// Every request but `/_sim` passes here: the rate limit on arrival, as a real server limits,
/// then the latency (its work and the way back), then faults; the outcome goes to the request
/// log.
async fn pipeline(
    State((sim, service)): State<(Arc<Sim>, Service)>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/_sim") {
        return next.run(request).await;
    }
    let _in_flight = InFlight::enter(&sim.in_flight);
    let record = RequestRecord {
        service: service.name().to_owned(),
        method: request.method().to_string(),
        uri: request.uri().path_and_query().map_or(path.clone(), ToString::to_string),
        auth: auth_kind(&request),
        status: 0,
        at_millis: sim.clock.now_millis(),
        received_micros: sim.real_micros(),
        answered_micros: 0,
        retry_after_ms: None,
    };
    let knobs = sim.knobs();
    let api = service == Service::Api && path.starts_with("/v1");
    let refused = if api { refuse_on_arrival(&sim, &knobs, &request) } else { None };
    if knobs.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(knobs.latency_ms)).await;
    }
    let response = match refused {
        Some(refusal) => Err(refusal),
        None if api => guard_api(&sim, &knobs, &record.method, &path, &mut request).await,
        None => {
            let fault = sim.faults().next(&record.method, &path, knobs.random_faults.as_ref());
            apply_fault(&sim, fault, &mut request).await
        }
    };
    let response = match response {
        Ok(mangle) => {
            let response = next.run(request).await;
            mangle_body(mangle, response).await
        }
        Err(response) => response,
    };
    let mut response = response;
    // HelpDesk's own clock, which the client takes window ends from; hyper would send ours.
    if let Ok(date) = HeaderValue::from_str(&http_date(sim.clock.now_millis())) {
        response.headers_mut().insert(header::DATE, date);
    }
    let status = response.status().as_u16();
    let retry_after_ms = response
        .extensions()
        .get::<RetryAfterHold>()
        .map(|hold| u64::try_from(hold.0.as_millis()).unwrap_or(u64::MAX));
    let answered_micros = sim.real_micros();
    let mut log = lock(&sim.log);
    if log.len() == REQUEST_LOG_CAP {
        log.pop_front();
    }
    log.push_back(RequestRecord { status, answered_micros, retry_after_ms, ..record });
    drop(log);
    response
}

/// Counts a request as in flight until its handler ends, answered or dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The hold a 429 named, whatever form its `Retry-After` took (or none).
#[derive(Debug, Clone, Copy)]
struct RetryAfterHold(Duration);

/// What to do to a handler's answer on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mangle {
    None,
    Truncate,
    Abort,
}

/// What an API request meets the moment it arrives: the intermediary that blocks anonymous
/// clients, then the rate limit. Returns the refusal, if it is refused.
fn refuse_on_arrival(sim: &Sim, knobs: &Knobs, request: &Request) -> Option<Response> {
    let options = sim.options();
    if options.require_user_agent && !request.headers().contains_key(header::USER_AGENT) {
        // An intermediary blocks anonymous clients with an HTML page, not the API's JSON.
        let page = Html("<html><body><h1>403 Forbidden</h1></body></html>");
        return Some((StatusCode::FORBIDDEN, page).into_response());
    }
    let limit = knobs.rate_limit?;
    let wait = lock(&sim.limiter).take(limit).err()?;
    Some(too_many_requests(sim, &options, wait))
}

/// What an admitted API request meets after the latency: faults, then authentication.
async fn guard_api(
    sim: &Sim,
    knobs: &Knobs,
    method: &str,
    path: &str,
    request: &mut Request,
) -> Result<Mangle, Response> {
    let fault = sim.faults().next(method, path, knobs.random_faults.as_ref());
    let mangle = apply_fault(sim, fault, request).await?;
    let header = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let (_, valid) = sim.accounts().authenticate(header, sim.clock.now_millis());
    if !valid {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "missing, invalid, expired or revoked credentials",
        ));
    }
    Ok(mangle)
}

pub fn too_many_requests(sim: &Sim, options: &Options, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = match options.rate_limit_body {
        RateLimitBody::Json => {
            api_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", "rate limit exceeded")
        }
        RateLimitBody::PlainText => (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response(),
        RateLimitBody::Empty => StatusCode::TOO_MANY_REQUESTS.into_response(),
    };
    let value = match options.retry_after {
        RetryAfterForm::Seconds => Some(seconds.to_string()),
        RetryAfterForm::HttpDate => {
            let at = sim.clock.now_millis() + i64::try_from(seconds * 1000).unwrap_or(0);
            Some(http_date(at))
        }
        RetryAfterForm::Omitted => None,
    };
    if let Some(value) = value.and_then(|value| HeaderValue::from_str(&value).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
        response.extensions_mut().insert(RetryAfterHold(Duration::from_secs(seconds)));
    }
    response
}

async fn apply_fault(sim: &Sim, fault: Option<Fault>, request: &mut Request) -> Result<Mangle, Response> {
    let Some(fault) = fault else {
        return Ok(Mangle::None);
    };
    match fault {
        Fault::Status { status } => {
            let status = status_or(status, StatusCode::INTERNAL_SERVER_ERROR);
            let reason = status.canonical_reason().unwrap_or("Error");
            Err(api_error(status, reason, "injected fault"))
        }
        Fault::Hang { ms: Some(ms) } => {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(ms)) => Ok(Mangle::None),
                () = sim.shutting_down() => Err(StatusCode::SERVICE_UNAVAILABLE.into_response()),
            }
        }
        Fault::Hang { ms: None } => {
            sim.shutting_down().await;
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
        Fault::HtmlBody { status } => Err((
            status_or(status, StatusCode::BAD_GATEWAY),
            Html("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"),
        )
            .into_response()),
        Fault::RateLimited { retry_after_secs } => Err(too_many_requests(
            sim,
            &sim.options(),
            Duration::from_secs(retry_after_secs),
        )),
        Fault::TruncatedBody => Ok(Mangle::Truncate),
        Fault::AbortedBody => Ok(Mangle::Abort),
        Fault::RepeatPreviousPage => {
            request.extensions_mut().insert(ListQuirk::RepeatPreviousPage);
            Ok(Mangle::None)
        }
        Fault::OutOfOrderPage => {
            request.extensions_mut().insert(ListQuirk::OutOfOrderPage);
            Ok(Mangle::None)
        }
    }
}

async fn mangle_body(mangle: Mangle, response: Response) -> Response {
    if mangle == Mangle::None {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = match mangle {
        Mangle::Abort => {
            use futures::StreamExt;
            // The pause lets the head and first half reach the client before the drop.
            let abort = async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::other("connection aborted by fault"))
            };
            let first = futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]);
            Body::from_stream(first.chain(futures::stream::once(abort)))
        }
        Mangle::Truncate | Mangle::None => Body::from(half),
    };
    Response::from_parts(parts, body)
}

/// `Iso` for the admin API's human-readable times.
pub fn iso(millis: i64) -> String {
    Iso(millis, Precision::Millis).to_string()
}
