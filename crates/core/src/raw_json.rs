//! JSON text kept exactly as it was received.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON value held as its text: stored and served without being parsed into a tree and
/// written out again, and parsed only by a reader that needs its parts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// `[]`.
    pub fn empty_array() -> Self {
        Self::from_value(&serde_json::Value::Array(Vec::new()))
    }

    /// The text of a value built in code.
    pub fn from_value(value: &serde_json::Value) -> Self {
        // Writing out a `Value` cannot fail; `null` stands in for the impossible.
        Self(serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }

    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The value read as `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }
}

impl PartialEq for RawJson {
    /// The same text; `{"a":1}` and `{ "a": 1 }` differ.
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_text_as_received_and_parses_on_demand() {
        let raw: RawJson = serde_json::from_str(r#"[ {"ID": 1,  "type":"message"} ]"#).unwrap();
        assert_eq!(raw.get(), r#"[ {"ID": 1,  "type":"message"} ]"#);
        assert_eq!(serde_json::to_string(&raw).unwrap(), raw.get());
        let parsed: Vec<serde_json::Value> = raw.parse().unwrap();
        assert_eq!(parsed[0]["type"], "message");
        assert_eq!(RawJson::empty_array().get(), "[]");
    }
}
