//! The DynamoDB store: one table holding an execution item, one item per
//! wave (docs/architecture.md, "Records": an execution is not one 400 KB
//! item), one item per runbook trigger and one per worker heartbeat. Each
//! port has its file: [`ExecutionStore`](ripcord::ports::ExecutionStore) in
//! `executions.rs`, [`WorkerHeartbeats`](ripcord::ports::WorkerHeartbeats)
//! in `heartbeats.rs`, [`TriggerLog`](ripcord::ports::TriggerLog) in
//! `triggers.rs`, [`SubmissionLog`](ripcord::ports::SubmissionLog) in
//! `submissions.rs`; this module holds the table's layout and what they share.
//!
//! | item      | pk                 | sk          | other attributes                                   |
//! |-----------|--------------------|-------------|----------------------------------------------------|
//! | execution | `EXECUTION#<id>`   | `EXECUTION` | version, body, status, planName, startTime, gsiKind |
//! | wave      | `EXECUTION#<id>`   | `WAVE#0001` | version, body                                      |
//! | trigger   | `TRIGGER#<key>`    | `TRIGGER`   | body, receivedAt, gsiKind                          |
//! | heartbeat | `WORKER#<id>`      | `WORKER`    | body, receivedAt (last poll), gsiKind, expiresAt   |
//! | submission | `SUBMISSION#<id>` | `SUBMISSION` | body, expiresAt (a queued start; `submissions.rs`) |
//!
//! `body` is the record as JSON. Listings are Queries on sparse indexes
//! ([`INDEX_BY_START`], [`INDEX_BY_STATUS`], [`INDEX_BY_RECEIVED`]), never
//! Scans. Saves are UpdateItem conditional on `version`, so attributes a
//! save does not name (`expiresAt`) are kept.
//!
//! Retention: when an execution is saved in a terminal status, it and its
//! waves get `expiresAt` ([`RETENTION`] after its end), DynamoDB's TTL
//! attribute. TTL deletes lazily (within days), so every read treats an
//! item whose `expiresAt` has passed as gone.

mod capacity;
mod executions;
mod heartbeats;
mod submissions;
mod triggers;

use crate::config::ResourceNames;
use crate::error::service_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, SecondsFormat, Utc};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::store::{
    CreateOutcome, ExecutionPage, ExecutionQuery, ExecutionStore, ExecutionSummary, StoreError,
    Versioned,
};
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::ExecutionStatus;
use ripcord::status_model::Transitions;
use ripcord::time::Timestamp;
use ripcord::trigger::TriggerRecord;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::time::Duration;

/// How long a finished execution is kept before TTL removes it.
pub const RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
/// DynamoDB's largest item.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's largest transaction, in bytes and in actions.
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
const MAX_TRANSACTION_ITEMS: usize = 100;
/// Waves one execution can have: it is created with its waves in one
/// transaction of at most 100 items, the execution item included.
pub const MAX_WAVES: usize = MAX_TRANSACTION_ITEMS - 1;
// Every plan that validates fits.
const _: () = assert!(ripcord::plan::MAX_WAVES_PER_PLAN <= MAX_WAVES);

/// Executions newest first: pk `gsiKind` = `EXECUTION`, sk `startTime`.
pub const INDEX_BY_START: &str = "by-start";
/// Executions of one status newest first: pk `status`, sk `startTime`.
pub const INDEX_BY_STATUS: &str = "by-status";
/// Triggers newest first: pk `gsiKind` = `TRIGGER`, sk `receivedAt`.
pub const INDEX_BY_RECEIVED: &str = "by-received";

pub const ATTR_PK: &str = "pk";
pub const ATTR_SK: &str = "sk";
pub const ATTR_GSI_KIND: &str = "gsiKind";
pub const ATTR_STATUS: &str = "status";
pub const ATTR_START_TIME: &str = "startTime";
pub const ATTR_RECEIVED_AT: &str = "receivedAt";
pub const ATTR_PLAN_NAME: &str = "planName";
pub const ATTR_EXPIRES_AT: &str = "expiresAt";
const ATTR_VERSION: &str = "version";
const ATTR_BODY: &str = "body";

const KIND_EXECUTION: &str = "EXECUTION";
const KIND_TRIGGER: &str = "TRIGGER";
const KIND_WORKER: &str = "WORKER";
/// Worker heartbeats listed at most (a deployment runs a handful).
const MAX_HEARTBEATS: usize = 1000;

