//! The HelpDesk REST API v1 client: authentication, pacing and retries around every request.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use scoreline_core::{SharedClock, Timestamp};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::auth::Presented;
use crate::error::error_detail;
use crate::http::{build_client, exchange};
use crate::limiter::{Pacer, RateLimit};
use crate::retry::{RetryPolicy, parse_http_date, parse_retry_after};
use crate::{
    Agent, Credentials, GiveUpReason, HelpDeskError, License, Tag, Team, Ticket, Transient, Webhook,
};

pub const DEFAULT_API_BASE_URL: &str = "https://api.helpdesk.com";

/// Settings of one [`HelpDeskClient`].
#[derive(Debug, Clone)]
pub struct HelpDeskConfig {
    /// The server; paths `/v1/...` are appended to it.
    pub api_base_url: Url,
    pub rate_limit: RateLimit,
    pub retry: RetryPolicy,
    /// Limit for one attempt, from sending to the last byte of the body.
    pub attempt_timeout: Duration,
    pub connect_timeout: Duration,
}

impl HelpDeskConfig {
    pub fn new(api_base_url: &str) -> Result<Self, HelpDeskError> {
        Ok(Self {
            api_base_url: parse_base_url(api_base_url)?,
            rate_limit: RateLimit::default(),
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        })
    }
}

pub(crate) fn parse_base_url(text: &str) -> Result<Url, HelpDeskError> {
    let url = Url::parse(text)
        .map_err(|error| HelpDeskError::InvalidRequest(format!("base URL {text:?}: {error}")))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(HelpDeskError::InvalidRequest(format!("base URL {text:?} is not an http(s) URL")));
    }
    Ok(url)
}

/// A client for one HelpDesk account. Cheap to clone; clones share the account's [`Pacer`], so
/// make one per account and pass it around (or hand every client of the account one pacer).
#[derive(Debug, Clone)]
pub struct HelpDeskClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: HelpDeskConfig,
    credentials: Credentials,
    clock: SharedClock,
    pacer: Pacer,
    /// The newest `Date` HelpDesk sent and our clock's time when it was read: HelpDesk's clock,
    /// as best known.
    server_date: std::sync::Mutex<Option<(Timestamp, Timestamp)>>,
}

/// What one attempt sends.
struct Request<'a> {
    method: Method,
    url: &'a Url,
    body: Option<&'a serde_json::Value>,
}

/// Bodies longer than this are decoded with the worker's other tasks handed to another thread.
const LARGE_BODY: usize = 64 * 1024;

