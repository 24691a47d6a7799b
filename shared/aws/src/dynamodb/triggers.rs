//! The DynamoDB [`TriggerLog`]: one item per idempotency key, written only
//! if absent (the first trigger with a key decides), listed newest first
//! from the `by-received` index.

use super::*;
use ripcord::ports::TriggerLog;

#[async_trait]
impl TriggerLog for DynamoStore {
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
        self.put_new(item).await
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

fn trigger_pk(key: &str) -> String {
    format!("TRIGGER#{key}")
}
