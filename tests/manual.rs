//! A drill whose messages the test delivers by hand: no workers run; the
//! test receives each message and hands it to the real
//! [`worker::process`](ripcord_workers::worker::process), so it can hold a
//! message back, deliver it twice, or deliver a copy and compare the
//! records before and after (invariant 4, docs/invariants.md).

use crate::recording::{QueueLog, SentMessage};
use ripcord::event::Envelope;
use ripcord::ids::{EventId, ExecutionId, WaveNumber};
use ripcord::machine::{Target, target};
use ripcord::plan::load_plan;
use ripcord::ports::Receive;
use ripcord::ports::queue::{OutgoingMessage, ReceivedMessage};
use ripcord::ports::{ExecutionStore, QueueName, WorkQueue};
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord_sim::Scenario;
use ripcord_workers::engine::LocalEngine;
use ripcord_workers::ports::Ports;
use ripcord_workers::worker::{self, WorkerConfig};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a message the test waits for may take to arrive.
const PATIENCE: Duration = Duration::from_secs(15);

/// Received messages stay hidden this long, until the test processes them.
const HELD: Duration = Duration::from_secs(600);

/// The stored records of one execution, as JSON, with their versions: two
/// snapshots are equal only if nothing was written in between.
#[derive(Debug, PartialEq)]
pub struct Records {
    pub execution: (u64, serde_json::Value),
    pub waves: Vec<(u64, serde_json::Value)>,
}

impl Records {
    /// The records of execution `id` as stored now.
    pub async fn load(store: &dyn ExecutionStore, id: ExecutionId) -> Records {
        let execution = store
            .load_execution(id)
            .await
            .expect("load")
            .expect("the execution exists");
        let mut waves = Vec::new();
        for index in 0..execution.record.waves.len() {
            let wave = store
                .load_wave(id, WaveNumber::from_index(index))
                .await
                .expect("load wave")
                .expect("every wave of the execution exists");
            waves.push((wave.version, to_json(&wave.record)));
        }
        Records {
            execution: (execution.version, to_json(&execution.record)),
            waves,
        }
    }
}

