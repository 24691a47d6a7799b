//! Drill clean-up in the machine: `execution` (the request, its fan-out to
//! the waves, their reports, the automatic clean-up) and `wave` (one
//! wave's checks, its TERMINATE job and its observation).

mod execution;
mod refusal;
mod wave;

#[cfg(test)]
mod tests;

pub(crate) use execution::{request, schedule_when_settled, wave_cleaned_up};
pub use refusal::{cleanup_refusal, settled};
pub(crate) use wave::decide as decide_wave;
