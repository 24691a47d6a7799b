//! The four workers (launch, poll, post-actions, metrics) and the pieces the
//! `ripcord` CLI puts together.
//!
//! - [`step`]: one worker step: load → decide → save → perform the effects → send the follow-ups → decide the results.
//! - [`effects`]: performs the effects `decide` returns through the ports
//!   ([`cleanup`]: those of a drill clean-up).
//! - [`worker`]: the receive loop around the step, per queue.
//! - [`metrics`]: the metrics worker's step.
//! - [`sweep`]: the metrics workers' sweep for running waves whose poll was lost.
//! - [`ports`]: the bundle of ports a worker runs on.
//! - [`call_log`]: this process' calls to each service, for `/healthz`.
//! - [`bench`]: the figures `ripcord bench` prints.
//! - [`render`]: the CLI's live progress and final table.
//! - [`queued`]: starts queued but not yet taken up by a launch worker.
//! - [`liveness`]: the file a worker touches as it polls, for container health checks.
//! - [`reports`]: drill reports written to files (`ripcord report`, `run`, metrics worker).
//! - [`fault_injection`]: a worker's opt-in fault-injection knobs, for chaos runs.

pub mod backend;
pub mod bench;
pub mod bench_scale;
pub mod call_log;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod describe;
pub mod effects;
pub mod engine;
pub mod fault_injection;
pub mod inbound;
pub mod liveness;
pub mod metrics;
pub mod operator_args;
pub mod ports;
pub mod preflight;
pub mod push;
pub mod queued;
pub mod read_again;
pub mod render;
pub mod reports;
pub mod select;
pub mod serve;
pub mod step;
pub mod sweep;
pub mod telemetry;
pub mod worker;
