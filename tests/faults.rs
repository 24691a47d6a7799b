//! Port decorators that inject infrastructure faults at the worst moments
//! of a worker step (invariant 3, docs/invariants.md): a queue whose `send` fails on
//! a chosen schedule, and a store whose save writes and then reports a
//! failure, or whose loads fail for one execution until released.
//!
//! Each schedule ([`QueueFaults`], [`StoreFaults`]) is created first, kept
//! by the test to read what it injected, and wraps the real port when the
//! engine builds its [`Ports`](ripcord_workers::ports::Ports).

use async_trait::async_trait;
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::queue::{OutgoingMessage, QueueError, QueueName, ReceivedMessage};
use ripcord::ports::store::{CreateOutcome, ExecutionPage, ExecutionQuery, StoreError, Versioned};
use ripcord::ports::{ExecutionStore, Receive, WorkQueue};
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::{ExecutionStatus, WaveStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which sends a [`FaultyQueue`] fails, and what it failed so far.
#[derive(Default)]
pub struct QueueFaults {
    state: Mutex<QueueFaultState>,
}

#[derive(Default)]
struct QueueFaultState {
    /// Sends counted from 1, failed or not.
    sends: u64,
    nth: BTreeSet<u64>,
    /// Event types whose every event fails its first send once.
    first_of: BTreeSet<String>,
    /// Event types whose next send fails, once.
    next_of: BTreeSet<String>,
    /// Event types whose first send panics, once.
    panic_first_of: BTreeSet<String>,
    /// Event types whose next message is lost on its way, once: the send
    /// answers OK and nothing arrives.
    lose_next_of: BTreeSet<String>,
    /// Event types whose `n`-th message (counted from 1) is lost, once.
    lose_nth_of: BTreeMap<String, u64>,
    /// Messages sent so far per event type watched by `lose_nth_of`.
    seen: BTreeMap<String, u64>,
    /// Messages lost so far, per event type.
    lost: BTreeMap<String, u64>,
    /// Event ids that have failed once already.
    failed_ids: BTreeSet<String>,
    /// Failed sends per event type they carried.
    injected: BTreeMap<String, u64>,
}

impl QueueFaults {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The `n`-th send of the run (counting from 1) fails.
    pub fn fail_nth_send(&self, n: u64) {
        lock(&self.state).nth.insert(n);
    }

    /// The first send carrying each event of `event_type` fails; the copy
    /// a worker sends again (same event id) goes through.
    pub fn fail_first_send_of(&self, event_type: &str) {
        lock(&self.state).first_of.insert(event_type.to_owned());
    }

    /// The next send carrying an event of `event_type` fails, once.
    pub fn fail_next_send_of(&self, event_type: &str) {
        lock(&self.state).next_of.insert(event_type.to_owned());
    }

    /// The next message of `event_type` is lost once its send has answered
    /// OK: what a queue that drops a message does (the stand-in's race, a
    /// bug), which nothing in the step can see.
    pub fn lose_next_of(&self, event_type: &str) {
        lock(&self.state).lose_next_of.insert(event_type.to_owned());
    }

    /// The `n`-th message of `event_type` sent (counting from 1) is lost,
    /// like [`Self::lose_next_of`]'s.
    pub fn lose_nth_of(&self, event_type: &str, n: u64) {
        lock(&self.state)
            .lose_nth_of
            .insert(event_type.to_owned(), n);
    }

    /// Messages lost so far, per event type.
    pub fn lost(&self) -> BTreeMap<String, u64> {
        lock(&self.state).lost.clone()
    }

    /// `messages` without the one to lose, if any.
    fn lose(&self, mut messages: Vec<OutgoingMessage>) -> Vec<OutgoingMessage> {
        let mut state = lock(&self.state);
        let mut nth = None;
        for (i, m) in messages.iter().enumerate() {
            let Some(&n) = state.lose_nth_of.get(&m.event_type) else {
                continue;
            };
            let seen = state.seen.entry(m.event_type.clone()).or_default();
            *seen += 1;
            if *seen == n && nth.is_none() {
                nth = Some(i);
            }
        }
        if let Some(i) = nth {
            let lost = messages.remove(i);
            state.lose_nth_of.remove(&lost.event_type);
            *state.lost.entry(lost.event_type).or_default() += 1;
        }
        if let Some(i) = messages
            .iter()
            .position(|m| state.lose_next_of.contains(&m.event_type))
        {
            let lost = messages.remove(i);
            state.lose_next_of.remove(&lost.event_type);
            *state.lost.entry(lost.event_type).or_default() += 1;
        }
        messages
    }

    /// The first send carrying an event of `event_type` panics (a bug in a
    /// step, as the worker sees it), once.
    pub fn panic_on_first_send_of(&self, event_type: &str) {
        lock(&self.state)
            .panic_first_of
            .insert(event_type.to_owned());
    }

    /// Panics if `messages` carry an event whose first send must panic.
    fn panic_if_told(&self, messages: &[OutgoingMessage]) {
        let mut state = lock(&self.state);
        if let Some(m) = messages
            .iter()
            .find(|m| state.panic_first_of.contains(&m.event_type))
        {
            let event_type = m.event_type.clone();
            state.panic_first_of.remove(&event_type);
            drop(state);
            panic!("injected: the first send of {event_type} panics");
        }
    }

    /// Failed sends so far, per event type they carried.
    pub fn injected(&self) -> BTreeMap<String, u64> {
        lock(&self.state).injected.clone()
    }

    /// `inner` with this schedule's faults.
    pub fn wrap(self: &Arc<Self>, inner: Arc<dyn WorkQueue>) -> Arc<dyn WorkQueue> {
        Arc::new(FaultyQueue {
            inner,
            faults: self.clone(),
        })
    }

    /// Whether this send fails; counts it either way.
    fn draw(&self, messages: &[OutgoingMessage]) -> Option<String> {
        let mut st = lock(&self.state);
        st.sends += 1;
        let n = st.sends;
        let mut fail = st.nth.contains(&n);
        let mut newly_failed = Vec::new();
        for m in messages {
            if st.next_of.remove(&m.event_type) {
                fail = true;
            }
            if st.first_of.contains(&m.event_type) {
                let id = event_id_of(&m.body);
                if !st.failed_ids.contains(&id) {
                    fail = true;
                    newly_failed.push(id);
                }
            }
        }
        if !fail {
            return None;
        }
        st.failed_ids.extend(newly_failed);
        let types: Vec<&str> = messages.iter().map(|m| m.event_type.as_str()).collect();
        for t in &types {
            *st.injected.entry((*t).to_owned()).or_default() += 1;
        }
        Some(format!(
            "injected fault: send #{n} of [{}] failed",
            types.join(", ")
        ))
    }
}

fn event_id_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("eventId")
                .and_then(|id| id.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.to_owned())
}

