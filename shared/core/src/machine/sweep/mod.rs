//! Nothing stuck for ever (docs/architecture.md, "The sweep"): which
//! records lost the one message that would have moved them on, the nudge
//! the sweep sends each, and what a nudge decides. Pure: the sweeping
//! worker (`workers/src/sweep.rs`) reads the records, asks [`stalled`]
//! and sends the nudges.
//!
//! - `found`: the bounds, what was found ([`Stalled`]), the nudge's
//!   envelope and the announcements.
//! - `poll`: a running wave's lost poll (`NudgeWave`).
//! - `launch`: a wave's lost StartWave, capacity tick or launch check;
//!   `post_launch`: its lost action or health-command retry.
//! - `execution`: a wave's lost WaveFinished, a lost pre-flight or
//!   server-claim tick.
//! - `find`: all of them for one execution.
//!
//! Every nudge is idempotent (invariant 4): its id is derived from what
//! was found lost, so two sweeps send the same one and the journal catches
//! the second; and it acts only while the record is still exactly as the
//! sweep found it and overdue, so a nudge to a record that moved since, or
//! that is not stuck, changes nothing. A nudge never calls StartRecovery
//! but through the launch check, which looks for the job by tag first
//! (invariant 2).

mod execution;
mod find;
mod found;
mod launch;
mod poll;
mod post_launch;

pub(crate) use execution::nudge as nudge_execution;
pub use find::stalled;
pub use found::{Lost, MIN_OVERDUE, Stalled, nudge_envelope, tick_bound};
pub(crate) use launch::nudge as nudge_wave;
pub(crate) use poll::nudge as nudge_poll;
pub use poll::{overdue_after, poll_overdue};
