//! Runs the store, heartbeat and trigger-log contract suites against
//! [`InMemoryStore`], one test per
//! behaviour: the step property tests (`workers/tests/step_properties.rs`)
//! run on this store, so it must behave as the embedded and DynamoDB ones do.

use ripcord_contract::{self as contract, InMemoryStore};

macro_rules! store_suites {
    ($($suite:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $suite() {
                contract::store::$suite(&InMemoryStore::new()).await;
            }
        )*
    };
}

store_suites!(
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

#[tokio::test]
async fn heartbeats_keep_the_latest_per_worker() {
    contract::heartbeats::heartbeats_keep_the_latest_per_worker(&InMemoryStore::new()).await;
}

#[tokio::test]
async fn first_trigger_with_a_key_wins() {
    contract::trigger_log::first_trigger_with_a_key_wins(&InMemoryStore::new()).await;
}

#[tokio::test]
async fn triggers_list_newest_first() {
    contract::trigger_log::triggers_list_newest_first(&InMemoryStore::new()).await;
}
