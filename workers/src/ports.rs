//! The ports a worker needs, bundled. Which adapters fill them (embedded
//! and simulated, or AWS) is chosen by the CLI; the workers never know.

use crate::call_log::CallLog;
use crate::describe::Describes;
use crate::preflight::PreflightPorts;
use ripcord::capacity::Quotas;
use ripcord::ports::{
    Announcer, CapacityLedger, Clock, CommandRunner, ExecutionStore, InstanceDirectory,
    MetricsSink, RecoveryService, SubmissionLog, TriggerLog, WorkQueue, WorkerHeartbeats,
};
use std::sync::Arc;

#[derive(Clone)]
pub struct Ports {
    pub queue: Arc<dyn WorkQueue>,
    pub store: Arc<dyn ExecutionStore>,
    /// Where each worker writes its heartbeat as it polls.
    pub heartbeats: Arc<dyn WorkerHeartbeats>,
    /// What became of each runbook trigger (the launch worker's inbound path).
    pub trigger_log: Arc<dyn TriggerLog>,
    /// The markers of queued starts (`ripcord status` says "queued").
    pub submissions: Arc<dyn SubmissionLog>,
    /// The DRS capacity every launch of the deployment takes from.
    pub capacity: Arc<dyn CapacityLedger>,
    /// The DRS quotas the ledger admits against (docs/capacity.md).
    pub quotas: Quotas,
    pub drs: Arc<dyn RecoveryService>,
    pub ec2: Arc<dyn InstanceDirectory>,
    pub ssm: Arc<dyn CommandRunner>,
    pub metrics: Arc<dyn MetricsSink>,
    pub announcer: Arc<dyn Announcer>,
    pub clock: Arc<dyn Clock>,
    /// The process's shared reads of DRS and EC2 (batched across waves).
    pub describes: Arc<Describes>,
    /// The region the deployment launches in (pre-flight checks the plan's).
    pub region: String,
    /// How this process' calls to each service were answered (the
    /// heartbeats carry it to `/healthz`).
    pub calls: Arc<CallLog>,
}

impl Ports {
    /// What pre-flight reads through.
    pub fn preflight(&self) -> PreflightPorts {
        PreflightPorts {
            drs: self.drs.clone(),
            capacity: self.capacity.clone(),
            clock: self.clock.clone(),
            quotas: self.quotas,
            region: self.region.clone(),
        }
    }
}
