//! Gathers what pre-flight checks read (DRS's view of the plan's servers,
//! their newest snapshots and leftover recovery instances, the capacity
//! ledger) and runs the checks: for `ripcord preflight`, `POST
//! /api/preflight` and the launch worker's automatic pre-flight.

use crate::read_again::{BUDGET, ReadAgain};
use crate::select::{SNAPSHOT_READS_AT_ONCE, SelectError, resolve};
use futures_util::{StreamExt, stream};
use ripcord::capacity::Quotas;
use ripcord::ids::{ExecutionId, SourceServerId};
use ripcord::plan::Plan;
use ripcord::ports::CapacityLedger;
use ripcord::ports::{Clock, RecoveryService};
use ripcord::preflight::{
    CheckName, Finding, PreflightFacts, PreflightReport, Severity, Unreadable, UnreadableCause,
    check,
};
use ripcord::service_error::ServiceError;
use ripcord::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The ports pre-flight reads through.
#[derive(Clone)]
pub struct PreflightPorts {
    pub drs: Arc<dyn RecoveryService>,
    pub capacity: Arc<dyn CapacityLedger>,
    pub clock: Arc<dyn Clock>,
    pub quotas: Quotas,
    /// The region the deployment launches in.
    pub region: String,
}

/// Runs pre-flight for `plan`; `execution` is the execution it runs for
/// (its own servers are not "busy"). Reading DRS's source servers must
/// succeed; a snapshot or recovery-instance read that fails becomes an
/// "unchecked" finding instead.
pub async fn preflight(
    ports: &PreflightPorts,
    plan: &Plan,
    execution: Option<ExecutionId>,
) -> Result<PreflightReport, ServiceError> {
    let facts = gather(ports, plan, execution).await?;
    Ok(check(plan, &facts))
}

/// Pre-flight of a plan as submitted (`ripcord preflight`, `POST
/// /api/preflight`): its selections are resolved first, as a start would
/// resolve them (`crate::select`), and shown: a note per selecting wave
/// with what it took, or an error per selection that cannot be resolved
/// (the checks then run on the servers the plan lists). `file` names the
/// plan in those errors.
pub async fn preflight_submitted(
    ports: &PreflightPorts,
    plan: &Plan,
    file: &str,
) -> Result<PreflightReport, ServiceError> {
    let (checked, mut selection) = match resolve(&*ports.drs, plan.clone(), file).await {
        Ok(resolved) => {
            let notes = resolved.selected.iter().map(|s| Finding {
                severity: Severity::Info,
                check: CheckName::Selection,
                wave: Some(s.wave.clone()),
                server: None,
                message: s.summary(),
                what_to_do: "nothing: the servers are resolved again, once, when the plan is started, and the execution keeps that list".to_owned(),
            });
            (resolved.plan.clone(), notes.collect::<Vec<_>>())
        }
        Err(SelectError::Plan(errors)) => {
            let found = errors.0.iter().map(|e| Finding {
                severity: Severity::Error,
                check: CheckName::Selection,
                wave: None,
                server: None,
                message: e.to_string(),
                what_to_do: "change the plan as the message says (or the tags in DRS); a start of this plan is refused until then".to_owned(),
            });
            (plan.clone(), found.collect())
        }
        Err(SelectError::Drs(e)) => return Err(e),
    };
    let mut report = preflight(ports, &checked, None).await?;
    selection.append(&mut report.findings);
    // Errors first, then warnings, then notes; a stable sort keeps the
    // selections ahead within each.
    selection.sort_by_key(|f| f.severity);
    report.findings = selection;
    Ok(report)
}

/// The newest recovery snapshot's time of server `id` (`None`: it has
/// none), read again while DRS throttles it (`crate::read_again`), so that
/// a busy account's throttling leaves few servers UNCHECKED.
async fn newest_snapshot(
    drs: &dyn RecoveryService,
    id: &SourceServerId,
    again: ReadAgain,
) -> Result<Option<Timestamp>, ServiceError> {
    let newest = again.read(|| drs.newest_recovery_snapshot(id)).await?;
    Ok(newest.map(|s| s.taken_at()))
}

