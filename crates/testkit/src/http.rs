//! Requests to the running server as a signed-in person or an API token, answered in one call.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::TestApp;

/// A page or form answer read whole: its status, where a redirect points, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    /// The `Location` header, for redirects.
    pub location: Option<String>,
    pub text: String,
}

impl TestApp {
    /// Sends `method path` as `auth` (a session cookie from [`Self::sign_in`] or an API token)
    /// with an optional JSON body; returns the status and the body as JSON. An empty body is
    /// `Null`, and a body that is not JSON comes back as a string, so assertions show it.
    pub async fn call(
        &self,
        auth: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = authorized(Self::http().request(method, self.url(path)), auth);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = match serde_json::from_str(&text) {
            Ok(json) => json,
            Err(_) if text.is_empty() => Value::Null,
            Err(_) => Value::String(text),
        };
        (status, body)
    }

    /// Every item of a list route, following `next_cursor` page by page; `path` may carry a
    /// query (filters, `limit`). Fails on a page that is not 200.
    pub async fn all_items(&self, auth: &str, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = url::Url::parse(&self.url(path)).expect("list URL");
            if let Some(cursor) = &cursor {
                url.query_pairs_mut().append_pair("cursor", cursor);
            }
            let page_path = &url.as_str()[self.base_url.len()..];
            let (status, page) = self.call(auth, Method::GET, page_path, None).await;
            assert_eq!(status, StatusCode::OK, "{page_path}: {page}");
            items.extend(page["items"].as_array().expect("a list page").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// GETs a page as `auth`.
    pub async fn page(&self, auth: &str, path: &str) -> Reply {
        read(self.get(auth, path).await).await
    }

    /// Posts a form as `auth`, as the browser would (redirects are not followed).
    pub async fn submit(&self, auth: &str, path: &str, form: &[(&str, &str)]) -> Reply {
        let request = authorized(Self::http().post(self.url(path)), auth).form(form);
        read(request.send().await.expect("POST form")).await
    }

    /// GETs `path` as `auth` and returns the body as JSON.
    pub async fn get_json(&self, auth: &str, path: &str) -> Value {
        self.get(auth, path).await.json().await.expect("a JSON body")
    }

    /// GETs `path` as `auth` and returns the body as text.
    pub async fn get_text(&self, auth: &str, path: &str) -> String {
        self.get(auth, path).await.text().await.expect("a text body")
    }

    pub async fn get(&self, auth: &str, path: &str) -> reqwest::Response {
        authorized(Self::http().get(self.url(path)), auth).send().await.expect("GET")
    }

    /// A reqwest client that never follows redirects, so tests see them.
    pub fn http() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
    }
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let location =
        response.headers().get(LOCATION).map(|value| value.to_str().expect("a text Location").to_owned());
    Reply { status, location, text: response.text().await.expect("a text body") }
}

/// Sends `auth` as the session cookie it is, or else as a Bearer API token.
fn authorized(request: reqwest::RequestBuilder, auth: &str) -> reqwest::RequestBuilder {
    if auth.starts_with("scoreline_session=") {
        request.header("cookie", auth)
    } else {
        request.bearer_auth(auth)
    }
}
