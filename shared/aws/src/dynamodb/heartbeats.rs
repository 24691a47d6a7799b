//! The DynamoDB [`WorkerHeartbeats`]: one item per worker, replaced at
//! each heartbeat and expired by TTL a day after its last poll.

use super::*;
use ripcord::ports::heartbeats::{WorkerHeartbeat, WorkerHeartbeats};

#[async_trait]
impl WorkerHeartbeats for DynamoStore {
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
}
