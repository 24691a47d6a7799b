//! The state machine: the records it keeps and the pure `decide`.
//!
//! - `records`: what the store keeps (execution record, wave records).
//! - `decide`: the entry point, dispatching to `execution`, `launch`,
//!   `observe` and `post_launch`; `wave` holds the steps they share.
//! - `decision`: what `decide` returns (changes, effects, follow-ups).
//! - `transition`: the valid status transitions.
//! - `retry`: backoff delays for retries as delayed messages.

mod decide;
mod decision;
mod execution;
mod launch;
mod observe;
mod post_launch;
mod records;
pub mod retry;
pub mod transition;
mod wave;

#[cfg(test)]
mod tests;

pub use decide::{Target, decide, target};
pub use decision::{Change, CommandPurpose, Decision, Effect, State};
pub use launch::job_tags;
pub use post_launch::HEALTH_DOCUMENT;
pub use records::*;
pub use wave::{LAUNCH_CHECK_DELAY, PUSH_COALESCE};