/// Decodes `body`. A page of tickets takes milliseconds to read; on a worker that would hold up
/// the sockets and timers queued behind it, so a request the pacer released on time would reach
/// HelpDesk late and the next one too soon after it, which a strict rate limit refuses.
fn decode_aside<T>(body: &[u8], decode: &impl Fn(&[u8]) -> Result<T, String>) -> Result<T, String> {
    let on_many_threads = tokio::runtime::Handle::try_current()
        .is_ok_and(|runtime| runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if on_many_threads && body.len() > LARGE_BODY {
        tokio::task::block_in_place(|| decode(body))
    } else {
        decode(body)
    }
}

/// A decoded answer with its headers (paging reads the totals from them).
pub(crate) struct Answer<T> {
    pub body: T,
    pub headers: HeaderMap,
}

impl HelpDeskClient {
    /// `clock` resolves `Retry-After` dates; waiting itself runs on tokio time.
    pub fn new(
        config: HelpDeskConfig,
        credentials: Credentials,
        clock: SharedClock,
    ) -> Result<Self, HelpDeskError> {
        let pacer = Pacer::new(config.rate_limit)?;
        Self::with_pacer(config, credentials, clock, pacer)
    }

    /// A client whose requests pass `pacer`, which other clients of the same account may share
    /// (its own `config.rate_limit` is then not used).
    pub fn with_pacer(
        config: HelpDeskConfig,
        credentials: Credentials,
        clock: SharedClock,
        pacer: Pacer,
    ) -> Result<Self, HelpDeskError> {
        Ok(Self {
            inner: Arc::new(Inner {
                http: build_client(config.connect_timeout)?,
                pacer,
                config,
                credentials,
                clock,
                server_date: std::sync::Mutex::new(None),
            }),
        })
    }

    /// The pacer every request of this client passes.
    pub fn pacer(&self) -> &Pacer {
        &self.inner.pacer
    }

    /// HelpDesk's current time from the `Date` of its latest answer, moved on by the time our
    /// clock measured since; `None` before any answer carried one. The header has whole
    /// seconds, so this runs up to a second behind.
    pub fn server_now(&self) -> Option<Timestamp> {
        let (date, read) = (*self.server_date())?;
        let since = self.inner.clock.now().as_millis().saturating_sub(read.as_millis()).max(0);
        Some(Timestamp::from_millis(date.as_millis().saturating_add(since)))
    }

    /// HelpDesk's current time to the millisecond: `ours` when it falls within the second that
    /// HelpDesk's latest `Date` names, otherwise the nearest end of that second; `ours` when no
    /// answer carried a `Date` yet.
    pub fn server_now_or(&self, ours: Timestamp) -> Timestamp {
        match self.server_now() {
            None => ours,
            Some(earliest) => {
                let latest = earliest.saturating_add(Duration::from_millis(999));
                ours.clamp(earliest, latest)
            }
        }
    }

    fn server_date(&self) -> std::sync::MutexGuard<'_, Option<(Timestamp, Timestamp)>> {
        self.inner.server_date.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn note_server_date(&self, headers: &HeaderMap) {
        let Some(date) = headers.get(DATE).and_then(|value| value.to_str().ok()).and_then(parse_http_date)
        else {
            return;
        };
        // Keep the observation that puts HelpDesk's clock furthest on: each one is a lower bound.
        if self.server_now().is_none_or(|known| date >= known) {
            *self.server_date() = Some((date, self.inner.clock.now()));
        }
    }

    /// One ticket with its full history; a missing ticket is a `Permanent` 404
    /// ([`HelpDeskError::is_not_found`]).
    pub async fn get_ticket(&self, ticket_id: &str) -> Result<Ticket, HelpDeskError> {
        self.get_list_or_object(&["tickets", ticket_id]).await
    }

    pub async fn list_agents(&self) -> Result<Vec<Agent>, HelpDeskError> {
        self.get_list_or_object(&["agents"]).await
    }

    pub async fn list_teams(&self) -> Result<Vec<Team>, HelpDeskError> {
        self.get_list_or_object(&["teams"]).await
    }

    pub async fn list_tags(&self) -> Result<Vec<Tag>, HelpDeskError> {
        self.get_list_or_object(&["tags"]).await
    }

    /// The customer account; normally one element. Also a cheap credentials check.
    pub async fn list_licenses(&self) -> Result<Vec<License>, HelpDeskError> {
        self.get_list_or_object(&["licenses"]).await
    }

    /// The account's webhooks (one URL and one event type each).
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, HelpDeskError> {
        self.get_list_or_object(&["webhooks"]).await
    }

    /// Registers `url` for one event type (`tickets.update`, …). Not idempotent: a retried
    /// attempt whose first answer was lost may register it twice.
    pub async fn create_webhook(&self, url: &str, event_type: &str) -> Result<Webhook, HelpDeskError> {
        let body = serde_json::json!({ "url": url, "eventType": event_type });
        let decode = |bytes: &[u8]| serde_json::from_slice(bytes).map_err(|error| error.to_string());
        Ok(self.send(Method::POST, &["webhooks"], &[], Some(&body), decode).await?.body)
    }

    /// Removes a webhook; HelpDesk answers `OK` as text, so any success body will do.
    pub async fn delete_webhook(&self, webhook_id: &str) -> Result<(), HelpDeskError> {
        self.send(Method::DELETE, &["webhooks", webhook_id], &[], None, |_| Ok(())).await.map(drop)
    }

    async fn get_list_or_object<T: DeserializeOwned>(&self, path: &[&str]) -> Result<T, HelpDeskError> {
        Ok(self.get(path, &[], |_| Ok(())).await?.body)
    }

    /// `GET /v1/<path>?<query>` with pacing, one token refresh on 401, and retries. An answer
    /// that `check` refuses counts as a bad body and is fetched again.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
        check: impl Fn(&T) -> Result<(), String>,
    ) -> Result<Answer<T>, HelpDeskError> {
        let decode = |bytes: &[u8]| {
            let body: T = serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
            check(&body).map(|()| body)
        };
        self.send(Method::GET, path, query, None, decode).await
    }

    /// One request with pacing, one token refresh on 401, and retries. A success whose body
    /// `decode` refuses counts as a bad body and is sent again.
    async fn send<T>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        decode: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<Answer<T>, HelpDeskError> {
        let url = self.endpoint(path, query)?;
        let request = Request { method, url: &url, body };
        let inner = &*self.inner;
        let policy = inner.config.retry;
        let started = Instant::now();
        let mut presented = Presented::current(&inner.credentials).await?;
        // The token a 401 rejected; kept only to blank it out of error text.
        let mut rejected: Option<Presented> = None;
        let mut attempts = 0;
        loop {
            let release = inner.pacer.acquire().await;
            attempts += 1;
            let outcome = self.attempt(&request, &presented, rejected.as_ref(), &decode).await;
            let refused =
                matches!(&outcome, Err(HelpDeskError::Retryable(failure)) if failure.is_rate_limited());
            if !refused {
                inner.pacer.accepted(release);
            }
            let failure = match outcome {
                Ok(answer) => return Ok(answer),
                Err(error @ HelpDeskError::Authentication { status: 401, .. }) if rejected.is_none() => {
                    match presented.refreshed(&inner.credentials).await? {
                        Some(next) => {
                            tracing::info!(
                                "HelpDesk refused the access token; retrying once with a refreshed one"
                            );
                            rejected = Some(std::mem::replace(&mut presented, next));
                            continue;
                        }
                        None => return Err(error),
                    }
                }
                Err(HelpDeskError::Retryable(failure)) => failure,
                Err(error) => return Err(error),
            };
            let wait = failure.retry_after().unwrap_or_else(|| policy.backoff(attempts));
            // Even when this request gives up, the account stays closed for the others.
            if refused {
                inner.pacer.throttled(release, Instant::now() + wait);
            } else if failure.throttles_account() {
                inner.pacer.close_until(Instant::now() + wait);
            }
            let waited = started.elapsed();
            let reason = if attempts >= policy.max_attempts {
                Some(GiveUpReason::AttemptsExhausted)
            } else if waited + wait > policy.max_total_wait {
                Some(GiveUpReason::WaitCapReached { next_wait: wait })
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(HelpDeskError::GaveUp { attempts, waited, reason, last: failure });
            }
            tracing::debug!(attempts, wait_ms = wait.as_millis(), %failure, "retrying a HelpDesk request");
            metrics::counter!("scoreline_helpdesk_retries_total").increment(1);
            if !failure.throttles_account() {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// One try; a 401 comes back as `Authentication { status: 401 }` for the caller to refresh.
    async fn attempt<T>(
        &self,
        request: &Request<'_>,
        presented: &Presented,
        rejected: Option<&Presented>,
        decode: &impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<Answer<T>, HelpDeskError> {
        let inner = &*self.inner;
        let mut builder = inner.http.request(request.method.clone(), request.url.clone());
        if let Some(body) = request.body {
            builder = builder.json(body);
        }
        let answer = exchange(presented.apply(builder), inner.config.attempt_timeout).await?;
        self.note_server_date(&answer.headers);
        let status = answer.status;
        if status.is_success() {
            // A cut-off body or an HTML page from a proxy: another try may get the real thing.
            let body = decode_aside(&answer.body, decode)
                .map_err(|reason| HelpDeskError::Retryable(Transient::InvalidBody(reason)))?;
            return Ok(Answer { body, headers: answer.headers });
        }
        let secrets: Vec<&str> =
            [Some(presented), rejected].into_iter().flatten().map(Presented::secret).collect();
        let detail = error_detail(&answer.body, &secrets);
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                HelpDeskError::Authentication { status: status.as_u16(), detail }
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => {
                self.retryable_status(status, &answer.headers, detail)
            }
            StatusCode::NOT_IMPLEMENTED => HelpDeskError::Permanent { status: status.as_u16(), detail },
            _ if status.is_server_error() => self.retryable_status(status, &answer.headers, detail),
            _ => HelpDeskError::Permanent { status: status.as_u16(), detail },
        })
    }

    fn retryable_status(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        detail: Option<String>,
    ) -> HelpDeskError {
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, self.inner.clock.now()));
        HelpDeskError::Retryable(Transient::Status { status: status.as_u16(), retry_after, detail })
    }

    fn endpoint(&self, path: &[&str], query: &[(&str, String)]) -> Result<Url, HelpDeskError> {
        let mut url = self.inner.config.api_base_url.clone();
        url.path_segments_mut()
            .map_err(|()| HelpDeskError::InvalidRequest("the base URL cannot take a path".into()))?
            .pop_if_empty()
            .push("v1")
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(key, value)| (key, value)));
        }
        Ok(url)
    }
}