pub struct ManualDrill {
    pub id: ExecutionId,
    pub engine: LocalEngine,
    /// What the workers' steps sent and acknowledged.
    pub log: Arc<QueueLog>,
    config: WorkerConfig,
    telemetry: ripcord_workers::telemetry::WorkerTelemetry,
    /// Received, not yet processed.
    inbox: Mutex<Vec<(QueueName, ReceivedMessage)>>,
    /// Every message id received so far.
    seen: Mutex<HashSet<String>>,
    _dir: tempfile::TempDir,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ManualDrill {
    /// Opens the engine for `plan` (a path under examples/) on `scenario`
    /// and sends StartExecution; nothing is processed yet.
    pub async fn start(plan: &str, scenario: Scenario) -> ManualDrill {
        let plan = load_plan(&crate::examples().join(plan)).expect("example plans are valid");
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = QueueLog::new();
        let recorder = log.clone();
        let engine =
            LocalEngine::open_with(&dir.path().join("drill.db"), scenario, move |p| Ports {
                queue: recorder.wrap(p.queue),
                ..p
            })
            .expect("database opens");
        let id = ExecutionId::new_random();
        let now = engine.ports.clock.now();
        let start = Envelope::start_execution(id, plan, "invariant-test", false, now);
        let drill = ManualDrill {
            id,
            engine,
            log,
            config: WorkerConfig::default(),
            telemetry: Default::default(),
            inbox: Mutex::new(Vec::new()),
            seen: Mutex::new(HashSet::new()),
            _dir: dir,
        };
        drill.send_body(QueueName::Launch, &start.to_json()).await;
        drill
    }

    /// The queues without the recorder: the test's own traffic.
    fn queue(&self) -> Arc<dyn WorkQueue> {
        self.engine.backend.queue()
    }

    fn store(&self) -> Arc<dyn ExecutionStore> {
        self.engine.backend.store()
    }

    async fn send_body(&self, queue: QueueName, body: &str) {
        let envelope = Envelope::decode(body).expect("a valid envelope");
        let message = OutgoingMessage {
            body: body.to_owned(),
            delay: Duration::ZERO,
            event_type: envelope.event.type_name().to_owned(),
            schema_version: envelope.schema_version,
        };
        self.queue().send(queue, vec![message]).await.expect("send");
    }

    /// Moves whatever `queue` has visible now into the inbox.
    async fn fetch(&self, queue: QueueName) {
        // Through the recorder, so that acknowledgements are logged.
        let received = self
            .engine
            .ports
            .queue
            .receive(
                queue,
                Receive {
                    max: 10,
                    visibility: HELD,
                    wait: Duration::ZERO,
                },
            )
            .await
            .expect("receive");
        let mut seen = lock(&self.seen);
        let mut inbox = lock(&self.inbox);
        for m in received {
            seen.insert(m.message_id.clone());
            inbox.push((queue, m));
        }
    }

    fn take_from_inbox(
        &self,
        queue: QueueName,
        pred: &dyn Fn(&ReceivedMessage) -> bool,
    ) -> Option<ReceivedMessage> {
        let mut inbox = lock(&self.inbox);
        let at = inbox.iter().position(|(q, m)| *q == queue && pred(m))?;
        Some(inbox.remove(at).1)
    }

    /// Waits for a message of `queue` that `pred` accepts and takes it;
    /// the others wait in the inbox, unprocessed.
    pub async fn take_message(
        &self,
        queue: QueueName,
        what: &str,
        pred: impl Fn(&ReceivedMessage) -> bool,
    ) -> ReceivedMessage {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(m) = self.take_from_inbox(queue, &pred) {
                return m;
            }
            if Instant::now() > deadline {
                panic!("no {what} arrived on the {queue} queue within {PATIENCE:?}");
            }
            self.fetch(queue).await;
            if lock(&self.inbox)
                .iter()
                .all(|(q, m)| *q != queue || !pred(m))
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// [`ManualDrill::take_message`] by the decoded envelope.
    pub async fn take(
        &self,
        queue: QueueName,
        what: &str,
        pred: impl Fn(&Envelope) -> bool,
    ) -> ReceivedMessage {
        self.take_message(queue, what, |m| {
            Envelope::decode(&m.body).is_ok_and(|e| pred(&e))
        })
        .await
    }

    /// Runs `message` through the worker of `queue`, as a worker would.
    pub async fn process(&self, queue: QueueName, message: ReceivedMessage) {
        worker::process(
            &self.engine.ports,
            queue,
            &self.config,
            &self.telemetry,
            message,
        )
        .await;
    }

    /// Sends `body` to `queue` once more and takes it back: a redelivery
    /// of a message, ready for [`ManualDrill::process`].
    pub async fn redeliver(&self, queue: QueueName, body: &str) -> ReceivedMessage {
        let before: HashSet<String> = lock(&self.seen).clone();
        self.send_body(queue, body).await;
        self.take_message(queue, "the redelivered copy", |m| {
            m.body == body && !before.contains(&m.message_id)
        })
        .await
    }

    /// Processes every message of every queue in arrival order, as the
    /// workers would, until one that `hold` accepts arrives; that one is
    /// returned unprocessed.
    pub async fn run_until(
        &self,
        what: &str,
        hold: impl Fn(&Envelope) -> bool,
    ) -> (QueueName, ReceivedMessage) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            for queue in QueueName::ALL {
                self.fetch(queue).await;
            }
            let next = {
                let mut inbox = lock(&self.inbox);
                if let Some(at) = inbox
                    .iter()
                    .position(|(_, m)| Envelope::decode(&m.body).is_ok_and(|e| hold(&e)))
                {
                    return inbox.remove(at);
                }
                (!inbox.is_empty()).then(|| inbox.remove(0))
            };
            match next {
                Some((queue, message)) => self.process(queue, message).await,
                None => {
                    if Instant::now() > deadline {
                        panic!("{what} did not happen within {PATIENCE:?}");
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
    }

    /// The execution record and its waves as stored now.
    pub async fn records(&self) -> Records {
        Records::load(self.store().as_ref(), self.id).await
    }

    pub async fn execution(&self) -> ExecutionRecord {
        self.store()
            .load_execution(self.id)
            .await
            .expect("load")
            .expect("the execution exists")
            .record
    }

    pub async fn wave(&self, n: u32) -> WaveRecord {
        self.store()
            .load_wave(self.id, WaveNumber(n))
            .await
            .expect("load wave")
            .expect("the wave exists")
            .record
    }

    /// The follow-ups journaled for the step of `envelope` (its own and
    /// those of the results decided inline in its step), by event id, in
    /// order; `None` if it is not in the journal.
    pub async fn journaled_follow_ups(&self, envelope: &Envelope) -> Option<Vec<EventId>> {
        let journal = match target(envelope) {
            Target::Execution => self.execution().await.journal,
            Target::Wave(n) => self.wave(n.0).await.journal,
        };
        if !journal.contains(envelope.event_id) {
            return None;
        }
        Some(
            journal
                .follow_ups_of_step(envelope.event_id)
                .iter()
                .map(|f| f.envelope.event_id)
                .collect(),
        )
    }

    /// Messages the workers sent after `mark` (a [`QueueLog::sent_count`]).
    pub fn sent_since(&self, mark: usize) -> Vec<SentMessage> {
        self.log.sent_since(mark)
    }
}

fn to_json<T: serde::Serialize>(record: &T) -> serde_json::Value {
    serde_json::to_value(record).expect("records serialize")
}
