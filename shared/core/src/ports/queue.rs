//! The work queues the workers read: one per worker kind, each with a
//! dead-letter queue. This port is what a worker does with its messages;
//! reading and replaying the dead-letter queues is
//! [`DeadLetters`](super::DeadLetters). [`QueueError`] is the error of both.
//! The queue names and messages are in [`crate::services::queue`],
//! re-exported here.

use async_trait::async_trait;
use std::time::Duration;

pub use crate::services::queue::*;

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
    /// A message over [`MAX_BODY_BYTES`]: no queue would carry it (SQS
    /// refuses it), so nothing of the batch was sent. No retry helps.
    #[error(
        "a {event_type} message of {bytes} bytes is over the {MAX_BODY_BYTES} bytes a message on the {queue} queue may carry (SQS's 1 MiB, less room for its attributes); nothing was sent. {}",
        too_large_advice(event_type)
    )]
    TooLarge {
        queue: QueueName,
        event_type: String,
        bytes: usize,
    },
}

impl QueueError {
    /// Whether no retry of the same send can succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, QueueError::TooLarge { .. })
    }
}

fn too_large_advice(event_type: &str) -> &'static str {
    if event_type == "StartExecution" {
        "The plan is too large to queue: split it into smaller plans (fewer servers per execution, shorter post-launch parameters)"
    } else {
        "Ripcord's own events stay far below this: report it as a bug, with this message"
    }
}

/// Refuses a message no queue would carry: every adapter checks its sends
/// with it, so a deployment behaves alike on SQS and on the embedded file.
pub fn check_size(queue: QueueName, message: &OutgoingMessage) -> Result<(), QueueError> {
    if message.body.len() > MAX_BODY_BYTES {
        return Err(QueueError::TooLarge {
            queue,
            event_type: crate::reason::readable(&message.event_type, 64),
            bytes: message.body.len(),
        });
    }
    Ok(())
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
