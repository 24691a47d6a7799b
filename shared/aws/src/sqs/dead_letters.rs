//! The SQS [`DeadLetters`]: the dead-letter queue read whole (each message
//! once), replayed by receiving and sending back, and each queue's depth
//! from its attributes.

use super::*;
use ripcord::ports::DeadLetters;

impl SqsQueue {
    /// Reads the whole DLQ (up to [`MAX_DEAD_READ`]), each message once; they
    /// stay hidden until the caller releases or deletes them.
    async fn read_dead(&self, url: &str, name: &str) -> Result<Vec<Message>, QueueError> {
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        while all.len() < MAX_DEAD_READ {
            let got = self
                .receive_once(url, name, BATCH, DEAD_READ_VISIBILITY_SECONDS, 0)
                .await?;
            if got.is_empty() {
                break;
            }
            for m in got {
                if seen.insert(m.message_id.clone().unwrap_or_default()) {
                    all.push(m);
                }
            }
        }
        Ok(all)
    }

    fn dead_message(m: &Message, limit: Option<u32>) -> DeadMessage {
        let attrs = m.message_attributes();
        let reason = string_attr(attrs, ATTR_FAILURE_REASON);
        let receive_count = string_attr(attrs, ATTR_RECEIVE_COUNT).and_then(|c| c.parse().ok());
        let (reason, receive_count) = match (reason, receive_count) {
            (Some(reason), count) => (reason, count.unwrap_or_else(|| receive_count_of(m))),
            // Moved by SQS itself: it was received maxReceiveCount times.
            (None, _) => {
                let n = limit.unwrap_or_else(|| receive_count_of(m));
                (
                    format!("received {n} times without being deleted (limit {n})"),
                    n,
                )
            }
        };
        DeadMessage {
            message_id: logical_id(m),
            body: m.body().unwrap_or_default().to_owned(),
            reason,
            receive_count,
            event_type: string_attr(attrs, ATTR_EVENT_TYPE),
            // SQS does not record when it moved a message; its first send
            // time is the best it tells.
            dead_at: string_attr(attrs, ATTR_DEAD_AT).unwrap_or_else(|| sent_at(m)),
        }
    }
}

#[async_trait]
impl DeadLetters for SqsQueue {
    async fn list_dead(&self, queue: QueueName) -> Result<Vec<DeadMessage>, QueueError> {
        let (url, name) = self.dead_url(queue).await?;
        let limit = self.max_receive_count(queue).await?;
        let messages = self.read_dead(&url, &name).await?;
        let receipts: Vec<String> = messages
            .iter()
            .filter_map(|m| m.receipt_handle.clone())
            .collect();
        self.release(&url, &name, &receipts).await;
        let mut dead: Vec<(i64, DeadMessage)> = messages
            .iter()
            .map(|m| {
                let d = Self::dead_message(m, limit);
                let order = DateTime::parse_from_rfc3339(&d.dead_at)
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(i64::MAX);
                (order, d)
            })
            .collect();
        dead.sort_by_key(|(order, _)| *order);
        Ok(dead.into_iter().map(|(_, d)| d).collect())
    }

    async fn replay_dead(&self, queue: QueueName, id: Option<&str>) -> Result<usize, QueueError> {
        let (url, name) = self.work_url(queue).await?;
        let (dead_url, dead_name) = self.dead_url(queue).await?;
        let messages = self.read_dead(&dead_url, &dead_name).await?;
        let (chosen, others): (Vec<Message>, Vec<Message>) = messages
            .into_iter()
            .partition(|m| id.is_none_or(|id| logical_id(m) == id));
        let others: Vec<String> = others
            .into_iter()
            .filter_map(|m| m.receipt_handle)
            .collect();
        self.release(&dead_url, &dead_name, &others).await;
        if chosen.is_empty() {
            return match id {
                Some(id) => Err(QueueError::NoSuchDeadMessage {
                    queue,
                    id: id.to_owned(),
                }),
                None => Ok(0),
            };
        }
        // Back as it was first sent: same id, type and version, no delay;
        // a fresh message, so its receive count starts again.
        let envelopes = chosen
            .iter()
            .map(|m| {
                let attrs = m.message_attributes();
                let mut attributes =
                    HashMap::from([(ATTR_MESSAGE_ID.to_owned(), string_value(&logical_id(m)))]);
                for key in [ATTR_EVENT_TYPE, ATTR_SCHEMA_VERSION] {
                    if let Some(v) = attrs.and_then(|a| a.get(key)) {
                        attributes.insert(key.to_owned(), v.clone());
                    }
                }
                Envelope {
                    body: m.body().unwrap_or_default().to_owned(),
                    delay_seconds: 0,
                    attributes,
                }
            })
            .collect();
        let receipts: Vec<String> = chosen
            .iter()
            .filter_map(|m| m.receipt_handle.clone())
            .collect();
        if let Err(e) = self.send_envelopes(&url, &name, envelopes).await {
            self.release(&dead_url, &dead_name, &receipts).await;
            return Err(e);
        }
        self.delete_receipts(&dead_url, &dead_name, &receipts)
            .await?;
        Ok(chosen.len())
    }

    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError> {
        let counts = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ];
        let (url, name) = self.work_url(queue).await?;
        let (dead_url, dead_name) = self.dead_url(queue).await?;
        let mut read = Vec::new();
        for (url, name) in [(url, name), (dead_url, dead_name)] {
            let out = self
                .client
                .get_queue_attributes()
                .queue_url(url)
                .set_attribute_names(Some(counts.to_vec()))
                .send()
                .await
                .map_err(|e| sqs_error("GetQueueAttributes", &name, e))?;
            let attrs = out.attributes.unwrap_or_default();
            read.push(counts.clone().map(|c| {
                attrs
                    .get(&c)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            }));
        }
        let [visible, delayed, in_flight] = read[0];
        // Every message in a DLQ is dead, whether or not a list holds it.
        let dead = read[1].iter().sum();
        Ok(QueueDepth {
            visible,
            delayed,
            in_flight,
            dead,
        })
    }
}