/// A [`WorkQueue`] whose `send` fails (QueueError::Service, nothing sent)
/// on the schedule of its [`QueueFaults`]; everything else passes through.
pub struct FaultyQueue {
    inner: Arc<dyn WorkQueue>,
    faults: Arc<QueueFaults>,
}

#[async_trait]
impl WorkQueue for FaultyQueue {
    async fn send(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), QueueError> {
        self.faults.panic_if_told(&messages);
        if let Some(reason) = self.faults.draw(&messages) {
            return Err(QueueError::Service(reason));
        }
        let messages = self.faults.lose(messages);
        if messages.is_empty() {
            return Ok(());
        }
        self.inner.send(queue, messages).await
    }

    async fn receive(
        &self,
        queue: QueueName,
        ask: Receive,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.inner.receive(queue, ask).await
    }

    async fn delete(&self, queue: QueueName, receipts: &[String]) -> Result<(), QueueError> {
        self.inner.delete(queue, receipts).await
    }

    async fn extend_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        self.inner
            .extend_visibility(queue, receipt, visibility)
            .await
    }

    async fn dead_letter(
        &self,
        queue: QueueName,
        message: &ReceivedMessage,
        reason: &str,
    ) -> Result<(), QueueError> {
        self.inner.dead_letter(queue, message, reason).await
    }
}

/// Which store calls a [`FaultyStore`] fails, and what it failed so far.
#[derive(Default)]
pub struct StoreFaults {
    state: Mutex<StoreFaultState>,
}

#[derive(Default)]
struct StoreFaultState {
    create_after_write: bool,
    /// Wave statuses whose first save per wave writes, then "fails".
    wave_after_write: BTreeSet<WaveStatusKey>,
    execution_after_write: bool,
    /// Wave statuses whose first save per wave writes, then never answers.
    wave_hang_after_write: BTreeSet<WaveStatusKey>,
    /// Keys of saves that have "failed" once already.
    fired: BTreeSet<String>,
    blocked: BTreeSet<ExecutionId>,
    /// Injected failures per store operation.
    injected: BTreeMap<&'static str, u64>,
}

/// `WaveStatus` is not `Ord`; its wire name is.
type WaveStatusKey = String;

fn status_key<T: serde::Serialize>(status: &T) -> String {
    crate::wire(status)
}

impl StoreFaults {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The first `create_execution` writes the execution, then reports a
    /// storage error: the worker believes nothing was saved.
    pub fn fail_create_after_write(&self) {
        lock(&self.state).create_after_write = true;
    }

    /// For each wave, the first save that writes it with `status` succeeds,
    /// then reports a storage error.
    pub fn fail_wave_save_after_write(&self, status: WaveStatus) {
        lock(&self.state)
            .wave_after_write
            .insert(status_key(&status));
    }

    /// For each wave, the first save that writes it with `status` succeeds,
    /// then never answers: a call that hangs after the write, which only a
    /// deadline on the worker's step gets out of.
    pub fn hang_wave_save_after_write(&self, status: WaveStatus) {
        lock(&self.state)
            .wave_hang_after_write
            .insert(status_key(&status));
    }

