//! The embedded [`ExecutionStore`]: one row per execution and one per wave,
//! each holding its record as JSON plus the columns `ripcord list` sorts and
//! filters on. Saves are conditional on the version read, like DynamoDB's
//! conditional writes.

use super::{
    EmbeddedStore, from_json, next_version, parse_status, status_text, storage, storage_failed,
    time_text, to_json, version_of,
};
use async_trait::async_trait;
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::store::{
    CreateOutcome, ExecutionPage, ExecutionQuery, ExecutionStore, ExecutionSummary, StoreError,
    Versioned,
};
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::ExecutionStatus;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

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
                    return Err(storage_failed(format!(
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
}
