//! What the workers of this process measure, in Prometheus form: steps by
//! outcome, step latencies, events decided, retries, polls. `ripcord serve`
//! and `ripcord worker --metrics-addr` expose them at `/metrics`;
//! `ripcord bench` reads the same counters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use ripcord::ports::QueueName;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// This process' waits for the embedded database file (all zero on AWS):
/// what bounds several processes on one file (`ripcord bench scale`).
fn register_contention(sub: &mut Registry) {
    let c = ripcord_embedded::contention();
    let count = |n: u64| {
        let counter: Counter = Counter::default();
        counter.inc_by(n);
        counter
    };
    let seconds = |d: Duration| {
        let counter: Counter<f64, AtomicU64> = Counter::default();
        counter.inc_by(d.as_secs_f64());
        counter
    };
    sub.register(
        "busy_retries",
        "Statements that found the file's write lock held by another process and slept before retrying",
        count(c.busy_retries),
    );
    sub.register(
        "busy_wait_seconds",
        "Time slept waiting for another process' write lock",
        seconds(c.busy_wait),
    );
    sub.register(
        "connection_wait_seconds",
        "Time tasks of this process waited for its one connection to the file",
        seconds(c.connection_wait),
    );
    sub.register(
        "sim_world_writes",
        "Simulator calls that rewrote the simulated world stored in the file",
        count(c.world_writes),
    );
    sub.register(
        "sim_world_write_seconds",
        "Time those calls took from taking the file's write lock to the end of their commit (and the WAL checkpoint a commit may set off)",
        seconds(c.world_write_time),
    );
    sub.register(
        "sim_world_write_bytes",
        "Bytes of simulated world those calls wrote",
        count(c.world_write_bytes),
    );
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub queue: &'static str,
    /// done | duplicate | ignored | dead_lettered | retry_later | abandoned | panicked
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub queue: &'static str,
    pub event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NudgeLabels {
    /// poll | start | admission | launch | post_launch_retry | wave_finished | preflight | claim
    pub kind: &'static str,
}

/// How a message's step ended, for `ripcord_worker_messages_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Done,
    Duplicate,
    Ignored,
    DeadLettered,
    /// Left to come back after its visibility timeout.
    RetryLater,
    /// Ran past the step deadline and was given up like a crash: the
    /// message comes back after its visibility timeout.
    Abandoned,
    /// The step panicked: a bug. The message is released at once for
    /// another try (after `maxReceiveCount` tries it is dead-lettered).
    Panicked,
}

impl StepOutcome {
    fn label(self) -> &'static str {
        match self {
            StepOutcome::Done => "done",
            StepOutcome::Duplicate => "duplicate",
            StepOutcome::Ignored => "ignored",
            StepOutcome::DeadLettered => "dead_lettered",
            StepOutcome::RetryLater => "retry_later",
            StepOutcome::Abandoned => "abandoned",
            StepOutcome::Panicked => "panicked",
        }
    }

    /// The outcomes whose message was deleted: its step is over for good.
    const SETTLED: [StepOutcome; 3] = [
        StepOutcome::Done,
        StepOutcome::Duplicate,
        StepOutcome::Ignored,
    ];
}

/// The worker metrics of one process (cheap to clone: the metrics are
/// shared).
#[derive(Clone, Debug)]
pub struct WorkerTelemetry {
    messages: Family<OutcomeLabels, Counter>,
    step_seconds: Family<QueueLabels, Histogram, fn() -> Histogram>,
    decided: Family<QueueLabels, Counter>,
    retries: Family<EventLabels, Counter>,
    polls: Family<QueueLabels, Counter>,
    /// Sweeps made, the waves they nudged, and every nudge by what was lost.
    sweeps: Counter,
    waves_nudged: Counter,
    nudges: Family<NudgeLabels, Counter>,
}

