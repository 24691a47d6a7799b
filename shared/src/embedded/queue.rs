//! The embedded [`WorkQueue`]: SQS semantics on a SQLite table. A message is
//! invisible until its `visible_at` (delay, then each visibility timeout),
//! each receive hands out a fresh receipt, and a message received more than
//! `max_receives` times goes to the dead-letter table with the reason.
//!
//! Stale receipts (the message was received again by someone else since):
//! `delete` ignores them and returns Ok, as SQS does; `extend_visibility`
//! and `dead_letter` answer [`QueueError::StaleReceipt`] and change nothing.

use super::Shared;
use super::db::{millis, now_millis};
use crate::ports::queue::{
    DeadMessage, OutgoingMessage, QueueDepth, QueueError, QueueName, ReceivedMessage, WorkQueue,
};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The embedded work queues. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedQueue {
    shared: Arc<Shared>,
}

fn storage(e: rusqlite::Error) -> QueueError {
    QueueError::Storage(e.to_string())
}

/// What one receive attempt found.
struct Attempt {
    messages: Vec<ReceivedMessage>,
    /// When the next hidden message of the queue becomes visible, if any.
    next_visible_at: Option<i64>,
}

impl EmbeddedQueue {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// One receive without waiting, in one IMMEDIATE transaction so that no
    /// other process takes the same messages.
    fn try_receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
    ) -> rusqlite::Result<Attempt> {
        let max_receives = self.shared.config.max_receives;
        let mut conn = self.shared.db.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_millis();
        // At least 1 ms: a row taken now must not match `visible_at <= now`
        // again in the loop below.
        let hidden_until = now.saturating_add(millis(visibility).max(1));
        let mut messages = Vec::with_capacity(max.min(16));
        {
            let mut select = tx.prepare_cached(
                "SELECT seq, message_id, body, event_type, receive_count FROM messages
                 WHERE queue = ?1 AND visible_at <= ?2
                 ORDER BY visible_at, seq LIMIT ?3",
            )?;
            let mut take = tx.prepare_cached(
                "UPDATE messages SET receive_count = receive_count + 1, receipt = ?2, visible_at = ?3
                 WHERE seq = ?1",
            )?;
            // Loops again only when some candidates went to the DLQ instead.
            while messages.len() < max {
                let wanted = (max - messages.len()) as i64;
                let candidates = select
                    .query_map(params![queue.as_str(), now, wanted], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, u32>(4)?,
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                if candidates.is_empty() {
                    break;
                }
                for (seq, message_id, body, event_type, receive_count) in candidates {
                    if receive_count >= max_receives {
                        let reason = format!(
                            "received {receive_count} times without being deleted (limit {max_receives})"
                        );
                        move_to_dead(&tx, seq, &reason)?;
                        continue;
                    }
                    let receipt = uuid::Uuid::new_v4().to_string();
                    take.execute(params![seq, receipt, hidden_until])?;
                    messages.push(ReceivedMessage {
                        message_id,
                        receipt,
                        body,
                        receive_count: receive_count + 1,
                        event_type,
                    });
                }
            }
        }
        let next_visible_at = if messages.is_empty() {
            tx.prepare_cached("SELECT MIN(visible_at) FROM messages WHERE queue = ?1")?
                .query_row(params![queue.as_str()], |r| r.get::<_, Option<i64>>(0))?
        } else {
            None
        };
        tx.commit()?;
        Ok(Attempt {
            messages,
            next_visible_at,
        })
    }
}

/// Moves one message row to the dead-letter table with `reason`.
fn move_to_dead(conn: &Connection, seq: i64, reason: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO dead_messages
             (queue, message_id, body, event_type, schema_version, reason, receive_count, dead_at)
         SELECT queue, message_id, body, event_type, schema_version, ?2, receive_count, ?3
         FROM messages WHERE seq = ?1",
    )?
    .execute(params![seq, reason, dead_at_now()])?;
    conn.prepare_cached("DELETE FROM messages WHERE seq = ?1")?
        .execute(params![seq])?;
    Ok(())
}

fn dead_at_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[async_trait]
impl WorkQueue for EmbeddedQueue {
    async fn send(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), QueueError> {
        if messages.is_empty() {
            return Ok(());
        }
        {
            let mut conn = self.shared.db.lock();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(storage)?;
            let now = now_millis();
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO messages (queue, message_id, body, event_type, schema_version, visible_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(storage)?;
                for m in &messages {
                    insert
                        .execute(params![
                            queue.as_str(),
                            uuid::Uuid::new_v4().to_string(),
                            m.body,
                            m.event_type,
                            m.schema_version,
                            now.saturating_add(millis(m.delay)),
                        ])
                        .map_err(storage)?;
                }
            }
            tx.commit().map_err(storage)?;
        }
        self.shared.sent_signal(queue).notify_waiters();
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + wait;
        let signal = self.shared.sent_signal(queue);
        loop {
            // Registered before looking, so a send between the look and the
            // sleep still wakes us.
            let sent = signal.notified();
            tokio::pin!(sent);
            sent.as_mut().enable();

            let attempt = self.try_receive(queue, max, visibility).map_err(storage)?;
            if !attempt.messages.is_empty() {
                return Ok(attempt.messages);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            let mut nap = (deadline - now).min(self.shared.config.poll_interval);
            if let Some(at) = attempt.next_visible_at {
                let until_due = u64::try_from(at.saturating_sub(now_millis())).unwrap_or(0);
                nap = nap.min(Duration::from_millis(until_due));
            }
            tokio::select! {
                _ = &mut sent => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn delete(&self, queue: QueueName, receipts: &[String]) -> Result<(), QueueError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let mut conn = self.shared.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM messages WHERE receipt = ?1 AND queue = ?2")
                .map_err(storage)?;
            for receipt in receipts {
                // 0 rows: the receipt is stale and the message belongs to
                // whoever received it since; leave it to them.
                delete
                    .execute(params![receipt, queue.as_str()])
                    .map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)
    }

    async fn extend_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        let conn = self.shared.db.lock();
        let until = now_millis().saturating_add(millis(visibility));
        let changed = conn
            .prepare_cached("UPDATE messages SET visible_at = ?3 WHERE receipt = ?1 AND queue = ?2")
            .and_then(|mut s| s.execute(params![receipt, queue.as_str(), until]))
            .map_err(storage)?;
        if changed == 0 {
            return Err(QueueError::StaleReceipt(receipt.to_owned()));
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue: QueueName,
        message: &ReceivedMessage,
        reason: &str,
    ) -> Result<(), QueueError> {
        let mut conn = self.shared.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let seq: Option<i64> = tx
            .prepare_cached("SELECT seq FROM messages WHERE receipt = ?1 AND queue = ?2")
            .and_then(|mut s| {
                s.query_row(params![message.receipt, queue.as_str()], |r| r.get(0))
                    .optional()
            })
            .map_err(storage)?;
        let Some(seq) = seq else {
            return Err(QueueError::StaleReceipt(message.message_id.clone()));
        };
        move_to_dead(&tx, seq, reason).map_err(storage)?;
        tx.commit().map_err(storage)
    }

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
