//! The embedded [`DeadLetters`]: the dead-letter table beside the
//! messages, read and moved back to its queue, and each queue's depth.

use super::db::now_millis;
use super::queue::{EmbeddedQueue, storage};
use async_trait::async_trait;
use ripcord::ports::dead_letters::{DeadLetters, DeadMessage, QueueDepth};
use ripcord::ports::queue::{QueueError, QueueName};
use rusqlite::{TransactionBehavior, params};

#[async_trait]
impl DeadLetters for EmbeddedQueue {
    async fn list_dead(&self, queue: QueueName) -> Result<Vec<DeadMessage>, QueueError> {
        let conn = self.shared.db.lock();
        let mut select = conn
            .prepare_cached(
                "SELECT message_id, body, reason, receive_count, event_type, dead_at
                 FROM dead_messages WHERE queue = ?1 ORDER BY seq",
            )
            .map_err(storage)?;
        select
            .query_map(params![queue.as_str()], |r| {
                Ok(DeadMessage {
                    message_id: r.get(0)?,
                    body: r.get(1)?,
                    reason: r.get(2)?,
                    receive_count: r.get(3)?,
                    event_type: r.get(4)?,
                    dead_at: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(storage)
    }

    async fn replay_dead(&self, queue: QueueName, id: Option<&str>) -> Result<usize, QueueError> {
        let moved = {
            let mut conn = self.shared.db.lock();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(storage)?;
            let now = now_millis();
            // `?2 IS NULL` selects all: one statement for both forms.
            let moved = tx
                .prepare_cached(
                    "INSERT INTO messages
                         (queue, message_id, body, event_type, schema_version, visible_at, receive_count)
                     SELECT queue, message_id, body, event_type, schema_version, ?3, 0
                     FROM dead_messages WHERE queue = ?1 AND (?2 IS NULL OR message_id = ?2)
                     ORDER BY seq",
                )
                .and_then(|mut s| s.execute(params![queue.as_str(), id, now]))
                .map_err(storage)?;
            tx.prepare_cached(
                "DELETE FROM dead_messages WHERE queue = ?1 AND (?2 IS NULL OR message_id = ?2)",
            )
            .and_then(|mut s| s.execute(params![queue.as_str(), id]))
            .map_err(storage)?;
            if let (0, Some(id)) = (moved, id) {
                return Err(QueueError::NoSuchDeadMessage {
                    queue,
                    id: id.to_owned(),
                });
            }
            tx.commit().map_err(storage)?;
            moved
        };
        if moved > 0 {
            self.shared.sent_signal(queue).notify_waiters();
        }
        Ok(moved)
    }

    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError> {
        let conn = self.shared.db.lock();
        let now = now_millis();
        let (visible, delayed, in_flight) = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(visible_at <= ?2), 0),
                        COALESCE(SUM(visible_at > ?2 AND receipt IS NULL), 0),
                        COALESCE(SUM(visible_at > ?2 AND receipt IS NOT NULL), 0)
                 FROM messages WHERE queue = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![queue.as_str(), now], |r| {
                    Ok((
                        r.get::<_, u64>(0)?,
                        r.get::<_, u64>(1)?,
                        r.get::<_, u64>(2)?,
                    ))
                })
            })
            .map_err(storage)?;
        let dead = conn
            .prepare_cached("SELECT COUNT(*) FROM dead_messages WHERE queue = ?1")
            .and_then(|mut s| s.query_row(params![queue.as_str()], |r| r.get::<_, u64>(0)))
            .map_err(storage)?;
        Ok(QueueDepth {
            visible,
            delayed,
            in_flight,
            dead,
        })
    }
}
