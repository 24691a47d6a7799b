//! The suites every adapter must pass: one `pub async fn` per behaviour of
//! the queue ports ([`WorkQueue`], [`DeadLetters`]: [`queue`],
//! [`dead_letters`]) and the store ports
//! ([`ExecutionStore`](ripcord::ports::ExecutionStore),
//! [`WorkerHeartbeats`](ripcord::ports::WorkerHeartbeats),
//! [`TriggerLog`](ripcord::ports::TriggerLog): [`store`], [`heartbeats`],
//! [`trigger_log`]), so the embedded, SQS and DynamoDB adapters are held to
//! the very same contract. Each suite panics (with what went wrong) when the
//! adapter breaks it, and expects empty queues and an empty store to start
//! from.
//!
//! [`memory::InMemoryStore`] is a store held to the store suites too, for
//! tests that drive a worker step synchronously.

pub mod dead_letters;
pub mod heartbeats;
pub mod memory;
pub mod queue;
pub mod store;
pub mod trigger_log;

pub use memory::InMemoryStore;

use ripcord::ports::{DeadLetters, WorkQueue};
use std::time::Duration;

/// A queue adapter as the suites that need both see it: the work queues
/// and, beside them, their dead letters and depths (one adapter implements
/// both ports over the same queues).
pub trait QueueBackend: WorkQueue + DeadLetters {}

impl<T: WorkQueue + DeadLetters + ?Sized> QueueBackend for T {}

/// The time scale of the queue suites. SQS counts delays and visibility in
/// whole seconds, the embedded queue in milliseconds; every wait in a suite
/// is a multiple of `tick`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub tick: Duration,
}

impl Timing {
    /// For adapters with millisecond resolution (embedded).
    pub const FAST: Timing = Timing {
        tick: Duration::from_millis(150),
    };
    /// For adapters that round to whole seconds (SQS).
    pub const SECONDS: Timing = Timing {
        tick: Duration::from_secs(1),
    };

    pub fn ticks(self, n: u32) -> Duration {
        self.tick * n
    }
}