fn step_histogram() -> Histogram {
    // 1 ms to about 65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

impl Default for WorkerTelemetry {
    fn default() -> Self {
        Self {
            messages: Family::default(),
            step_seconds: Family::new_with_constructor(step_histogram),
            decided: Family::default(),
            retries: Family::default(),
            polls: Family::default(),
            sweeps: Counter::default(),
            waves_nudged: Counter::default(),
            nudges: Family::default(),
        }
    }
}

impl WorkerTelemetry {
    /// Adds these metrics to `registry` (prefixed `worker_`; in a registry
    /// prefixed `ripcord`, `ripcord_worker_`).
    pub fn register(&self, registry: &mut Registry) {
        let sub = registry.sub_registry_with_prefix("worker");
        sub.register(
            "messages",
            "Messages whose step ended, by queue and outcome",
            self.messages.clone(),
        );
        sub.register(
            "step_seconds",
            "Wall-clock time of one message's step (decide, effects, save, follow-ups)",
            self.step_seconds.clone(),
        );
        sub.register(
            "events_decided",
            "Events decided: each message's event plus the results of its effects decided in the same step",
            self.decided.clone(),
        );
        sub.register(
            "retries",
            "Retried steps received (attempt above 1: throttling, 5xx and other retryable errors), by event type",
            self.retries.clone(),
        );
        sub.register(
            "polls",
            "Receives made on the worker's queue",
            self.polls.clone(),
        );
        sub.register(
            "sweeps",
            "Sweeps for records whose next message was lost (metrics workers, every --sweep-every)",
            self.sweeps.clone(),
        );
        sub.register(
            "waves_nudged",
            "Wave records the sweeps found with their next message (poll, StartWave, capacity tick, launch check, post-launch retry) overdue past its bound, each sent a nudge",
            self.waves_nudged.clone(),
        );
        sub.register(
            "nudges",
            "Nudges the sweeps sent, by what was lost: poll, start, admission, launch, post_launch_retry (wave records), wave_finished, preflight, claim (execution records)",
            self.nudges.clone(),
        );
        register_contention(registry.sub_registry_with_prefix("embedded"));
    }

    pub fn step_ended(&self, queue: QueueName, outcome: StepOutcome, took: Duration) {
        let queue = queue.as_str();
        self.messages
            .get_or_create(&OutcomeLabels {
                queue,
                outcome: outcome.label(),
            })
            .inc();
        self.step_seconds
            .get_or_create(&QueueLabels { queue })
            .observe(took.as_secs_f64());
    }

    /// A sweep ended, having nudged these records.
    pub fn swept(&self, nudged: &[ripcord::machine::Stalled]) {
        self.sweeps.inc();
        for stalled in nudged {
            if stalled.lost.on_wave() {
                self.waves_nudged.inc();
            }
            self.nudges
                .get_or_create(&NudgeLabels {
                    kind: stalled.lost.kind(),
                })
                .inc();
        }
    }

    /// Nudges the sweeps of this process sent for a lost message of `kind`.
    pub fn nudges(&self, kind: &'static str) -> u64 {
        self.nudges.get_or_create(&NudgeLabels { kind }).get()
    }

    /// Waves the sweeps of this process nudged.
    pub fn waves_nudged(&self) -> u64 {
        self.waves_nudged.get()
    }

    /// A step decided `events` events (its message's and the results
    /// decided inline).
    pub fn decided(&self, queue: QueueName, events: usize) {
        self.decided
            .get_or_create(&QueueLabels {
                queue: queue.as_str(),
            })
            .inc_by(events as u64);
    }

    /// Steps of `queue` that ended with `outcome`.
    pub fn steps_ended(&self, queue: QueueName, outcome: StepOutcome) -> u64 {
        self.messages
            .get(&OutcomeLabels {
                queue: queue.as_str(),
                outcome: outcome.label(),
            })
            .map_or(0, |c| c.get())
    }

    /// Messages whose step ended and that were deleted, on every queue.
    pub fn messages_settled(&self) -> u64 {
        QueueName::ALL
            .iter()
            .flat_map(|q| {
                StepOutcome::SETTLED.iter().map(|o| OutcomeLabels {
                    queue: q.as_str(),
                    outcome: o.label(),
                })
            })
            .filter_map(|labels| self.messages.get(&labels).map(|c| c.get()))
            .sum()
    }

    /// Events decided, on every queue.
    pub fn events_decided(&self) -> u64 {
        QueueName::ALL
            .iter()
            .filter_map(|q| {
                self.decided
                    .get(&QueueLabels { queue: q.as_str() })
                    .map(|c| c.get())
            })
            .sum()
    }

    pub fn retry_received(&self, queue: QueueName, event: &'static str) {
        self.retries
            .get_or_create(&EventLabels {
                queue: queue.as_str(),
                event,
            })
            .inc();
    }

    pub fn polled(&self, queue: QueueName) {
        self.polls
            .get_or_create(&QueueLabels {
                queue: queue.as_str(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn steps_retries_and_polls_are_exposed() {
        let t = WorkerTelemetry::default();
        let mut registry = Registry::with_prefix("ripcord");
        t.register(&mut registry);
        t.step_ended(
            QueueName::Launch,
            StepOutcome::Done,
            Duration::from_millis(3),
        );
        t.step_ended(
            QueueName::Launch,
            StepOutcome::Done,
            Duration::from_millis(5),
        );
        t.step_ended(
            QueueName::Poll,
            StepOutcome::DeadLettered,
            Duration::from_millis(1),
        );
        t.decided(QueueName::Launch, 3);
        t.decided(QueueName::Launch, 1);
        t.retry_received(QueueName::Launch, "StartWave");
        t.polled(QueueName::Poll);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(r#"ripcord_worker_messages_total{queue="launch",outcome="done"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"ripcord_worker_messages_total{queue="poll",outcome="dead_lettered"} 1"#
            )
        );
        assert!(text.contains(r#"ripcord_worker_step_seconds_count{queue="launch"} 2"#));
        assert!(
            text.contains(r#"ripcord_worker_retries_total{queue="launch",event="StartWave"} 1"#)
        );
        assert!(text.contains(r#"ripcord_worker_polls_total{queue="poll"} 1"#));
        assert!(text.contains(r#"ripcord_worker_events_decided_total{queue="launch"} 4"#));
        assert_eq!(
            t.messages_settled(),
            2,
            "dead-lettered messages are not settled"
        );
        assert_eq!(t.events_decided(), 4);
    }
}
