//! Ripcord's core: the plan, the typed events, the pure state machine, the
//! status view, the ports (traits) every piece of I/O sits behind, and the
//! embedded (SQLite) and simulated (DRS/EC2/SSM) adapters.
//!
//! The modules read as the design (see `DESIGN.md` in the shared folder):
//! - [`plan`]: the recovery plan file: parse and validate.
//! - [`event`]: the envelope and the event enum passed between workers.
//! - [`machine`]: the records the store keeps and the pure `decide`.
//! - [`status`]: the seed-000 camelCase status view, aggregated on read.
//! - [`health`]: a deployment's health: worker polls, stuck executions, DLQs.
//! - [`report`]: the drill report (measured RTO; JSON, Markdown, HTML, SVG).
//! - [`ports`]: traits for queues, the execution store, DRS, EC2 and SSM.
//! - [`embedded`]: queues and store in one SQLite file.
//! - [`contract`]: the suites every adapter must pass.
//! - [`sim`]: an in-process DRS/EC2/SSM simulator driven by a scenario file.
//! - `testing` (feature `testing`): fixture records for other crates' tests.

/// The suites every adapter must pass.
pub mod contract;
pub mod embedded;
pub mod event;
pub mod eventbridge;
pub mod health;
pub mod ids;
pub mod machine;
pub mod plan;
pub mod ports;
pub mod report;
pub mod service_error;
pub mod sim;
pub mod status;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod trigger;
