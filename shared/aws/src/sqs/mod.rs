//! The SQS queues: one standard queue per worker kind, each with a
//! dead-letter queue beside it (RedrivePolicy, see `bootstrap`). The
//! [`WorkQueue`](ripcord::ports::WorkQueue) is in `work.rs`, the
//! [`DeadLetters`](ripcord::ports::DeadLetters) in `dead_letters.rs`; this
//! module holds the queue URLs, the message attributes and what both use.
//!
//! What SQS does not do by itself, done here:
//! - Delays over 900 s are chained: the message is sent with the longest
//!   delay SQS allows and a `ripcord-not-before` time; a receive that finds
//!   it early sends it again with what is left and deletes the early copy,
//!   never handing it to the worker.
//! - A message keeps one id for its whole life (`ripcord-message-id`), across
//!   chained delays, the dead-letter queue and replays, so the id
//!   `ripcord dlq list` prints is the one `ripcord dlq replay --id` takes.
//! - Dead messages carry why they died (`ripcord-failure-reason`, ...); those
//!   SQS moved itself (maxReceiveCount) are listed with the redrive limit.
//! - Replay receives from the DLQ and sends back, so it also works where
//!   StartMessageMoveTask does not (moto).
//! - Sizes: a body over `MAX_BODY_BYTES` is refused before any call
//!   (`check_size`: SQS would refuse it with an error that says nothing of
//!   what to do); batches are cut at SQS's 1 MiB for the whole batch; a
//!   dead letter's reason is kept readable (SQS refuses control characters
//!   in an attribute) and its copy always fits (`dead_letter_copy`).

mod dead_letters;
mod work;

use crate::config::ResourceNames;
use crate::error::service_error;
use async_trait::async_trait;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, SecondsFormat, Utc};
use ripcord::ports::dead_letters::{DeadMessage, QueueDepth};
use ripcord::ports::queue::{
    MAX_MESSAGE_BYTES, OutgoingMessage, QueueError, QueueName, ReceivedMessage,
};
use ripcord::service_error::ServiceError;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// SQS's longest DelaySeconds; longer delays are chained.
pub const MAX_SQS_DELAY: Duration = Duration::from_secs(900);
/// SQS's longest long poll.
const MAX_WAIT_SECONDS: u64 = 20;
/// SQS's longest visibility timeout (12 h).
const MAX_VISIBILITY_SECONDS: u64 = 43_200;
/// SQS's batch size for send, delete and visibility changes.
const BATCH: usize = 10;
/// Dead messages one list or replay reads at most: a DLQ that deep needs a
/// bulk tool, not a table on a terminal.
pub const MAX_DEAD_READ: usize = 10_000;
/// How long dead messages stay hidden while a list or replay reads the
/// whole DLQ; they are made visible again right after, so a replay just
/// after a list finds them.
const DEAD_READ_VISIBILITY_SECONDS: i32 = 60;

/// Message attributes Ripcord sets.
pub const ATTR_EVENT_TYPE: &str = "event-type";
pub const ATTR_SCHEMA_VERSION: &str = "schema-version";
pub const ATTR_MESSAGE_ID: &str = "ripcord-message-id";
pub const ATTR_NOT_BEFORE: &str = "ripcord-not-before";
pub const ATTR_FAILURE_REASON: &str = "ripcord-failure-reason";
pub const ATTR_SOURCE_QUEUE: &str = "ripcord-source-queue";
pub const ATTR_RECEIVE_COUNT: &str = "ripcord-receive-count";
pub const ATTR_DEAD_AT: &str = "ripcord-dead-at";

/// The SQS work queues of one deployment. Queue URLs are looked up once.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    names: ResourceNames,
    urls: Mutex<HashMap<String, String>>,
    max_receive_counts: Mutex<HashMap<QueueName, u32>>,
    max_delay: Duration,
}

/// A message to put on a queue, with every attribute it carries.
struct Envelope {
    body: String,
    delay_seconds: i32,
    attributes: HashMap<String, MessageAttributeValue>,
}

impl Envelope {
    /// Its size as SQS counts it: the body and each attribute's name,
    /// data type and value.
    fn bytes(&self) -> usize {
        self.body.len() + attributes_bytes(&self.attributes)
    }
}

