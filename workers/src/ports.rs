//! The ports a worker needs, bundled. Which adapters fill them (embedded
//! and simulated, or AWS) is chosen by the CLI; the workers never know.

use ripcord::ports::{
    Announcer, Clock, CommandRunner, ExecutionStore, InstanceDirectory, MetricsSink,
    RecoveryService, TriggerLog, WorkQueue, WorkerHeartbeats,
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
    pub drs: Arc<dyn RecoveryService>,
    pub ec2: Arc<dyn InstanceDirectory>,
    pub ssm: Arc<dyn CommandRunner>,
    pub metrics: Arc<dyn MetricsSink>,
    pub announcer: Arc<dyn Announcer>,
    pub clock: Arc<dyn Clock>,
}
