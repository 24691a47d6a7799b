//! An [`ExecutionStore`] in memory (and the [`WorkerHeartbeats`] and
//! [`TriggerLog`] and [`SubmissionLog`] beside it), versioned like the real ones: creation
//! is all or nothing and every save is conditional on the version read.
//! Every call completes at once, so a test can poll a worker step on it
//! without a runtime (the step property tests in `workers/tests/`). It passes
//! the same contract suites as the embedded and DynamoDB stores
//! (`shared/contract/tests/in_memory.rs`), so what the step does on it is
//! what it does on them.

use async_trait::async_trait;
use ripcord::capacity::Ledger;
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::capacity::CapacityLedger;
use ripcord::ports::heartbeats::{WorkerHeartbeat, WorkerHeartbeats};
use ripcord::ports::store::{
    CreateOutcome, ExecutionPage, ExecutionQuery, ExecutionStore, ExecutionSummary, StoreError,
    Versioned,
};
use ripcord::ports::trigger_log::TriggerLog;
use ripcord::ports::{Submission, SubmissionLog};
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::ExecutionStatus;
use ripcord::time::Timestamp;
use ripcord::trigger::TriggerRecord;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct Tables {
    executions: BTreeMap<ExecutionId, Versioned<ExecutionRecord>>,
    waves: BTreeMap<(ExecutionId, WaveNumber), Versioned<WaveRecord>>,
    /// By worker id: a worker's heartbeat replaces its previous one.
    heartbeats: BTreeMap<String, WorkerHeartbeat>,
    /// By idempotency key: the first trigger with a key is kept.
    triggers: BTreeMap<String, TriggerRecord>,
    /// By execution id: the first submission of an id is kept.
    submissions: BTreeMap<ExecutionId, Submission>,
    /// The DRS capacity ledger; version 0 until first written.
    ledger: Versioned<Ledger>,
}

/// The execution store of a test, held in a mutex.
#[derive(Default)]
pub struct InMemoryStore {
    tables: Mutex<Tables>,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A test that panicked while holding the lock left whole records:
        // every write below replaces a record in one assignment.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn conflict(what: String, expected: u64) -> StoreError {
    StoreError::VersionConflict { what, expected }
}

fn summary(record: &ExecutionRecord) -> ExecutionSummary {
    ExecutionSummary {
        id: record.id,
        plan_name: record.plan_name.clone(),
        status: record.status,
        start_time: record.start_time,
    }
}

#[async_trait]
impl ExecutionStore for InMemoryStore {
    async fn create_execution(
        &self,
        execution: &ExecutionRecord,
        waves: &[WaveRecord],
    ) -> Result<CreateOutcome, StoreError> {
        let mut tables = self.tables();
        if tables.executions.contains_key(&execution.id) {
            return Ok(CreateOutcome::AlreadyExists);
        }
        tables.executions.insert(
            execution.id,
            Versioned {
                record: execution.clone(),
                version: 1,
            },
        );
        for wave in waves {
            tables.waves.insert(
                (execution.id, wave.number),
                Versioned {
                    record: wave.clone(),
                    version: 1,
                },
            );
        }
        Ok(CreateOutcome::Created)
    }

    async fn load_execution(
        &self,
        id: ExecutionId,
    ) -> Result<Option<Versioned<ExecutionRecord>>, StoreError> {
        Ok(self.tables().executions.get(&id).cloned())
    }

    async fn load_wave(
        &self,
        id: ExecutionId,
        wave: WaveNumber,
    ) -> Result<Option<Versioned<WaveRecord>>, StoreError> {
        Ok(self.tables().waves.get(&(id, wave)).cloned())
    }

    async fn load_waves(&self, id: ExecutionId) -> Result<Vec<WaveRecord>, StoreError> {
        // Keys sort by execution, then wave number: wave order.
        Ok(self
            .tables()
            .waves
            .iter()
            .filter(|((execution, _), _)| *execution == id)
            .map(|(_, w)| w.record.clone())
            .collect())
    }

    async fn save_execution(
        &self,
        record: &ExecutionRecord,
        expected: u64,
    ) -> Result<u64, StoreError> {
        let mut tables = self.tables();
        match tables.executions.get_mut(&record.id) {
            Some(stored) if stored.version == expected => {
                *stored = Versioned {
                    record: record.clone(),
                    version: expected + 1,
                };
                Ok(expected + 1)
            }
            _ => Err(conflict(format!("execution {}", record.id), expected)),
        }
    }

