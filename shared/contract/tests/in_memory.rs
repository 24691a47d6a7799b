//! Runs the store, heartbeat and trigger-log contract suites against
//! [`InMemoryStore`], one test per behaviour: the step property tests
//! (`workers/tests/step_properties.rs`) run on this store, so it must behave
//! as the embedded and DynamoDB ones do.

use ripcord_contract::InMemoryStore;

async fn fresh() -> Option<((), InMemoryStore)> {
    Some(((), InMemoryStore::new()))
}

ripcord_contract::store_tests!(fresh);
