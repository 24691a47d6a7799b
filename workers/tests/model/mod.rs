//! The harness of the step property tests: it plays the receive loop around
//! the real worker step (`ripcord_workers::step::handle`), on the in-memory
//! ports of `ports.rs` over the model [`world::World`]. It delivers the
//! messages the step sent in the order its schedule says, duplicates and
//! redelivers them, kills the worker between any two port calls of a step,
//! and checks on every delivery what a redelivery may and may not do
//! (invariant 4); the ports check invariant 3 on every send and the others
//! on every save.

pub mod invariants;
pub mod ports;
pub mod world;

use ports::{CrashAt, Fault, Queued, Shared, drive, now_ready};
use ripcord::event::{Envelope, Event};
use ripcord::ids::{EventId, ExecutionId, WaveNumber};
use ripcord::machine::{Effect, State, Target, decide, target};
use ripcord::ports::ExecutionStore;
use ripcord::records::{ExecutionRecord, Journal, WaveRecord};
use ripcord::time::{Timestamp, after};
use ripcord_workers::effects;
use ripcord_workers::ports::Ports;
use ripcord_workers::step::{self, Handled};
use std::sync::{Arc, Mutex};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use world::World;

/// When every model run starts: 2025-01-06T08:00:00Z.
pub fn t0() -> Timestamp {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2025, 1, 6, 8, 0, 0)
        .single()
        .expect("a valid instant")
}

/// How one delivery ended.
#[derive(Debug)]
pub enum Delivery {
    /// The step returned Ok: the worker deletes the message.
    Handled(Handled),
    /// The step failed with an error a retry may fix: the message stays.
    Failed(String),
    /// The worker died inside the step: the message stays.
    Crashed,
}

