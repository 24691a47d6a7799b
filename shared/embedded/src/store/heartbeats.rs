//! The embedded [`WorkerHeartbeats`]: one row per worker, replaced at each
//! heartbeat; rows older than [`WorkerHeartbeat::RETENTION`] are dropped as
//! new ones are written.

use super::{EmbeddedStore, from_json, storage, time_text, to_json};
use async_trait::async_trait;
use ripcord::ports::heartbeats::{WorkerHeartbeat, WorkerHeartbeats};
use ripcord::ports::store::StoreError;
use ripcord::time::Timestamp;
use rusqlite::params;

#[async_trait]
impl WorkerHeartbeats for EmbeddedStore {
    async fn record_heartbeat(&self, heartbeat: &WorkerHeartbeat) -> Result<(), StoreError> {
        let body = to_json("a worker heartbeat", heartbeat)?;
        let last_poll = time_text(&heartbeat.last_poll);
        let expired = time_text(&(heartbeat.last_poll - WorkerHeartbeat::RETENTION));
        let conn = self.shared.db.lock();
        conn.prepare_cached(
            "INSERT INTO worker_heartbeats (worker_id, last_poll, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (worker_id) DO UPDATE SET last_poll = ?2, body = ?3",
        )
        .and_then(|mut s| s.execute(params![heartbeat.worker_id, last_poll, body]))
        .map_err(storage)?;
        // Workers long gone are forgotten.
        conn.prepare_cached("DELETE FROM worker_heartbeats WHERE last_poll < ?1")
            .and_then(|mut s| s.execute(params![expired]))
            .map_err(storage)?;
        Ok(())
    }

    async fn list_heartbeats(&self, now: Timestamp) -> Result<Vec<WorkerHeartbeat>, StoreError> {
        let since = time_text(&(now - WorkerHeartbeat::RETENTION));
        let bodies: Vec<String> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached(
                "SELECT body FROM worker_heartbeats WHERE last_poll >= ?1 ORDER BY worker_id",
            )
            .and_then(|mut s| s.query_map(params![since], |r| r.get(0))?.collect())
            .map_err(storage)?
        };
        bodies
            .iter()
            .map(|b| from_json("a worker heartbeat", b))
            .collect()
    }
}
