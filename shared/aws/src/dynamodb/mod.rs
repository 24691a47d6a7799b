//! The DynamoDB [`ExecutionStore`]: one table holding an execution item,
//! one item per wave and one item per runbook trigger (docs/architecture.md, "Records":
//! an execution is not one 400 KB item).
//!
//! | item      | pk                 | sk          | other attributes                                   |
//! |-----------|--------------------|-------------|----------------------------------------------------|
//! | execution | `EXECUTION#<id>`   | `EXECUTION` | version, body, status, planName, startTime, gsiKind |
//! | wave      | `EXECUTION#<id>`   | `WAVE#0001` | version, body                                      |
//! | trigger   | `TRIGGER#<key>`    | `TRIGGER`   | body, receivedAt, gsiKind                          |
//! | heartbeat | `WORKER#<id>`      | `WORKER`    | body, receivedAt (last poll), gsiKind, expiresAt   |
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

use crate::config::ResourceNames;
use crate::error::service_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, SecondsFormat, Utc};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::machine::transition::Transitions;
use ripcord::machine::{ExecutionRecord, ExecutionStatus, WaveRecord};
use ripcord::ports::store::{
    CreateOutcome, ExecutionPage, ExecutionQuery, ExecutionStore, ExecutionSummary, StoreError,
    Versioned, WorkerHeartbeat,
};
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
            StoreError::Missing(self.table.clone())
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
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
                {
                    StoreError::VersionConflict {
                        what: what.to_owned(),
                        expected,
                    }
                } else {
                    self.error("UpdateItem", e)
                }
            })?;
        Ok(())
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

