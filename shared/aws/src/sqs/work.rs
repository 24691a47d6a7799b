//! The SQS [`WorkQueue`]: sends in batches of ten (delays over 900 s
//! chained), long-poll receives that hold back early copies, deletes,
//! visibility changes, and dead-lettering with the reason.

use super::*;
use ripcord::ports::queue::check_size;
use ripcord::ports::{Receive, WorkQueue};
use ripcord::reason::{MAX_REASON_BYTES, readable};

#[async_trait]
impl WorkQueue for SqsQueue {
    async fn send(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), QueueError> {
        if messages.is_empty() {
            return Ok(());
        }
        for m in &messages {
            check_size(queue, m)?;
        }
        let (url, name) = self.work_url(queue).await?;
        let now = Utc::now();
        let envelopes = messages
            .into_iter()
            .map(|m| {
                let mut attributes = HashMap::from([
                    (ATTR_EVENT_TYPE.to_owned(), string_value(&m.event_type)),
                    (
                        ATTR_SCHEMA_VERSION.to_owned(),
                        number_value(m.schema_version),
                    ),
                    (
                        ATTR_MESSAGE_ID.to_owned(),
                        string_value(&uuid::Uuid::new_v4().to_string()),
                    ),
                ]);
                if m.delay > self.max_delay {
                    let not_before = chrono::Duration::from_std(m.delay)
                        .ok()
                        .and_then(|d| now.checked_add_signed(d))
                        .unwrap_or(DateTime::<Utc>::MAX_UTC);
                    attributes.insert(
                        ATTR_NOT_BEFORE.to_owned(),
                        string_value(&rfc3339(not_before)),
                    );
                }
                Envelope {
                    body: m.body,
                    delay_seconds: delay_seconds(m.delay, self.max_delay),
                    attributes,
                }
            })
            .collect();
        self.send_envelopes(&url, &name, envelopes).await
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
        let (url, name) = self.work_url(queue).await?;
        let visibility_seconds = ceil_seconds(visibility).min(MAX_VISIBILITY_SECONDS) as i32;
        let deadline = Instant::now().checked_add(wait);
        loop {
            let left = deadline.map_or(Duration::from_secs(MAX_WAIT_SECONDS), |d| {
                d.saturating_duration_since(Instant::now())
            });
            let wait_seconds = ceil_seconds(left).min(MAX_WAIT_SECONDS) as i32;
            let got = self
                .receive_once(&url, &name, max, visibility_seconds, wait_seconds)
                .await?;
            let now = Utc::now();
            let mut ready = Vec::with_capacity(got.len());
            let mut early = Vec::new();
            for m in got {
                match not_before(&m) {
                    Some(at) if at > now => early.push((m, at)),
                    _ => ready.push(received(&m)),
                }
            }
            self.postpone(&url, &name, early).await;
            if !ready.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(ready);
            }
        }
    }

    async fn delete(&self, queue: QueueName, receipts: &[String]) -> Result<(), QueueError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let (url, name) = self.work_url(queue).await?;
        self.delete_receipts(&url, &name, receipts).await
    }

    async fn extend_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        let (url, name) = self.work_url(queue).await?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(ceil_seconds(visibility).min(MAX_VISIBILITY_SECONDS) as i32)
            .send()
            .await
            .map_err(|e| {
                let error = service_error("sqs", "ChangeMessageVisibility", e);
                if is_stale_receipt_code(&error.code, &error.message) {
                    QueueError::StaleReceipt(receipt.to_owned())
                } else {
                    classify(error, &name)
                }
            })?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue: QueueName,
        message: &ReceivedMessage,
        reason: &str,
    ) -> Result<(), QueueError> {
        let (url, name) = self.work_url(queue).await?;
        let (dead_url, dead_name) = self.dead_url(queue).await?;
        // Holding the receipt first: a message someone else now holds is
        // theirs, and must not also be dead-lettered.
        self.extend_visibility(queue, &message.receipt, Duration::from_secs(60))
            .await
            .map_err(|e| match e {
                QueueError::StaleReceipt(_) => QueueError::StaleReceipt(message.message_id.clone()),
                other => other,
            })?;
        let reason = readable(reason, MAX_REASON_BYTES);
        let mut attributes = HashMap::from([
            (
                ATTR_MESSAGE_ID.to_owned(),
                string_value(&message.message_id),
            ),
            (ATTR_FAILURE_REASON.to_owned(), string_value(&reason)),
            (ATTR_SOURCE_QUEUE.to_owned(), string_value(&name)),
            (
                ATTR_RECEIVE_COUNT.to_owned(),
                number_value(message.receive_count),
            ),
            (ATTR_DEAD_AT.to_owned(), string_value(&rfc3339(Utc::now()))),
        ]);
        if let Some(event_type) = &message.event_type {
            attributes.insert(ATTR_EVENT_TYPE.to_owned(), string_value(event_type));
        }
        let envelope = dead_letter_copy(&message.body, &reason, attributes);
        self.send_envelopes(&dead_url, &dead_name, vec![envelope])
            .await?;
        self.delete_receipts(&url, &name, std::slice::from_ref(&message.receipt))
            .await
    }
}

/// The dead-letter queue's copy of a message: the body whole when it fits
/// beside the attributes in SQS's 1 MiB, which every body Ripcord sends
/// does (`ATTRIBUTE_ROOM`). A larger one (sent by another program) keeps
/// its first bytes, and its reason says how many: a dead letter that SQS
/// refused would leave the message to come back for ever.
fn dead_letter_copy(
    body: &str,
    reason: &str,
    mut attributes: HashMap<String, MessageAttributeValue>,
) -> Envelope {
    let attribute_bytes = attributes_bytes(&attributes);
    if body.len() + attribute_bytes <= MAX_MESSAGE_BYTES {
        return Envelope {
            body: body.to_owned(),
            delay_seconds: 0,
            attributes,
        };
    }
    // 200 bytes for the note added to the reason.
    let mut keep = MAX_MESSAGE_BYTES.saturating_sub(attribute_bytes + 200);
    while !body.is_char_boundary(keep) {
        keep -= 1;
    }
    let reason = format!(
        "{reason} (this dead letter keeps the first {keep} of the message's {} bytes: SQS holds no more beside the reason)",
        body.len()
    );
    attributes.insert(ATTR_FAILURE_REASON.to_owned(), string_value(&reason));
    Envelope {
        body: body[..keep].to_owned(),
        delay_seconds: 0,
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_copy_always_fits_and_says_what_it_kept() {
        let attributes = || HashMap::from([(ATTR_FAILURE_REASON.to_owned(), string_value("why"))]);
        let small = dead_letter_copy("{}", "why", attributes());
        assert_eq!(small.body, "{}");
        let body = "é".repeat(MAX_MESSAGE_BYTES / 2);
        let big = dead_letter_copy(&body, "why", attributes());
        assert!(big.bytes() <= MAX_MESSAGE_BYTES, "{} bytes", big.bytes());
        assert!(body.starts_with(&big.body));
        let reason = big.attributes[ATTR_FAILURE_REASON].string_value().unwrap();
        assert!(
            reason.starts_with("why (this dead letter keeps the first "),
            "{reason}"
        );
    }
}
