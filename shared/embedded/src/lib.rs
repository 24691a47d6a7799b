//! The embedded backend: the work queues (with delays, visibility timeouts
//! and dead-letter queues), the execution store and the metrics sink, all in
//! one SQLite file, so Ripcord runs on a fresh machine with no AWS account.
//!
//! Several processes may open the same file: every read-then-write runs in
//! a `BEGIN IMMEDIATE` transaction, so two workers never take one message.
//! Within one process, clones of an [`EmbeddedBackend`] share a connection
//! and wake each other's long polls as soon as a message is sent.
//!
//! SQLite calls run on the calling task's thread: each is one short
//! transaction (tens of microseconds), cheaper than a hop to a blocking pool.
//! Only a lock held by another process makes one wait (up to 5 s).
//!
//! The file can also hold the simulator's world ([`sim_world`]), so that
//! `ripcord worker` processes on one file share one simulated DRS account.

mod announcements;
mod connection;
mod contention;
mod db;
mod dead_letters;
mod error;
mod metrics;
mod queue;
mod sim_calls;
pub mod sim_world;
mod store;

pub use announcements::EmbeddedAnnouncer;
pub use connection::EmbeddedConfig;
use connection::Shared;
pub use contention::{Contention, contention};
pub use error::EmbeddedError;
pub use metrics::{EmbeddedMetrics, StoredMetric};
pub use queue::EmbeddedQueue;
pub use sim_world::{DEFAULT_WORLD, EmbeddedSimWorld, OpenedWorld, WorldOrigin};
pub use store::EmbeddedStore;

use db::Db;
use ripcord::ports::{
    CapacityLedger, DeadLetters, ExecutionStore, MetricsSink, SubmissionLog, TriggerLog, WorkQueue,
    WorkerHeartbeats,
};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Notify;

/// An open embedded database. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct EmbeddedBackend {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EmbeddedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBackend")
            .field("path", &self.shared.path)
            .field("config", &self.shared.config)
            .finish()
    }
}

impl EmbeddedBackend {
    /// Opens the database at `path`, creating and migrating it as needed.
    pub fn open(path: &Path, config: EmbeddedConfig) -> Result<EmbeddedBackend, EmbeddedError> {
        let db = Db::open(path)?;
        Ok(EmbeddedBackend {
            shared: Arc::new(Shared {
                db,
                config,
                path: path.to_path_buf(),
                sent: std::array::from_fn(|_| Notify::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    pub fn config(&self) -> EmbeddedConfig {
        self.shared.config
    }

    /// The work queues and their dead-letter queues.
    pub fn queue(&self) -> Arc<dyn WorkQueue> {
        Arc::new(self.embedded_queue())
    }

    /// The dead-letter queues beside the work queues, and their depths.
    pub fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(self.embedded_queue())
    }

    /// The execution store.
    pub fn store(&self) -> Arc<dyn ExecutionStore> {
        Arc::new(self.embedded_store())
    }

    /// The workers' heartbeats, kept in the store.
    pub fn heartbeats(&self) -> Arc<dyn WorkerHeartbeats> {
        Arc::new(self.embedded_store())
    }

    /// The runbook trigger log, kept in the store.
    pub fn trigger_log(&self) -> Arc<dyn TriggerLog> {
        Arc::new(self.embedded_store())
    }

    /// The markers of queued starts, kept in the store.
    pub fn submissions(&self) -> Arc<dyn SubmissionLog> {
        Arc::new(self.embedded_store())
    }

    /// The DRS capacity ledger, kept in the store.
    pub fn capacity(&self) -> Arc<dyn CapacityLedger> {
        Arc::new(self.embedded_store())
    }

    /// The metrics sink (a table standing in for CloudWatch).
    pub fn metrics(&self) -> Arc<dyn MetricsSink> {
        Arc::new(self.embedded_metrics())
    }

    /// The announcer (a table standing in for the EventBridge bus).
    pub fn announcer(&self) -> Arc<dyn ripcord::ports::Announcer> {
        Arc::new(self.embedded_announcer())
    }

    pub fn embedded_announcer(&self) -> EmbeddedAnnouncer {
        EmbeddedAnnouncer::new(self.shared.clone())
    }

    pub fn embedded_queue(&self) -> EmbeddedQueue {
        EmbeddedQueue::new(self.shared.clone())
    }

    pub fn embedded_store(&self) -> EmbeddedStore {
        EmbeddedStore::new(self.shared.clone())
    }

    pub fn embedded_metrics(&self) -> EmbeddedMetrics {
        EmbeddedMetrics::new(self.shared.clone())
    }

    /// Opens the world `name`, creating it with `requested` (or the built-in
    /// scenario) if the database has none. An existing world keeps the
    /// scenario it was created with; a `requested` one that differs from it
    /// is refused ([`ripcord_sim::SimWorldError::ScenarioMismatch`]), never
    /// silently swapped.
    pub fn open_sim_world(
        &self,
        name: &str,
        requested: Option<&ripcord_sim::ScenarioSource>,
    ) -> Result<OpenedWorld, ripcord_sim::SimWorldError> {
        sim_world::open(&self.shared, name, requested)
    }

    /// The world `name`, if the database has one.
    pub fn find_sim_world(
        &self,
        name: &str,
    ) -> Result<Option<OpenedWorld>, ripcord_sim::SimWorldError> {
        sim_world::find(&self.shared, name)
    }

    /// Every metric published so far, oldest first, optionally only those
    /// named `name` (for tests and `ripcord report`).
    pub fn stored_metrics(&self, name: Option<&str>) -> Result<Vec<StoredMetric>, EmbeddedError> {
        self.embedded_metrics().stored(name)
    }
}
