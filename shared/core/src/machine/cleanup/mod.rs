//! Drill clean-up in the machine: `execution` (the request, its fan-out to
//! the waves, their reports, the automatic clean-up), `wave` (one
//! wave's checks, its TERMINATE job and its observation) and `previous`
//! (before a wave launches, what earlier drills left: `cleanup_previous`);
//! `checks` (the next check, which both send).

mod checks;
mod execution;
mod previous;
mod refusal;
mod wave;

#[cfg(test)]
mod previous_tests;
#[cfg(test)]
mod tests;

pub(crate) use execution::{request, schedule_when_settled, wave_cleaned_up};
pub(crate) use previous::begin as clean_up_previous;
pub(crate) use previous::running as cleaning_up_previous;
pub use refusal::{cleanup_refusal, settled};
pub(crate) use wave::decide as decide_wave;
