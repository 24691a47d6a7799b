//! The work queues the workers read: one per worker kind, each with a
//! dead-letter queue. Delays carry backoff, waits and retries. This port is
//! what a worker does with its messages; reading and replaying the
//! dead-letter queues is [`DeadLetters`](super::DeadLetters).
//! [`QueueError`] is the error of both.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The four work queues. Each has a dead-letter queue beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum QueueName {
    Launch,
    Poll,
    PostActions,
    Metrics,
}

impl QueueName {
    pub const ALL: [QueueName; 4] = [
        QueueName::Launch,
        QueueName::Poll,
        QueueName::PostActions,
        QueueName::Metrics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Launch => "launch",
            QueueName::Poll => "poll",
            QueueName::PostActions => "post-actions",
            QueueName::Metrics => "metrics",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to send. The body is the JSON envelope; the attributes repeat
/// its type and schema version so they can be read without parsing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    pub delay: Duration,
    pub event_type: String,
    pub schema_version: u32,
}

/// A message received and now invisible to other receivers until its
/// visibility timeout runs out or it is deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Opaque handle for delete / visibility calls on this receipt.
    pub receipt: String,
    pub body: String,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
    pub event_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue's own storage failed; the adapter's text says what to check.
    #[error("queue storage failed: {0}")]
    Storage(String),
    #[error(
        "the receipt for message {0} is no longer valid (its visibility timeout ran out and another worker took it)"
    )]
    StaleReceipt(String),
    #[error(
        "no dead message {id} in the {queue} dead-letter queue; `ripcord dlq list {queue}` shows what is there"
    )]
    NoSuchDeadMessage { queue: QueueName, id: String },
    #[error("queue service error: {0}; it will be retried")]
    Service(String),
    /// The queue itself does not exist (a deployment not set up); `remedy`
    /// is the adapter's advice on creating it.
    #[error("queue {name} does not exist; {remedy}")]
    Missing { name: String, remedy: String },
}

/// One receive from a queue: how many messages at most, how long each
/// stays hidden, how long to wait for one. Named, so the two durations
/// cannot be swapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receive {
    /// At most this many messages (SQS: 10).
    pub max: usize,
    /// How long each received message stays hidden from other receivers.
    pub visibility: Duration,
    /// How long to wait for a first message (a long poll; SQS: 20 s at most).
    pub wait: Duration,
}

#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Sends messages; each becomes visible after its delay.
    async fn send(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), QueueError>;

    /// Receives what `ask` says: up to `max` visible messages, waiting up to
    /// `wait` for one, each hidden for `visibility`. A message received more
    /// times than the queue's limit is moved to the dead-letter queue instead.
    async fn receive(
        &self,
        queue: QueueName,
        ask: Receive,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;

    /// Deletes received messages: their work is done and durable.
    async fn delete(&self, queue: QueueName, receipts: &[String]) -> Result<(), QueueError>;

    /// Keeps a message hidden for `visibility` more from now while it is worked on.
    async fn extend_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError>;

    /// Moves a received message to the dead-letter queue with a reason
    /// (malformed, unknown type, ...). It is deleted from `queue`.
    async fn dead_letter(
        &self,
        queue: QueueName,
        message: &ReceivedMessage,
        reason: &str,
    ) -> Result<(), QueueError>;
}
