//! The state machine: the pure `decide`, from an event and the records it
//! reads (`crate::records`) to the changes, effects and follow-ups.
//!
//! The imports run one way, from the entry point down to the records:
//!
//! - `decide`: the entry point; hands each event to its phase and runs what
//!   a phase hands the wave on to (a phase never calls the next one).
//! - the phases: `execution` (the execution record), `launch` (`start`:
//!   one StartRecovery per wave; `observe`: a launching wave's servers),
//!   `post_launch` (`progress`, `actions`, `health`, `observe`), `cleanup`
//!   (a settled drill's recovery instances terminated: `execution`, `wave`),
//!   `sweep` (a record whose one message went missing, found and re-armed).
//! - `wave`: the primitives the wave phases share; `context`: the decision
//!   under construction (`Ctx`), what a handler returns, and `Handover`.
//! - `decision`: what `decide` returns (changes, effects, follow-ups);
//!   `retry`: backoff delays for retries as delayed messages.
//!
//! Below the machine: `crate::records` (what the store keeps) and
//! `crate::status_model` (the statuses and their valid transitions).

mod cleanup;
mod context;
mod decide;
mod decision;
mod execution;
mod launch;
mod operator;
mod post_launch;
mod preflight;
mod relaunch;
pub mod retry;
mod sweep;
mod wave;

#[cfg(test)]
mod tests;

pub use cleanup::{cleanup_refusal, settled};
pub use decide::{Target, decide, target};
pub use decision::{Change, CommandPurpose, Decision, Effect, State};
pub use launch::job_tags;
pub use post_launch::HEALTH_DOCUMENT;
pub use preflight::PREFLIGHT_TICK;
pub use sweep::{
    Lost, MIN_OVERDUE, Stalled, nudge_envelope, overdue_after, poll_overdue, stalled, tick_bound,
};
pub use wave::{LAUNCH_CHECK_DELAY, PUSH_COALESCE};
