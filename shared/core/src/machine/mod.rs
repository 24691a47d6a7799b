//! The state machine: the records it keeps and the pure `decide`.
//!
//! The imports run one way, from the entry point down to the records:
//!
//! - `decide`: the entry point; hands each event to its phase and runs what
//!   a phase hands the wave on to (a phase never calls the next one).
//! - the phases: `execution` (the execution record), `launch` (`start`:
//!   one StartRecovery per wave; `observe`: a launching wave's servers),
//!   `post_launch` (`progress`, `actions`, `health`, `observe`).
//! - `wave`: the primitives the wave phases share; `context`: the decision
//!   under construction (`Ctx`), what a handler returns, and `Handover`.
//! - `decision`: what `decide` returns (changes, effects, follow-ups);
//!   `transition`: the valid status transitions; `retry`: backoff delays
//!   for retries as delayed messages; `records`: what the store keeps
//!   (execution record, wave records).

mod context;
mod decide;
mod decision;
mod execution;
mod launch;
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
