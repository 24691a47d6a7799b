//! What an operator sees of the work queues: the dead-letter queue beside
//! each, moving dead messages back, and how many messages wait where.
//! `ripcord dlq` and the deployment's health read it; a worker never does
//! (it only dead-letters a message, through [`WorkQueue`](super::WorkQueue)).

use crate::ports::queue::{QueueError, QueueName};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A message in a dead-letter queue, with why it is there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadMessage {
    pub message_id: String,
    pub body: String,
    pub reason: String,
    pub receive_count: u32,
    pub event_type: Option<String>,
    pub dead_at: String,
}

/// Messages waiting, in flight and dead, for `ripcord dlq list` and health.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    pub visible: u64,
    pub delayed: u64,
    pub in_flight: u64,
    pub dead: u64,
}

#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// The dead messages of `queue`'s dead-letter queue, oldest first.
    async fn list_dead(&self, queue: QueueName) -> Result<Vec<DeadMessage>, QueueError>;

    /// Moves dead messages back to `queue` (one by id, or all when `id` is
    /// None) with a fresh receive count. Returns how many were moved.
    async fn replay_dead(&self, queue: QueueName, id: Option<&str>) -> Result<usize, QueueError>;

    /// How many messages of `queue` are visible, delayed, in flight and dead.
    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError>;
}
