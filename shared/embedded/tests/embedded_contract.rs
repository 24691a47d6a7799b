//! Runs every contract suite (`ripcord_contract`) against a fresh embedded
//! backend on a temporary file, one test per behaviour.

use ripcord_contract::{self as contract, Timing};
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

macro_rules! queue_suites {
    ($module:ident: $($suite:ident),* $(,)?) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $suite() {
                    let (_dir, backend) = fresh();
                    contract::$module::$suite(&backend.embedded_queue(), Timing::FAST).await;
                }
            )*
        }
    };
}

queue_suites!(
    queue:
    delay_is_respected,
    visibility_hides_then_reshows,
    receive_count_increments,
    stale_receipt_delete_spares_the_new_holder,
    extend_with_stale_receipt_is_refused,
    extend_visibility_keeps_it_hidden,
    batch_of_ten,
    queues_are_separate,
    waiting_receive_wakes_on_send,
);

queue_suites!(
    dead_letters:
    dead_letter_keeps_the_reason,
    replay_moves_dead_messages_back,
    depth_counts_each_state,
);

/// A store on a new file, for the store suites.
async fn fresh_store() -> Option<(TempDir, ripcord_embedded::EmbeddedStore)> {
    let (dir, backend) = fresh();
    Some((dir, backend.embedded_store()))
}

ripcord_contract::store_tests!(fresh_store);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_after_max_receives() {
    let (_dir, backend) = fresh();
    contract::dead_letters::dead_letters_after_max_receives(
        &backend.embedded_queue(),
        Timing::FAST,
        MAX_RECEIVES,
    )
    .await;
}
