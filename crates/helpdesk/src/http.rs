//! What both clients share: the reqwest client setup and one HTTP exchange under a deadline.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{StatusCode, redirect};

use crate::{HelpDeskError, Transient};

/// `scoreline/<version>`: HelpDesk filters generic user agents.
pub const USER_AGENT: &str = concat!("scoreline/", env!("CARGO_PKG_VERSION"));

/// A client that sends our user agent and `Accept: application/json`, and never follows
/// redirects: a redirect must not carry credentials or codes to another host.
pub(crate) fn build_client(connect_timeout: Duration) -> Result<reqwest::Client, HelpDeskError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .redirect(redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .build()
        .map_err(|error| HelpDeskError::InvalidRequest(describe(error)))
}

/// A complete answer: status, headers and the whole body.
pub(crate) struct Exchange {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Sends `request` and reads the whole body within `timeout`.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<Exchange, HelpDeskError> {
    let round_trip = async {
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok::<_, reqwest::Error>(Exchange { status, headers, body })
    };
    match tokio::time::timeout(timeout, round_trip).await {
        Err(_elapsed) => Err(HelpDeskError::Retryable(Transient::Timeout(timeout))),
        Ok(Ok(exchange)) => Ok(exchange),
        Ok(Err(error)) if error.is_builder() => Err(HelpDeskError::InvalidRequest(describe(error))),
        Ok(Err(error)) if error.is_timeout() => Err(HelpDeskError::Retryable(Transient::Timeout(timeout))),
        Ok(Err(error)) => Err(HelpDeskError::Retryable(Transient::Connection(describe(error)))),
    }
}

/// The error and its causes on one line, without the URL (it may carry query parameters).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
