//! A worker: reads one queue and runs each message through one step.
//! Cross-cutting work wraps the step instead of living in it: the tracing
//! span (execution id, wave, event id on every line), the visibility
//! extension while a step runs, the step deadline, a panicking step caught
//! and its message released, dead-lettering what cannot be processed.
//! Each step's outcome is counted by class in the worker's recent window,
//! which its heartbeat carries with the process' service calls (`/healthz`).
//!
//! A worker takes a permit for each message before it receives it, so a
//! received message starts its step, and the extension of its visibility,
//! at once: none waits hidden for a free slot while its visibility runs out.

use crate::inbound::{self, TriggerSettings};
use crate::metrics;
use crate::ports::Ports;
use crate::reports;
use crate::step::{self, Failure, Handled, Report};
use crate::telemetry::{StepOutcome, WorkerTelemetry};
use futures_util::FutureExt;
use ripcord::event::{Envelope, Event};
use ripcord::eventbridge::EventBridgeEvent;
use ripcord::ports::Receive;
use ripcord::ports::heartbeats::WorkerHeartbeat;
use ripcord::ports::queue::{MAX_BODY_BYTES, QueueName, ReceivedMessage};
use ripcord::recent::{Recent, StepClass, StepCounts};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinError;
use tracing::{Instrument, debug, error, info, info_span, warn};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Messages per receive (SQS allows 10).
    pub batch: usize,
    /// Steps run at once by this worker.
    pub concurrency: usize,
    /// How long a received message stays hidden; extended while it runs.
    pub visibility: Duration,
    /// Long-poll wait per receive.
    pub wait: Duration,
    /// The longest one step may run. A step still running then is given up
    /// as if the worker had crashed there (the invariants cover a crash at
    /// any point): its message is no longer kept hidden and comes back to
    /// any worker. Without it a call that never returns would hold the
    /// message, and a permit of this worker, for ever.
    pub step_timeout: Duration,
    /// How runbook triggers are judged (launch worker).
    pub triggers: TriggerSettings,
    /// How often the worker writes its heartbeat (for `/healthz`) while it
    /// polls.
    pub heartbeat_every: Duration,
    /// Metrics worker: where to write each execution's drill report once
    /// it settles (none: no report files).
    pub report_dir: Option<std::path::PathBuf>,
    /// A file touched with each heartbeat, for container health checks
    /// (`ripcord healthcheck`, [`crate::liveness`]).
    pub liveness_file: Option<std::path::PathBuf>,
    /// The deployment's name (its resource name prefix): the `Deployment`
    /// dimension of the metrics an alarm watches.
    pub deployment: String,
    /// Metrics worker: how often it sweeps for records whose next message
    /// was lost (`crate::sweep`); zero: never.
    pub sweep_every: Duration,
}

/// Above the longest run of one step's calls: each SDK call attempt has
/// 45 s (`ripcord_aws::config`), and retried calls take a few attempts.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(300);

/// How often a metrics worker sweeps: well inside the shortest time a wave
/// counts as stuck (`ripcord::machine::MIN_OVERDUE`, a minute past due).
pub const DEFAULT_SWEEP_EVERY: Duration = Duration::from_secs(60);

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch: 10,
            concurrency: 8,
            visibility: Duration::from_secs(30),
            wait: Duration::from_secs(1),
            step_timeout: DEFAULT_STEP_TIMEOUT,
            triggers: TriggerSettings::default(),
            heartbeat_every: Duration::from_secs(5),
            report_dir: None,
            liveness_file: None,
            deployment: "ripcord".to_owned(),
            sweep_every: DEFAULT_SWEEP_EVERY,
        }
    }
}

/// A name for one worker of this process, unique across hosts and
/// processes: host, process id, kind, and a counter for the engines one
/// process runs (tests run many).
fn worker_id(queue: QueueName) -> String {
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}:{}:{queue}:{n}",
        crate::call_log::host_name(),
        std::process::id()
    )
}

/// How this worker's steps ended, per minute: shared by its step tasks and
/// carried by its heartbeat.
#[derive(Clone, Default)]
struct StepWindow(Arc<Mutex<Recent<StepCounts>>>);

impl StepWindow {
    fn count(&self, class: StepClass) {
        let now = chrono::Utc::now();
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(now, |c| c.count(class));
    }

