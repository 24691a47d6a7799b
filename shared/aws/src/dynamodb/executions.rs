//! The DynamoDB [`ExecutionStore`]: the execution item and its wave items
//! under one partition, created in one transaction, saved conditionally on
//! their version, listed newest first from the sparse indexes.

use super::*;

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
}

fn execution_pk(id: ExecutionId) -> String {
    format!("EXECUTION#{id}")
}

fn wave_sk(wave: WaveNumber) -> String {
    format!("WAVE#{:04}", wave.0)
}

fn execution_key(id: ExecutionId) -> Item {
    key(execution_pk(id), KIND_EXECUTION.to_owned())
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
    fn wave_keys_sort_in_wave_order() {
        assert!(wave_sk(WaveNumber(2)) < wave_sk(WaveNumber(10)));
        assert_eq!(wave_sk(WaveNumber(7)), "WAVE#0007");
    }
}
