//! The suites every adapter must pass: one `pub async fn` per behaviour of
//! the queue ports ([`WorkQueue`], [`DeadLetters`]: [`queue`],
//! [`dead_letters`]) and the store ports
//! ([`ExecutionStore`](ripcord::ports::ExecutionStore),
//! [`WorkerHeartbeats`](ripcord::ports::WorkerHeartbeats),
//! [`TriggerLog`](ripcord::ports::TriggerLog),
//! [`CapacityLedger`](ripcord::ports::CapacityLedger),
//! [`SubmissionLog`](ripcord::ports::SubmissionLog): [`store`],
//! [`heartbeats`], [`trigger_log`], [`capacity`], [`submissions`]), so the embedded, SQS and DynamoDB adapters are held to
//! the very same contract. Each suite panics (with what went wrong) when the
//! adapter breaks it, and expects empty queues and an empty store to start
//! from.
//!
//! [`memory::InMemoryStore`] is a store held to the store suites too, for
//! tests that drive a worker step synchronously.

pub mod capacity;
pub mod dead_letters;
pub mod heartbeats;
pub mod memory;
pub mod queue;
pub mod store;
pub mod submissions;
mod timing;
pub mod trigger_log;

pub use memory::InMemoryStore;

pub use timing::{QueueBackend, Timing};

/// Declares one `#[tokio::test]` per store suite (execution store, worker
/// heartbeats, trigger log), in modules `store`, `heartbeats` and
/// `trigger_log`, each run on what `$make` returns: an async fn giving
/// `Some((guard, store))` (the guard lives as long as the test: a temporary
/// directory, a moto deployment), or `None` to skip (no stand-in). Every
/// adapter's runner names the suites through this one list, so a new suite
/// runs on every store at once.
#[macro_export]
macro_rules! store_tests {
    ($make:path) => {
        $crate::store_tests!(@suites $make, store:
            created_execution_loads_at_version_one,
            missing_records_load_as_none,
            create_twice_is_already_exists,
            stale_execution_save_is_a_conflict,
            stale_wave_save_is_a_conflict,
            save_of_missing_record_is_a_conflict,
            load_waves_in_wave_order,
            list_is_newest_first,
            list_shows_saved_status,
            list_pages_and_filters_by_status,
            counts_executions_by_status,
        );
        $crate::store_tests!(@suites $make, heartbeats: heartbeats_keep_the_latest_per_worker);
        $crate::store_tests!(@suites $make, capacity:
            a_new_ledger_is_empty_at_version_zero,
            a_stale_ledger_save_is_a_conflict,
            racing_claims_never_over_admit,
        );
        $crate::store_tests!(@suites $make, trigger_log:
            first_trigger_with_a_key_wins,
            triggers_list_newest_first,
        );
        $crate::store_tests!(@suites $make, submissions: first_submission_of_an_id_is_kept);
    };
    (@suites $make:path, $module:ident: $($suite:ident),* $(,)?) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test]
                async fn $suite() {
                    let Some((_guard, store)) = $make().await else {
                        return;
                    };
                    $crate::$module::$suite(&store).await;
                }
            )*
        }
    };
}

/// Declares one multi-threaded `#[tokio::test]` per queue suite (work
/// queues, dead letters) in modules `queue` and `dead_letters`, each run on
/// what `$make` returns (as for [`store_tests!`]) at `$timing`, the
/// adapter's dead-lettering after `$max_receives` receives included. The
/// two suites on stale receipts are [`stale_receipt_tests!`]: an adapter
/// runs them unless its stand-in cannot honour them (moto).
#[macro_export]
macro_rules! queue_tests {
    ($make:path, $timing:expr, $max_receives:expr) => {
        $crate::queue_tests!(@suites $make, $timing, queue:
            delay_is_respected,
            visibility_hides_then_reshows,
            receive_count_increments,
            extend_visibility_keeps_it_hidden,
            batch_of_ten,
            queues_are_separate,
            waiting_receive_wakes_on_send,
            large_messages_are_carried_and_oversized_ones_refused,
        );
        $crate::queue_tests!(@suites $make, $timing, dead_letters:
            dead_letter_keeps_the_reason,
            dead_letter_reasons_are_kept_readable,
            replay_moves_dead_messages_back,
            depth_counts_each_state,
        );
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn dead_letters_after_max_receives() {
            let Some((_guard, queue)) = $make().await else {
                return;
            };
            $crate::dead_letters::dead_letters_after_max_receives(&queue, $timing, $max_receives)
                .await;
        }
    };
    (@suites $make:path, $timing:expr, $module:ident: $($suite:ident),* $(,)?) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $suite() {
                    let Some((_guard, queue)) = $make().await else {
                        return;
                    };
                    $crate::$module::$suite(&queue, $timing).await;
                }
            )*
        }
    };
}

/// The queue suites on stale receipts (a receipt a later receive replaced
/// deletes nothing and extends nothing), declared like [`queue_tests!`] in
/// a module `stale_receipts`.
#[macro_export]
macro_rules! stale_receipt_tests {
    ($make:path, $timing:expr) => {
        mod stale_receipts {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stale_receipt_delete_spares_the_new_holder() {
                let Some((_guard, queue)) = $make().await else {
                    return;
                };
                $crate::queue::stale_receipt_delete_spares_the_new_holder(&queue, $timing).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn extend_with_stale_receipt_is_refused() {
                let Some((_guard, queue)) = $make().await else {
                    return;
                };
                $crate::queue::extend_with_stale_receipt_is_refused(&queue, $timing).await;
            }
        }
    };
}
