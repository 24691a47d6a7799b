//! Pre-flight: what would make a plan's launch fail or disappoint, found
//! before any wave launches (docs/preflight.md).
//!
//! The checks are pure: [`check`] reads a plan and the facts a worker
//! gathered from DRS and the capacity ledger ([`PreflightFacts`]) and
//! returns findings, each with a severity and what to do. `ripcord
//! preflight`, `POST /api/preflight` and the automatic check before an
//! execution's first wave all run these same checks.

mod checks;
mod widest;

pub use checks::check;
pub use widest::{Concurrent, widest_concurrent};

use crate::capacity::{BusyServer, CapacityUsage};
use crate::ids::SourceServerId;
use crate::services::drs::{RecoveryInstance, SourceServer};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How bad a finding is. Errors stop a start whose pre-flight blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Which check found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckName {
    /// The plan's region is not the deployment's.
    Region,
    /// DRS in the region has no such source server.
    ServerExists,
    /// The server does not replicate continuously.
    Replication,
    /// The server's replication lag against the plan's `max_replication_lag`.
    ReplicationLag,
    /// The newest recovery snapshot's age: the data a launch now would lose.
    SnapshotAge,
    /// Another active execution holds the server.
    ServerBusy,
    /// A recovery instance of the server exists (an earlier drill's).
    LeftoverInstance,
    /// The waves that can run at once against the DRS quotas.
    QuotaHeadroom,
    /// A wave's `select.tags` or `recovery_snapshot: { before }`, resolved
    /// against DRS: what it took, or why it cannot be resolved.
    Selection,
    /// A fact could not be read; the check it feeds did not run.
    Unchecked,
}

/// One thing pre-flight found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    pub check: CheckName,
    /// The wave it is about, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub server: Option<SourceServerId>,
    pub message: String,
    pub what_to_do: String,
}

/// What pre-flight found for one plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub checked_at: Timestamp,
    pub servers_checked: usize,
    /// Errors first, then warnings, then information; by wave and server.
    pub findings: Vec<Finding>,
}

impl PreflightReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// "2 errors, 1 warning" (or "no findings").
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (Severity::Error, "error"),
            (Severity::Warning, "warning"),
            (Severity::Info, "note"),
        ]
        .iter()
        .filter_map(|(s, name)| match self.count(*s) {
            0 => None,
            1 => Some(format!("1 {name}")),
            n => Some(format!("{n} {name}s")),
        })
        .collect();
        if parts.is_empty() {
            "no findings".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// What the checks read, gathered by a worker (or the CLI, or the API)
/// through the ports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PreflightFacts {
    /// The region the deployment launches in; empty where it is not known
    /// (the simulator answers for any region), and the region check is
    /// skipped.
    pub region: String,
    /// The plan's servers DRS described; a server missing here does not
    /// exist in the region.
    pub servers: BTreeMap<SourceServerId, SourceServer>,
    /// The newest recovery snapshot's time per server whose snapshots were
    /// read (`None`: it has none). A server whose read failed is absent,
    /// and counted in `unreadable`, never taken for one without snapshots.
    pub newest_snapshots: BTreeMap<SourceServerId, Option<Timestamp>>,
    /// Recovery instances that exist for the plan's servers.
    pub recovery_instances: Vec<RecoveryInstance>,
    /// The plan's servers other active executions hold.
    pub busy: Vec<BusyServer>,
    /// The DRS capacity in use now, and the quotas.
    pub capacity: CapacityUsage,
    /// Facts that could not be read, and why (e.g. snapshots throttled).
    pub unreadable: Vec<Unreadable>,
    pub now: Timestamp,
}

/// A fact pre-flight could not read: what, with the error, and what kind
/// of failure it was, which decides what to do about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    pub what: String,
    pub cause: UnreadableCause,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnreadableCause {
    /// DRS throttled the reads: a busy account, not a broken one.
    Throttled,
    /// DRS answered another error (permissions, 5xx, the network).
    Drs,
    /// The store (the capacity ledger) could not be read.
    Store,
}

impl UnreadableCause {
    /// The cause of a failed DRS read.
    pub fn of(error: &crate::service_error::ServiceError) -> Self {
        match error.class {
            crate::service_error::ErrorClass::Throttling => Self::Throttled,
            _ => Self::Drs,
        }
    }

    /// What the operator can do about it.
    pub fn what_to_do(self) -> &'static str {
        match self {
            Self::Throttled => {
                "DRS throttled these reads (a busy account; the launch itself backs off and retries): run pre-flight again in a few minutes"
            }
            Self::Drs => {
                "run pre-flight again; if this persists, check the caller's DRS permissions (infra/iam/)"
            }
            Self::Store => {
                "check that the workers can reach the store (the DynamoDB table, or the database file), then run pre-flight again"
            }
        }
    }
}

#[cfg(test)]
mod tests;
