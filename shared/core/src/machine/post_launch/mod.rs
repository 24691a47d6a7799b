//! After launch: wait for each launched server's SSM agent, run the wave's
//! post-launch actions one after another, then its health checks, each
//! bounded in time. A server that fails any of them is FAILED with the
//! reason; a wave completes only when every critical server completed.
//!
//! The phase is driven by `CheckPostLaunch` ticks: each tick enforces the
//! deadlines, starts what is ready, and observes what runs.
//!
//! - `progress`: entering the phase, the tick, and doing what is due
//!   (it drives the three below);
//! - `actions`: the post-launch actions (SSM commands, one after another);
//! - `health`: the health checks (EC2 status, SSM agent, command checks);
//! - `observe`: reading SSM and EC2, and what the next tick must read.
//!
//! An event handler that leaves work due hands the wave back to `decide`
//! with `Handover::AdvancePostLaunch` rather than calling `progress`.

mod actions;
mod health;
mod observe;
mod progress;

pub(crate) use actions::{action_send_failed, action_sent, run_action};
pub use health::HEALTH_DOCUMENT;
pub(crate) use health::{health_commands_failed, health_commands_sent, run_health_commands};
pub(crate) use observe::{check_failed, observed};
pub(crate) use progress::{advance, check, enter, settle_cancelled};

use crate::ids::SourceServerId;
use crate::records::WaveRecord;
use crate::status_model::LaunchStatus;
use crate::time::{Timestamp, after};
use std::collections::BTreeMap;
use std::time::Duration;

/// Instance id → source server, for the servers with an instance.
pub(super) fn instance_index(wave: &WaveRecord) -> BTreeMap<String, SourceServerId> {
    wave.servers
        .iter()
        .filter_map(|s| s.launched_instance_id.clone().map(|i| (i, s.id().clone())))
        .collect()
}

pub(super) fn live_indices(wave: &WaveRecord) -> Vec<usize> {
    wave.servers
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.launch_status == LaunchStatus::Launched && s.launched_instance_id.is_some()
        })
        .map(|(i, _)| i)
        .collect()
}

pub(super) fn deadline(start: Option<Timestamp>, limit: Duration) -> Option<Timestamp> {
    start.map(|s| after(s, limit))
}