    fn read(&self) -> Recent<StepCounts> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Writes this worker's heartbeat at most every `config.heartbeat_every`,
/// with its recent steps and its process' calls.
struct Heartbeat {
    beat: WorkerHeartbeat,
    written: Option<std::time::Instant>,
    steps: StepWindow,
}

impl Heartbeat {
    fn new(queue: QueueName) -> Self {
        let now = chrono::Utc::now();
        Self {
            beat: WorkerHeartbeat {
                kind: queue,
                worker_id: worker_id(queue),
                started_at: now,
                last_poll: now,
                messages: 0,
                stopped_at: None,
                steps: Recent::default(),
                calls: None,
            },
            written: None,
            steps: StepWindow::default(),
        }
    }

    /// The latest steps and calls, into the heartbeat about to be written.
    fn refresh(&mut self, ports: &Ports) {
        self.beat.steps = self.steps.read();
        self.beat.calls = ports.calls.snapshot();
    }

    async fn polled(&mut self, ports: &Ports, config: &WorkerConfig, received: usize) {
        self.beat.messages += received as u64;
        if self
            .written
            .is_some_and(|at| at.elapsed() < config.heartbeat_every)
        {
            return;
        }
        if let Some(path) = &config.liveness_file
            && let Err(e) = crate::liveness::touch(path)
        {
            warn!(queue = %self.beat.kind, path = %path.display(), error = %e, "could not touch the liveness file; the container's health check will fail");
        }
        // Wall-clock time even on a simulated clock: this says the process
        // is alive.
        self.beat.last_poll = chrono::Utc::now();
        self.written = Some(std::time::Instant::now());
        self.refresh(ports);
        let written = ports.heartbeats.record_heartbeat(&self.beat).await;
        ports.calls.port_call(&written);
        if let Err(e) = written {
            warn!(queue = %self.beat.kind, error = %e, "could not write the worker's heartbeat");
        }
    }

