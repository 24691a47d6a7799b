//! The embedded [`WorkQueue`]: SQS semantics on a SQLite table (its dead
//! letters, read and replayed, are in `dead_letters.rs`). A message is
//! invisible until its `visible_at` (delay, then each visibility timeout),
//! each receive hands out a fresh receipt, and a message received more than
//! `max_receives` times goes to the dead-letter table with the reason.
//!
//! Sends are held to SQS's message size (`check_size`), and a dead letter's
//! reason is kept readable (`ripcord::reason`), as on SQS.
//!
//! Stale receipts (the message was received again by someone else since):
//! `delete` ignores them and returns Ok, as SQS does; `extend_visibility`
//! and `dead_letter` answer [`QueueError::StaleReceipt`] and change nothing.

use super::db::{millis, now_millis};
use crate::connection::Shared;
use async_trait::async_trait;
use ripcord::ports::queue::{
    OutgoingMessage, QueueError, QueueName, Receive, ReceivedMessage, WorkQueue, check_size,
};
use ripcord::reason::{MAX_REASON_BYTES, readable};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The embedded work queues. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedQueue {
    pub(crate) shared: Arc<Shared>,
}

/// A storage failure, with what to check about the file.
pub(crate) fn storage(e: rusqlite::Error) -> QueueError {
    QueueError::Storage(format!("{e}; {}", crate::connection::hint_for(&e)))
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
                // Fewer than asked for: nothing else is visible now.
                let exhausted = (candidates.len() as i64) < wanted;
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
                    let receipt = format!("{seq}.{}", uuid::Uuid::new_v4());
                    take.execute(params![seq, receipt, hidden_until])?;
                    messages.push(ReceivedMessage {
                        message_id,
                        receipt,
                        body,
                        receive_count: receive_count + 1,
                        event_type,
                    });
                }
                if exhausted {
                    break;
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

/// The row a receipt was handed out for. A receipt is `<seq>.<uuid>`: the
/// row's key, so lookups need no index of their own, and a fresh uuid per
/// receive, so an older receipt for the same row no longer matches.
fn receipt_seq(receipt: &str) -> Option<i64> {
    receipt.split_once('.')?.0.parse().ok()
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
        // The file could hold more; SQS could not (`check_size`).
        for m in &messages {
            check_size(queue, m)?;
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
        ask: Receive,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let Receive {
            max,
            visibility,
            wait,
        } = ask;
        if max == 0 {
            return Ok(Vec::new());
        }
        // A wait too long to represent is as good as forever.
        let deadline = Instant::now()
            .checked_add(wait)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
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
                .prepare_cached(
                    "DELETE FROM messages WHERE seq = ?1 AND receipt = ?2 AND queue = ?3",
                )
                .map_err(storage)?;
            for receipt in receipts {
                // 0 rows: the receipt is stale and the message belongs to
                // whoever received it since; leave it to them.
                let Some(seq) = receipt_seq(receipt) else {
                    continue;
                };
                delete
                    .execute(params![seq, receipt, queue.as_str()])
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
        let Some(seq) = receipt_seq(receipt) else {
            return Err(QueueError::StaleReceipt(receipt.to_owned()));
        };
        let conn = self.shared.db.lock();
        let until = now_millis().saturating_add(millis(visibility));
        let changed = conn
            .prepare_cached(
                "UPDATE messages SET visible_at = ?4 WHERE seq = ?1 AND receipt = ?2 AND queue = ?3",
            )
            .and_then(|mut s| s.execute(params![seq, receipt, queue.as_str(), until]))
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
        let stale = || QueueError::StaleReceipt(message.message_id.clone());
        let seq = receipt_seq(&message.receipt).ok_or_else(stale)?;
        let mut conn = self.shared.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let held = tx
            .prepare_cached("SELECT 1 FROM messages WHERE seq = ?1 AND receipt = ?2 AND queue = ?3")
            .and_then(|mut s| {
                s.query_row(params![seq, message.receipt, queue.as_str()], |_| Ok(()))
                    .optional()
            })
            .map_err(storage)?;
        if held.is_none() {
            return Err(stale());
        }
        let reason = readable(reason, MAX_REASON_BYTES);
        move_to_dead(&tx, seq, &reason).map_err(storage)?;
        tx.commit().map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use crate::{EmbeddedBackend, EmbeddedConfig};
    use ripcord::ports::queue::{OutgoingMessage, QueueName, Receive};
    use std::time::{Duration, Instant};

    const Q: QueueName = QueueName::PostActions;
    const HIDDEN: Duration = Duration::from_secs(600);

    fn backend(config: EmbeddedConfig) -> (tempfile::TempDir, EmbeddedBackend) {
        let dir = tempfile::tempdir().unwrap();
        let backend = EmbeddedBackend::open(&dir.path().join("q.db"), config).unwrap();
        (dir, backend)
    }

    fn message(body: &str, delay: Duration) -> OutgoingMessage {
        OutgoingMessage {
            body: body.to_owned(),
            delay,
            event_type: "Test".to_owned(),
            schema_version: 1,
        }
    }

    #[tokio::test]
    async fn one_receive_returns_a_whole_batch_oldest_first() {
        let (_dir, b) = backend(EmbeddedConfig::default());
        let q = b.queue();
        let batch = (0..12)
            .map(|i| message(&format!("m{i:02}"), Duration::ZERO))
            .collect();
        q.send(Q, batch).await.unwrap();
        let got = q
            .receive(
                Q,
                Receive {
                    max: 10,
                    visibility: HIDDEN,
                    wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        let bodies: Vec<_> = got.iter().map(|m| m.body.as_str()).collect();
        let expected: Vec<String> = (0..10).map(|i| format!("m{i:02}")).collect();
        assert_eq!(bodies, expected);
        let rest = q
            .receive(
                Q,
                Receive {
                    max: 10,
                    visibility: HIDDEN,
                    wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        assert_eq!(rest.len(), 2);
    }

    #[tokio::test]
    async fn a_message_due_earlier_comes_first() {
        let (_dir, b) = backend(EmbeddedConfig::default());
        let q = b.queue();
        q.send(Q, vec![message("late", Duration::from_millis(80))])
            .await
            .unwrap();
        q.send(Q, vec![message("early", Duration::from_millis(20))])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        let got = q
            .receive(
                Q,
                Receive {
                    max: 10,
                    visibility: HIDDEN,
                    wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        let bodies: Vec<_> = got.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["early", "late"]);
    }

    #[tokio::test]
    async fn a_clone_wakes_a_waiting_receive_without_polling() {
        // A poll interval far longer than the test: only the wake-up helps.
        let config = EmbeddedConfig {
            poll_interval: Duration::from_secs(30),
            ..EmbeddedConfig::default()
        };
        let (_dir, b) = backend(config);
        let receiver = b.queue();
        let sender = b.clone().queue();
        let started = Instant::now();
        let (got, sent) = tokio::join!(
            receiver.receive(
                Q,
                Receive {
                    max: 1,
                    visibility: HIDDEN,
                    wait: Duration::from_secs(10)
                }
            ),
            async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                sender.send(Q, vec![message("go", Duration::ZERO)]).await
            }
        );
        sent.unwrap();
        assert_eq!(got.unwrap().len(), 1);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_waiting_receive_wakes_when_a_delay_runs_out() {
        // No send wakes it and the poll interval is long: it must sleep
        // only until the delayed message is due.
        let config = EmbeddedConfig {
            poll_interval: Duration::from_secs(30),
            ..EmbeddedConfig::default()
        };
        let (_dir, b) = backend(config);
        let q = b.queue();
        q.send(Q, vec![message("due soon", Duration::from_millis(100))])
            .await
            .unwrap();
        let started = Instant::now();
        let got = q
            .receive(
                Q,
                Receive {
                    max: 1,
                    visibility: HIDDEN,
                    wait: Duration::from_secs(10),
                },
            )
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(90) && took < Duration::from_secs(2),
            "took {took:?}"
        );
    }

    #[tokio::test]
    async fn messages_going_dead_on_receive_do_not_shrink_the_batch() {
        let config = EmbeddedConfig {
            max_receives: 1,
            ..EmbeddedConfig::default()
        };
        let (_dir, b) = backend(config);
        let q = b.queue();
        q.send(Q, vec![message("poison", Duration::ZERO)])
            .await
            .unwrap();
        let first = q
            .receive(
                Q,
                Receive {
                    max: 1,
                    visibility: Duration::from_millis(1),
                    wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        q.send(Q, vec![message("good", Duration::ZERO)])
            .await
            .unwrap();
        // The poison message is due first; it goes dead and "good" is taken.
        let got = q
            .receive(
                Q,
                Receive {
                    max: 1,
                    visibility: HIDDEN,
                    wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "good");
        let dead = b.dead_letters().list_dead(Q).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(
            dead[0].reason,
            "received 1 times without being deleted (limit 1)"
        );
    }

    #[tokio::test]
    async fn the_queue_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        {
            let b = EmbeddedBackend::open(&path, EmbeddedConfig::default()).unwrap();
            b.queue()
                .send(Q, vec![message("durable", Duration::ZERO)])
                .await
                .unwrap();
        }
        let b = EmbeddedBackend::open(&path, EmbeddedConfig::default()).unwrap();
        let got = b
            .queue()
            .receive(
                Q,
                Receive {
                    max: 1,
                    visibility: HIDDEN,
                    wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "durable");
    }
}
