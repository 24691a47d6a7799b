//! The suites every adapter must pass: one `pub async fn` per behaviour of
//! the [`WorkQueue`](ripcord::ports::WorkQueue) and
//! [`ExecutionStore`](ripcord::ports::ExecutionStore) ports, so the embedded,
//! SQS and DynamoDB adapters are held to the very same contract. Each suite
//! panics (with what went wrong) when the adapter breaks it, and expects
//! empty queues and an empty store to start from.
//!
//! [`memory::InMemoryStore`] is a store held to these suites too, for tests
//! that drive a worker step synchronously.

pub mod memory;
pub mod queue;
pub mod store;

pub use memory::InMemoryStore;

use std::time::Duration;

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
