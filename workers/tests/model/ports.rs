//! The ports the real worker step runs on in the property tests, all in
//! memory and all answering at once, so one poll of the step's future runs
//! it to the end: the versioned [`InMemoryStore`] (held to the store
//! contract) with the invariants checked on every save, a queue whose sends
//! land in a list the harness delivers from in whatever order its schedule
//! says, the model [`World`] behind the DRS, EC2 and SSM ports with its
//! faults, and a [`ManualClock`] the harness moves.
//!
//! Every call first passes the [`Gate`], which counts the step's port
//! calls and can make one of them never return: the harness then drops the
//! step's future, which is what a `kill -9` at that point does.

use super::invariants;
use super::world::World;
use async_trait::async_trait;
use ripcord::capacity::{Ledger, Quotas};
use ripcord::event::{Envelope, Event};
use ripcord::ids::{EventId, ExecutionId, SourceServerId, WaveNumber};
use ripcord::ports::CapacityLedger;
use ripcord::ports::Receive;
use ripcord::ports::announce::{Announcement, Announcer};
use ripcord::ports::clock::ManualClock;
use ripcord::ports::drs::{
    JobLogItem, RecoveryInstance, RecoveryJob, RecoveryService, RecoverySnapshot, SourceServer,
    StartRecoveryRequest,
};
use ripcord::ports::ec2::{Ec2Instance, InstanceDirectory, InstanceStatus};
use ripcord::ports::metrics::{MetricDatum, MetricsSink};
use ripcord::ports::queue::{OutgoingMessage, QueueError, QueueName, ReceivedMessage, WorkQueue};
use ripcord::ports::ssm::{
    AgentInfo, CommandInvocation, CommandRunner, SendCommandRequest, SentCommand,
};
use ripcord::ports::store::{
    CreateOutcome, ExecutionPage, ExecutionQuery, ExecutionStore, StoreError, Versioned,
};
use ripcord::records::{ExecutionRecord, Journal, WaveRecord};
use ripcord::service_error::ServiceError;
use ripcord::status_model::ExecutionStatus;
use ripcord::time::{Timestamp, after};
use ripcord_contract::InMemoryStore;
use ripcord_workers::ports::Ports;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// How the first AWS call of a step fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// 429: nothing happened.
    Throttle,
    /// 500 after the call took effect (a job or command exists anyway).
    Ambiguous,
    /// 400: nothing happened, and retrying cannot help.
    Permanent,
}

/// Where the worker dies during a step. The message stays queued and is
/// delivered again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashAt {
    /// The `n`-th port call of the step (from 1) never returns: every call
    /// before it completed, nothing after it runs. A step that makes fewer
    /// calls ends, and the worker dies before deleting the message.
    Call(usize),
    /// The call after the `nth` call named `name` never returns.
    After(&'static str, usize),
}

#[derive(Default)]
struct GateState {
    calls: Vec<&'static str>,
    crash: Option<CrashAt>,
    crashed: bool,
    fault: Option<Fault>,
    /// The `nth` call named so takes effect, but its answer is lost.
    lost_answer: Option<(&'static str, usize)>,
}

/// Counts a step's port calls, hangs the one a crash is set for, and hands
/// the step's fault to its first AWS call.
#[derive(Default)]
pub struct Gate {
    state: Mutex<GateState>,
}

impl Gate {
    fn state(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a step.
    pub fn arm(&self, fault: Fault, crash: Option<CrashAt>) {
        *self.state() = GateState {
            crash,
            fault: Some(fault),
            ..GateState::default()
        };
    }

    /// The step's `nth` call to `name` (a save) takes effect but its answer
    /// is lost: the store adapter's own retry of the write that landed
    /// (the SDK retries a 500 or a timeout) finds the version moved and
    /// reports a version conflict.
    pub fn lose_answer(&self, name: &'static str, nth: usize) {
        self.state().lost_answer = Some((name, nth));
    }

    /// Whether the answer of the call just passed is lost.
    fn answer_lost(&self) -> bool {
        let s = self.state();
        s.lost_answer.is_some_and(|(name, nth)| {
            s.calls.last() == Some(&name) && s.calls.iter().filter(|c| **c == name).count() == nth
        })
    }

    /// Ends a step; returns its port calls in order.
    pub fn disarm(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.state()).calls
    }

    pub fn crashed(&self) -> bool {
        self.state().crashed
    }