async fn gather(
    ports: &PreflightPorts,
    plan: &Plan,
    execution: Option<ExecutionId>,
) -> Result<PreflightFacts, ServiceError> {
    let ids: Vec<SourceServerId> = plan
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .map(|s| s.id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let again = ReadAgain::within(BUDGET);
    let servers: BTreeMap<_, _> = again
        .read(|| ports.drs.describe_source_servers(&ids))
        .await?
        .into_iter()
        .map(|s| (s.source_server_id.clone(), s))
        .collect();
    let mut unreadable = Vec::new();
    let known: Vec<SourceServerId> = servers.keys().cloned().collect();
    let reads = stream::iter(known.iter().cloned())
        .map(|id| {
            let drs = ports.drs.clone();
            async move {
                let newest = newest_snapshot(&*drs, &id, again).await;
                (id, newest)
            }
        })
        .buffer_unordered(SNAPSHOT_READS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    let mut newest_snapshots = BTreeMap::new();
    let mut failed = Vec::new();
    for (id, newest) in reads {
        match newest {
            Ok(newest) => {
                newest_snapshots.insert(id, newest);
            }
            Err(e) => failed.push((id, e)),
        }
    }
    if let Some((id, e)) = failed.first() {
        // Throttled when any was: the others are then most likely too.
        let throttled = failed
            .iter()
            .any(|(_, e)| UnreadableCause::of(e) == UnreadableCause::Throttled);
        unreadable.push(Unreadable {
            what: format!(
                "the recovery snapshots of {} server(s) (first: {id}: {e})",
                failed.len()
            ),
            cause: if throttled {
                UnreadableCause::Throttled
            } else {
                UnreadableCause::Drs
            },
        });
    }
    let recovery_instances = match again
        .read(|| ports.drs.describe_recovery_instances_of_servers(&known))
        .await
    {
        Ok(found) => found,
        Err(e) => {
            unreadable.push(Unreadable {
                what: format!("recovery instances left by earlier launches ({e})"),
                cause: UnreadableCause::of(&e),
            });
            Vec::new()
        }
    };
    let now = ports.clock.now();
    let (busy, capacity) = match ports.capacity.load_ledger().await {
        Ok(loaded) => {
            let mut ledger = loaded.record;
            ledger.expire(now);
            let wanted: BTreeSet<&SourceServerId> = ids.iter().collect();
            let busy = ledger.busy_servers(&wanted, execution);
            let mut usage = ledger.usage(now);
            usage.quotas = ports.quotas;
            (busy, usage)
        }
        Err(e) => {
            unreadable.push(Unreadable {
                what: format!(
                    "the DRS capacity ledger (servers held by other executions, capacity in use): {e}"
                ),
                cause: UnreadableCause::Store,
            });
            (
                Vec::new(),
                ripcord::capacity::CapacityUsage {
                    quotas: ports.quotas,
                    ..Default::default()
                },
            )
        }
    };
    Ok(PreflightFacts {
        region: ports.region.clone(),
        servers,
        newest_snapshots,
        recovery_instances,
        busy,
        capacity,
        unreadable,
        now,
    })
}

/// The automatic pre-flight of an execution (the launch worker's
/// `Effect::Preflight`): its plan as its records hold it, checked with its
/// own servers not counted as busy.
pub async fn for_execution(
    store: &dyn ripcord::ports::ExecutionStore,
    ports: &PreflightPorts,
    execution_id: ExecutionId,
    tries: u32,
) -> ripcord::event::Event {
    use ripcord::event::Event;
    let plan = async {
        let execution = store
            .load_execution(execution_id)
            .await?
            .ok_or_else(|| format!("execution {execution_id} is not in the store"))?
            .record;
        let waves = store.load_waves(execution_id).await?;
        Ok::<Plan, Box<dyn std::error::Error + Send + Sync>>(plan_of(&execution, &waves))
    };
    let plan = match plan.await {
        Ok(plan) => plan,
        Err(e) => {
            return Event::PreflightFailed {
                tries,
                error: e.to_string(),
                throttled: false,
            };
        }
    };
    match preflight(ports, &plan, Some(execution_id)).await {
        Ok(report) => Event::PreflightChecked { tries, report },
        Err(e) => Event::PreflightFailed {
            tries,
            error: e.to_string(),
            throttled: e.class == ripcord::service_error::ErrorClass::Throttling,
        },
    }
}

/// The plan an execution runs, rebuilt from its records.
fn plan_of(
    execution: &ripcord::records::ExecutionRecord,
    waves: &[ripcord::records::WaveRecord],
) -> Plan {
    Plan {
        name: execution.plan_name.clone(),
        mode: execution.mode,
        region: execution.region.clone(),
        options: execution.options.clone(),
        waves: waves
            .iter()
            .map(|w| {
                let summary = execution.waves.iter().find(|s| s.number == w.number);
                ripcord::plan::WavePlan {
                    number: w.number,
                    name: w.name.clone(),
                    servers: w.servers.iter().map(|s| s.plan.clone()).collect(),
                    depends_on: summary.map(|s| s.depends_on.clone()).unwrap_or_default(),
                    post_launch: w.plan.post_launch.clone(),
                    health_checks: w.plan.health_checks.clone(),
                    launch_timeout: w.plan.launch_timeout,
                    health_timeout: w.plan.health_timeout,
                    wait_for_approval: summary.is_some_and(|s| s.wait_for_approval),
                    select: None,
                    recovery_snapshot: None,
                }
            })
            .collect(),
    }
}
