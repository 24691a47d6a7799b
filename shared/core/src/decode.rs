//! Why a message is not an envelope: [`DecodeError`], what
//! `Envelope::decode` (`event.rs`) returns for a bad message, and the text
//! a dead letter carries. Each says what is wrong; a piece of the message
//! it quotes is kept short and escaped (`crate::reason`).

use crate::reason::quoted;

/// What a JSON value is, for an error that says what was found instead.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Why a message could not be decoded into an `Envelope`. Each says
/// what is wrong; a piece of the message it quotes is kept short and
/// escaped (`crate::reason`), so it reads well as a dead letter's reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("the message is {0}, not a JSON object (a Ripcord envelope)")]
    NotAnObject(&'static str),
    #[error("the envelope has no `{0}` field")]
    MissingField(&'static str),
    #[error("the envelope's `{field}` is {found}, not {expected}")]
    BadField {
        field: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "schema version {found} is not supported (this build reads version {supported}); replay it with a matching ripcord version"
    )]
    UnsupportedVersion { found: u64, supported: u32 },
    #[error("unknown event type {}", quoted(.0))]
    UnknownType(String),
    #[error("a {event_type} event with an invalid body: {reason}")]
    InvalidDetail { event_type: String, reason: String },
}

#[cfg(test)]
mod tests {
    use crate::event::{Envelope, Event};
    use crate::ids::{ExecutionId, WaveNumber};

    fn sample() -> serde_json::Value {
        let e = Envelope::new(
            ExecutionId::new_random(),
            Some(WaveNumber(2)),
            Event::PollWave { seq: 7 },
            chrono::Utc::now(),
        );
        serde_json::from_str(&e.to_json()).expect("JSON")
    }

    fn error(body: &str) -> String {
        Envelope::decode(body)
            .expect_err("a bad message")
            .to_string()
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_with_what_was_found() {
        let mut v = sample();
        v["schemaVersion"] = "1".into();
        assert_eq!(
            error(&v.to_string()),
            "the envelope's `schemaVersion` is a string, not a whole number"
        );
        v["schemaVersion"] = 1.into();
        v["type"] = serde_json::json!(["PollWave"]);
        assert_eq!(
            error(&v.to_string()),
            "the envelope's `type` is an array, not a string"
        );
        assert_eq!(
            error("[1, 2]"),
            "the message is an array, not a JSON object (a Ripcord envelope)"
        );
    }

    /// An unknown type or a bad value was repeated whole, control
    /// characters and all, into the reason a dead letter carries; with it
    /// back, `tests/tests/fuzz_parsers.rs` fails on a 100 KB error line
    /// (its input kept in `fuzz_parsers.proptest-regressions`).
    #[test]
    fn what_an_error_quotes_is_short_and_escaped() {
        let mut v = sample();
        v["type"] = format!("\u{1b}[31m{}", "X".repeat(100_000)).into();
        let text = error(&v.to_string());
        assert!(
            text.starts_with("unknown event type `\\u{1b}[31mXXX"),
            "{text}"
        );
        assert!(text.len() < 300, "{} bytes", text.len());
        v["type"] = "PollWave".into();
        v["detail"] = serde_json::json!({ "seq": format!("\u{7}{}", "9".repeat(100_000)) });
        let text = error(&v.to_string());
        assert!(
            text.starts_with("a PollWave event with an invalid body: "),
            "{text}"
        );
        assert!(text.len() < 1000 && !text.contains('\u{7}'), "{text}");
    }
}
