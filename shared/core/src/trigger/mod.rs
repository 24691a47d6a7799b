//! Runbook triggers: EventBridge events that ask Ripcord to start an
//! execution, checked against the allow-list and recorded under their
//! idempotency key.

pub mod policy;
pub mod record;
pub mod runbook;

pub use policy::{TriggerPolicy, Verdict};
pub use record::{TriggerOutcome, TriggerRecord};
pub use runbook::{RunbookTrigger, TriggerError, execution_id_for};
