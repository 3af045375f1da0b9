//! A case's conversation as a person reads it: the stored HelpDesk events turned into messages
//! and changes, with ticket HTML sanitized.

use scoreline_core::{RawJson, Timestamp, status_label};
use serde_json::Value;

/// What one entry of the conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Message,
    Status,
    Assignment,
    Other,
}

/// One entry of the conversation, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationEntry {
    pub kind: EntryKind,
    pub author: String,
    pub from_customer: bool,
    pub at: Option<Timestamp>,
    pub private: bool,
    /// Sanitized HTML: safe to insert as is.
    pub html: Option<String>,
    pub text: Option<String>,
    /// For status and assignment changes: "old → new", or "new (unchanged)" when an event
    /// repeats the value it had.
    pub change: Option<String>,
}

impl ConversationEntry {
    pub fn is_message(&self) -> bool {
        self.kind == EntryKind::Message
    }
}

/// A case's requester and conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// "Name <email>", or whichever of the two is known; empty when neither is.
    pub requester: String,
    pub entries: Vec<ConversationEntry>,
}

impl Conversation {
    /// From a case's stored requester and events (both `None` once retention purged them).
    pub fn of(requester: Option<&Value>, events: Option<&RawJson>) -> Self {
        let events: Vec<Value> = events.and_then(|events| events.parse().ok()).unwrap_or_default();
        Self {
            requester: requester.map(person).unwrap_or_default(),
            entries: events.iter().map(entry).collect(),
        }
    }
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
    let new = new.unwrap_or_else(|| "—".to_owned());
    match old {
        Some(old) if old == new => Some(format!("{new} (unchanged)")),
        old => Some(format!("{} → {new}", old.unwrap_or_else(|| "—".to_owned()))),
    }
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

fn entry(event: &Value) -> ConversationEntry {
    let author = event.get("author");
    let message = event.get("message");
    let kind = match event.get("type").and_then(Value::as_str) {
        Some("message") => EntryKind::Message,
        Some("status") => EntryKind::Status,
        Some("assignment") => EntryKind::Assignment,
        _ => EntryKind::Other,
    };
    ConversationEntry {
        kind,
        author: author.map(person).filter(|p| !p.is_empty()).unwrap_or_else(|| "System".to_owned()),
        from_customer: author.and_then(|a| text_of(a, "type")).as_deref() == Some("client"),
        at: text_of(event, "date").and_then(|date| Timestamp::parse_rfc3339(&date).ok()),
        private: message.and_then(|m| m.get("isPrivate")).and_then(Value::as_bool).unwrap_or(false),
        html: message.and_then(|m| text_of(m, "richTextHtml")).map(|html| ammonia::clean(&html)),
        text: message.and_then(|m| text_of(m, "text")),
        change: match kind {
            EntryKind::Status => {
                change_of(event, "status", |v| v.as_str().map_or("—", status_label).to_owned())
            }
            EntryKind::Assignment => change_of(event, "assignment", assignee),
            EntryKind::Message | EntryKind::Other => None,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn ticket_html_is_sanitized_and_text_kept() {
        let events = json!([
            { "type": "message", "date": "2026-01-01T10:00:00Z", "author": { "type": "client", "name": "Ann" },
              "message": { "text": "hi <b>", "richTextHtml": "<p onclick=\"x()\">Hi<script>alert(1)</script><a href=\"javascript:x()\">l</a></p>" } },
            { "type": "status", "status": { "old": "open", "new": "solved" } }
        ]);
        let requester = json!({ "name": "Ann", "email": "ann@example.com" });
        let conversation = Conversation::of(Some(&requester), Some(&RawJson::from_value(&events)));
        assert_eq!(conversation.requester, "Ann <ann@example.com>");
        let entries = &conversation.entries;
        let html = entries[0].html.as_deref().unwrap();
        assert!(
            !html.contains("script") && !html.contains("onclick") && !html.contains("javascript:"),
            "{html}"
        );
        assert!(html.contains("Hi"));
        assert!(entries[0].from_customer && entries[0].is_message());
        assert_eq!(entries[0].at, Some(Timestamp::parse_rfc3339("2026-01-01T10:00:00Z").unwrap()));
        assert_eq!(entries[1].change.as_deref(), Some("Open → Solved"));
        assert_eq!(entries[1].author, "System");
    }

    #[test]
    fn a_status_event_that_repeats_the_status_says_it_is_unchanged() {
        let events = json!([
            { "type": "status", "status": { "old": "open", "new": "open" } },
            { "type": "status", "status": { "new": "pending" } }
        ]);
        let entries = Conversation::of(None, Some(&RawJson::from_value(&events))).entries;
        assert_eq!(entries[0].change.as_deref(), Some("Open (unchanged)"));
        assert_eq!(entries[1].change.as_deref(), Some("— → Pending"));
    }
}