fn attributes_bytes(attributes: &HashMap<String, MessageAttributeValue>) -> usize {
    attributes
        .iter()
        .map(|(name, value)| {
            name.len() + value.data_type().len() + value.string_value().map_or(0, str::len)
        })
        .sum()
}

/// `envelopes` in send order, cut into batches SQS takes: at most ten
/// each, and at most [`MAX_MESSAGE_BYTES`] together.
fn batches(envelopes: Vec<Envelope>) -> Vec<Vec<Envelope>> {
    let mut batches: Vec<Vec<Envelope>> = Vec::new();
    let mut bytes = 0;
    for envelope in envelopes {
        let size = envelope.bytes();
        match batches.last_mut() {
            Some(batch) if batch.len() < BATCH && bytes + size <= MAX_MESSAGE_BYTES => {
                bytes += size;
                batch.push(envelope);
            }
            _ => {
                bytes = size;
                batches.push(vec![envelope]);
            }
        }
    }
    batches
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, names: ResourceNames) -> Self {
        Self {
            client,
            names,
            urls: Mutex::new(HashMap::new()),
            max_receive_counts: Mutex::new(HashMap::new()),
            max_delay: MAX_SQS_DELAY,
        }
    }

    /// Chains delays longer than `max` instead of [`MAX_SQS_DELAY`], so tests
    /// can see chaining work in seconds. At least one second.
    pub fn with_max_delay(mut self, max: Duration) -> Self {
        self.max_delay = max.clamp(Duration::from_secs(1), MAX_SQS_DELAY);
        self
    }

    async fn url(&self, name: &str) -> Result<String, QueueError> {
        if let Some(url) = self.lock_urls().get(name) {
            return Ok(url.clone());
        }
        let out = self
            .client
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| sqs_error("GetQueueUrl", name, e))?;
        let url = out
            .queue_url()
            .ok_or_else(|| QueueError::Service(format!("GetQueueUrl for {name} returned no URL")))?
            .to_owned();
        self.lock_urls().insert(name.to_owned(), url.clone());
        Ok(url)
    }

    fn lock_urls(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.urls.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn work_url(&self, queue: QueueName) -> Result<(String, String), QueueError> {
        let name = self.names.queue(queue);
        Ok((self.url(&name).await?, name))
    }

    async fn dead_url(&self, queue: QueueName) -> Result<(String, String), QueueError> {
        let name = self.names.dead_letter_queue(queue);
        Ok((self.url(&name).await?, name))
    }

    /// The source queue's maxReceiveCount, from its RedrivePolicy.
    async fn max_receive_count(&self, queue: QueueName) -> Result<Option<u32>, QueueError> {
        if let Some(n) = self
            .max_receive_counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&queue)
        {
            return Ok(Some(*n));
        }
        let (url, name) = self.work_url(queue).await?;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| sqs_error("GetQueueAttributes", &name, e))?;
        let limit = out
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
            .and_then(|policy| serde_json::from_str::<serde_json::Value>(policy).ok())
            .and_then(|policy| match &policy["maxReceiveCount"] {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            })
            .and_then(|n| u32::try_from(n).ok());
        if let Some(n) = limit {
            self.max_receive_counts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(queue, n);
        }
        Ok(limit)
    }

    /// Sends envelopes in batches of at most ten and at most
    /// [`MAX_MESSAGE_BYTES`] together (SQS refuses a larger batch whole);
    /// any entry SQS refuses fails the call.
    async fn send_envelopes(
        &self,
        url: &str,
        name: &str,
        envelopes: Vec<Envelope>,
    ) -> Result<(), QueueError> {
        for batch in batches(envelopes) {
            let entries = batch
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(e.body)
                        .delay_seconds(e.delay_seconds)
                        .set_message_attributes(Some(e.attributes))
                        .build()
                        .map_err(|e| QueueError::Service(format!("cannot build a send: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sqs_error("SendMessageBatch", name, e))?;
            if !out.failed().is_empty() {
                return Err(QueueError::Service(format!(
                    "SendMessageBatch to {name}: {} of the batch were not sent: {}",
                    out.failed().len(),
                    batch_failures(out.failed())
                )));
            }
        }
        Ok(())
    }

    async fn receive_once(
        &self,
        url: &str,
        name: &str,
        max: usize,
        visibility_seconds: i32,
        wait_seconds: i32,
    ) -> Result<Vec<Message>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, BATCH) as i32)
            .visibility_timeout(visibility_seconds)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sqs_error("ReceiveMessage", name, e))?;
        Ok(out.messages.unwrap_or_default())
    }

    /// Sends messages that arrived before their `ripcord-not-before` back
    /// with the delay left, then deletes the early copies. A failure leaves
    /// the early copy, which comes back after its visibility timeout.
    async fn postpone(&self, url: &str, name: &str, early: Vec<(Message, DateTime<Utc>)>) {
        if early.is_empty() {
            return;
        }
        let now = Utc::now();
        let mut receipts = Vec::with_capacity(early.len());
        let mut envelopes = Vec::with_capacity(early.len());
        for (m, not_before) in early {
            let left = (not_before - now).to_std().unwrap_or_default();
            receipts.extend(m.receipt_handle.clone());
            envelopes.push(Envelope {
                body: m.body.clone().unwrap_or_default(),
                delay_seconds: delay_seconds(left, self.max_delay),
                attributes: m.message_attributes.clone().unwrap_or_default(),
            });
        }
        match self.send_envelopes(url, name, envelopes).await {
            Ok(()) => {
                if let Err(e) = self.delete_receipts(url, name, &receipts).await {
                    tracing::warn!(queue = name, error = %e, "a postponed message's early copy was not deleted; it will be postponed again");
                }
            }
            Err(e) => {
                tracing::warn!(queue = name, error = %e, "a message due later could not be postponed; it comes back after its visibility timeout")
            }
        }
    }

    /// DeleteMessageBatch in chunks of ten. A receipt SQS no longer knows is
    /// not an error (the message is someone else's now); others are.
    async fn delete_receipts(
        &self,
        url: &str,
        name: &str,
        receipts: &[String],
    ) -> Result<(), QueueError> {
        let mut failures = Vec::new();
        for chunk in receipts.chunks(BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .build()
                        .map_err(|e| QueueError::Service(format!("cannot build a delete: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sqs_error("DeleteMessageBatch", name, e))?;
            failures.extend(
                out.failed()
                    .iter()
                    .filter(|f| !is_stale_receipt_code(f.code(), f.message().unwrap_or("")))
                    .cloned(),
            );
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(QueueError::Service(format!(
                "DeleteMessageBatch on {name}: {} messages were not deleted: {}",
                failures.len(),
                batch_failures(&failures)
            )))
        }
    }

    /// Makes messages read from a DLQ visible again at once.
    async fn release(&self, url: &str, name: &str, receipts: &[String]) {
        for chunk in receipts.chunks(BATCH) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .visibility_timeout(0)
                        .build()
                        .ok()
                })
                .collect();
            let result = self
                .client
                .change_message_visibility_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await;
            if let Err(e) = result {
                let e = service_error("sqs", "ChangeMessageVisibilityBatch", e);
                tracing::warn!(queue = name, error = %e, "dead messages stay hidden until their visibility timeout runs out");
            }
        }
    }
}