    /// Every port call goes through here first.
    async fn pass(&self, call: &'static str) {
        let hang = {
            let mut s = self.state();
            let hang = match s.crash {
                Some(CrashAt::Call(n)) => s.calls.len() + 1 == n,
                Some(CrashAt::After(name, nth)) => {
                    s.calls.last() == Some(&name)
                        && s.calls.iter().filter(|c| **c == name).count() == nth
                }
                None => false,
            };
            s.calls.push(call);
            s.crashed |= hang;
            hang
        };
        if hang {
            std::future::pending::<()>().await;
        }
    }

    /// The fault for this AWS call: the step's, used up by its first call.
    fn take_fault(&self) -> Fault {
        self.state().fault.take().unwrap_or(Fault::None)
    }
}

/// Polls `step` with a waker that does nothing until it is ready, or until
/// the gate hung one of its calls: then the future is dropped, and nothing
/// after that call ever runs. `None` means the worker died.
pub fn drive<F: Future>(step: F, gate: &Gate) -> Option<F::Output> {
    let mut step = std::pin::pin!(step);
    let mut cx = Context::from_waker(Waker::noop());
    // Every port answers at once: a poll that is not ready either hit the
    // crash or yielded (a lost version race, which a harness with one
    // worker never has); a few hundred polls cover the step's retries.
    for _ in 0..1_000 {
        if let Poll::Ready(out) = step.as_mut().poll(&mut cx) {
            return Some(out);
        }
        if gate.crashed() {
            return None;
        }
    }
    panic!("the step neither finished nor crashed in 1000 polls: it waits on something");
}

/// A call that answers at once, outside the step (the harness' own reads).
pub fn now_ready<F: Future>(f: F) -> F::Output {
    drive(f, &Gate::default()).expect("an in-memory call answers at once")
}

/// A message the step sent, waiting for the harness to deliver it.
#[derive(Clone, Debug)]
pub struct Queued {
    pub envelope: Envelope,
    pub due: Timestamp,
    pub order: u64,
}

#[derive(Default)]
pub struct Outbox {
    pub messages: Vec<Queued>,
    sent: u64,
}

impl Outbox {
    pub fn push(&mut self, envelope: Envelope, due: Timestamp) {
        self.sent += 1;
        self.messages.push(Queued {
            envelope,
            due,
            order: self.sent,
        });
    }
}

/// What the harness and the ports share.
pub struct Shared {
    pub gate: Gate,
    pub clock: Arc<ManualClock>,
    pub world: Mutex<World>,
    pub store: InMemoryStore,
    /// The DRS capacity ledger the launches take from.
    pub ledger: Arc<InMemoryStore>,
    pub outbox: Mutex<Outbox>,
    /// The metrics worker's messages (announcements, metrics): sent, never
    /// decided.
    pub to_metrics: Mutex<Vec<Envelope>>,
    pub announced: Mutex<Vec<Announcement>>,
    pub metrics: Mutex<Vec<MetricDatum>>,
    /// The message whose step runs now.
    pub root: Mutex<Option<EventId>>,
    /// Delivered messages whose step saved a record journaling them.
    pub applied: Mutex<BTreeSet<EventId>>,
    /// Every follow-up a saved journal holds (the outbox): only these may
    /// be sent (invariant 3).
    pub outboxed: Mutex<BTreeSet<EventId>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(world: World, now: Timestamp) -> Arc<Self> {
        Arc::new(Self {
            gate: Gate::default(),
            clock: Arc::new(ManualClock::new(now)),
            world: Mutex::new(world),
            store: InMemoryStore::new(),
            ledger: Arc::new(InMemoryStore::new()),
            outbox: Mutex::default(),
            to_metrics: Mutex::default(),
            announced: Mutex::default(),
            metrics: Mutex::default(),
            root: Mutex::default(),
            applied: Mutex::default(),
            outboxed: Mutex::default(),
        })
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    pub fn outbox(&self) -> MutexGuard<'_, Outbox> {
        lock(&self.outbox)
    }

    pub fn now(&self) -> Timestamp {
        ripcord::ports::Clock::now(self.clock.as_ref())
    }