type Item = HashMap<String, AttributeValue>;

/// The DynamoDB execution store of one deployment.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, names: ResourceNames) -> Self {
        Self {
            client,
            table: names.table(),
        }
    }

    fn error<E>(&self, operation: &str, e: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let error = service_error("dynamodb", operation, e);
        if error.code == "ResourceNotFoundException" {
            StoreError::Missing {
                resource: format!("table {}", self.table),
                remedy: "run `ripcord aws bootstrap` to create it".to_owned(),
            }
        } else {
            StoreError::Service(error.to_string())
        }
    }

    async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ATTR_PK, AttributeValue::S(pk))
            .key(ATTR_SK, AttributeValue::S(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", e))?;
        Ok(out.item.filter(|item| !expired(item, Utc::now())))
    }

    /// A Query on one partition (`key` = `value`) of index `index`.
    fn index_query(
        &self,
        index: &str,
        key: &str,
        value: AttributeValue,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":k", value)
    }

    /// The newest `limit` items of a sparse index partition, expired ones
    /// left out (which is why it may read more than one page), starting
    /// after `start` (an index key); and whether more items follow.
    async fn query_index(
        &self,
        index: &str,
        key: &str,
        value: AttributeValue,
        limit: usize,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let mut items = Vec::new();
        let mut start = start;
        let now = Utc::now();
        // One item more than asked for tells whether there is more.
        let wanted = limit.saturating_add(1);
        while items.len() < wanted {
            let out = self
                .index_query(index, key, value.clone())
                .scan_index_forward(false)
                .limit(wanted.saturating_sub(items.len()).clamp(1, 1000) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            items.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|item| !expired(item, now)),
            );
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let more = items.len() > limit;
        items.truncate(limit);
        Ok((items, more))
    }

    /// How many unexpired items one index partition holds.
    async fn count_index(
        &self,
        index: &str,
        key: &str,
        value: AttributeValue,
    ) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let out = self
                .index_query(index, key, value.clone())
                .filter_expression("attribute_not_exists(#e) OR #e > :now")
                .expression_attribute_names("#e", ATTR_EXPIRES_AT)
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(Utc::now().timestamp().to_string()),
                )
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            count += u64::try_from(out.count).unwrap_or(0);
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    /// Replaces `body` and the listed columns of an item if its version is
    /// `expected`, as one Update (alone or in a transaction).
    fn versioned_update(
        &self,
        key: Item,
        body: String,
        columns: Vec<(&'static str, AttributeValue)>,
        expected: u64,
    ) -> Result<Update, StoreError> {
        let mut set = vec!["#version = :next".to_owned(), "#body = :body".to_owned()];
        let mut names = HashMap::from([
            ("#version".to_owned(), ATTR_VERSION.to_owned()),
            ("#body".to_owned(), ATTR_BODY.to_owned()),
        ]);
        let mut values = HashMap::from([
            (":expected".to_owned(), number(expected)),
            (":next".to_owned(), number(expected.saturating_add(1))),
            (":body".to_owned(), AttributeValue::S(body)),
        ]);
        for (i, (name, value)) in columns.into_iter().enumerate() {
            set.push(format!("#c{i} = :c{i}"));
            names.insert(format!("#c{i}"), name.to_owned());
            values.insert(format!(":c{i}"), value);
        }
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression("#version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Service(format!("cannot build an update: {e}")))
    }

    async fn run_update(
        &self,
        update: Update,
        what: &str,
        expected: u64,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(update.table_name)
            .set_key(Some(update.key))
            .update_expression(update.update_expression)
            .set_condition_expression(update.condition_expression)
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await
            .map_err(|e| self.write_error("UpdateItem", e, what, expected))?;
        Ok(())
    }

    /// Puts `item` only where no item has its key yet.
    async fn put_new(&self, item: Item) -> Result<CreateOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", ATTR_PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(CreateOutcome::AlreadyExists)
            }
            Err(e) => Err(self.error("PutItem", e)),
        }
    }

    /// A failed conditional write: a version conflict when its condition
    /// failed (someone else wrote `what` since version `expected`), else the
    /// service's error.
    fn write_error<E>(
        &self,
        operation: &str,
        e: SdkError<E, HttpResponse>,
        what: &str,
        expected: u64,
    ) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") {
            StoreError::VersionConflict {
                what: what.to_owned(),
                expected,
            }
        } else {
            self.error(operation, e)
        }
    }

    /// Runs a transaction; `Ok(Some(i))` when it was cancelled because the
    /// condition of item `i` failed (the first such item).
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Option<usize>, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => {
                let failed = e
                    .as_service_error()
                    .and_then(|s| match s {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons()
                                .iter()
                                .position(|r| r.code() == Some("ConditionalCheckFailed"))
                        }
                        _ => None,
                    });
                match failed {
                    Some(i) => Ok(Some(i)),
                    None => Err(self.error("TransactWriteItems", e)),
                }
            }
        }
    }
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        (ATTR_PK.to_owned(), AttributeValue::S(pk)),
        (ATTR_SK.to_owned(), AttributeValue::S(sk)),
    ])
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// The record as JSON, refused if it could never fit in an item.
fn body_of<T: Serialize>(what: &str, record: &T) -> Result<String, StoreError> {
    let body = serde_json::to_string(record)
        .map_err(|e| StoreError::Service(format!("cannot encode {what} as JSON: {e}")))?;
    if body.len() > MAX_ITEM_BYTES {
        return Err(too_large(what, body.len()));
    }
    Ok(body)
}