pub struct Engine {
    pub execution_id: ExecutionId,
    pub shared: Arc<Shared>,
    ports: Ports,
    /// Every message delivered so far, for redeliveries.
    pub delivered: Vec<Envelope>,
    next_external: u128,
    /// What happened, for the failure report.
    pub trace: Vec<String>,
    /// For the next delivery: its `nth` save named so loses its answer.
    lost_answer: Option<(&'static str, usize)>,
    /// Transitions the step refused (its "invalid transition refused"
    /// warnings), caught from its log.
    refused: Arc<Mutex<Vec<String>>>,
    _log: tracing::subscriber::DefaultGuard,
}

impl Engine {
    pub fn new(execution_id: ExecutionId, world: World, now: Timestamp) -> Self {
        let shared = Shared::new(world, now);
        let refused = Arc::new(Mutex::new(Vec::new()));
        let log = tracing::subscriber::set_default(
            // Only warnings: the step's debug spans and lines cost nothing.
            tracing_subscriber::registry()
                .with(Refusals(refused.clone()).with_filter(LevelFilter::WARN)),
        );
        Self {
            execution_id,
            ports: shared.ports(),
            shared,
            delivered: Vec::new(),
            next_external: 1,
            trace: Vec::new(),
            lost_answer: None,
            refused,
            _log: log,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.shared.now()
    }

    pub fn advance(&self, d: std::time::Duration) {
        self.shared.clock.advance(d);
    }

    pub fn execution(&self) -> Option<ExecutionRecord> {
        now_ready(self.shared.store.load_execution(self.execution_id))
            .expect("load")
            .map(|v| v.record)
    }

    pub fn waves(&self) -> Vec<WaveRecord> {
        now_ready(self.shared.store.load_waves(self.execution_id)).expect("load waves")
    }

    /// The messages waiting, in send order.
    pub fn queue(&self) -> Vec<Queued> {
        self.shared.outbox().messages.clone()
    }

    /// A fresh event from outside (CLI, EventBridge), with a stable id.
    pub fn external(&mut self, wave: Option<WaveNumber>, event: Event) -> Envelope {
        let id = EventId(uuid::Uuid::from_u128(
            0xE0E0_0000_0000_0000 + self.next_external,
        ));
        self.next_external += 1;
        let mut envelope = Envelope::new(self.execution_id, wave, event, self.now());
        envelope.event_id = id;
        envelope
    }

    pub fn enqueue(&mut self, envelope: Envelope, delay: std::time::Duration) {
        let due = after(self.now(), delay);
        self.shared.outbox().push(envelope, due);
    }

    /// Queue positions ordered by due time (then by send order).
    pub fn by_due(&self) -> Vec<usize> {
        let queue = self.queue();
        let mut idx: Vec<usize> = (0..queue.len()).collect();
        idx.sort_by_key(|&i| (queue[i].due, queue[i].order));
        idx
    }

    /// Time moves on to when the message at position `i` is due.
    fn wait_for(&self, i: usize) -> Queued {
        let q = self.shared.outbox().messages[i].clone();
        if q.due > self.now() {
            self.shared.clock.set(q.due);
        }
        q
    }

    /// Delivers the message at queue position `i`; the worker deletes it
    /// unless the step failed.
    pub fn deliver_at(&mut self, i: usize, fault: Fault) {
        let q = self.wait_for(i);
        match self.deliver(&q.envelope, fault, None) {
            Delivery::Handled(_) => self.shared.outbox().messages.retain(|m| m.order != q.order),
            Delivery::Failed(reason) => self
                .trace
                .push(format!("  the step failed ({reason}); the message stays")),
            Delivery::Crashed => unreachable!("no crash was set"),
        }
    }

    /// Delivers a copy of the message at position `i`, leaving it queued.
    pub fn duplicate_at(&mut self, i: usize) {
        let q = self.wait_for(i);
        self.deliver(&q.envelope, Fault::None, None);
    }

    /// Delivers the message at position `i` to a worker that dies at
    /// `crash`. The message stays.
    pub fn crash_at(&mut self, i: usize, crash: CrashAt) -> Delivery {
        let q = self.wait_for(i);
        self.deliver(&q.envelope, Fault::None, Some(crash))
    }

    /// Delivers the message at position `i` with `fault` on its first AWS
    /// call; the step's `nth` save named `save` lands but its answer is
    /// lost. The worker deletes the message unless the step failed.
    pub fn lose_answer_at(&mut self, i: usize, fault: Fault, save: &'static str, nth: usize) {
        let q = self.wait_for(i);
        self.lost_answer = Some((save, nth));
        match self.deliver(&q.envelope, fault, None) {
            Delivery::Handled(_) => self.shared.outbox().messages.retain(|m| m.order != q.order),
            Delivery::Failed(reason) => self
                .trace
                .push(format!("  the step failed ({reason}); the message stays")),
            Delivery::Crashed => unreachable!("no crash was set"),
        }
    }

    /// The record `envelope` is about, as stored now.
    fn load(&self, envelope: &Envelope) -> State {
        let store = &self.shared.store;
        match target(envelope) {
            Target::Execution => now_ready(store.load_execution(envelope.execution_id))
                .expect("load")
                .map_or(State::Absent, |v| State::Execution(v.record)),
            Target::Wave(n) => now_ready(store.load_wave(envelope.execution_id, n))
                .expect("load")
                .map_or(State::Absent, |v| State::Wave(v.record)),
        }
    }

    /// The serialized records, to compare before and after a duplicate.
    pub fn snapshot(&self) -> String {
        serde_json::to_string(&(&self.execution(), &self.waves())).expect("records serialize")
    }

    /// One run of the worker step for `envelope`, killed at `crash`.
    pub fn deliver(
        &mut self,
        envelope: &Envelope,
        fault: Fault,
        crash: Option<CrashAt>,
    ) -> Delivery {
        self.delivered.push(envelope.clone());
        let state = self.load(envelope);
        let journaled = journal(&state).is_some_and(|j| j.contains(envelope.event_id));
        let was_applied = self
            .shared
            .applied
            .lock()
            .unwrap()
            .contains(&envelope.event_id);
        if was_applied {
            // Invariant 4: the journal catches it and nothing changes.
            assert!(
                journaled,
                "invariant 4 broken: {} {} was applied before but the journal of its record does not hold it",
                envelope.event.type_name(),
                envelope.event_id
            );
            self.check_redecide(&state, envelope);
        }
        // The step only logs a refused transition: ask `decide` here for
        // the message itself, and catch the log for the results it decides
        // inline.
        let rejected = decide(&state, envelope, self.now()).rejected;
        assert!(
            rejected.is_empty(),
            "never an invalid transition: deciding {} refused {rejected:?}",
            envelope.event.type_name()
        );
        let before = journaled.then(|| (self.snapshot(), self.shared.world().jobs.len()));

        *self.shared.root.lock().unwrap() = Some(envelope.event_id);
        self.shared.gate.arm(fault, crash);
        if let Some((save, nth)) = self.lost_answer.take() {
            self.shared.gate.lose_answer(save, nth);
        }
        let outcome = drive(
            step::handle(&self.ports, envelope.clone()),
            &self.shared.gate,
        );
        let calls = self.shared.gate.disarm();
        let delivery = match outcome {
            None => Delivery::Crashed,
            Some(Ok(report)) => Delivery::Handled(report.handled),
            Some(Err(e)) if e.is_poison() => {
                panic!("the step dead-letters {}: {e}", envelope.event.type_name())
            }
            Some(Err(e)) => Delivery::Failed(e.to_string()),
        };
        self.trace.push(format!(
            "t+{}s {} {} wave {:?} ({fault:?}, {crash:?}): {delivery:?} after {calls:?}",
            (self.now() - t0()).num_seconds(),
            if was_applied { "redeliver" } else { "deliver" },
            envelope.event.type_name(),
            envelope.wave.map(|w| w.0),
        ));
        let refused = std::mem::take(&mut *self.refused.lock().unwrap());
        assert!(
            refused.is_empty(),
            "never an invalid transition: deciding {} refused {refused:?}",
            envelope.event.type_name()
        );
        if let Some((records, jobs)) = before {
            assert_eq!(
                self.snapshot(),
                records,
                "invariant 4 broken: a duplicate {} changed a record",
                envelope.event.type_name()
            );
            assert_eq!(
                self.shared.world().jobs.len(),
                jobs,
                "invariant 4 broken: a duplicate {} started a job",
                envelope.event.type_name()
            );
            if let Delivery::Handled(handled) = &delivery {
                assert_eq!(
                    *handled,
                    Handled::Duplicate,
                    "invariant 4 broken: a journaled {} was not found a duplicate",
                    envelope.event.type_name()
                );
            }
        }
        delivery
    }

    /// Invariant 4 at the level of `decide`: an event already applied,
    /// decided again against the state it produced, never starts a second
    /// job (nor calls StartRecovery without looking for the job first).
    /// The effects run, through the worker's own `effects::perform`, on a
    /// copy of the world.
    fn check_redecide(&self, state: &State, envelope: &Envelope) {
        let now = self.now();
        let again = decide(state, envelope, now);
        assert!(
            again.rejected.is_empty(),
            "never an invalid transition: deciding {} a second time refused {:?}",
            envelope.event.type_name(),
            again.rejected
        );
        for (index, effect) in again.effects.iter().enumerate() {
            if let Effect::StartRecovery {
                reconcile_since, ..
            } = effect
            {
                assert!(
                    reconcile_since.is_some(),
                    "invariant 4 broken: {} decided a second time calls StartRecovery again without looking for the job by tag first",
                    envelope.event.type_name()
                );
                let copy = Shared::new(self.shared.world().clone(), now);
                let ports = copy.ports();
                now_ready(effects::perform(&ports, envelope, index, effect));
                assert!(
                    copy.world().most_jobs_per_attempt() <= 1,
                    "invariant 2 broken: {} decided a second time starts a second job",
                    envelope.event.type_name()
                );
            }
        }
    }
}

fn journal(state: &State) -> Option<&Journal> {
    match state {
        State::Absent => None,
        State::Execution(e) => Some(&e.journal),
        State::Wave(w) => Some(&w.journal),
    }
}

/// Catches the step's "invalid transition refused" warnings: `decide`
/// refusing a transition is a bug the step only logs.
struct Refusals(Arc<Mutex<Vec<String>>>);

#[derive(Default)]
struct Fields {
    message: String,
    rejected: String,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "rejected" => self.rejected = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Refusals {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.message == "invalid transition refused" {
            self.0.lock().unwrap().push(fields.rejected);
        }
    }
}
