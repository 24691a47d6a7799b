//! Runs every contract suite (`ripcord_contract`) against a fresh embedded
//! backend on a temporary file, one test per behaviour.

use ripcord_contract::Timing;
use ripcord_embedded::{EmbeddedBackend, EmbeddedConfig};
use tempfile::TempDir;

const MAX_RECEIVES: u32 = 3;

/// A backend on a new file; the directory lives as long as the test.
fn fresh() -> (TempDir, EmbeddedBackend) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = EmbeddedConfig {
        max_receives: MAX_RECEIVES,
        ..EmbeddedConfig::default()
    };
    let backend = EmbeddedBackend::open(&dir.path().join("ripcord.db"), config).expect("open");
    (dir, backend)
}

/// A queue on a new file, for the queue suites.
async fn fresh_queue() -> Option<(TempDir, ripcord_embedded::EmbeddedQueue)> {
    let (dir, backend) = fresh();
    Some((dir, backend.embedded_queue()))
}

ripcord_contract::queue_tests!(fresh_queue, Timing::FAST, MAX_RECEIVES);
ripcord_contract::stale_receipt_tests!(fresh_queue, Timing::FAST);

/// A store on a new file, for the store suites.
async fn fresh_store() -> Option<(TempDir, ripcord_embedded::EmbeddedStore)> {
    let (dir, backend) = fresh();
    Some((dir, backend.embedded_store()))
}

ripcord_contract::store_tests!(fresh_store);
