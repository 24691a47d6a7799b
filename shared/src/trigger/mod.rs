//! Runbook triggers: EventBridge events that ask Ripcord to start an
//! execution, checked against the allow-list and recorded under their
//! idempotency key.

pub mod record;

pub use record::{TriggerOutcome, TriggerRecord};
