//! A case as the agent and customer saw it. Ticket HTML is sanitized before it is shown.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use scoreline_core::StoredCase;
use serde_json::Value;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::PageActor;
use crate::ui::Layout;

/// One entry of the conversation, ready to render.
pub struct EventItem {
    pub kind: &'static str,
    pub author: String,
    pub from_customer: bool,
    pub at: String,
    pub private: bool,
    /// Sanitized HTML: safe to insert as is.
    pub html: Option<String>,
    pub text: Option<String>,
    pub change: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/show.html")]
struct CasePage {
    layout: Layout,
    case: StoredCase,
    requester: String,
    events: Vec<EventItem>,
}

pub async fn show(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = id.parse().map_err(|_| ApiError::not_found("case"))?;
    let case = state.app.get_case(&actor, id).await?;
    let events = case.content.as_ref().map(|c| events_of(&c.events)).unwrap_or_default();
    let requester = case.requester.as_ref().map(person).unwrap_or_default();
    Ok(CasePage { layout: Layout::for_actor(&actor), case, requester, events }.into_response())
}

fn text_of(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn person(value: &Value) -> String {
    match (text_of(value, "name"), text_of(value, "email")) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => String::new(),
    }
}

fn change_of(event: &Value, key: &str, describe: impl Fn(&Value) -> String) -> Option<String> {
    let change = event.get(key)?;
    let (old, new) = (change.get("old").map(&describe), change.get("new").map(&describe));
    Some(format!("{} → {}", old.unwrap_or_else(|| "—".to_owned()), new.unwrap_or_else(|| "—".to_owned())))
}

fn assignee(value: &Value) -> String {
    let named = |key: &str| value.get(key).and_then(|v| text_of(v, "name"));
    match (named("agent"), named("team")) {
        (Some(agent), Some(team)) => format!("{agent} ({team})"),
        (Some(agent), None) => agent,
        (None, Some(team)) => format!("{team} queue"),
        (None, None) => "nobody".to_owned(),
    }
}

pub fn events_of(events: &Value) -> Vec<EventItem> {
    events
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|event| {
                    let author = event.get("author");
                    let message = event.get("message");
                    let kind = match event.get("type").and_then(Value::as_str) {
                        Some("message") => "message",
                        Some("status") => "status",
                        Some("assignment") => "assignment",
                        _ => "other",
                    };
                    EventItem {
                        kind,
                        author: author
                            .map(person)
                            .filter(|p| !p.is_empty())
                            .unwrap_or_else(|| "System".to_owned()),
                        from_customer: author.and_then(|a| text_of(a, "type")).as_deref() == Some("client"),
                        at: text_of(event, "date").unwrap_or_default(),
                        private: message
                            .and_then(|m| m.get("isPrivate"))
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        html: message
                            .and_then(|m| text_of(m, "richTextHtml"))
                            .map(|html| ammonia::clean(&html)),
                        text: message.and_then(|m| text_of(m, "text")),
                        change: match kind {
                            "status" => change_of(event, "status", |v| v.as_str().unwrap_or("—").to_owned()),
                            "assignment" => change_of(event, "assignment", assignee),
                            _ => None,
                        },
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn ticket_html_is_sanitized_and_text_kept() {
        let events = json!([
            { "type": "message", "date": "2026-01-01T10:00:00Z", "author": { "type": "client", "name": "Ann" },
              "message": { "text": "hi <b>", "richTextHtml": "<p onclick=\"x()\">Hi<script>alert(1)</script><a href=\"javascript:x()\">l</a></p>" } },
            { "type": "status", "status": { "old": "open", "new": "solved" } }
        ]);
        let items = super::events_of(&events);
        let html = items[0].html.as_deref().unwrap();
        assert!(
            !html.contains("script") && !html.contains("onclick") && !html.contains("javascript:"),
            "{html}"
        );
        assert!(html.contains("Hi"));
        assert!(items[0].from_customer);
        assert_eq!(items[1].change.as_deref(), Some("open → solved"));
    }
}
