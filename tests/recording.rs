//! A queue decorator that records the workers' traffic: every message sent
//! (with its event id) and every message acknowledged (deleted after its
//! step). Tests read it to tell which events a step sent, and whether a
//! message was processed and acknowledged rather than dead-lettered.

use async_trait::async_trait;
use ripcord::event::Envelope;
use ripcord::ids::EventId;
use ripcord::ports::queue::{OutgoingMessage, QueueError, QueueName, ReceivedMessage};
use ripcord::ports::{Receive, WorkQueue};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// One message a worker sent.
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    pub queue: QueueName,
    pub body: String,
    pub event_type: String,
    /// `None` only for a body that is not an envelope.
    pub event_id: Option<EventId>,
}

impl SentMessage {
    pub fn envelope(&self) -> Envelope {
        Envelope::decode(&self.body).expect("workers send valid envelopes")
    }
}

/// What went through a [`RecordingQueue`].
#[derive(Default)]
pub struct QueueLog {
    state: Mutex<LogState>,
}

#[derive(Default)]
struct LogState {
    sent: Vec<SentMessage>,
    /// Receipt → (queue, body) of messages received and not yet settled.
    received: HashMap<String, (QueueName, String)>,
    acked: Vec<(QueueName, String)>,
    /// The most messages of each queue received and not yet settled at once.
    most_held: HashMap<QueueName, usize>,
}

fn event_id_of(body: &str) -> Option<EventId> {
    Envelope::decode(body).ok().map(|e| e.event_id)
}

impl QueueLog {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most messages of `queue` that the workers held at once:
    /// received, and not yet deleted, dead-lettered or released.
    pub fn most_held(&self, queue: QueueName) -> usize {
        self.lock().most_held.get(&queue).copied().unwrap_or(0)
    }

    /// How many messages were sent so far: a mark for [`QueueLog::sent_since`].
    pub fn sent_count(&self) -> usize {
        self.lock().sent.len()
    }

    /// Messages sent after `mark`, in order.
    pub fn sent_since(&self, mark: usize) -> Vec<SentMessage> {
        self.lock().sent[mark..].to_vec()
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.sent_since(0)
    }

    /// How many times a message with exactly `body` was acknowledged.
    /// How many messages carrying an event of `event_type` were acknowledged.
    pub fn acked_of_type(&self, event_type: &str) -> usize {
        self.lock()
            .acked
            .iter()
            .filter(|(_, b)| Envelope::decode(b).is_ok_and(|e| e.event.type_name() == event_type))
            .count()
    }

    pub fn times_acked(&self, body: &str) -> usize {
        self.lock().acked.iter().filter(|(_, b)| b == body).count()
    }

    /// How many times a message carrying event `id` was acknowledged.
    pub fn times_acked_event(&self, id: EventId) -> usize {
        self.lock()
            .acked
            .iter()
            .filter(|(_, b)| event_id_of(b) == Some(id))
            .count()
    }

    /// `inner`, recording into this log.
    pub fn wrap(self: &Arc<Self>, inner: Arc<dyn WorkQueue>) -> Arc<dyn WorkQueue> {
        Arc::new(RecordingQueue {
            inner,
            log: self.clone(),
        })
    }
}

/// A [`WorkQueue`] that records into a [`QueueLog`] what it passes through.
pub struct RecordingQueue {
    inner: Arc<dyn WorkQueue>,
    log: Arc<QueueLog>,
}

#[async_trait]
impl WorkQueue for RecordingQueue {
    async fn send(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), QueueError> {
        let records: Vec<SentMessage> = messages
            .iter()
            .map(|m| SentMessage {
                queue,
                body: m.body.clone(),
                event_type: m.event_type.clone(),
                event_id: event_id_of(&m.body),
            })
            .collect();
        self.inner.send(queue, messages).await?;
        self.log.lock().sent.extend(records);
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        ask: Receive,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let messages = self.inner.receive(queue, ask).await?;
        let mut log = self.log.lock();
        for m in &messages {
            log.received
                .insert(m.receipt.clone(), (queue, m.body.clone()));
        }
        let held = log.received.values().filter(|(q, _)| *q == queue).count();
        let most = log.most_held.entry(queue).or_default();
        *most = (*most).max(held);
        Ok(messages)
    }

    async fn delete(&self, queue: QueueName, receipts: &[String]) -> Result<(), QueueError> {
        self.inner.delete(queue, receipts).await?;
        let mut log = self.log.lock();
        for receipt in receipts {
            if let Some(entry) = log.received.remove(receipt) {
                log.acked.push(entry);
            }
        }
        Ok(())
    }

    async fn extend_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        self.inner
            .extend_visibility(queue, receipt, visibility)
            .await?;
        if visibility.is_zero() {
            // Released for another worker: no longer held.
            self.log.lock().received.remove(receipt);
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue: QueueName,
        message: &ReceivedMessage,
        reason: &str,
    ) -> Result<(), QueueError> {
        self.inner.dead_letter(queue, message, reason).await?;
        self.log.lock().received.remove(&message.receipt);
        Ok(())
    }
}