    /// Every save of the execution record that writes a new combination of
    /// wave and execution statuses succeeds, then reports a storage error
    /// (once per combination).
    pub fn fail_execution_save_after_write(&self) {
        lock(&self.state).execution_after_write = true;
    }

    /// Every load of `id`'s execution or wave records fails until
    /// [`StoreFaults::unblock_loads`].
    pub fn block_loads(&self, id: ExecutionId) {
        lock(&self.state).blocked.insert(id);
    }

    pub fn unblock_loads(&self, id: ExecutionId) {
        lock(&self.state).blocked.remove(&id);
    }

    /// Injected failures so far, per store operation.
    pub fn injected(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.state).injected.clone()
    }

    /// `inner` with this schedule's faults.
    pub fn wrap(self: &Arc<Self>, inner: Arc<dyn ExecutionStore>) -> Arc<dyn ExecutionStore> {
        Arc::new(FaultyStore {
            inner,
            faults: self.clone(),
        })
    }

    /// Whether the save keyed `key` "fails" after writing (once per key).
    fn fire_once(&self, operation: &'static str, wanted: bool, key: String) -> bool {
        let mut st = lock(&self.state);
        if !wanted || !st.fired.insert(key) {
            return false;
        }
        *st.injected.entry(operation).or_default() += 1;
        true
    }

    fn check_load(&self, operation: &'static str, id: ExecutionId) -> Result<(), StoreError> {
        let mut st = lock(&self.state);
        if !st.blocked.contains(&id) {
            return Ok(());
        }
        *st.injected.entry(operation).or_default() += 1;
        Err(StoreError::Service(format!(
            "injected fault: the store is unavailable for execution {id}"
        )))
    }
}

fn written_then_failed(what: &str) -> StoreError {
    StoreError::Storage(format!(
        "injected fault: {what} was written, but the answer was lost"
    ))
}

/// An [`ExecutionStore`] that fails on the schedule of its [`StoreFaults`].
pub struct FaultyStore {
    inner: Arc<dyn ExecutionStore>,
    faults: Arc<StoreFaults>,
}

#[async_trait]
impl ExecutionStore for FaultyStore {
    async fn create_execution(
        &self,
        execution: &ExecutionRecord,
        waves: &[WaveRecord],
    ) -> Result<CreateOutcome, StoreError> {
        let outcome = self.inner.create_execution(execution, waves).await?;
        let wanted = lock(&self.faults.state).create_after_write;
        if outcome == CreateOutcome::Created
            && self.faults.fire_once(
                "create_execution",
                wanted,
                format!("create {}", execution.id),
            )
        {
            return Err(written_then_failed(&format!("execution {}", execution.id)));
        }
        Ok(outcome)
    }

    async fn load_execution(
        &self,
        id: ExecutionId,
    ) -> Result<Option<Versioned<ExecutionRecord>>, StoreError> {
        self.faults.check_load("load_execution", id)?;
        self.inner.load_execution(id).await
    }

    async fn load_wave(
        &self,
        id: ExecutionId,
        wave: WaveNumber,
    ) -> Result<Option<Versioned<WaveRecord>>, StoreError> {
        self.faults.check_load("load_wave", id)?;
        self.inner.load_wave(id, wave).await
    }

    async fn load_waves(&self, id: ExecutionId) -> Result<Vec<WaveRecord>, StoreError> {
        self.faults.check_load("load_waves", id)?;
        self.inner.load_waves(id).await
    }

    async fn save_execution(
        &self,
        record: &ExecutionRecord,
        expected: u64,
    ) -> Result<u64, StoreError> {
        let version = self.inner.save_execution(record, expected).await?;
        let wanted = lock(&self.faults.state).execution_after_write;
        let statuses: Vec<String> = record.waves.iter().map(|w| status_key(&w.status)).collect();
        let key = format!(
            "execution {} {} {}",
            record.id,
            status_key(&record.status),
            statuses.join(",")
        );
        if self.faults.fire_once("save_execution", wanted, key) {
            return Err(written_then_failed(&format!("execution {}", record.id)));
        }
        Ok(version)
    }

    async fn save_wave(&self, record: &WaveRecord, expected: u64) -> Result<u64, StoreError> {
        let version = self.inner.save_wave(record, expected).await?;
        let status = status_key(&record.status);
        let key = format!("wave {} of {} {status}", record.number, record.execution_id);
        let hang = lock(&self.faults.state)
            .wave_hang_after_write
            .contains(&status);
        if self
            .faults
            .fire_once("save_wave_hang", hang, format!("hang {key}"))
        {
            return std::future::pending().await;
        }
        let wanted = lock(&self.faults.state).wave_after_write.contains(&status);
        if self.faults.fire_once("save_wave", wanted, key) {
            return Err(written_then_failed(&format!(
                "wave {} ({status})",
                record.number
            )));
        }
        Ok(version)
    }

    async fn list_executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, StoreError> {
        self.inner.list_executions(query).await
    }

    async fn count_executions(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        self.inner.count_executions().await
    }
}
