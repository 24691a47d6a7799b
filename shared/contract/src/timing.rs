//! What the queue suites are given besides the adapter: the adapter as both
//! queue ports at once, and the time scale its clock resolution allows.

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
