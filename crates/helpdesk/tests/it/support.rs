//! Shared test fixtures: clients with fast retry settings and a recording responder.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scoreline_core::{ManualClock, SystemClock, Timestamp};
use scoreline_helpdesk::{
    Credentials, HelpDeskClient, HelpDeskConfig, HelpDeskError, RateLimit, RetryPolicy, SecretString,
    TokenSource,
};
use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

pub const ACCOUNT_ID: &str = "b7eff798-f8df-4364-8059-649c35c9ed0c";
pub const PAT: &str = "dal:pat-secret-123";

/// Retries that fit a test: quick backoff, a few attempts, generous limits.
pub fn fast_config(base_url: &str) -> HelpDeskConfig {
    let mut config = HelpDeskConfig::new(base_url).unwrap();
    config.rate_limit = RateLimit { requests_per_second: 1000.0, burst: 100 };
    config.retry = RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_total_wait: Duration::from_secs(10),
    };
    config.attempt_timeout = Duration::from_secs(5);
    config
}

pub fn pat_credentials() -> Credentials {
    Credentials::personal_access_token(ACCOUNT_ID, SecretString::from(PAT))
}

pub fn manual_clock(at: &str) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp::parse_rfc3339(at).unwrap()))
}

pub fn pat_client(base_url: &str) -> HelpDeskClient {
    client_with(fast_config(base_url), pat_credentials())
}

pub fn client_with(config: HelpDeskConfig, credentials: Credentials) -> HelpDeskClient {
    HelpDeskClient::new(config, credentials, Arc::new(SystemClock)).unwrap()
}

pub fn ticket_json(id: &str, updated_at: &str) -> Value {
    json!({
        "ID": id, "shortID": format!("S-{id}"), "licenseID": 1,
        "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": updated_at,
        "status": "open", "priority": 0, "teamIDs": [], "tagIDs": [], "events": []
    })
}

/// Answers with a script of responses (the last one repeats) and records when each request came.
#[derive(Clone)]
pub struct Recorder {
    script: Arc<Mutex<VecDeque<ResponseTemplate>>>,
    log: Arc<Mutex<Vec<(Instant, Request)>>>,
}

impl Recorder {
    pub fn new(script: impl IntoIterator<Item = ResponseTemplate>) -> Self {
        Self { script: Arc::new(Mutex::new(script.into_iter().collect())), log: Arc::default() }
    }

    pub fn requests(&self) -> Vec<(Instant, Request)> {
        self.log.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.log.lock().unwrap().push((Instant::now(), request.clone()));
        let mut script = self.script.lock().unwrap();
        if script.len() > 1 { script.pop_front().unwrap() } else { script.front().cloned().unwrap() }
    }
}

/// A token source that hands out `old` until refreshed, then `new`, counting refreshes.
#[derive(Debug)]
pub struct RotatingToken {
    pub current: Mutex<String>,
    pub next: String,
    pub refreshes: AtomicUsize,
}

impl RotatingToken {
    pub fn new(current: &str, next: &str) -> Arc<Self> {
        Arc::new(Self {
            current: Mutex::new(current.into()),
            next: next.into(),
            refreshes: AtomicUsize::new(0),
        })
    }

    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl TokenSource for RotatingToken {
    async fn access_token(&self) -> Result<SecretString, HelpDeskError> {
        Ok(SecretString::from(self.current.lock().unwrap().clone()))
    }

    async fn refresh_rejected(&self, _rejected: &SecretString) -> Result<SecretString, HelpDeskError> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let mut current = self.current.lock().unwrap();
        current.clone_from(&self.next);
        Ok(SecretString::from(current.clone()))
    }
}