fn string_value(s: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(s)
        .build()
        .expect("data_type is set")
}

fn number_value(n: u32) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(n.to_string())
        .build()
        .expect("data_type is set")
}

fn string_attr(
    attrs: Option<&HashMap<String, MessageAttributeValue>>,
    key: &str,
) -> Option<String> {
    attrs?.get(key)?.string_value().map(str::to_owned)
}

/// The id Ripcord knows a message by: its own attribute, or SQS's id for
/// messages Ripcord did not send (EventBridge targets).
fn logical_id(m: &Message) -> String {
    string_attr(m.message_attributes(), ATTR_MESSAGE_ID)
        .or_else(|| m.message_id.clone())
        .unwrap_or_default()
}

fn receive_count_of(m: &Message) -> u32 {
    m.attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|c| c.parse().ok())
        .unwrap_or(1)
}

fn sent_at(m: &Message) -> String {
    m.attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
        .map(rfc3339)
        .unwrap_or_default()
}

fn not_before(m: &Message) -> Option<DateTime<Utc>> {
    let text = string_attr(m.message_attributes(), ATTR_NOT_BEFORE)?;
    DateTime::parse_from_rfc3339(&text).ok().map(|t| t.to_utc())
}

fn received(m: &Message) -> ReceivedMessage {
    ReceivedMessage {
        message_id: logical_id(m),
        receipt: m.receipt_handle().unwrap_or_default().to_owned(),
        body: m.body().unwrap_or_default().to_owned(),
        receive_count: receive_count_of(m),
        event_type: string_attr(m.message_attributes(), ATTR_EVENT_TYPE),
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Whole seconds, rounded up: SQS must never show a message early.
fn ceil_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The DelaySeconds to send with: the delay rounded up, at most `max`.
fn delay_seconds(delay: Duration, max: Duration) -> i32 {
    ceil_seconds(delay).min(max.as_secs()) as i32
}

/// SQS answers a receipt that no longer holds the message with one of
/// these, depending on the operation and the age of the receipt.
fn is_stale_receipt_code(code: &str, message: &str) -> bool {
    matches!(
        code,
        "ReceiptHandleIsInvalid"
            | "MessageNotInflight"
            | "AWS.SimpleQueueService.MessageNotInflight"
            | "AWS.SimpleQueueService.ReceiptHandleIsInvalid"
    ) || (code == "InvalidParameterValue" && message.contains("ReceiptHandle"))
}

fn is_missing_queue_code(code: &str) -> bool {
    matches!(
        code,
        "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist"
    )
}

fn classify(error: ServiceError, queue_name: &str) -> QueueError {
    if is_missing_queue_code(&error.code) {
        QueueError::Missing {
            name: queue_name.to_owned(),
            remedy: "run `ripcord aws bootstrap` to create Ripcord's queues".to_owned(),
        }
    } else {
        QueueError::Service(error.to_string())
    }
}

fn sqs_error<E>(operation: &str, queue_name: &str, e: SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    classify(service_error("sqs", operation, e), queue_name)
}

fn batch_failures(failed: &[aws_sdk_sqs::types::BatchResultErrorEntry]) -> String {
    failed
        .iter()
        .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(body_bytes: usize) -> Envelope {
        Envelope {
            body: "x".repeat(body_bytes),
            delay_seconds: 0,
            attributes: HashMap::from([("event-type".to_owned(), string_value("PollWave"))]),
        }
    }

    #[test]
    fn batches_hold_ten_messages_and_one_mebibyte_at_most() {
        let sizes = |b: &[Vec<Envelope>]| b.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(
            sizes(&batches((0..23).map(|_| envelope(10)).collect())),
            [10, 10, 3]
        );
        let big = 400 * 1024;
        assert_eq!(
            sizes(&batches((0..5).map(|_| envelope(big)).collect())),
            [2, 2, 1]
        );
        for batch in batches((0..7).map(|i| envelope(big / 3 * i)).collect()) {
            assert!(batch.iter().map(Envelope::bytes).sum::<usize>() <= MAX_MESSAGE_BYTES);
        }
    }

    #[test]
    fn delays_round_up_and_are_capped() {
        assert_eq!(delay_seconds(Duration::ZERO, MAX_SQS_DELAY), 0);
        assert_eq!(delay_seconds(Duration::from_millis(150), MAX_SQS_DELAY), 1);
        assert_eq!(delay_seconds(Duration::from_secs(3), MAX_SQS_DELAY), 3);
        assert_eq!(delay_seconds(Duration::from_secs(3600), MAX_SQS_DELAY), 900);
    }

    #[test]
    fn stale_receipts_are_recognised_by_code() {
        assert!(is_stale_receipt_code("ReceiptHandleIsInvalid", ""));
        assert!(is_stale_receipt_code(
            "InvalidParameterValue",
            "Value x for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
        ));
        assert!(!is_stale_receipt_code(
            "InvalidParameterValue",
            "Value 50000 for parameter VisibilityTimeout is invalid"
        ));
        assert!(!is_stale_receipt_code("ThrottlingException", ""));
    }
}
