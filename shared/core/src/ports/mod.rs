//! Ports: the traits every piece of I/O sits behind. The core names what it
//! needs; adapters (embedded SQLite, the simulator, later AWS) provide it and
//! can be swapped without the core noticing.

pub mod announce;
pub mod calls;
pub mod capacity;
pub mod clock;
pub mod dead_letters;
pub mod drs;
pub mod ec2;
pub mod heartbeats;
pub mod metrics;
pub mod queue;
pub mod ssm;
pub mod store;
pub mod submissions;
pub mod trigger_log;

pub use announce::{Announcement, Announcer};
pub use calls::CallObserver;
pub use capacity::CapacityLedger;
pub use clock::Clock;
pub use dead_letters::DeadLetters;
pub use drs::RecoveryService;
pub use ec2::InstanceDirectory;
pub use heartbeats::WorkerHeartbeats;
pub use metrics::MetricsSink;
pub use queue::{QueueName, Receive, WorkQueue};
pub use ssm::CommandRunner;
pub use store::ExecutionStore;
pub use submissions::{Submission, SubmissionLog};
pub use trigger_log::TriggerLog;