    /// The worker's ports over this state.
    pub fn ports(self: &Arc<Self>) -> Ports {
        Ports {
            queue: Arc::new(ModelQueue(self.clone())),
            store: Arc::new(CheckedStore(self.clone())),
            drs: Arc::new(ModelDrs(self.clone())),
            ec2: Arc::new(ModelEc2(self.clone())),
            ssm: Arc::new(ModelSsm(self.clone())),
            metrics: Arc::new(ModelMetrics(self.clone())),
            announcer: Arc::new(ModelAnnouncer(self.clone())),
            clock: self.clock.clone(),
            // The step neither beats nor reads triggers (the loop and the
            // inbound path do): stores of their own, outside the gate.
            heartbeats: Arc::new(InMemoryStore::new()),
            trigger_log: Arc::new(InMemoryStore::new()),
            submissions: Arc::new(InMemoryStore::new()),
            capacity: Arc::new(CheckedLedger(self.clone())),
            quotas: MODEL_QUOTAS,
            describes: Arc::new(ripcord_workers::describe::Describes::with_window(
                std::time::Duration::ZERO,
            )),
            region: "us-east-1".into(),
            calls: Default::default(),
        }
    }

    /// Notes what a saved `journal` holds: whether it journaled the
    /// running step's message, and the follow-ups in its outbox.
    fn note_saved(&self, journal: &Journal) {
        if let Some(root) = *lock(&self.root)
            && journal.contains(root)
        {
            lock(&self.applied).insert(root);
        }
        // The journal keeps its entries to itself; its serialized form
        // shows every follow-up's envelope.
        let mut outboxed = lock(&self.outboxed);
        collect_envelope_ids(
            &serde_json::to_value(journal).expect("a journal serializes"),
            &mut outboxed,
        );
    }
}

fn collect_envelope_ids(value: &serde_json::Value, ids: &mut BTreeSet<EventId>) {
    match value {
        serde_json::Value::Object(fields) => {
            if let Some(id) = fields.get("envelope").and_then(|e| e.get("eventId")) {
                ids.insert(serde_json::from_value(id.clone()).expect("an event id"));
            }
            fields.values().for_each(|v| collect_envelope_ids(v, ids));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_envelope_ids(v, ids)),
        _ => {}
    }
}

/// The events `effects::perform` returns: a step decides them inline, and
/// hands them to their queue only when it cannot. They are no decision's
/// follow-ups, so no outbox holds them.
fn is_effect_result(event: &Event) -> bool {
    matches!(
        event,
        Event::RecoveryJobStarted { .. }
            | Event::RecoveryStartFailed { .. }
            | Event::WaveObserved { .. }
            | Event::PollFailed { .. }
            | Event::ActionSent { .. }
            | Event::ActionSendFailed { .. }
            | Event::HealthCommandsSent { .. }
            | Event::HealthCommandsFailed { .. }
            | Event::PostLaunchObserved { .. }
            | Event::PostLaunchCheckFailed { .. }
    )
}

/// The in-memory store, with the invariants checked on every save against
/// the record it replaces and the world.
pub struct CheckedStore(Arc<Shared>);

#[async_trait]
impl ExecutionStore for CheckedStore {
    async fn create_execution(
        &self,
        execution: &ExecutionRecord,
        waves: &[WaveRecord],
    ) -> Result<CreateOutcome, StoreError> {
        self.0.gate.pass("create_execution").await;
        let outcome = self.0.store.create_execution(execution, waves).await?;
        if outcome == CreateOutcome::Created {
            let (world, now) = (self.0.world(), self.0.now());
            for w in waves {
                invariants::check_wave(&world, now, None, w);
            }
            invariants::check_execution(None, execution, waves);
            self.0.note_saved(&execution.journal);
        }
        Ok(outcome)
    }

    async fn load_execution(
        &self,
        id: ExecutionId,
    ) -> Result<Option<Versioned<ExecutionRecord>>, StoreError> {
        self.0.gate.pass("load_execution").await;
        self.0.store.load_execution(id).await
    }

    async fn load_wave(
        &self,
        id: ExecutionId,
        wave: WaveNumber,
    ) -> Result<Option<Versioned<WaveRecord>>, StoreError> {
        self.0.gate.pass("load_wave").await;
        self.0.store.load_wave(id, wave).await
    }

    async fn load_waves(&self, id: ExecutionId) -> Result<Vec<WaveRecord>, StoreError> {
        self.0.gate.pass("load_waves").await;
        self.0.store.load_waves(id).await
    }

