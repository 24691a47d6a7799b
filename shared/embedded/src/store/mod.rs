//! The embedded [`ExecutionStore`]: one row per execution and one per wave,
//! each holding its record as JSON plus the columns `ripcord list` sorts and
//! filters on. Saves are conditional on the version read, like DynamoDB's
//! conditional writes.

use super::Shared;
use async_trait::async_trait;
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::machine::{ExecutionRecord, ExecutionStatus, WaveRecord};
use ripcord::ports::store::{
    CreateOutcome, ExecutionPage, ExecutionQuery, ExecutionStore, ExecutionSummary, StoreError,
    Versioned, WorkerHeartbeat,
};
use ripcord::time::Timestamp;
use ripcord::trigger::TriggerRecord;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The embedded execution store. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedStore {
    shared: Arc<Shared>,
}

impl EmbeddedStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

fn storage(e: rusqlite::Error) -> StoreError {
    StoreError::Storage(e.to_string())
}

fn to_json<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Storage(format!("cannot encode {what} as JSON: {e}")))
}

fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A unit-like enum as its serde name (`IN_PROGRESS`), for the status columns.
fn status_text<T: Serialize>(status: &T) -> Result<String, StoreError> {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        other => Err(StoreError::Storage(format!(
            "a status did not encode as a name: {other:?}"
        ))),
    }
}

