//! A runbook trigger: an EventBridge event with detail-type
//! `Ripcord Start Execution` whose `detail` names a plan, the mode, who
//! asks and an idempotency key (schema: `examples/trigger/detail.schema.json`).
//! Parsing is strict: an unknown field or a wrong type is an error that says
//! which, so a typo in a runbook does not start something else.

use crate::ids::ExecutionId;
use crate::plan::Mode;
use crate::reason::{MAX_REASON_BYTES, quoted, readable};
use crate::time::Timestamp;
use serde::Deserialize;
use uuid::Uuid;

/// The detail-type a runbook sends.
pub const DETAIL_TYPE: &str = "Ripcord Start Execution";

/// Idempotency keys: 1–128 of letters, digits and `._:/-`.
pub const MAX_KEY_LEN: usize = 128;

/// Names the execution ids derived from idempotency keys, so one key always
/// means one execution.
const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x6b1e_52c0_8f3d_4a8e_9d7c_2f41_a0b3_c5e7);

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerDetail {
    /// The plan's name in the plan catalog (`<name>.yaml` in the plans directory).
    pub plan: String,
    pub mode: Mode,
    pub requested_by: String,
    pub idempotency_key: String,
    /// Must be `true` for `mode: recovery`: a real failover never starts
    /// from an event that did not say so.
    #[serde(default)]
    pub confirm_recovery: bool,
    /// Free text kept with the trigger (an incident number, say).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunbookTrigger {
    pub event_id: String,
    pub source: String,
    pub account: Option<String>,
    pub time: Option<Timestamp>,
    pub detail: TriggerDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    /// The detail is not what the schema says; if the idempotency key could
    /// still be read, the refusal is recorded under it.
    #[error(
        "the trigger's detail is invalid: {reason}; see examples/trigger/detail.schema.json for the fields a runbook must send"
    )]
    InvalidDetail {
        reason: String,
        idempotency_key: Option<String>,
    },
}

impl TriggerDetail {
    /// The detail of a runbook's event, checked (the envelope around it is
    /// read by `RunbookTrigger::from_event` in `eventbridge.rs`).
    pub fn parse(detail: &serde_json::Value) -> Result<TriggerDetail, TriggerError> {
        let key = detail
            .get("idempotencyKey")
            .and_then(|k| k.as_str())
            .filter(|k| valid_key(k))
            .map(str::to_owned);
        let invalid = |reason: String| TriggerError::InvalidDetail {
            reason,
            idempotency_key: key.clone(),
        };
        let detail: TriggerDetail = serde_json::from_value(detail.clone())
            .map_err(|e| invalid(readable(&e.to_string(), MAX_REASON_BYTES / 4)))?;
        if !valid_key(&detail.idempotency_key) {
            return Err(invalid(format!(
                "idempotencyKey {} must be 1 to {MAX_KEY_LEN} letters, digits or ._:/-",
                quoted(&detail.idempotency_key)
            )));
        }
        if detail.requested_by.trim().is_empty() {
            return Err(invalid("requestedBy is empty".to_owned()));
        }
        if !valid_plan_name(&detail.plan) {
            return Err(invalid(format!(
                "plan {} must be a plan name (letters, digits, ._-), not a path",
                quoted(&detail.plan)
            )));
        }
        Ok(detail)
    }
}

/// The execution a key starts: the same key, the same execution.
pub fn execution_id_for(idempotency_key: &str) -> ExecutionId {
    ExecutionId(Uuid::new_v5(&KEY_NAMESPACE, idempotency_key.as_bytes()))
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:/-".contains(c))
}

/// A plan name resolves to `<dir>/<name>.yaml`: no separators, no `..`.
pub fn valid_plan_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventbridge::EventBridgeEvent;

    fn event(detail: serde_json::Value) -> EventBridgeEvent {
        EventBridgeEvent {
            id: "evt-1".into(),
            detail_type: DETAIL_TYPE.into(),
            source: "com.example.runbook".into(),
            account: Some("111122223333".into()),
            time: None,
            region: Some("us-east-1".into()),
            resources: vec![],
            detail,
        }
    }

    #[test]
    fn a_valid_trigger_parses() {
        let t = RunbookTrigger::from_event(&event(serde_json::json!({
            "plan": "payments-drill", "mode": "drill", "requestedBy": "alice",
            "idempotencyKey": "INC-4211/drill-1"
        })))
        .expect("valid");
        assert_eq!(t.detail.mode, Mode::Drill);
        assert!(!t.detail.confirm_recovery);
        assert_eq!(
            execution_id_for("INC-4211/drill-1"),
            execution_id_for("INC-4211/drill-1")
        );
        assert_ne!(execution_id_for("a"), execution_id_for("b"));
    }

    #[test]
    fn a_typo_is_an_error_that_keeps_the_key() {
        let e = RunbookTrigger::from_event(&event(serde_json::json!({
            "plan": "payments-drill", "mode": "drill", "requestedBy": "alice",
            "idempotencyKey": "k1", "confirmRecover": true
        })))
        .expect_err("unknown field");
        let TriggerError::InvalidDetail {
            reason,
            idempotency_key,
        } = e;
        assert!(reason.contains("confirmRecover"), "{reason}");
        assert_eq!(idempotency_key.as_deref(), Some("k1"));
    }

    #[test]
    fn paths_and_bad_keys_are_refused() {
        for (plan, key) in [("../etc/passwd", "k"), ("ok", ""), ("ok", "a b")] {
            let r = RunbookTrigger::from_event(&event(serde_json::json!({
                "plan": plan, "mode": "drill", "requestedBy": "alice", "idempotencyKey": key
            })));
            assert!(r.is_err(), "{plan} {key}");
        }
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;
    use crate::eventbridge::EventBridgeEvent;

    fn schema() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/trigger/detail.schema.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON")
    }

    /// The published schema and the parser agree on the fields.
    #[test]
    fn the_schema_names_the_fields_the_parser_reads() {
        let schema = schema();
        let mut documented: Vec<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        documented.sort_unstable();
        assert_eq!(
            documented,
            [
                "confirmRecovery",
                "idempotencyKey",
                "mode",
                "plan",
                "reason",
                "requestedBy"
            ]
        );
        let required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        // Each required field, left out, makes the parser refuse.
        let full = serde_json::json!({
            "plan": "p", "mode": "drill", "requestedBy": "a", "idempotencyKey": "k"
        });
        for field in required {
            let mut detail = full.clone();
            detail.as_object_mut().expect("object").remove(field);
            let event = EventBridgeEvent {
                id: "e".into(),
                detail_type: DETAIL_TYPE.into(),
                source: "s".into(),
                account: None,
                time: None,
                region: None,
                resources: vec![],
                detail,
            };
            assert!(
                RunbookTrigger::from_event(&event).is_err(),
                "{field} is required"
            );
        }
    }

    /// The example `aws events put-events` entry is a valid trigger.
    #[test]
    fn the_example_trigger_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/trigger/start-drill.json"
        );
        let entries: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("JSON");
        let entry = &entries[0];
        assert_eq!(entry["DetailType"], DETAIL_TYPE);
        let event = EventBridgeEvent {
            id: "e".into(),
            detail_type: DETAIL_TYPE.into(),
            source: entry["Source"].as_str().expect("source").into(),
            account: None,
            time: None,
            region: None,
            resources: vec![],
            detail: serde_json::from_str(entry["Detail"].as_str().expect("detail")).expect("JSON"),
        };
        let trigger = RunbookTrigger::from_event(&event).expect("valid");
        assert_eq!(trigger.detail.plan, "drill");
    }
}
