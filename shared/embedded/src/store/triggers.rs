//! The embedded [`TriggerLog`]: one row per idempotency key; the first
//! trigger with a key is the one kept.

use super::{EmbeddedStore, from_json, storage, time_text, to_json};
use async_trait::async_trait;
use ripcord::ports::TriggerLog;
use ripcord::ports::store::{CreateOutcome, StoreError};
use ripcord::trigger::TriggerRecord;
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl TriggerLog for EmbeddedStore {
    async fn record_trigger(&self, trigger: &TriggerRecord) -> Result<CreateOutcome, StoreError> {
        let body = to_json("the trigger record", trigger)?;
        let received = time_text(&trigger.received_at);
        let conn = self.shared.db.lock();
        let inserted = conn
            .prepare_cached(
                "INSERT INTO triggers (idempotency_key, received_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![trigger.idempotency_key, received, body]))
            .map_err(storage)?;
        Ok(if inserted == 0 {
            CreateOutcome::AlreadyExists
        } else {
            CreateOutcome::Created
        })
    }

    async fn load_trigger(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<TriggerRecord>, StoreError> {
        let body: Option<String> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached("SELECT body FROM triggers WHERE idempotency_key = ?1")
                .and_then(|mut s| {
                    s.query_row(params![idempotency_key], |r| r.get(0))
                        .optional()
                })
                .map_err(storage)?
        };
        body.map(|b| from_json(&format!("trigger {idempotency_key}"), &b))
            .transpose()
    }

    async fn list_triggers(&self, limit: usize) -> Result<Vec<TriggerRecord>, StoreError> {
        let bodies: Vec<String> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached(
                "SELECT body FROM triggers ORDER BY received_at DESC, rowid DESC LIMIT ?1",
            )
            .and_then(|mut s| {
                s.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                    r.get(0)
                })?
                .collect()
            })
            .map_err(storage)?
        };
        bodies
            .iter()
            .map(|b| from_json("a trigger record", b))
            .collect()
    }
}
