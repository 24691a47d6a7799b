//! What became of one runbook trigger, kept under its idempotency key: the
//! first trigger with a key decides (started or refused), and every later
//! one with the same key starts nothing new.

use crate::ids::ExecutionId;
use crate::plan::Mode;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriggerOutcome {
    /// An execution was started for it.
    Started,
    /// It was refused; `reason` says why. Nothing was launched.
    Refused,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerRecord {
    /// The runbook's idempotency key: one execution per key.
    pub idempotency_key: String,
    pub outcome: TriggerOutcome,
    /// The execution it started, or would have started (derived from the
    /// key, so a duplicate finds it).
    pub execution_id: ExecutionId,
    pub reason: Option<String>,
    /// The EventBridge event's id, source and account.
    pub event_id: String,
    pub source: String,
    pub account: Option<String>,
    pub requested_by: Option<String>,
    pub mode: Option<Mode>,
    pub plan: Option<String>,
    pub received_at: Timestamp,
}