    async fn save_execution(
        &self,
        record: &ExecutionRecord,
        expected: u64,
    ) -> Result<u64, StoreError> {
        self.0.gate.pass("save_execution").await;
        let old = self.0.store.load_execution(record.id).await?;
        let version = self.0.store.save_execution(record, expected).await?;
        let waves = self.0.store.load_waves(record.id).await?;
        invariants::check_execution(old.as_ref().map(|v| &v.record), record, &waves);
        self.0.note_saved(&record.journal);
        if self.0.gate.answer_lost() {
            return Err(StoreError::VersionConflict {
                what: format!("execution {} (its answer lost)", record.id),
                expected,
            });
        }
        Ok(version)
    }

    async fn save_wave(&self, record: &WaveRecord, expected: u64) -> Result<u64, StoreError> {
        self.0.gate.pass("save_wave").await;
        let old = self
            .0
            .store
            .load_wave(record.execution_id, record.number)
            .await?;
        let version = self.0.store.save_wave(record, expected).await?;
        invariants::check_wave(
            &self.0.world(),
            self.0.now(),
            old.as_ref().map(|v| &v.record),
            record,
        );
        self.0.note_saved(&record.journal);
        if self.0.gate.answer_lost() {
            return Err(StoreError::VersionConflict {
                what: format!("wave {} (its answer lost)", record.number),
                expected,
            });
        }
        Ok(version)
    }

    async fn list_executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, StoreError> {
        self.0.gate.pass("list_executions").await;
        self.0.store.list_executions(query).await
    }

    async fn count_executions(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        self.0.gate.pass("count_executions").await;
        self.0.store.count_executions().await
    }
}

/// Sends land in the outbox, due after their delay on the manual clock;
/// the harness delivers from there. A step only ever sends: receiving,
/// deleting and dead-lettering are the receive loop's, which the harness
/// plays itself.
pub struct ModelQueue(Arc<Shared>);

const NOT_THE_STEPS: &str =
    "the worker step only sends; the harness delivers, deletes and redelivers messages itself";

#[async_trait]
impl WorkQueue for ModelQueue {
    async fn send(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), QueueError> {
        self.0.gate.pass("send").await;
        let now = self.0.now();
        for m in messages {
            // Through the wire format, as a real queue carries it.
            let envelope = Envelope::decode(&m.body).expect("a sent message decodes");
            assert_eq!(envelope.event.queue(), queue, "sent to the wrong queue");
            assert!(
                is_effect_result(&envelope.event)
                    || lock(&self.0.outboxed).contains(&envelope.event_id),
                "invariant 3 broken: {} {} was sent before the decision that caused it was saved with it in its outbox",
                envelope.event.type_name(),
                envelope.event_id
            );
            if queue == QueueName::Metrics {
                lock(&self.0.to_metrics).push(envelope);
            } else {
                self.0.outbox().push(envelope, after(now, m.delay));
            }
        }
        Ok(())
    }

    async fn receive(&self, _: QueueName, _: Receive) -> Result<Vec<ReceivedMessage>, QueueError> {
        panic!("{NOT_THE_STEPS}")
    }

    async fn delete(&self, _: QueueName, _: &[String]) -> Result<(), QueueError> {
        panic!("{NOT_THE_STEPS}")
    }

    async fn extend_visibility(
        &self,
        _: QueueName,
        _: &str,
        _: std::time::Duration,
    ) -> Result<(), QueueError> {
        panic!("{NOT_THE_STEPS}")
    }

