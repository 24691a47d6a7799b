//! A worker: reads one queue and runs each message through one step.
//! Cross-cutting work wraps the step instead of living in it: the tracing
//! span (execution id, wave, event id on every line), the visibility
//! extension while a step runs, dead-lettering what cannot be processed.

use crate::inbound::{self, TriggerSettings};
use crate::metrics;
use crate::ports::Ports;
use crate::reports;
use crate::step::{self, Failure, Handled, Report};
use crate::telemetry::{StepOutcome, WorkerTelemetry};
use ripcord::event::{Envelope, Event};
use ripcord::eventbridge::EventBridgeEvent;
use ripcord::ports::heartbeats::WorkerHeartbeat;
use ripcord::ports::queue::{QueueName, ReceivedMessage};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
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
}

/// Above the longest run of one step's calls: each SDK call attempt has
/// 45 s (`ripcord_aws::config`), and retried calls take a few attempts.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(300);

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
        }
    }
}

/// Counters a worker keeps, for `ripcord bench` and health.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Messages handled and deleted.
    pub messages: AtomicU64,
    /// Events decided: messages plus the results decided inline.
    pub decided: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub failed: AtomicU64,
    /// The same and more, for Prometheus.
    pub telemetry: WorkerTelemetry,
}

/// A name for one worker of this process, unique across hosts and
/// processes: host, process id, kind, and a counter for the engines one
/// process runs (tests run many).
fn worker_id(queue: QueueName) -> String {
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    format!("{host}:{}:{queue}:{n}", std::process::id())
}

/// Writes this worker's heartbeat at most every `config.heartbeat_every`.
struct Heartbeat {
    beat: WorkerHeartbeat,
    written: Option<std::time::Instant>,
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
            },
            written: None,
        }
    }

    async fn polled(&mut self, ports: &Ports, every: Duration, received: usize) {
        self.beat.messages += received as u64;
        if self.written.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        // Wall-clock time even on a simulated clock: this says the process
        // is alive.
        self.beat.last_poll = chrono::Utc::now();
        self.written = Some(std::time::Instant::now());
        if let Err(e) = ports.heartbeats.record_heartbeat(&self.beat).await {
            warn!(queue = %self.beat.kind, error = %e, "could not write the worker's heartbeat");
        }
    }
}

/// Runs the worker for `queue` until `shutdown` turns true, then finishes
/// the steps under way.
pub async fn run(
    ports: Ports,
    queue: QueueName,
    config: WorkerConfig,
    stats: Arc<WorkerStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut heartbeat = Heartbeat::new(queue);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let received = tokio::select! {
            r = ports.queue.receive(queue, config.batch, config.visibility, config.wait) => r,
            _ = shutdown.changed() => break,
        };
        let messages = match received {
            Ok(m) => {
                stats.telemetry.polled(queue);
                heartbeat
                    .polled(&ports, config.heartbeat_every, m.len())
                    .await;
                m
            }
            Err(e) => {
                error!(%queue, error = %e, "receive failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        for message in messages {
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore open");
            let ports = ports.clone();
            let config = config.clone();
            let stats = stats.clone();
            tasks.spawn(async move {
                process(&ports, queue, &config, &stats, message).await;
                drop(permit);
            });
        }
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

/// One message: decode, handle, delete — or dead-letter with the reason.
pub async fn process(
    ports: &Ports,
    queue: QueueName,
    config: &WorkerConfig,
    stats: &WorkerStats,
    message: ReceivedMessage,
) {
    let envelope = match Envelope::decode(&message.body) {
        Ok(e) => e,
        Err(_) if let Some(event) = EventBridgeEvent::parse(&message.body) => {
            return process_inbound(ports, queue, config, stats, &message, &event).await;
        }
        Err(e) => {
            warn!(%queue, message_id = %message.message_id, error = %e, "undecodable message; dead-lettering it");
            stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
            stats
                .telemetry
                .step_ended(queue, StepOutcome::DeadLettered, Duration::ZERO);
            if let Err(e2) = ports
                .queue
                .dead_letter(queue, &message, &e.to_string())
                .await
            {
                error!(error = %e2, "dead-lettering failed; the message will come back");
            }
            return;
        }
    };
    if envelope.attempt > 1 {
        stats
            .telemetry
            .retry_received(queue, envelope.event.type_name());
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
        stats,
        &message,
        handle(ports, config, envelope),
    )
    .instrument(span)
    .await
}

/// An EventBridge event (a runbook trigger, a DRS launch result).
async fn process_inbound(
    ports: &Ports,
    queue: QueueName,
    config: &WorkerConfig,
    stats: &WorkerStats,
    message: &ReceivedMessage,
    event: &EventBridgeEvent,
) {
    let span = info_span!(
        "inbound",
        eventbridge_id = %event.id,
        source = %event.source,
        detail_type = %event.detail_type,
        %queue,
    );
    let handled = inbound::handle(ports, queue, &config.triggers, event);
    settle(ports, queue, config, stats, message, handled)
        .instrument(span)
        .await
}

/// Runs `handling` with the message kept hidden, then deletes the message,
/// dead-letters it, or leaves it to come back, as the outcome says.
async fn settle(
    ports: &Ports,
    queue: QueueName,
    config: &WorkerConfig,
    stats: &WorkerStats,
    message: &ReceivedMessage,
    handling: impl Future<Output = Result<Report, Failure>>,
) {
    let began = std::time::Instant::now();
    debug!(receive_count = message.receive_count, "step started");
    let keep_hidden = extend_visibility_while_running(ports, queue, config, &message.receipt);
    let outcome = tokio::select! {
        outcome = handling => outcome,
        _ = keep_hidden => unreachable!("the visibility loop never ends"),
        () = tokio::time::sleep(config.step_timeout) => {
            error!(
                step_timeout = ?config.step_timeout,
                receive_count = message.receive_count,
                "the step did not finish in time; giving it up as if this worker had crashed: the message comes back after its visibility timeout. A call to AWS that never returns is the usual cause"
            );
            stats.failed.fetch_add(1, Ordering::Relaxed);
            stats
                .telemetry
                .step_ended(queue, StepOutcome::Abandoned, began.elapsed());
            return;
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
    stats.telemetry.step_ended(queue, ended, began.elapsed());
    match outcome {
        Ok(report) => {
            debug!(handled = ?report.handled, decided = report.decided, "step done");
            stats.messages.fetch_add(1, Ordering::Relaxed);
            stats
                .decided
                .fetch_add(report.decided as u64, Ordering::Relaxed);
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
            stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = ports.queue.dead_letter(queue, message, &reason).await {
                error!(error = %e, "dead-lettering failed; the message will come back");
            }
        }
        Err(Failure::Retry(reason)) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            warn!(%reason, receive_count = message.receive_count, "step failed; the message will be retried");
        }
    }
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
            })
            .map_err(Failure::retry);
    }
    if let Event::PublishMetrics {} = envelope.event {
        metrics::publish(ports, envelope.execution_id)
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