    /// A clean stop: the heartbeat says the worker polls no more, so a
    /// command queued after it knows nothing will take it up (a killed
    /// worker's heartbeat just ages).
    async fn stopped(&mut self, ports: &Ports) {
        self.beat.stopped_at = Some(chrono::Utc::now());
        self.refresh(ports);
        if let Err(e) = ports.heartbeats.record_heartbeat(&self.beat).await {
            warn!(queue = %self.beat.kind, error = %e, "could not write the worker's last heartbeat");
        }
    }
}

/// Runs the worker for `queue` until `shutdown` turns true, then finishes
/// the steps under way.
pub async fn run(
    ports: Ports,
    queue: QueueName,
    config: WorkerConfig,
    telemetry: WorkerTelemetry,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    // Nothing stuck for ever: the metrics workers sweep (crate::sweep).
    let sweeper = (queue == QueueName::Metrics && !config.sweep_every.is_zero()).then(|| {
        tokio::spawn(crate::sweep::run(
            ports.clone(),
            config.sweep_every,
            telemetry.clone(),
            shutdown.clone(),
        ))
    });
    let mut heartbeat = Heartbeat::new(queue);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let first = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = shutdown.changed() => break,
        };
        let mut held = vec![first];
        while held.len() < config.batch.max(1)
            && let Ok(p) = permits.clone().try_acquire_owned()
        {
            held.push(p);
        }
        let ask = Receive {
            max: held.len(),
            visibility: config.visibility,
            wait: config.wait,
        };
        let received = tokio::select! {
            r = ports.queue.receive(queue, ask) => r,
            _ = shutdown.changed() => break,
        };
        ports.calls.port_call(&received);
        let messages = match received {
            Ok(m) => {
                telemetry.polled(queue);
                heartbeat.polled(&ports, &config, m.len()).await;
                m
            }
            Err(e) => {
                error!(%queue, error = %e, "receive failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        for message in messages {
            let permit = held
                .pop()
                .expect("a queue returns no more messages than asked for");
            let ports = ports.clone();
            let config = config.clone();
            let telemetry = telemetry.clone();
            let steps = heartbeat.steps.clone();
            tasks.spawn(async move {
                let class = process(&ports, queue, &config, &telemetry, message).await;
                steps.count(class);
                drop(permit);
            });
        }
        // The permits of messages not received go back here.
        drop(held);
        while let Some(ended) = tasks.try_join_next() {
            task_ended(queue, &telemetry, &heartbeat.steps, ended);
        }
    }
    while let Some(ended) = tasks.join_next().await {
        task_ended(queue, &telemetry, &heartbeat.steps, ended);
    }
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    heartbeat.stopped(&ports).await;
}

/// A task that panicked outside its step (a step's own panic is caught in
/// [`settle`], with its ids) is logged and counted, never dropped silently.
fn task_ended(
    queue: QueueName,
    telemetry: &WorkerTelemetry,
    steps: &StepWindow,
    ended: Result<(), JoinError>,
) {
    if let Err(e) = ended
        && e.is_panic()
    {
        error!(%queue, panic = %panic_text(e.into_panic().as_ref()), "a worker task panicked outside its step: a bug in Ripcord; its message comes back after its visibility timeout");
        telemetry.step_ended(queue, StepOutcome::Panicked, Duration::ZERO);
        steps.count(StepClass::Abandoned);
    }
}

/// The text a panic was raised with.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// One message: decode, handle, delete — or dead-letter with the reason.
/// Returns how the step ended, by class (docs/monitoring.md).
pub async fn process(
    ports: &Ports,
    queue: QueueName,
    config: &WorkerConfig,
    telemetry: &WorkerTelemetry,
    message: ReceivedMessage,
) -> StepClass {
    if message.body.len() > MAX_BODY_BYTES {
        let reason = format!(
            "the message is {} bytes, over the {MAX_BODY_BYTES} bytes a Ripcord message may be, so it was not read; Ripcord never sends one this large: find the program that put it on the {queue} queue",
            message.body.len()
        );
        dead_letter_unread(ports, queue, telemetry, &message, &reason).await;
        return StepClass::Permanent;
    }
    let envelope = match Envelope::decode(&message.body) {
        Ok(e) => e,
        Err(_) if let Some(event) = EventBridgeEvent::parse(&message.body) => {
            return process_inbound(ports, queue, config, telemetry, &message, &event).await;
        }
        Err(e) => {
            dead_letter_unread(ports, queue, telemetry, &message, &e.to_string()).await;
            return StepClass::Permanent;
        }
    };
    if envelope.attempt > 1 {
        telemetry.retry_received(queue, envelope.event.type_name());
    }
    let span = info_span!(
        "step",
        execution_id = %envelope.execution_id,
        wave = envelope.wave.map(|w| w.0),
        event_id = %envelope.event_id,
        event = envelope.event.type_name(),
        %queue,
    );
    settle(
        ports,
        queue,
        config,
        telemetry,
        &message,
        handle(ports, config, envelope),
    )
    .instrument(span)
    .await
}

/// Dead-letters a message no step could read, with the reason.
async fn dead_letter_unread(
    ports: &Ports,
    queue: QueueName,
    telemetry: &WorkerTelemetry,
    message: &ReceivedMessage,
    reason: &str,
) {
    warn!(%queue, message_id = %message.message_id, %reason, "unreadable message; dead-lettering it");
    telemetry.step_ended(queue, StepOutcome::DeadLettered, Duration::ZERO);
    if let Err(e) = ports.queue.dead_letter(queue, message, reason).await {
        error!(error = %e, "dead-lettering failed; the message will come back");
    }
}

/// An EventBridge event (a runbook trigger, a DRS launch result).
async fn process_inbound(
    ports: &Ports,
    queue: QueueName,
    config: &WorkerConfig,
    telemetry: &WorkerTelemetry,
    message: &ReceivedMessage,
    event: &EventBridgeEvent,
) -> StepClass {
    let span = info_span!(
        "inbound",
        eventbridge_id = %event.id,
        source = %event.source,
        detail_type = %event.detail_type,
        %queue,
    );
    let handled = inbound::handle(ports, queue, &config.triggers, event);
    settle(ports, queue, config, telemetry, message, handled)
        .instrument(span)
        .await
}

/// Runs `handling` with the message kept hidden, then deletes the message,
/// dead-letters it, or leaves it to come back, as the outcome says. A step
/// that panics is logged with its ids and its message released at once, as
/// if this worker had crashed there (the invariants hold for a crash at any
/// point); the queue dead-letters it after its maximum receive count.
/// Returns how the step ended, by class.
async fn settle(
    ports: &Ports,
    queue: QueueName,
    config: &WorkerConfig,
    telemetry: &WorkerTelemetry,
    message: &ReceivedMessage,
    handling: impl Future<Output = Result<Report, Failure>>,
) -> StepClass {
    let began = std::time::Instant::now();
    debug!(receive_count = message.receive_count, "step started");
    let keep_hidden = extend_visibility_while_running(ports, queue, config, &message.receipt);
    let outcome = tokio::select! {
        outcome = AssertUnwindSafe(handling).catch_unwind() => match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                error!(
                    panic = %panic_text(panic.as_ref()),
                    receive_count = message.receive_count,
                    "the step panicked: a bug in Ripcord (please report it with this log). Its message is released for another try and is dead-lettered after the queue's maximum receive count"
                );
                telemetry.step_ended(queue, StepOutcome::Panicked, began.elapsed());
                if let Err(e) = ports
                    .queue
                    .extend_visibility(queue, &message.receipt, Duration::ZERO)
                    .await
                {
                    warn!(error = %e, "could not release the message; it comes back after its visibility timeout");
                }
                return StepClass::Abandoned;
            }
        },
        _ = keep_hidden => unreachable!("the visibility loop never ends"),
        () = tokio::time::sleep(config.step_timeout) => {
            error!(
                step_timeout = ?config.step_timeout,
                receive_count = message.receive_count,
                "the step did not finish in time; giving it up as if this worker had crashed: the message comes back after its visibility timeout. A call to AWS that never returns is the usual cause"
            );
            telemetry.step_ended(queue, StepOutcome::Abandoned, began.elapsed());
            return StepClass::Abandoned;
        }
    };
    let ended = match &outcome {
        Ok(Report {
            handled: Handled::Applied,
            ..
        }) => StepOutcome::Done,
        Ok(Report {
            handled: Handled::Duplicate,
            ..
        }) => StepOutcome::Duplicate,
        Ok(Report {
            handled: Handled::Ignored(_),
            ..
        }) => StepOutcome::Ignored,
        Err(Failure::Poison(_)) => StepOutcome::DeadLettered,
        Err(Failure::Retry(_)) => StepOutcome::RetryLater,
    };
    telemetry.step_ended(queue, ended, began.elapsed());
    let class = match &outcome {
        Ok(report) => report.effects,
        Err(Failure::Poison(_)) => StepClass::Permanent,
        // The store, the queue or a publish failed: the message comes back.
        Err(Failure::Retry(_)) => StepClass::ServerError,
    };
    match outcome {
        Ok(report) => {
            debug!(handled = ?report.handled, decided = report.decided, "step done");
            telemetry.decided(queue, report.decided);
            if let Err(e) = ports
                .queue
                .delete(queue, std::slice::from_ref(&message.receipt))
                .await
            {
                warn!(error = %e, "delete failed; the message will be redelivered and found a duplicate");
            }
        }
        Err(Failure::Poison(reason)) => {
            warn!(%reason, "the message cannot be processed; dead-lettering it");
            if let Err(e) = ports.queue.dead_letter(queue, message, &reason).await {
                error!(error = %e, "dead-lettering failed; the message will come back");
            }
        }
        Err(Failure::Retry(reason)) => {
            warn!(%reason, receive_count = message.receive_count, "step failed; the message will be retried");
        }
    }
    class
}