    async fn dead_letter(
        &self,
        _: QueueName,
        _: &ReceivedMessage,
        _: &str,
    ) -> Result<(), QueueError> {
        panic!("{NOT_THE_STEPS}")
    }
}

fn fault_error(fault: Fault, service: &str, operation: &str) -> ServiceError {
    let code = match fault {
        Fault::Throttle => "ThrottlingException",
        Fault::Ambiguous => "InternalServerException",
        Fault::Permanent | Fault::None => "ValidationException",
    };
    ServiceError::from_code(service, operation, code, "injected by the model")
}

/// Runs one AWS call against the world with the step's fault: a throttle
/// or a 400 fails before the call does anything, an ambiguous 5xx after it
/// took effect.
async fn aws_call<T>(
    shared: &Shared,
    (port_call, service, operation): (&'static str, &str, &str),
    call: impl FnOnce(&mut World, Timestamp) -> T,
) -> Result<T, ServiceError> {
    shared.gate.pass(port_call).await;
    let fault = shared.gate.take_fault();
    if matches!(fault, Fault::Throttle | Fault::Permanent) {
        return Err(fault_error(fault, service, operation));
    }
    let now = shared.now();
    let out = call(&mut shared.world(), now);
    if fault == Fault::Ambiguous {
        return Err(fault_error(fault, service, operation));
    }
    Ok(out)
}

/// DRS over the world.
pub struct ModelDrs(Arc<Shared>);

#[async_trait]
impl RecoveryService for ModelDrs {
    async fn start_recovery(
        &self,
        request: &StartRecoveryRequest,
    ) -> Result<RecoveryJob, ServiceError> {
        aws_call(&self.0, ("start_recovery", "drs", "StartRecovery"), |world, now| {
            let job = world.start_recovery(request, now);
            assert!(
                world.most_jobs_per_attempt() <= 1,
                "invariant 2 broken: the world holds two jobs for one wave attempt after StartRecovery {:?}",
                request.tags
            );
            job
        })
        .await
    }

    async fn find_jobs_by_tags(
        &self,
        tags: &BTreeMap<String, String>,
        since: Timestamp,
    ) -> Result<Vec<RecoveryJob>, ServiceError> {
        aws_call(
            &self.0,
            ("find_jobs_by_tags", "drs", "DescribeJobs"),
            |world, now| world.find_jobs_by_tags(tags, since, now),
        )
        .await
    }

    async fn describe_jobs(&self, job_ids: &[String]) -> Result<Vec<RecoveryJob>, ServiceError> {
        aws_call(
            &self.0,
            ("describe_jobs", "drs", "DescribeJobs"),
            |world, now| {
                job_ids
                    .iter()
                    .map(|id| {
                        world.describe_job(id, now).unwrap_or_else(|| {
                            panic!(
                                "model: the machine polls job {id}, which the world never started"
                            )
                        })
                    })
                    .collect()
            },
        )
        .await
    }

    async fn describe_job_log_items(&self, job_id: &str) -> Result<Vec<JobLogItem>, ServiceError> {
        aws_call(
            &self.0,
            ("describe_job_log_items", "drs", "DescribeJobLogItems"),
            |world, now| world.job_log(job_id, now),
        )
        .await
    }

    async fn describe_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        aws_call(
            &self.0,
            (
                "describe_recovery_instances",
                "drs",
                "DescribeRecoveryInstances",
            ),
            |world, now| world.describe_recovery_instances(recovery_instance_ids, now),
        )
        .await
    }

    async fn describe_source_servers(
        &self,
        ids: &[SourceServerId],
    ) -> Result<Vec<SourceServer>, ServiceError> {
        aws_call(
            &self.0,
            ("describe_source_servers", "drs", "DescribeSourceServers"),
            |world, _| world.source_servers(ids),
        )
        .await
    }

    async fn describe_recovery_instances_of_servers(
        &self,
        source_server_ids: &[SourceServerId],
    ) -> Result<Vec<RecoveryInstance>, ServiceError> {
        aws_call(
            &self.0,
            (
                "describe_recovery_instances_of_servers",
                "drs",
                "DescribeRecoveryInstances",
            ),
            |world, now| world.recovery_instances_of(source_server_ids, now),
        )
        .await
    }

    async fn list_source_servers(&self) -> Result<Vec<SourceServer>, ServiceError> {
        aws_call(
            &self.0,
            ("list_source_servers", "drs", "DescribeSourceServers"),
            |world, _| world.all_source_servers(),
        )
        .await
    }

    /// The model world keeps no point-in-time snapshots: every launch is
    /// from the latest data.
    async fn describe_recovery_snapshots(
        &self,
        source_server_id: &SourceServerId,
        _before: Option<Timestamp>,
    ) -> Result<Vec<RecoverySnapshot>, ServiceError> {
        // Every server has one snapshot, taken five minutes ago: the model
        // is about steps and crashes, not about recovery points.
        aws_call(
            &self.0,
            (
                "describe_recovery_snapshots",
                "drs",
                "DescribeRecoverySnapshots",
            ),
            |_, now| {
                let taken = now - chrono::Duration::minutes(5);
                vec![RecoverySnapshot {
                    snapshot_id: format!("pit-{}", &source_server_id.as_str()[2..]),
                    source_server_id: source_server_id.clone(),
                    expected_timestamp: taken,
                    timestamp: Some(taken),
                }]
            },
        )
        .await
    }

    async fn terminate_recovery_instances(
        &self,
        recovery_instance_ids: &[String],
    ) -> Result<String, ServiceError> {
        aws_call(
            &self.0,
            (
                "terminate_recovery_instances",
                "drs",
                "TerminateRecoveryInstances",
            ),
            |world, now| world.terminate(recovery_instance_ids, now),
        )
        .await?
    }
}

/// EC2 over the world.
pub struct ModelEc2(Arc<Shared>);

#[async_trait]
impl InstanceDirectory for ModelEc2 {
    async fn describe_instances(&self, ids: &[String]) -> Result<Vec<Ec2Instance>, ServiceError> {
        aws_call(
            &self.0,
            ("describe_instances", "ec2", "DescribeInstances"),
            |world, now| world.describe_instances(ids, now),
        )
        .await
    }