    async fn save_wave(&self, record: &WaveRecord, expected: u64) -> Result<u64, StoreError> {
        let mut tables = self.tables();
        match tables.waves.get_mut(&(record.execution_id, record.number)) {
            Some(stored) if stored.version == expected => {
                *stored = Versioned {
                    record: record.clone(),
                    version: expected + 1,
                };
                Ok(expected + 1)
            }
            _ => Err(conflict(
                format!(
                    "wave {} of execution {}",
                    record.number, record.execution_id
                ),
                expected,
            )),
        }
    }

    async fn list_executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, StoreError> {
        let mut rows: Vec<ExecutionSummary> = self
            .tables()
            .executions
            .values()
            .map(|v| summary(&v.record))
            .filter(|s| query.status.is_none_or(|status| s.status == status))
            .filter(|s| {
                query
                    .after
                    .is_none_or(|c| (s.start_time, s.id) < (c.start_time, c.id))
            })
            .collect();
        rows.sort_by_key(|s| std::cmp::Reverse((s.start_time, s.id)));
        Ok(ExecutionPage::of(rows, query.limit, false))
    }

    async fn count_executions(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        let mut counts: Vec<(ExecutionStatus, u64)> = Vec::new();
        for v in self.tables().executions.values() {
            match counts.iter_mut().find(|(s, _)| *s == v.record.status) {
                Some((_, n)) => *n += 1,
                None => counts.push((v.record.status, 1)),
            }
        }
        Ok(counts)
    }
}

#[async_trait]
impl WorkerHeartbeats for InMemoryStore {
    async fn record_heartbeat(&self, heartbeat: &WorkerHeartbeat) -> Result<(), StoreError> {
        self.tables()
            .heartbeats
            .insert(heartbeat.worker_id.clone(), heartbeat.clone());
        Ok(())
    }

    async fn list_heartbeats(&self, now: Timestamp) -> Result<Vec<WorkerHeartbeat>, StoreError> {
        Ok(self
            .tables()
            .heartbeats
            .values()
            .filter(|h| h.last_poll >= now - WorkerHeartbeat::RETENTION)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl TriggerLog for InMemoryStore {
    async fn record_trigger(&self, trigger: &TriggerRecord) -> Result<CreateOutcome, StoreError> {
        let mut tables = self.tables();
        if tables.triggers.contains_key(&trigger.idempotency_key) {
            return Ok(CreateOutcome::AlreadyExists);
        }
        tables
            .triggers
            .insert(trigger.idempotency_key.clone(), trigger.clone());
        Ok(CreateOutcome::Created)
    }

    async fn load_trigger(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<TriggerRecord>, StoreError> {
        Ok(self.tables().triggers.get(idempotency_key).cloned())
    }

    async fn list_triggers(&self, limit: usize) -> Result<Vec<TriggerRecord>, StoreError> {
        let mut triggers: Vec<TriggerRecord> = self.tables().triggers.values().cloned().collect();
        triggers.sort_by_key(|t| std::cmp::Reverse(t.received_at));
        triggers.truncate(limit);
        Ok(triggers)
    }
}

#[async_trait]
impl CapacityLedger for InMemoryStore {
    async fn load_ledger(&self) -> Result<Versioned<Ledger>, StoreError> {
        Ok(self.tables().ledger.clone())
    }

    async fn save_ledger(&self, ledger: &Ledger, expected: u64) -> Result<u64, StoreError> {
        let mut tables = self.tables();
        if tables.ledger.version != expected {
            return Err(conflict("the DRS capacity ledger".into(), expected));
        }
        tables.ledger = Versioned {
            record: ledger.clone(),
            version: expected + 1,
        };
        Ok(expected + 1)
    }
}

#[async_trait]
impl SubmissionLog for InMemoryStore {
    async fn record_submission(
        &self,
        submission: &Submission,
    ) -> Result<CreateOutcome, StoreError> {
        let mut tables = self.tables();
        if tables.submissions.contains_key(&submission.execution_id) {
            return Ok(CreateOutcome::AlreadyExists);
        }
        tables
            .submissions
            .insert(submission.execution_id, submission.clone());
        Ok(CreateOutcome::Created)
    }

    async fn load_submission(&self, id: ExecutionId) -> Result<Option<Submission>, StoreError> {
        Ok(self.tables().submissions.get(&id).cloned())
    }
}
