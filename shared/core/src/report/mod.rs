//! The drill report: what was recovered and how fast, for one execution,
//! built from its records (pure: no I/O, no clock) and rendered as JSON
//! (`schemaVersion` 1, camelCase), Markdown, self-contained HTML, and an
//! SVG timeline. `ripcord report ID --format md|html|json` prints it;
//! `ripcord run` and the metrics worker (`--report-dir`) write it when an
//! execution settles.
//!
//! - [`model`]: the report's types (the JSON format).
//! - [`build`](build()): records → report; every figure is computed there.
//! - [`rto`]: the measured RTO per wave and overall, against `rto_target`.
//! - `content`: what the Markdown and HTML say, once, through a `Markup`.
//! - [`markdown`], [`html`], [`svg`]: the renderings.
//!
//! When a pre-flight ran, the report carries it as the status view does
//! (`preflight`: mode, when, summary, every finding with what to do) and
//! the Markdown and HTML give it a "Pre-flight" section. Once a drill
//! clean-up was requested, [`cleanup`] adds who asked, when, why, the counts
//! and every instance not terminated ("Clean-up"); the status and RTO stay.
//!
//! Definitions (the same text is printed in every rendering, see
//! [`DEFINITIONS`]); all instants are the engine's, recorded as it
//! decided, so each is at most one observation late (a poll interval, or
//! the 250 ms push coalescing when DRS' launch results are pushed):
//! - **launch time** = `launchEndTime - launchStartTime`: from the moment
//!   DRS accepted the wave's StartRecovery job (the job's PENDING time
//!   included) to the observation that saw the server's EC2 instance.
//! - **time to healthy** = `healthyTime - execution start`: when every
//!   health check of the server first passed, counted from the start of the
//!   execution (so it includes the waves before, and approvals).
//! - **wave RTO** and **overall RTO**: see [`rto`].
//! - **snapshot age** = `launchStartTime - pointInTimeSnapshot`: how old the
//!   recovered data was when the launch started, the RPO indicator.

mod build;
pub mod cleanup;
mod content;
pub mod format;
pub mod html;
pub mod markdown;
pub mod model;
mod operator;
pub mod rto;
pub mod svg;

#[cfg(test)]
mod tests;

pub use build::build;
pub use model::*;
pub use rto::{RtoMeasure, RtoOutcome};

/// The terms every rendering explains, in plain words (no markup).
pub const DEFINITIONS: [(&str, &str); 7] = [
    (
        "T+",
        "time since the execution started (its StartExecution was processed).",
    ),
    (
        "Launch time",
        "launch end minus launch start: from DRS accepting the wave's recovery job (its PENDING time included) to Ripcord seeing the server's EC2 instance.",
    ),
    (
        "Time to healthy",
        "the moment every health check of the server first passed, minus the execution's start.",
    ),
    (
        "Wave RTO",
        "when the wave was ready minus the execution's start. A COMPLETED wave is ready when its last completed server became healthy, or, for a wave without health checks, when it ended (every server launched and every action succeeded). A wave that did not complete has none.",
    ),
    (
        "Overall RTO",
        "when the last wave was ready minus the execution's start; only a COMPLETED execution has one. It is met if it is at most the plan's rto_target.",
    ),
    (
        "Snapshot age",
        "launch start minus the point-in-time snapshot DRS launched from: how old the recovered data was (the RPO indicator).",
    ),
    (
        "Precision",
        "times are recorded when Ripcord observes a change, so each can be late by up to one poll interval (or the 250 ms grouping of pushed DRS launch results).",
    ),
];

impl DrillReport {
    /// The JSON form (`--format json`), pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }
}
