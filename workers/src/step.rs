//! One worker step (docs/architecture.md, "One worker step"): load the record an event is about,
//! decide, save conditionally with the event id and its follow-ups
//! journaled, perform the effects, send the follow-ups, and decide the
//! effects' results in turn. The caller deletes the message only after this returns
//! Ok: everything it caused is durable by then (invariant 3, docs/invariants.md).

use crate::effects;
use crate::ports::Ports;
use ripcord::event::{Envelope, FollowUp};
use ripcord::ids::EventId;
use ripcord::ids::WaveNumber;
use ripcord::machine::{Change, Decision, State, Target, decide, target};
use ripcord::ports::queue::QueueError;
use ripcord::ports::store::{CreateOutcome, StoreError};
use ripcord::recent::StepClass;
use ripcord::records::Journal;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use tracing::{Instrument, debug, info, warn};

/// How often a save that lost a version race is decided again.
const MAX_CONFLICT_RETRIES: u32 = 20;

/// How many result events one message may decide inline.
const MAX_INLINE_RESULTS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(
        "execution {execution} has no wave {wave}; the message is about a wave the plan does not have"
    )]
    NoSuchWave {
        execution: ripcord::ids::ExecutionId,
        wave: WaveNumber,
    },
    #[error("the record kept changing under this worker ({0} tries); the message will be retried")]
    Contention(u32),
}

impl StepError {
    /// Errors that no retry of the same message can fix: dead-letter it.
    pub fn is_poison(&self) -> bool {
        match self {
            StepError::NoSuchWave { .. } => true,
            // A follow-up no queue would carry: the same step makes it again.
            StepError::Queue(e) => e.is_permanent(),
            _ => false,
        }
    }
}

/// What becomes of a message whose handling failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No retry can help: dead-letter the message with this reason.
    Poison(String),
    /// Leave it: it comes back after its visibility timeout.
    Retry(String),
}

impl Failure {
    pub fn retry(e: impl std::fmt::Display) -> Self {
        Failure::Retry(e.to_string())
    }
}

impl From<StepError> for Failure {
    fn from(e: StepError) -> Self {
        if e.is_poison() {
            Failure::Poison(e.to_string())
        } else {
            Failure::Retry(e.to_string())
        }
    }
}

/// What happened to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Applied,
    /// Seen before: its journaled follow-ups were sent again.
    Duplicate,
    Ignored(String),
}

/// What one message did: how the event was handled and how many events
/// (it and the results of its effects) were decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub handled: Handled,
    pub decided: usize,
    /// The worst error the effects' results reported, by class
    /// (`Succeeded`: none): how the step counts in `/healthz`.
    pub effects: StepClass,
}

/// Handles `envelope` and every result event its effects produce.
///
/// A follow-up that could not be sent fails the step after everything else
/// was done: the message is then redelivered, found a duplicate, and the
/// follow-ups journaled for it and for every result decided in its step
/// are sent again. Effects are never performed twice this way.
pub async fn handle(ports: &Ports, envelope: Envelope) -> Result<Report, StepError> {
    let root = envelope.event_id;
    let first = apply(ports, &envelope, None).await?;
    let mut send_error = first.send_error;
    let mut effects = effects_class(&first.results);
    let mut pending: VecDeque<Envelope> = first.results.into();
    let mut decided = 1;
    while let Some(result) = pending.pop_front() {
        if decided > MAX_INLINE_RESULTS {
            pending.push_front(result);
            break;
        }
        decided += 1;
        match apply(ports, &result, Some(root)).await {
            Ok(step) => {
                effects = effects.max(effects_class(&step.results));
                pending.extend(step.results);
                send_error = send_error.or(step.send_error);
            }
            Err(e) if !e.is_poison() => {
                // Hand the result to its queue rather than lose it.
                warn!(event_id = %result.event_id, error = %e, "deciding a result inline failed; queueing it");
                pending.push_front(result);
                break;
            }
            Err(e) => return Err(e),
        }
    }
    if !pending.is_empty() {
        let follow_ups: Vec<FollowUp> = pending
            .into_iter()
            .map(|envelope| FollowUp {
                envelope,
                delay: Duration::ZERO,
            })
            .collect();
        send(ports, &follow_ups).await?;
    }
    if let Some(e) = send_error {
        return Err(e.into());
    }
    Ok(Report {
        handled: first.handled,
        decided,
        effects,
    })
}

/// The worst class among the errors effects' results report.
fn effects_class(results: &[Envelope]) -> StepClass {
    results
        .iter()
        .filter_map(|r| ripcord::effect_results::reported_error(&r.event))
        .map(StepClass::of_error)
        .max()
        .unwrap_or(StepClass::Succeeded)
}

struct Applied {
    handled: Handled,
    results: Vec<Envelope>,
    /// Sending the follow-ups failed (they are journaled).
    send_error: Option<QueueError>,
}

/// Load → decide → save → perform effects → send follow-ups, for one
/// event; `root` is the queued message whose step decides it inline.
async fn apply(
    ports: &Ports,
    envelope: &Envelope,
    root: Option<EventId>,
) -> Result<Applied, StepError> {
    let span = tracing::debug_span!(
        "decide",
        decided_event_id = %envelope.event_id,
        decided_event = envelope.event.type_name(),
    );
    apply_in(ports, envelope, root).instrument(span).await
}

