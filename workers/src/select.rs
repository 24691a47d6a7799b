//! Resolving a plan's selections against DRS, once, when it is submitted
//! (`ripcord run`, `ripcord start`, `POST /api/executions`, a runbook
//! trigger, and pre-flight to show them): every source server listed once
//! if a wave selects by tags, then each `recovery_snapshot: { before }`
//! server's snapshots up to its time, a few at once. The choices are pure
//! (`ripcord::selection`); the resolved plan is what the execution's
//! records keep, so a retried launch uses the same servers and snapshots.

use futures_util::{StreamExt, stream};
use ripcord::plan::{Plan, PlanErrors};
use ripcord::ports::RecoveryService;
use ripcord::selection::{Selected, choose_snapshots, resolve_tags, snapshots_wanted};
use ripcord::service_error::ServiceError;
use std::collections::BTreeMap;

/// DescribeRecoverySnapshots calls in flight at once (one per server).
pub const SNAPSHOT_READS_AT_ONCE: usize = 8;

/// Why a plan's selections could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The plan asks for what DRS does not have (no server carries the
    /// tags, too many do, no snapshot that old): the user must change it.
    #[error("{0}")]
    Plan(PlanErrors),
    /// DRS could not be read; trying again may help.
    #[error(
        "could not read DRS to resolve the plan's selections ({0}); check the credentials, the region and the permissions drs:DescribeSourceServers and drs:DescribeRecoverySnapshots, then submit the plan again"
    )]
    Drs(ServiceError),
}

/// A plan with its selections resolved, and what each selection took.
#[derive(Debug)]
pub struct Resolved {
    pub plan: Plan,
    pub selected: Vec<Selected>,
}

/// Resolves `plan`'s tag selections and snapshot choices against `drs`;
/// `file` names the plan in errors. A plan with nothing to resolve (or
/// resolved already) is returned as it is, without a call.
pub async fn resolve(
    drs: &dyn RecoveryService,
    plan: Plan,
    file: &str,
) -> Result<Resolved, SelectError> {
    if !plan.needs_resolution() {
        return Ok(Resolved {
            plan,
            selected: Vec::new(),
        });
    }
    let selects = plan
        .waves
        .iter()
        .any(|w| w.select.as_ref().is_some_and(|s| s.resolved.is_none()));
    let (plan, selected) = if selects {
        let inventory = drs.list_source_servers().await.map_err(SelectError::Drs)?;
        resolve_tags(plan, &inventory, file).map_err(SelectError::Plan)?
    } else {
        (plan, Vec::new())
    };
    let reads = stream::iter(snapshots_wanted(&plan))
        .map(|(id, before)| async move {
            let found = drs.describe_recovery_snapshots(&id, Some(before)).await;
            (id, found)
        })
        .buffer_unordered(SNAPSHOT_READS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    let mut found = BTreeMap::new();
    for (id, snapshots) in reads {
        found.insert(id, snapshots.map_err(SelectError::Drs)?);
    }
    let plan = choose_snapshots(plan, &found, file).map_err(SelectError::Plan)?;
    Ok(Resolved { plan, selected })
}
