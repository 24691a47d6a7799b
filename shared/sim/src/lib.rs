//! The DRS/EC2/SSM simulator, driven by a scenario file.
//!
//! [`Simulator`] implements [`RecoveryService`](ripcord::ports::RecoveryService),
//! [`InstanceDirectory`](ripcord::ports::InstanceDirectory) and
//! [`CommandRunner`](ripcord::ports::CommandRunner) in process, so a drill runs on
//! a machine with no AWS account. Every time is read from the [`Clock`] port and
//! state is computed lazily from it on each call: a job records when each of its
//! servers will be done, and a call made later sees the server done. No
//! background task is needed for correctness; [`push`] adds an optional one that
//! pushes launch results the way DRS does through EventBridge.
//!
//! - [`scenario`]: the scenario file (behaviour per server, commands, faults).
//! - `drs`, `ec2`, `ssm`: the three ports over the shared state;
//!   `snapshots`: the point-in-time snapshots each server holds.
//! - [`faults`]: seeded error injection.
//! - [`push`]: the launch-result pusher.
//! - `timeline`: the jobs over time, and the most active at once.
//! - [`world_store`]: where the mutable state ([`SimState`]) lives: this
//!   process' memory, or a database file several processes share.
//!
//! Tests read what was asked of the simulator through [`Simulator::calls`] and
//! [`Simulator::start_recovery_calls`].

mod commands;
mod drs;
mod ec2;
pub mod faults;
mod jobs;
mod launch_results;
pub mod push;
pub mod scenario;
mod simulator;
mod snapshots;
mod ssm;
mod state;
mod timeline;
pub mod world_store;

pub use commands::{CommandRecord, InvocationRecord};
pub use jobs::{JobDetail, JobOrigin, LastLaunch};
pub use launch_results::{LaunchResult, LaunchResultSink};
pub use scenario::{
    Operation, Scenario, ScenarioError, ScenarioSource, load_scenario, parse_scenario,
};
pub use simulator::Simulator;
pub use state::{SimState, StartOutcome, StartRecoveryCall};
pub use timeline::{LaunchTimeline, PeakLoad, peak_load};
pub use world_store::{InMemoryWorld, SimWorldError, SimWorldStore};

#[cfg(test)]
mod test_support;