async fn apply_in(
    ports: &Ports,
    envelope: &Envelope,
    root: Option<EventId>,
) -> Result<Applied, StepError> {
    for _ in 0..MAX_CONFLICT_RETRIES {
        let (state, version) = load(ports, envelope).await?;
        if let Some(journal) = journal(&state)
            && journal.contains(envelope.event_id)
        {
            // A redelivery, or this very step's save whose answer was lost
            // (the write landed; the store's retry of it found the version
            // moved). Either way what the decision sent may not have gone
            // out: send it again, for a result decided inline too, or a
            // poll it re-armed dies here (the AWS worker stall, issue 14).
            debug!(
                inline = root.is_some(),
                "already decided; re-sending the follow-ups journaled for it"
            );
            send(ports, &journal.follow_ups_of_step(envelope.event_id)).await?;
            return Ok(Applied {
                handled: Handled::Duplicate,
                results: Vec::new(),
                send_error: None,
            });
        }
        let now = ports.clock.now();
        let decision = decide(&state, envelope, now);
        for r in &decision.rejected {
            warn!(rejected = %r, "invalid transition refused");
        }
        let Decision {
            change,
            effects,
            follow_ups,
            ignored,
            ..
        } = decision;
        let Some(change) = change else {
            let reason = ignored.unwrap_or_default();
            if matches!(state, State::Absent) {
                // Late timers of a deleted execution, or a mistyped id.
                warn!(%reason, "event for an unknown execution ignored");
            } else {
                debug!(%reason, "event changed nothing");
            }
            return Ok(Applied {
                handled: Handled::Ignored(reason),
                results: Vec::new(),
                send_error: None,
            });
        };
        match save(ports, change, envelope, root, &follow_ups, version, now).await {
            Ok(()) => {}
            Err(StoreError::VersionConflict { .. }) => {
                tokio::task::yield_now().await;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        // The intent is durable: perform the effects, then send. An effect
        // is never lost to a failed send (the redelivery re-sends).
        let mut results = Vec::with_capacity(effects.len());
        for (index, effect) in effects.iter().enumerate() {
            results.push(effects::perform(ports, envelope, index, effect).await);
        }
        let send_error = send(ports, &follow_ups).await.err();
        if let Some(e) = &send_error {
            warn!(error = %e, "sending follow-ups failed; they are journaled and go again on redelivery");
        }
        return Ok(Applied {
            handled: Handled::Applied,
            results,
            send_error,
        });
    }
    Err(StepError::Contention(MAX_CONFLICT_RETRIES))
}

async fn load(ports: &Ports, envelope: &Envelope) -> Result<(State, u64), StepError> {
    let id = envelope.execution_id;
    Ok(match target(envelope) {
        Target::Execution => match ports.store.load_execution(id).await? {
            Some(v) => (State::Execution(v.record), v.version),
            None => (State::Absent, 0),
        },
        Target::Wave(n) => match ports.store.load_wave(id, n).await? {
            Some(v) => (State::Wave(v.record), v.version),
            None => {
                if ports.store.load_execution(id).await?.is_some() {
                    return Err(StepError::NoSuchWave {
                        execution: id,
                        wave: n,
                    });
                }
                (State::Absent, 0)
            }
        },
    })
}

fn journal(state: &State) -> Option<&Journal> {
    match state {
        State::Absent => None,
        State::Execution(e) => Some(&e.journal),
        State::Wave(w) => Some(&w.journal),
    }
}

async fn save(
    ports: &Ports,
    change: Change,
    envelope: &Envelope,
    root: Option<EventId>,
    follow_ups: &[FollowUp],
    version: u64,
    now: ripcord::time::Timestamp,
) -> Result<(), StoreError> {
    let id = envelope.event_id;
    match change {
        Change::Create {
            mut execution,
            waves,
        } => {
            execution
                .journal
                .record_caused(id, root, now, follow_ups.to_vec());
            match ports.store.create_execution(&execution, &waves).await? {
                CreateOutcome::Created => {
                    info!(plan = %execution.plan_name, waves = waves.len(), "execution created");
                    Ok(())
                }
                // Someone else created it: decide again against theirs.
                CreateOutcome::AlreadyExists => Err(StoreError::VersionConflict {
                    what: format!("execution {}", execution.id),
                    expected: 0,
                }),
            }
        }
        Change::Execution(mut execution) => {
            execution
                .journal
                .record_caused(id, root, now, follow_ups.to_vec());
            ports
                .store
                .save_execution(&execution, version)
                .await
                .map(|_| ())
        }
        Change::Wave(mut wave) => {
            wave.journal
                .record_caused(id, root, now, follow_ups.to_vec());
            ports.store.save_wave(&wave, version).await.map(|_| ())
        }
    }
}

/// Sends follow-ups, one batch per queue, delays converted to wall-clock.
pub async fn send(ports: &Ports, follow_ups: &[FollowUp]) -> Result<(), QueueError> {
    let mut by_queue: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for f in follow_ups {
        let delay = ports.clock.to_real(f.delay);
        by_queue
            .entry(f.queue())
            .or_default()
            .push(f.envelope.to_message(delay));
    }
    for (queue, messages) in by_queue {
        ports.queue.send(queue, messages).await?;
    }
    Ok(())
}
