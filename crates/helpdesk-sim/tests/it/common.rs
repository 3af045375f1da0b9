use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, Response};
use scoreline_helpdesk_sim::{SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};

pub struct Api {
    pub sim: SimHandle,
    pub http: Client,
}

pub fn http_client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("scoreline-helpdesk-sim-tests/1")
        .build()
        .unwrap()
}

pub async fn spawn(config: SimConfig) -> Api {
    Api { sim: Simulator::spawn(config).await.unwrap(), http: http_client() }
}

pub async fn spawn_default() -> Api {
    spawn(SimConfig::default()).await
}

pub fn with_tickets(tickets: usize) -> SimConfig {
    SimConfig { tickets, ..SimConfig::default() }
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.api_base_url())
    }

    pub fn accounts(&self, path: &str) -> String {
        format!("{}{path}", self.sim.accounts_url())
    }

    /// A request with Basic `account_id:PAT`.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.authed(self.http.get(self.url(path)))
    }

    pub fn authed(&self, request: RequestBuilder) -> RequestBuilder {
        request.basic_auth(self.sim.account_id(), Some(self.sim.pat()))
    }

    pub async fn json(&self, path: &str) -> Value {
        let response = self.get(path).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn list(&self, query: &[(&str, String)]) -> (Vec<Value>, HeaderMap) {
        let response = self.get("/v1/tickets").query(query).send().await.unwrap();
        assert_eq!(response.status(), 200, "list {query:?}");
        let headers = response.headers().clone();
        (response.json().await.unwrap(), headers)
    }

    /// Follows `next.value`/`next.ID` from the first page to the last; returns the IDs seen.
    pub async fn page_all(&self, base: &[(&'static str, String)], page_size: usize) -> Vec<String> {
        let sort_by = base
            .iter()
            .find(|(key, _)| *key == "sortBy")
            .map_or("createdAt".to_owned(), |(_, value)| value.clone());
        let mut first = base.to_vec();
        first.push(("pageSize", page_size.to_string()));
        let mut ids = Vec::new();
        let mut query = first.clone();
        loop {
            let (items, _) = self.list(&query).await;
            ids.extend(items.iter().map(|item| item["ID"].as_str().unwrap().to_owned()));
            if items.len() < page_size {
                return ids;
            }
            query = after(&first, items.last().unwrap(), &sort_by);
            assert!(ids.len() < 1_000_000, "paging does not end");
        }
    }

    pub async fn create(&self, body: Value) -> Response {
        self.authed(self.http.post(self.url("/v1/tickets"))).json(&body).send().await.unwrap()
    }
}

/// Sends and reads a JSON body, whatever the status.
pub async fn body_of(request: RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// `base` plus the `next.value`/`next.ID` cursor that follows `item`.
pub fn after(base: &[(&'static str, String)], item: &Value, sort_by: &str) -> Vec<(&'static str, String)> {
    let mut query = base.to_vec();
    query.push(("next.value", item[sort_by].as_str().unwrap().to_owned()));
    query.push(("next.ID", item["ID"].as_str().unwrap().to_owned()));
    query
}

pub fn new_ticket(email: &str) -> Value {
    json!({
        "requester": { "email": email, "name": "Test Requester" },
        "message": { "text": "Hello 👋 <b>there</b>" },
        "subject": "Test",
    })
}

pub fn query(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(key, value)| (*key, (*value).to_owned())).collect()
}

/// A JSON timestamp as a `Timestamp` (the wire always carries milliseconds).
pub fn at(value: &Value) -> scoreline_core::Timestamp {
    scoreline_core::Timestamp::parse_rfc3339(value.as_str().unwrap()).unwrap()
}
