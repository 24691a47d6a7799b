//! Fault-injection knobs of a worker process, for chaos runs only and off
//! unless asked for (`ripcord worker --fault-store-conflicts FRACTION`, or
//! `RIPCORD_FAULT_STORE_CONFLICTS`). Never set them in a deployment.
//!
//! [`ConflictingStore`] answers a seeded share of the execution store's
//! conditional saves with a version conflict, without writing: what a
//! worker meets when another worker saved the same record first (a
//! DynamoDB `ConditionalCheckFailedException`). The step must load the
//! record again and decide again; nothing else may change (invariants 2–4).
//! Each injected conflict is logged at `warn` with [`INJECTED_CONFLICT`],
//! so a chaos run counts them from the worker logs, killed workers' included.

use async_trait::async_trait;
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::ExecutionStore;
use ripcord::ports::store::{CreateOutcome, ExecutionPage, ExecutionQuery, StoreError, Versioned};
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::ExecutionStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::warn;

/// The text every injected conflict is logged with.
pub const INJECTED_CONFLICT: &str =
    "fault injection: a conditional save answered a version conflict without writing";

/// The fault-injection knobs a worker process was started with.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultKnobs {
    /// The share (0.0 to 1.0) of conditional saves answered with a version
    /// conflict; 0 (the default) injects nothing.
    pub store_conflicts: f64,
}

impl FaultKnobs {
    /// `store`, wrapped in the faults these knobs ask for (as it is, when
    /// none).
    pub fn store(&self, store: Arc<dyn ExecutionStore>) -> Arc<dyn ExecutionStore> {
        if self.store_conflicts > 0.0 {
            warn!(
                share = self.store_conflicts,
                "fault injection is on: a share of the store's conditional saves will be answered with a version conflict; never run a deployment like this"
            );
            Arc::new(ConflictingStore::new(store, self.store_conflicts))
        } else {
            store
        }
    }
}

/// Parses a fraction from 0.0 to 1.0 (for `--fault-store-conflicts`).
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "{text} is not a share of saves; give a number from 0.0 to 1.0, e.g. 0.1"
        )),
    }
}

/// An execution store whose conditional saves fail with a version conflict
/// at a seeded rate (see the module doc).
pub struct ConflictingStore {
    inner: Arc<dyn ExecutionStore>,
    share: f64,
    draws: AtomicU64,
    seed: u64,
}

impl ConflictingStore {
    pub fn new(inner: Arc<dyn ExecutionStore>, share: f64) -> Self {
        Self::seeded(inner, share, u64::from(std::process::id()))
    }

    pub fn seeded(inner: Arc<dyn ExecutionStore>, share: f64, seed: u64) -> Self {
        Self {
            inner,
            share,
            draws: AtomicU64::new(0),
            seed,
        }
    }

    /// Whether this save gets a conflict: SplitMix64 over a counter, so
    /// concurrent steps never share a draw.
    fn conflicts(&self) -> bool {
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let mut z = self
            .seed
            .wrapping_add(n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < self.share
    }

    fn injected(&self, what: String, expected: u64) -> StoreError {
        warn!(record = %what, expected, "{INJECTED_CONFLICT}");
        StoreError::VersionConflict { what, expected }
    }
}

#[async_trait]
impl ExecutionStore for ConflictingStore {
    async fn create_execution(
        &self,
        execution: &ExecutionRecord,
        waves: &[WaveRecord],
    ) -> Result<CreateOutcome, StoreError> {
        self.inner.create_execution(execution, waves).await
    }

    async fn load_execution(
        &self,
        id: ExecutionId,
    ) -> Result<Option<Versioned<ExecutionRecord>>, StoreError> {
        self.inner.load_execution(id).await
    }

    async fn load_wave(
        &self,
        id: ExecutionId,
        wave: WaveNumber,
    ) -> Result<Option<Versioned<WaveRecord>>, StoreError> {
        self.inner.load_wave(id, wave).await
    }

    async fn load_waves(&self, id: ExecutionId) -> Result<Vec<WaveRecord>, StoreError> {
        self.inner.load_waves(id).await
    }

    async fn save_execution(
        &self,
        record: &ExecutionRecord,
        expected: u64,
    ) -> Result<u64, StoreError> {
        if self.conflicts() {
            return Err(self.injected(format!("execution {}", record.id), expected));
        }
        self.inner.save_execution(record, expected).await
    }

    async fn save_wave(&self, record: &WaveRecord, expected: u64) -> Result<u64, StoreError> {
        if self.conflicts() {
            return Err(self.injected(
                format!(
                    "wave {} of execution {}",
                    record.number.0, record.execution_id
                ),
                expected,
            ));
        }
        self.inner.save_wave(record, expected).await
    }

    async fn list_executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, StoreError> {
        self.inner.list_executions(query).await
    }

    async fn count_executions(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        self.inner.count_executions().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_outside_zero_to_one_are_refused_with_an_example() {
        assert_eq!(parse_fraction("0.25"), Ok(0.25));
        let e = parse_fraction("1.5").unwrap_err();
        assert!(e.contains("0.0 to 1.0"), "{e}");
        assert!(parse_fraction("often").is_err());
    }

    #[test]
    fn conflicts_come_at_their_share() {
        let dir = tempfile::tempdir().unwrap();
        let backend = ripcord_embedded::EmbeddedBackend::open(
            &dir.path().join("t.db"),
            ripcord_embedded::EmbeddedConfig::default(),
        )
        .unwrap();
        let store = ConflictingStore::seeded(backend.store(), 0.2, 7);
        let hits = (0..10_000).filter(|_| store.conflicts()).count();
        assert!((1800..2200).contains(&hits), "{hits}");
        let none = ConflictingStore::seeded(backend.store(), 0.0, 7);
        assert!((0..1000).all(|_| !none.conflicts()));
    }
}