#[async_trait]
impl ExecutionStore for DynamoStore {
    async fn create_execution(
        &self,
        execution: &ExecutionRecord,
        waves: &[WaveRecord],
    ) -> Result<CreateOutcome, StoreError> {
        let what = format!("execution {}", execution.id);
        if waves.len() > MAX_WAVES {
            return Err(StoreError::TooLarge {
                what,
                detail: format!(
                    "it has {} waves and the DynamoDB store creates an execution with its waves in one transaction, so at most {MAX_WAVES}; merge waves in the plan",
                    waves.len()
                ),
            });
        }
        let mut items = Vec::with_capacity(waves.len() + 1);
        items.push(execution_item(execution, 1)?);
        for wave in waves {
            if wave.execution_id != execution.id {
                return Err(StoreError::TooLarge {
                    what: format!("wave {}", wave.number),
                    detail: format!(
                        "it belongs to execution {}, not {}; nothing was written",
                        wave.execution_id, execution.id
                    ),
                });
            }
            items.push(wave_item(wave, 1)?);
        }
        let total: usize = items.iter().map(item_size).sum();
        if total > MAX_TRANSACTION_BYTES {
            return Err(StoreError::TooLarge {
                what,
                detail: format!(
                    "with its waves it is {total} bytes, over DynamoDB's {MAX_TRANSACTION_BYTES}-byte transaction limit; split the plan into fewer, smaller waves"
                ),
            });
        }
        // An item whose retention ran out but that TTL has not deleted yet
        // is gone for every reader, so it may be written over.
        let now = AttributeValue::N(Utc::now().timestamp().to_string());
        let writes = items
            .into_iter()
            .map(|item| {
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
                    .expression_attribute_names("#pk", ATTR_PK)
                    .expression_attribute_names("#expires", ATTR_EXPIRES_AT)
                    .expression_attribute_values(":now", now.clone())
                    .build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
                    .map_err(|e| StoreError::Service(format!("cannot build a put: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match self.transact(writes).await? {
            None => CreateOutcome::Created,
            Some(_) => CreateOutcome::AlreadyExists,
        })
    }

    async fn load_execution(
        &self,
        id: ExecutionId,
    ) -> Result<Option<Versioned<ExecutionRecord>>, StoreError> {
        let item = self
            .get(execution_pk(id), KIND_EXECUTION.to_owned())
            .await?;
        item.map(|item| versioned(&item, &format!("execution {id}")))
            .transpose()
    }

    async fn load_wave(
        &self,
        id: ExecutionId,
        wave: WaveNumber,
    ) -> Result<Option<Versioned<WaveRecord>>, StoreError> {
        let item = self.get(execution_pk(id), wave_sk(wave)).await?;
        item.map(|item| versioned(&item, &format!("wave {wave} of execution {id}")))
            .transpose()
    }

    async fn load_waves(&self, id: ExecutionId) -> Result<Vec<WaveRecord>, StoreError> {
        let mut waves = Vec::new();
        let mut start = None;
        let now = Utc::now();
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :wave)")
                .expression_attribute_names("#pk", ATTR_PK)
                .expression_attribute_names("#sk", ATTR_SK)
                .expression_attribute_values(":pk", AttributeValue::S(execution_pk(id)))
                .expression_attribute_values(":wave", AttributeValue::S("WAVE#".to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            for item in out.items.unwrap_or_default() {
                if !expired(&item, now) {
                    let wave: Versioned<WaveRecord> =
                        versioned(&item, &format!("a wave of execution {id}"))?;
                    waves.push(wave.record);
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        // `WAVE#0001` sorts as text; the number decides past 9999.
        waves.sort_by_key(|w| w.number.0);
        Ok(waves)
    }

    async fn save_execution(
        &self,
        record: &ExecutionRecord,
        expected: u64,
    ) -> Result<u64, StoreError> {
        let what = format!("execution {}", record.id);
        let body = body_of(&what, record)?;
        let mut columns = vec![
            (ATTR_STATUS, AttributeValue::S(status_text(&record.status)?)),
            (ATTR_PLAN_NAME, AttributeValue::S(record.plan_name.clone())),
            (
                ATTR_START_TIME,
                AttributeValue::S(time_text(&record.start_time)),
            ),
            (ATTR_GSI_KIND, AttributeValue::S(KIND_EXECUTION.to_owned())),
        ];
        let expires = record
            .status
            .is_terminal()
            .then(|| expires_at(record.end_time.unwrap_or_else(Utc::now)));
        if let Some(at) = &expires {
            columns.push((ATTR_EXPIRES_AT, at.clone()));
        }
        let update = self.versioned_update(execution_key(record.id), body, columns, expected)?;
        let Some(at) = expires else {
            self.run_update(update, &what, expected).await?;
            return Ok(expected + 1);
        };
        // Finished: the waves expire with it, all in one transaction.
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        for wave in record.waves.iter().take(MAX_WAVES) {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(execution_pk(record.id), wave_sk(wave.number))))
                .update_expression("SET #expires = :expires")
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#expires", ATTR_EXPIRES_AT)
                .expression_attribute_names("#pk", ATTR_PK)
                .expression_attribute_values(":expires", at.clone())
                .build()
                .map_err(|e| StoreError::Service(format!("cannot build an update: {e}")))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        match self.transact(items).await? {
            None => Ok(expected + 1),
            Some(0) => Err(StoreError::VersionConflict { what, expected }),
            Some(i) => Err(StoreError::Corrupt(format!(
                "{what}: its wave {} has no item",
                record.waves[i - 1].number
            ))),
        }
    }

    async fn save_wave(&self, record: &WaveRecord, expected: u64) -> Result<u64, StoreError> {
        let what = format!(
            "wave {} of execution {}",
            record.number, record.execution_id
        );
        let body = body_of(&what, record)?;
        let update = self.versioned_update(
            key(execution_pk(record.execution_id), wave_sk(record.number)),
            body,
            Vec::new(),
            expected,
        )?;
        self.run_update(update, &what, expected).await?;
        Ok(expected + 1)
    }

    async fn list_executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, StoreError> {
        // The index's own key, next to the table's, makes the start key of
        // a Query on it.
        let (index, key, value) = match &query.status {
            Some(status) => (
                INDEX_BY_STATUS,
                ATTR_STATUS,
                AttributeValue::S(status_text(status)?),
            ),
            None => (
                INDEX_BY_START,
                ATTR_GSI_KIND,
                AttributeValue::S(KIND_EXECUTION.to_owned()),
            ),
        };
        let start = query.after.map(|cursor| {
            let mut start = execution_key(cursor.id);
            start.insert(
                ATTR_START_TIME.to_owned(),
                AttributeValue::S(time_text(&cursor.start_time)),
            );
            start.insert(key.to_owned(), value.clone());
            start
        });
        let (items, more) = self
            .query_index(index, key, value, query.limit, start)
            .await?;
        let items = items
            .iter()
            .map(summary)
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(ExecutionPage::of(items, query.limit, more))
    }

    async fn count_executions(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        let mut counts = Vec::new();
        for status in ExecutionStatus::ALL {
            let n = self
                .count_index(
                    INDEX_BY_STATUS,
                    ATTR_STATUS,
                    AttributeValue::S(status_text(&status)?),
                )
                .await?;
            if n > 0 {
                counts.push((status, n));
            }
        }
        Ok(counts)
    }

    async fn record_heartbeat(&self, heartbeat: &WorkerHeartbeat) -> Result<(), StoreError> {
        let what = format!("the heartbeat of worker {}", heartbeat.worker_id);
        let mut item = key(
            format!("{KIND_WORKER}#{}", heartbeat.worker_id),
            KIND_WORKER.to_owned(),
        );
        item.extend([
            (
                ATTR_GSI_KIND.to_owned(),
                AttributeValue::S(KIND_WORKER.to_owned()),
            ),
            (
                ATTR_RECEIVED_AT.to_owned(),
                AttributeValue::S(time_text(&heartbeat.last_poll)),
            ),
            (
                ATTR_EXPIRES_AT.to_owned(),
                AttributeValue::N(
                    (heartbeat.last_poll + WorkerHeartbeat::RETENTION)
                        .timestamp()
                        .to_string(),
                ),
            ),
            (
                ATTR_BODY.to_owned(),
                AttributeValue::S(body_of(&what, heartbeat)?),
            ),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| self.error("PutItem", e))?;
        Ok(())
    }

    async fn list_heartbeats(&self, now: Timestamp) -> Result<Vec<WorkerHeartbeat>, StoreError> {
        // Heartbeats share the by-received index with triggers, in their own
        // partition; a deployment runs a handful of workers.
        let (items, _) = self
            .query_index(
                INDEX_BY_RECEIVED,
                ATTR_GSI_KIND,
                AttributeValue::S(KIND_WORKER.to_owned()),
                MAX_HEARTBEATS,
                None,
            )
            .await?;
        let since = now - WorkerHeartbeat::RETENTION;
        let mut beats = items
            .iter()
            .map(|item| decode_body::<WorkerHeartbeat>(item, "a worker heartbeat"))
            .filter(|b| b.as_ref().map_or(true, |b| b.last_poll >= since))
            .collect::<Result<Vec<_>, StoreError>>()?;
        beats.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
        Ok(beats)
    }

    async fn record_trigger(&self, trigger: &TriggerRecord) -> Result<CreateOutcome, StoreError> {
        let what = format!("trigger {}", trigger.idempotency_key);
        let item = HashMap::from([
            (
                ATTR_PK.to_owned(),
                AttributeValue::S(trigger_pk(&trigger.idempotency_key)),
            ),
            (
                ATTR_SK.to_owned(),
                AttributeValue::S(KIND_TRIGGER.to_owned()),
            ),
            (
                ATTR_GSI_KIND.to_owned(),
                AttributeValue::S(KIND_TRIGGER.to_owned()),
            ),
            (
                ATTR_RECEIVED_AT.to_owned(),
                AttributeValue::S(time_text(&trigger.received_at)),
            ),
            (
                ATTR_BODY.to_owned(),
                AttributeValue::S(body_of(&what, trigger)?),
            ),
        ]);
        check_size(&what, &item)?;
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

    async fn load_trigger(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<TriggerRecord>, StoreError> {
        let item = self
            .get(trigger_pk(idempotency_key), KIND_TRIGGER.to_owned())
            .await?;
        item.map(|item| decode_body(&item, &format!("trigger {idempotency_key}")))
            .transpose()
    }

    async fn list_triggers(&self, limit: usize) -> Result<Vec<TriggerRecord>, StoreError> {
        let (items, _) = self
            .query_index(
                INDEX_BY_RECEIVED,
                ATTR_GSI_KIND,
                AttributeValue::S(KIND_TRIGGER.to_owned()),
                limit,
                None,
            )
            .await?;
        items
            .iter()
            .map(|item| decode_body(item, "a trigger record"))
            .collect()
    }
}

fn execution_pk(id: ExecutionId) -> String {
    format!("EXECUTION#{id}")
}

fn wave_sk(wave: WaveNumber) -> String {
    format!("WAVE#{:04}", wave.0)
}

fn trigger_pk(key: &str) -> String {
    format!("TRIGGER#{key}")
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        (ATTR_PK.to_owned(), AttributeValue::S(pk)),
        (ATTR_SK.to_owned(), AttributeValue::S(sk)),
    ])
}

fn execution_key(id: ExecutionId) -> Item {
    key(execution_pk(id), KIND_EXECUTION.to_owned())
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn execution_item(execution: &ExecutionRecord, version: u64) -> Result<Item, StoreError> {
    let what = format!("execution {}", execution.id);
    let mut item = execution_key(execution.id);
    item.extend([
        (ATTR_VERSION.to_owned(), number(version)),
        (
            ATTR_BODY.to_owned(),
            AttributeValue::S(body_of(&what, execution)?),
        ),
        (
            ATTR_STATUS.to_owned(),
            AttributeValue::S(status_text(&execution.status)?),
        ),
        (
            ATTR_PLAN_NAME.to_owned(),
            AttributeValue::S(execution.plan_name.clone()),
        ),
        (
            ATTR_START_TIME.to_owned(),
            AttributeValue::S(time_text(&execution.start_time)),
        ),
        (
            ATTR_GSI_KIND.to_owned(),
            AttributeValue::S(KIND_EXECUTION.to_owned()),
        ),
    ]);
    check_size(&what, &item)?;
    Ok(item)
}

fn wave_item(wave: &WaveRecord, version: u64) -> Result<Item, StoreError> {
    let what = format!("wave {} of execution {}", wave.number, wave.execution_id);
    let mut item = key(execution_pk(wave.execution_id), wave_sk(wave.number));
    item.extend([
        (ATTR_VERSION.to_owned(), number(version)),
        (
            ATTR_BODY.to_owned(),
            AttributeValue::S(body_of(&what, wave)?),
        ),
    ]);
    check_size(&what, &item)?;
    Ok(item)
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

/// A listing row from an index item's columns, without parsing the body.
fn summary(item: &Item) -> Result<ExecutionSummary, StoreError> {
    let pk = string(item, ATTR_PK, "an execution item")?;
    let what = format!("item {pk}");
    let corrupt = |detail: String| StoreError::Corrupt(format!("{what}: {detail}"));
    let id = pk
        .strip_prefix("EXECUTION#")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| corrupt("the key is not EXECUTION#<uuid>".to_owned()))?;
    let status = string(item, ATTR_STATUS, &what)?;
    let start = string(item, ATTR_START_TIME, &what)?;
    Ok(ExecutionSummary {
        id,
        plan_name: string(item, ATTR_PLAN_NAME, &what)?.to_owned(),
        status: serde_json::from_value(serde_json::Value::String(status.to_owned()))
            .map_err(|_| corrupt(format!("unknown status {status}")))?,
        start_time: DateTime::parse_from_rfc3339(start)
            .map_err(|_| corrupt(format!("bad start time {start}")))?
            .to_utc(),
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

    #[test]
    fn wave_keys_sort_in_wave_order() {
        assert!(wave_sk(WaveNumber(2)) < wave_sk(WaveNumber(10)));
        assert_eq!(wave_sk(WaveNumber(7)), "WAVE#0007");
    }
}
