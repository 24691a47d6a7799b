//! Ripcord's core: the plan, the typed events, the pure state machine, the
//! status view, the drill report, health, triggers, and the ports (traits)
//! every piece of I/O sits behind. Pure: the adapters live in their own
//! crates (`ripcord-embedded`, `ripcord-sim`, `ripcord-aws`), so a user of the
//! core compiles no database, no simulator and no AWS SDK.
//!
//! The modules read as the design (see docs/architecture.md):
//! - [`plan`]: the recovery plan file: parse and validate.
//! - [`event`]: the envelope and the event enum passed between workers;
//!   [`decode`]: why a message is not one.
//! - [`status_model`]: the status of each level and the transitions allowed.
//! - [`records`]: what the store keeps: the execution and wave records.
//! - [`machine`]: the pure `decide`.
//! - [`status`]: the camelCase status view (docs/status-model.md), aggregated on read.
//! - [`health`]: a deployment's health: worker polls, stuck executions, DLQs,
//!   step outcomes and service errors.
//! - [`recent`]: outcomes counted per minute over the last quarter hour.
//! - [`report`]: the drill report (measured RTO; JSON, Markdown, HTML, SVG).
//! - [`ports`]: traits for queues, the execution store, DRS, EC2 and SSM.
//! - [`services`]: the values those ports carry (requests, answers, messages).
//! - [`capacity`]: the deployment's DRS capacity ledger: who holds, who waits.
//! - [`cleanup`]: drill clean-up: whether a request applies, its events and calls.
//! - [`preflight`]: the checks before a launch: DRS facts against the plan.
//! - [`selection`]: a plan's `select.tags` and `recovery_snapshot: { before }`,
//!   resolved against DRS' answers once, when the plan is submitted.
//! - [`stall`]: what the sweep found lost, as a `Nudge` names it.
//! - [`reason`]: error texts and dead-letter reasons kept readable (escaped, bounded).
//! - [`effect_results`]: the ids of effects' result events and the search margin.
//! - `testing` (feature `testing`): fixture records for other crates' tests.

pub mod capacity;
pub mod cleanup;
pub mod decode;
pub mod effect_results;
pub mod event;
pub mod eventbridge;
pub mod health;
pub mod ids;
pub mod machine;
pub mod observation;
pub mod operator;
pub mod operator_action;
pub mod plan;
pub mod ports;
pub mod preflight;
pub mod reason;
pub mod recent;
pub mod records;
pub mod report;
pub mod selection;
pub mod service_error;
pub mod services;
pub mod stall;
pub mod status;
pub mod status_model;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod trigger;