async fn handle(
    ports: &Ports,
    config: &WorkerConfig,
    envelope: Envelope,
) -> Result<Report, Failure> {
    if let Event::Announce { announcement } = &envelope.event {
        // At least once: a failed publish leaves the message to come back.
        return ports
            .announcer
            .announce(std::slice::from_ref(announcement))
            .await
            .map(|()| Report {
                handled: Handled::Applied,
                decided: 1,
                effects: StepClass::Succeeded,
            })
            .map_err(Failure::retry);
    }
    if let Event::PublishMetrics {} = envelope.event {
        metrics::publish(ports, envelope.execution_id, &config.deployment)
            .await
            .map_err(Failure::retry)?;
        if let Some(dir) = &config.report_dir {
            let written = reports::write_when_settled(ports, envelope.execution_id, dir)
                .await
                .map_err(Failure::retry)?;
            if !written.is_empty() {
                info!(files = written.len(), dir = %dir.display(), "drill report written");
            }
        }
        return Ok(Report {
            handled: Handled::Applied,
            decided: 1,
            effects: StepClass::Succeeded,
        });
    }
    Ok(step::handle(ports, envelope).await?)
}

async fn extend_visibility_while_running(
    ports: &Ports,
    queue: QueueName,
    config: &WorkerConfig,
    receipt: &str,
) {
    let every = config.visibility / 2;
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = ports
            .queue
            .extend_visibility(queue, receipt, config.visibility)
            .await
        {
            warn!(error = %e, "could not extend the message's visibility");
        }
    }
}