/// RFC 3339 with a fixed nine-digit fraction, so text order is time order.
fn time_text(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A status column read back (`IN_PROGRESS` → the status).
fn parse_status(text: &str) -> Option<ExecutionStatus> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

fn version_of(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}

/// The version a save writes. An `expected` beyond what SQLite stores can
/// match no row, so it is a conflict like any other stale version.
fn next_version(what: &str, expected: u64) -> Result<i64, StoreError> {
    i64::try_from(expected)
        .ok()
        .and_then(|v| v.checked_add(1))
        .ok_or_else(|| StoreError::VersionConflict {
            what: what.to_owned(),
            expected,
        })
}

#[async_trait]
impl ExecutionStore for EmbeddedStore {
    async fn create_execution(
        &self,
        execution: &ExecutionRecord,
        waves: &[WaveRecord],
    ) -> Result<CreateOutcome, StoreError> {
        // Encode everything before taking the lock.
        let id = execution.id.to_string();
        let body = to_json("the execution record", execution)?;
        let status = status_text(&execution.status)?;
        let start = time_text(&execution.start_time);
        let wave_rows = waves
            .iter()
            .map(|w| {
                if w.execution_id != execution.id {
                    return Err(StoreError::Storage(format!(
                        "wave {} belongs to execution {}, not {}; nothing was written",
                        w.number, w.execution_id, execution.id
                    )));
                }
                Ok((
                    w.execution_id.to_string(),
                    w.number.0,
                    status_text(&w.status)?,
                    to_json("a wave record", w)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let mut conn = self.shared.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let inserted = tx
            .prepare_cached(
                "INSERT INTO executions (id, version, status, plan_name, start_time, body)
                 VALUES (?1, 1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![id, status, execution.plan_name, start, body]))
            .map_err(storage)?;
        if inserted == 0 {
            // Dropping the transaction rolls back: nothing was written.
            return Ok(CreateOutcome::AlreadyExists);
        }
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO waves (execution_id, number, version, status, body)
                     VALUES (?1, ?2, 1, ?3, ?4)",
                )
                .map_err(storage)?;
            for (execution_id, number, status, body) in &wave_rows {
                insert
                    .execute(params![execution_id, number, status, body])
                    .map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)?;
        Ok(CreateOutcome::Created)
    }

    async fn load_execution(
        &self,
        id: ExecutionId,
    ) -> Result<Option<Versioned<ExecutionRecord>>, StoreError> {
        let row: Option<(i64, String)> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached("SELECT version, body FROM executions WHERE id = ?1")
                .and_then(|mut s| {
                    s.query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(storage)?
        };
        row.map(|(version, body)| {
            Ok(Versioned {
                record: from_json(&format!("execution {id}"), &body)?,
                version: version_of(version),
            })
        })
        .transpose()
    }

    async fn load_wave(
        &self,
        id: ExecutionId,
        wave: WaveNumber,
    ) -> Result<Option<Versioned<WaveRecord>>, StoreError> {
        let row: Option<(i64, String)> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached(
                "SELECT version, body FROM waves WHERE execution_id = ?1 AND number = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![id.to_string(), wave.0], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(storage)?
        };
        row.map(|(version, body)| {
            Ok(Versioned {
                record: from_json(&format!("wave {wave} of execution {id}"), &body)?,
                version: version_of(version),
            })
        })
        .transpose()
    }

    async fn load_waves(&self, id: ExecutionId) -> Result<Vec<WaveRecord>, StoreError> {
        let bodies: Vec<String> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached("SELECT body FROM waves WHERE execution_id = ?1 ORDER BY number")
                .and_then(|mut s| {
                    s.query_map(params![id.to_string()], |r| r.get(0))?
                        .collect()
                })
                .map_err(storage)?
        };
        bodies
            .iter()
            .map(|body| from_json(&format!("a wave of execution {id}"), body))
            .collect()
    }

    async fn save_execution(
        &self,
        record: &ExecutionRecord,
        expected: u64,
    ) -> Result<u64, StoreError> {
        let what = format!("execution {}", record.id);
        let body = to_json("the execution record", record)?;
        let status = status_text(&record.status)?;
        let start = time_text(&record.start_time);
        let next = next_version(&what, expected)?;
        let conn = self.shared.db.lock();
        let changed = conn
            .prepare_cached(
                "UPDATE executions SET version = ?3, status = ?4, plan_name = ?5, start_time = ?6, body = ?7
                 WHERE id = ?1 AND version = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    record.id.to_string(),
                    next - 1,
                    next,
                    status,
                    record.plan_name,
                    start,
                    body
                ])
            })
            .map_err(storage)?;
        if changed == 0 {
            return Err(StoreError::VersionConflict { what, expected });
        }
        Ok(version_of(next))
    }

    async fn save_wave(&self, record: &WaveRecord, expected: u64) -> Result<u64, StoreError> {
        let what = format!(
            "wave {} of execution {}",
            record.number, record.execution_id
        );
        let body = to_json("the wave record", record)?;
        let status = status_text(&record.status)?;
        let next = next_version(&what, expected)?;
        let conn = self.shared.db.lock();
        let changed = conn
            .prepare_cached(
                "UPDATE waves SET version = ?4, status = ?5, body = ?6
                 WHERE execution_id = ?1 AND number = ?2 AND version = ?3",
            )
            .and_then(|mut s| {
                s.execute(params![
                    record.execution_id.to_string(),
                    record.number.0,
                    next - 1,
                    next,
                    status,
                    body
                ])
            })
            .map_err(storage)?;
        if changed == 0 {
            return Err(StoreError::VersionConflict { what, expected });
        }
        Ok(version_of(next))
    }

    async fn list_executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, StoreError> {
        let status = query.status.as_ref().map(status_text).transpose()?;
        let (after_start, after_id) = match &query.after {
            Some(c) => (Some(time_text(&c.start_time)), Some(c.id.to_string())),
            None => (None, None),
        };
        // One row more than asked for tells whether there is a next page.
        let fetch = i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX);
        let rows: Vec<(String, String, String, String)> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached(
                "SELECT id, plan_name, status, start_time FROM executions
                 WHERE (?1 IS NULL OR status = ?1)
                   AND (?2 IS NULL OR start_time < ?2 OR (start_time = ?2 AND id < ?3))
                 ORDER BY start_time DESC, id DESC LIMIT ?4",
            )
            .and_then(|mut s| {
                s.query_map(params![status, after_start, after_id, fetch], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect()
            })
            .map_err(storage)?
        };
        let items = rows
            .into_iter()
            .map(|(id, plan_name, status, start)| {
                let corrupt = |what: &str| StoreError::Corrupt(format!("execution {id}: {what}"));
                Ok(ExecutionSummary {
                    id: id.parse().map_err(|_| corrupt("the id is not a UUID"))?,
                    plan_name,
                    status: parse_status(&status)
                        .ok_or_else(|| corrupt(&format!("unknown status {status}")))?,
                    start_time: chrono::DateTime::parse_from_rfc3339(&start)
                        .map_err(|_| corrupt(&format!("bad start time {start}")))?
                        .to_utc(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(ExecutionPage::of(items, query.limit, false))
    }

    async fn count_executions(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached("SELECT status, COUNT(*) FROM executions GROUP BY status")
                .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(storage)?
        };
        rows.into_iter()
            .map(|(status, count)| {
                let parsed = parse_status(&status).ok_or_else(|| {
                    StoreError::Corrupt(format!("an execution has the unknown status {status}"))
                })?;
                Ok((parsed, u64::try_from(count).unwrap_or(0)))
            })
            .collect()
    }

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
