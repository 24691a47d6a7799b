//! How well a deployment, a worker kind or a service is, and how a span
//! of time reads in `/healthz`'s sentences: shared by the health checks
//! (`health.rs`) and the judgement of recent outcomes (`outcomes.rs`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthLevel {
    /// Every kind of worker polls, nothing is stuck, nothing is dead.
    Healthy,
    /// Work goes on, but something needs a look: a stuck execution or dead
    /// letters.
    Degraded,
    /// A kind of worker is missing: the executions that need it cannot move.
    Unhealthy,
}

/// `seconds` as `3m 10s`.
pub(crate) fn human_seconds(seconds: f64) -> String {
    humantime::format_duration(Duration::from_secs(seconds.round() as u64)).to_string()
}