fn too_large(what: &str, bytes: usize) -> StoreError {
    StoreError::TooLarge {
        what: what.to_owned(),
        detail: format!(
            "it is {bytes} bytes, over DynamoDB's {MAX_ITEM_BYTES}-byte item limit; split the wave into smaller waves (at most 100 servers each) or shorten action parameters"
        ),
    }
}

/// An item's size as DynamoDB counts it: names plus values (numbers are
/// counted at their upper bound of 21 bytes).
fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(_) => 21,
                    _ => 0,
                }
        })
        .sum()
}

fn check_size(what: &str, item: &Item) -> Result<(), StoreError> {
    // Room for the columns a later save adds (expiresAt).
    let size = item_size(item) + ATTR_EXPIRES_AT.len() + 21;
    if size > MAX_ITEM_BYTES {
        return Err(too_large(what, size));
    }
    Ok(())
}

fn expires_at(end: Timestamp) -> AttributeValue {
    let retention = chrono::Duration::from_std(RETENTION).unwrap_or(chrono::Duration::MAX);
    AttributeValue::N((end + retention).timestamp().to_string())
}

/// Whether TTL should already have removed the item.
fn expired(item: &Item, now: DateTime<Utc>) -> bool {
    match item.get(ATTR_EXPIRES_AT) {
        Some(AttributeValue::N(n)) => n.parse::<i64>().is_ok_and(|at| at <= now.timestamp()),
        _ => false,
    }
}

/// A unit-like enum as its serde name (`IN_PROGRESS`).
fn status_text<T: Serialize>(status: &T) -> Result<String, StoreError> {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        other => Err(StoreError::Service(format!(
            "a status did not encode as a name: {other:?}"
        ))),
    }
}

/// RFC 3339 with a fixed nine-digit fraction, so text order is time order.
fn time_text(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn string<'a>(item: &'a Item, name: &str, what: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(StoreError::Corrupt(format!(
            "{what}: the item has no text attribute `{name}`"
        ))),
    }
}

fn decode_body<T: DeserializeOwned>(item: &Item, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(string(item, ATTR_BODY, what)?)
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn versioned<T: DeserializeOwned>(item: &Item, what: &str) -> Result<Versioned<T>, StoreError> {
    let version = match item.get(ATTR_VERSION) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| StoreError::Corrupt(format!("{what}: the item has no numeric `version`")))?;
    Ok(Versioned {
        record: decode_body(item, what)?,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_read_from_the_item() {
        let now = Utc::now();
        let mut item = key("EXECUTION#x".into(), "EXECUTION".into());
        assert!(!expired(&item, now));
        item.insert(
            ATTR_EXPIRES_AT.into(),
            AttributeValue::N((now.timestamp() - 1).to_string()),
        );
        assert!(expired(&item, now));
        item.insert(
            ATTR_EXPIRES_AT.into(),
            AttributeValue::N((now.timestamp() + 60).to_string()),
        );
        assert!(!expired(&item, now));
    }
}