    async fn describe_instance_status(
        &self,
        ids: &[String],
    ) -> Result<Vec<InstanceStatus>, ServiceError> {
        aws_call(
            &self.0,
            ("describe_instance_status", "ec2", "DescribeInstanceStatus"),
            |world, now| world.describe_instance_status(ids, now),
        )
        .await
    }
}

/// SSM over the world.
pub struct ModelSsm(Arc<Shared>);

#[async_trait]
impl CommandRunner for ModelSsm {
    async fn send_command(
        &self,
        request: &SendCommandRequest,
    ) -> Result<SentCommand, ServiceError> {
        aws_call(
            &self.0,
            ("send_command", "ssm", "SendCommand"),
            |world, now| world.send_command(request, now),
        )
        .await
    }

    async fn list_command_invocations(
        &self,
        command_id: &str,
    ) -> Result<Vec<CommandInvocation>, ServiceError> {
        aws_call(
            &self.0,
            ("list_command_invocations", "ssm", "ListCommandInvocations"),
            |world, now| world.list_command_invocations(command_id, now),
        )
        .await
    }

    async fn find_commands(
        &self,
        comment: &str,
        since: Timestamp,
    ) -> Result<Vec<SentCommand>, ServiceError> {
        aws_call(
            &self.0,
            ("find_commands", "ssm", "ListCommands"),
            |world, _| world.find_commands(comment, since),
        )
        .await
    }

    async fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AgentInfo>, ServiceError> {
        aws_call(
            &self.0,
            (
                "describe_instance_information",
                "ssm",
                "DescribeInstanceInformation",
            ),
            |world, now| world.describe_instance_information(instance_ids, now),
        )
        .await
    }
}

/// Metrics are kept; the step publishes none (the metrics worker does).
/// DRS quotas tight enough that waves running side by side contend for
/// them (a wave has at most 5 servers: any one fits alone).
pub const MODEL_QUOTAS: Quotas = Quotas {
    concurrent_jobs: 2,
    servers_in_active_jobs: 6,
    servers_per_job: 5,
};

/// The capacity ledger behind the gate (a crash may fall between its read
/// and its write), checked at every save: never more held than the quotas
/// allow (invariant 12).
pub struct CheckedLedger(Arc<Shared>);

#[async_trait]
impl CapacityLedger for CheckedLedger {
    async fn load_ledger(&self) -> Result<Versioned<Ledger>, StoreError> {
        self.0.gate.pass("load_ledger").await;
        self.0.ledger.load_ledger().await
    }

    async fn save_ledger(&self, ledger: &Ledger, expected: u64) -> Result<u64, StoreError> {
        self.0.gate.pass("save_ledger").await;
        let (servers, jobs) = ledger.in_use();
        assert!(
            servers <= MODEL_QUOTAS.servers_in_active_jobs && jobs <= MODEL_QUOTAS.concurrent_jobs,
            "invariant 12 broken: the ledger would hold {servers} servers in {jobs} jobs: {ledger:?}"
        );
        self.0.ledger.save_ledger(ledger, expected).await
    }
}

pub struct ModelMetrics(Arc<Shared>);

#[async_trait]
impl MetricsSink for ModelMetrics {
    async fn put_metrics(&self, data: &[MetricDatum]) -> Result<(), ServiceError> {
        self.0.gate.pass("put_metrics").await;
        lock(&self.0.metrics).extend_from_slice(data);
        Ok(())
    }
}

/// Announcements are kept; the step sends them to the metrics queue instead.
pub struct ModelAnnouncer(Arc<Shared>);

#[async_trait]
impl Announcer for ModelAnnouncer {
    async fn announce(&self, announcements: &[Announcement]) -> Result<(), ServiceError> {
        self.0.gate.pass("announce").await;
        lock(&self.0.announced).extend_from_slice(announcements);
        Ok(())
    }
}
