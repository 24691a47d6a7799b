//! The work queues the workers read: one per worker kind, each with a
//! dead-letter queue. Delays carry backoff, waits and retries. This port is
//! what a worker does with its messages; reading and replaying the
//! dead-letter queues is [`DeadLetters`](super::DeadLetters).
//! [`QueueError`] is the error of both.

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

/// The most a queue message may be, in bytes: SQS's maximum message size
/// (1 MiB since August 2025, up from 256 KiB; body and attributes
/// together). moto 5.2.5 refuses a body over it; the embedded queue holds
/// Ripcord to the same limit, so a deployment behaves alike on both.
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;

/// Room kept under [`MAX_MESSAGE_BYTES`] for the attributes a message
/// carries, its own and those a dead-lettered copy adds (the reason, at
/// most `reason::MAX_REASON_BYTES`, the source queue, the times): any
/// message Ripcord sent can be dead-lettered whole, with its reason.
pub const ATTRIBUTE_ROOM: usize = 8 * 1024;

/// The largest body Ripcord sends, and reads: a body over it is refused at
/// the send (`QueueError::TooLarge`) and dead-lettered at a receive.
pub const MAX_BODY_BYTES: usize = MAX_MESSAGE_BYTES - ATTRIBUTE_ROOM;

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
