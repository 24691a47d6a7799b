//! The launch phase of a wave: `admit` takes the wave's servers from the
//! DRS capacity ledger first (docs/capacity.md); `start` makes exactly one DRS StartRecovery
//! job per wave (intent, retries, launch check, reconcile by tag, cancel);
//! `observe` follows the launching wave's servers from DRS until each has
//! an outcome. Both hand the wave on through the wave primitives'
//! [`Handover`](super::context::Handover), never by calling post-launch.

mod admit;
mod observe;
mod start;

pub(crate) use admit::{
    admit_tick, admitted, get_in_line, launch_failed, refused, release_when_done, start_wave,
    waiting,
};
pub(crate) use observe::{observed, poll, poll_failed, pushed};
pub use start::job_tags;
pub(crate) use start::{cancel, check_launch, job_started, retry_launch, timed_out};
